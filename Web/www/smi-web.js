// SPDX-License-Identifier: BSD-3-Clause
// smi-web's player: plays /view/NAME over WebRTC, signaling on the WebSocket
// /ws/NAME (JSON messages: the server offers, this page answers; ICE
// candidates both ways). Reconnects by itself when the server restarts or
// the connection fails. window.smiWeb tells tests and scripts where it stands.
'use strict';
(function () {
  const name = decodeURIComponent(location.pathname.replace(/^\/view\//, ''));
  const token = new URLSearchParams(location.search).get('token');
  const video = document.getElementById('video');
  const statusBox = document.getElementById('status');
  const state = window.smiWeb = {
    name: name, connects: 0, offers: 0, frames: 0, playing: false,
    width: 0, height: 0, status: 'connecting', error: null,
  };
  document.title = name + ' - smi-web';

  let ws = null, pc = null, chain = Promise.resolve(), retryMs = 500, stopped = false;

  function show(text) {
    state.status = text;
    statusBox.textContent = name + ': ' + text;
    statusBox.classList.toggle('hidden', state.playing && text === 'playing');
  }

  // The codecs this browser can receive, by name ("VP8", "H264", ...).
  function codecs() {
    const caps = window.RTCRtpReceiver && RTCRtpReceiver.getCapabilities &&
      RTCRtpReceiver.getCapabilities('video');
    if (!caps) return undefined;
    return Array.from(new Set(caps.codecs.map(c => c.mimeType.replace(/^video\//i, ''))));
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function closePeer() {
    if (pc) { pc.close(); pc = null; }
    state.playing = false;
  }

  async function onOffer(message) {
    closePeer();
    state.offers++;
    const servers = (message.iceServers || []).map(u => ({ urls: u }));
    pc = new RTCPeerConnection({ iceServers: servers });
    const peer = pc;
    peer.ontrack = (e) => {
      // Show each frame as soon as it is decoded: a live view, not a film.
      if ('jitterBufferTarget' in e.receiver) e.receiver.jitterBufferTarget = 0;
      else if ('playoutDelayHint' in e.receiver) e.receiver.playoutDelayHint = 0;
      video.srcObject = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
      video.play().catch(() => {});
    };
    peer.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate)
        send({ type: 'ice', candidate: e.candidate.candidate, sdpMLineIndex: e.candidate.sdpMLineIndex });
    };
    peer.onconnectionstatechange = () => {
      if (peer === pc && peer.connectionState === 'failed' && ws) ws.close();
    };
    await peer.setRemoteDescription({ type: 'offer', sdp: message.sdp });
    const answer = await peer.createAnswer();
    await peer.setLocalDescription(answer);
    send({ type: 'answer', sdp: answer.sdp });
  }

  async function handle(message) {
    if (message.type === 'offer') await onOffer(message);
    else if (message.type === 'ice' && pc) await pc.addIceCandidate({ candidate: message.candidate, sdpMLineIndex: message.sdpMLineIndex });
    else if (message.type === 'status') { if (!state.playing || message.text !== 'playing') show(message.text); }
    else if (message.type === 'error') { state.error = message.message; stopped = true; show(message.message); }
  }

  function connect() {
    if (stopped) return;
    state.connects++;
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/' +
      encodeURIComponent(name) + (token ? '?token=' + encodeURIComponent(token) : '');
    const socket = ws = new WebSocket(url);
    socket.onopen = () => { retryMs = 500; send({ type: 'hello', codecs: codecs() }); };
    socket.onmessage = (e) => {
      let message;
      try { message = JSON.parse(e.data); } catch (err) { return; }
      chain = chain.then(() => handle(message)).catch((err) => console.error('smi-web:', err));
    };
    socket.onclose = () => {
      if (socket !== ws) return;
      ws = null;
      closePeer();
      if (stopped) return;
      show('Connection lost; reconnecting\u2026');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 4000);
    };
  }

  // Count frames as they are shown; the status goes away once they come.
  function onFrame() {
    state.frames++;
    state.width = video.videoWidth;
    state.height = video.videoHeight;
    if (!state.playing) { state.playing = true; show('playing'); }
    video.requestVideoFrameCallback(onFrame);
  }
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  else video.addEventListener('playing', () => { state.playing = true; show('playing'); });
  video.addEventListener('emptied', () => { state.playing = false; });

  // The receiver's statistics (packets lost, frames decoded and dropped, ...), for scripts.
  window.smiWebStats = async function () {
    if (!pc) return null;
    let out = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') out = s;
    });
    return out;
  };

  connect();
})();
