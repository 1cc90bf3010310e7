# SPDX-License-Identifier: BSD-3-Clause
"""smi-web in a real headless Chromium: test_web.py CASE (run by ctest, label Web).

Cases (each one process tree: publisher, smi-web, Chromium; all stopped at the end):
  play      the list page shows the stream; /view/NAME plays; frames drawn to a
            canvas match the published test pattern (PSNR >= 30 dB); unknown
            and odd paths answer 404 (400); a screenshot is saved and checked
  formats   (no browser) streams of float32 and instrument frames (int16,
            int32, uint32, float64): each viewer's socket is told, by name,
            that the stream's frames cannot be shown, and no reader is
            started for them; an RGB stream beside them is not refused
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import web_lib as W  # noqa: E402


def case_play():
    with W.Processes() as P:
        stream = P.path("demo.smi")
        P.publisher(stream, "320x240")
        _, url = P.web([stream])

        # The list: name, size and format (once the publisher has published).
        def listed():
            status, body = W.http_get(url + "/")
            text = body.decode()
            return status == 200 and "/view/demo" in text and "320&times;240" in text and "rgb8" in text
        W.wait_until("the list page to show demo, 320x240, rgb8", listed, timeout=30, step=0.3)
        # Only named streams, no path reaches the file system.
        for path in ("/view/nosuch", "/view/../../etc/passwd", "/view/%2e%2e%2fetc%2fpasswd",
                     "/etc/passwd", "/view/demo/x", "/ws-not"):
            status, _ = W.http_get(url + path)
            if status not in (400, 404):
                W.fail("GET %s answered %d, not 404 (or 400)" % (path, status))
        W.log("ok: unknown streams and paths answer 404 (or 400)")

        d = P.browser()
        d.get(url + "/view/demo")
        state = W.wait_playing(d, frames=15, timeout=60)
        W.log("ok: the page plays (%s frames shown, %dx%d)" % (state["frames"], state["width"], state["height"]))
        W.check_pattern(d, 320, 240)
        # The page as a user sees it: the video fills the window's middle.
        shot = P.path("play.png")
        d.save_screenshot(shot)
        import PIL.Image  # python3-pil, a dependency of python3-matplotlib
        image = W.np.asarray(PIL.Image.open(shot).convert("RGB"))
        middle = image[image.shape[0] // 4: 3 * image.shape[0] // 4, image.shape[1] // 4: 3 * image.shape[1] // 4]
        if middle.std() < 20:
            W.fail("the screenshot's middle is flat (std %.1f): no picture" % middle.std())
        if os.environ.get("SMI_WEB_SCREENSHOT"):
            import shutil
            shutil.copy(shot, os.environ["SMI_WEB_SCREENSHOT"])
        W.log("ok: the screenshot shows a picture")
        state = W.page_state(d)
        if state["status"] != "playing":
            W.fail("the page's status is %r" % state["status"])
    W.log("PASS")


def case_viewers():
    with W.Processes() as P:
        stream = P.path("demo.smi")
        P.publisher(stream, "320x240")
        _, url = P.web([stream], extra=["--max-viewers", "2"])
        d = P.browser()
        d.get(url + "/view/demo")
        first = d.current_window_handle
        d.switch_to.new_window("window")
        second = d.current_window_handle
        d.get(url + "/view/demo")

        def viewers():
            import json
            return json.loads(W.http_get(url + "/streams.json")[1])["streams"][0]["viewers"]
        W.wait_until("smi-web to count two viewers", lambda: viewers() == 2, timeout=30)
        for handle in (first, second):
            d.switch_to.window(handle)
            W.wait_playing(d, frames=10, timeout=60)
            W.check_pattern(d, 320, 240)
        encoders = P.output("smi-web").count("encoding VP8")
        if encoders != 1:
            W.fail("smi-web made %d VP8 encoders for two viewers of one stream" % encoders)
        W.log("ok: two viewers play the stream, one encoder")
        # A third viewer is refused by the cap.
        ws = W.WebSocket(url, "/ws/demo")
        if ws.status != 503:
            W.fail("a third viewer's WebSocket got HTTP %d, not 503" % ws.status)
        ws.close()
        W.log("ok: --max-viewers 2 refuses a third viewer (503)")
        # One leaves (its window closes); the other plays on.
        d.switch_to.window(second)
        d.close()
        d.switch_to.window(first)
        W.wait_until("smi-web to count one viewer", lambda: viewers() == 1, timeout=30)
        before = W.page_state(d)["frames"]
        W.wait_playing(d, frames=15, timeout=60, since=before)
        W.check_pattern(d, 320, 240)
        if "left" not in P.output("smi-web"):
            W.fail("smi-web did not log the viewer that left")
        W.log("ok: a viewer left, the other plays on")
    W.log("PASS")


def case_token():
    with W.Processes() as P:
        stream = P.path("demo.smi")
        P.publisher(stream, "320x240")
        token = "s3cret-Token"
        _, url = P.web([stream], extra=["--token", token])
        for path in ("/", "/?token=wrong", "/view/demo", "/view/demo?token=s3cret",
                     "/view/demo?token=s3cret-Token2", "/streams.json"):
            status, _ = W.http_get(url + path)
            if status != 403:
                W.fail("GET %s answered %d, not 403" % (path, status))
        for path in ("/ws/demo", "/ws/demo?token=wrong"):
            ws = W.WebSocket(url, path)
            if ws.status != 403:
                W.fail("WebSocket %s got HTTP %d, not 403" % (path, ws.status))
            ws.close()
        ws = W.WebSocket(url, "/ws/demo?token=" + token, origin="http://evil.example")
        if ws.status != 403:
            W.fail("a WebSocket from another origin got HTTP %d, not 403" % ws.status)
        ws.close()
        W.log("ok: missing, wrong and cross-origin requests are refused (403)")
        status, body = W.http_get(url + "/?token=" + token)
        if status != 200 or ("/view/demo?token=" + token) not in body.decode():
            W.fail("the list with the token answered %d without links that carry it" % status)
        d = P.browser()
        d.get(url + "/view/demo?token=wrong")
        if "Forbidden" not in d.page_source:
            W.fail("Chromium was not refused with a wrong token")
        d.get(url + "/view/demo?token=" + token)
        W.wait_playing(d, frames=10, timeout=60)
        W.check_pattern(d, 320, 240)
        if "refused" not in P.output("smi-web"):
            W.fail("smi-web did not log the refused WebSockets")
        W.log("ok: the right token plays")
    W.log("PASS")


def case_garbage():
    import json
    launcher = os.environ.get("SMI_WEB_ASAN")
    with W.Processes() as P:
        stream = P.path("demo.smi")
        P.publisher(stream, "320x240")
        if launcher:
            os.environ["SMI_WEB"] = launcher
            W.log("smi-web built with AddressSanitizer: " + launcher)
        web, url = P.web([stream])
        bad_sdp = ("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                   "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n")
        messages = [
            ("not JSON", "hello{{{"),
            ("JSON, not an object", "[1, 2, 3]"),
            ("type not a string", json.dumps({"type": 5})),
            ("unknown type", json.dumps({"type": "reboot"})),
            ("invalid UTF-8", b"\xff\xfe{\"type\": \"ice\"}"),
            ("codecs not a list", json.dumps({"type": "hello", "codecs": "VP8"})),
            ("a second hello", json.dumps({"type": "hello", "codecs": ["VP8"]})),
            ("answer without sdp", json.dumps({"type": "answer"})),
            ("answer of garbage", json.dumps({"type": "answer", "sdp": "garbage\x00\x01"})),
            ("answer webrtcbin refuses", json.dumps({"type": "answer", "sdp": bad_sdp})),
            ("ICE before the answer", json.dumps({"type": "ice", "candidate": "candidate:1 1 UDP 1 1.2.3.4 9 typ host",
                                                  "sdpMLineIndex": 0})),
            ("ICE for media 7", json.dumps({"type": "ice", "candidate": "x", "sdpMLineIndex": 7})),
            ("oversized", "{\"type\": \"hello\", \"pad\": \"" + "A" * 200000 + "\"}"),
        ]
        hello = json.dumps({"type": "hello", "codecs": ["VP8"]})
        for what, message in messages:
            # Each after a hello and the server's offer (a webrtcbin is there), and once before.
            for after_hello in (True, False):
                if what == "a second hello" and not after_hello:
                    continue  # a first hello is no error
                ws = W.WebSocket(url, "/ws/demo")
                if ws.status != 101:
                    W.fail("WebSocket handshake answered %d" % ws.status)
                if after_hello:
                    ws.send_frame(hello)
                    if not ws.recv_json("offer"):
                        W.fail("no offer after hello")
                ws.send_frame(message, opcode=1)
                code = ws.wait_closed()
                ws.close()
                if web.poll() is not None:
                    W.fail("smi-web died after: " + what)
                W.log("ok: %s (%s hello): socket closed (code %s)"
                      % (what, "after" if after_hello else "without", code))
        # A binary frame, bytes that are no WebSocket frame, an unmasked frame.
        for what, send in (("binary frame", lambda ws: ws.send_frame(b"\x00\x01\x02", opcode=2)),
                           ("not a frame", lambda ws: ws.send_raw(os.urandom(64))),
                           ("unmasked frame", lambda ws: ws.send_raw(b"\x81\x05hello")),
                           ("huge length", lambda ws: ws.send_raw(b"\x81\xff" + b"\x7f" * 8 + b"abcd"))):
            ws = W.WebSocket(url, "/ws/demo")
            send(ws)
            ws.wait_closed()
            ws.close()
            if web.poll() is not None:
                W.fail("smi-web died after: " + what)
            W.log("ok: %s: socket closed" % what)
        # Sockets dropped at once, and in the middle of negotiation.
        for i in range(45):
            ws = W.WebSocket(url, "/ws/demo")
            if i % 3:
                ws.send_frame(hello)  # a webrtcbin is made ...
            if i % 3 == 2:
                ws.recv_json("offer")  # ... and has made its offer
            ws.close()
        log = P.output("smi-web")
        if log.count("bad signaling message") < 12:
            W.fail("smi-web logged %d bad signaling messages, expected one per bad message"
                   % log.count("bad signaling message"))
        W.log("ok: every bad message was logged")
        # Still serving: a browser plays.
        d = P.browser()
        d.get(url + "/view/demo")
        W.wait_playing(d, frames=10, timeout=60)
        W.check_pattern(d, 320, 240)
        if web.poll() is not None:
            W.fail("smi-web died")
        rc = P.stop(web, timeout=30)
        log = P.output("smi-web")
        if rc != 0 or "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            W.fail("smi-web exited with %s after the hostile input" % rc)
        W.log("ok: smi-web lived on, a browser plays, and it stopped cleanly")
    W.log("PASS")


def frames_now(d):
    return W.page_state(d)["frames"]


def case_restart():
    import re
    with W.Processes() as P:
        stream = P.path("later.smi")
        web, url = P.web([stream])
        d = P.browser()
        d.get(url + "/view/later")
        W.wait_until("the page to say it waits for the stream",
                     lambda: "waiting" in (W.page_state(d) or {}).get("status", ""), timeout=30)
        time.sleep(1.0)
        state = W.page_state(d)
        if state["playing"] or "not there yet" not in state["status"]:
            W.fail("the page should wait for a missing stream: %r" % state)
        W.log("ok: the page waits for a stream not there yet: %r" % state["status"])
        pub = P.publisher(stream, "320x240")
        W.wait_playing(d, frames=10, timeout=60)
        W.check_pattern(d, 320, 240)
        W.log("ok: it plays once the publisher starts")

        # The publisher killed, and another started on the same file.
        pub.kill()
        pub.wait()
        time.sleep(1.0)
        P.publisher(stream, "320x240", name="publisher2")
        W.wait_playing(d, frames=15, timeout=60, since=frames_now(d))
        W.check_pattern(d, 320, 240)
        W.log("ok: plays on after the publisher was killed and started again")

        # smi-web stopped and started again on the same port.
        port = re.search(r":(\d+)$", url).group(1)
        connects = W.page_state(d)["connects"]
        if P.stop(web) != 0:
            W.fail("smi-web did not stop cleanly on SIGTERM")
        W.wait_until("the page to see the server gone", lambda: not W.page_state(d)["playing"]
                     or W.page_state(d)["connects"] > connects, timeout=30)
        for attempt in range(20):
            web2 = P.start("smi-web2", [os.environ["SMI_WEB"], "--listen", "127.0.0.1:" + port, stream])
            time.sleep(1.0)
            if web2.poll() is None:
                break
            W.log("port %s not free yet: again" % port)
        W.wait_until("the page to connect again", lambda: W.page_state(d)["connects"] > connects, timeout=30)
        W.wait_playing(d, frames=15, timeout=60, since=frames_now(d))
        W.check_pattern(d, 320, 240)
        W.log("ok: plays on after smi-web was stopped and started again (%d connections)"
              % W.page_state(d)["connects"])
    W.log("PASS")


def case_resize():
    import signal
    with W.Processes() as P:
        stream = P.path("sizes.smi")
        sizes = ((320, 240), (480, 360), (256, 192), (320, 240))
        pub = P.py_publisher(stream, "320x240,480x360,256x192,320x240g")
        _, url = P.web([stream])
        d = P.browser()
        d.get(url + "/view/sizes")
        W.wait_playing(d, frames=10, timeout=60)
        W.check_pattern(d, 320, 240)
        for i, (w, h) in enumerate(sizes[1:]):
            pub.send_signal(signal.SIGUSR1)
            W.wait_until("the video to become %dx%d" % (w, h),
                         lambda: (W.page_state(d)["width"], W.page_state(d)["height"]) == (w, h), timeout=60)
            W.wait_playing(d, frames=10, timeout=60, since=frames_now(d))
            if i == len(sizes) - 2:
                W.wait_until("the stream to turn gray", lambda: W.grab(d) is not None and
                             W.grab(d).astype(int).std(axis=2).mean() < 3, timeout=30, step=0.3)
                W.check_gray_pattern(d, w, h)
                W.log("ok: the video follows the stream to GRAY8 frames")
            else:
                W.check_pattern(d, w, h)
                W.log("ok: the video follows the stream to %dx%d" % (w, h))
    W.log("PASS")


def case_h264():
    import signal
    with W.Processes() as P:
        stream = P.path("h264.smi")
        pub = P.py_publisher(stream, "320x240,480x360")
        _, url = P.web([stream], extra=["--codec", "h264"])
        d = P.browser()
        codecs = d.execute_script("return RTCRtpReceiver.getCapabilities('video').codecs.map(c => c.mimeType);")
        if "video/H264" not in codecs:
            W.skip("this Chromium cannot receive H.264 over WebRTC")
        d.get(url + "/view/h264")
        W.wait_playing(d, frames=10, timeout=60)
        W.check_pattern(d, 320, 240)
        pub.send_signal(signal.SIGUSR1)
        W.wait_until("the video to become 480x360",
                     lambda: (W.page_state(d)["width"], W.page_state(d)["height"]) == (480, 360), timeout=60)
        W.wait_playing(d, frames=10, timeout=60, since=frames_now(d))
        W.check_pattern(d, 480, 360)
        W.log("ok: H.264 plays and follows a size change")
        # The codec follows what the browser says it decodes (default: VP8, then H.264).
        import json
        _, url2 = P.web([stream], name="smi-web-default")
        for codecs, expect in ((["H264"], "H264/90000"), (["VP8", "H264"], "VP8/90000"),
                               (None, "VP8/90000"), (["AV1"], None)):
            ws = W.WebSocket(url2, "/ws/h264")
            ws.send_frame(json.dumps({"type": "hello", "codecs": codecs}))
            if expect:
                offer = ws.recv_json("offer")
                if not offer or expect not in offer["sdp"]:
                    W.fail("a browser decoding %s was not offered %s" % (codecs, expect))
            else:
                error = ws.recv_json("error")
                if not error or ws.wait_closed() != 4415:
                    W.fail("a browser decoding only %s was not refused (4415)" % codecs)
            ws.close()
            W.log("ok: a browser decoding %s is offered %s" % (codecs, expect or "nothing (refused)"))
    W.log("PASS")


def case_paraview():
    pvpython, plugin = os.environ.get("SMI_PVPYTHON"), os.environ.get("SMI_PLUGIN")
    if not pvpython or not plugin:
        W.skip("ParaView's pvpython and the plugin are needed")
    if not os.environ.get("DISPLAY"):
        W.skip("pvpython renders through X: run under Xvfb (DISPLAY is not set)")
    with W.Processes() as P:
        stream = P.path("view.smi")
        expected_path = P.path("expected.npy")
        pv = P.start("pvpython", [pvpython, "--force-offscreen-rendering",
                                  os.path.join(os.path.dirname(os.path.abspath(__file__)), "paraview_view.py"),
                                  "--plugin", plugin, stream, expected_path])
        W.wait_until("pvpython to publish the view",
                     lambda: "publishing" in P.output("pvpython") or pv.poll() is not None, timeout=90)
        if pv.poll() is not None:
            W.fail("pvpython exited with %s" % pv.returncode)
        expected = W.np.load(expected_path)
        _, url = P.web([stream])
        d = P.browser()
        d.get(url + "/view/view")
        W.wait_playing(d, frames=5, timeout=60)
        best = (-1.0, -1.0)
        for _ in range(3):
            image = W.grab(d)
            if image is None or image.shape != expected.shape:
                W.fail("the video is %s, the view %s" % (None if image is None else image.shape, expected.shape))
            p_luma = W.psnr(W.luma(image), W.luma(expected))
            p_rgb = W.psnr(image, expected)
            W.log("ParaView's view drawn to a canvas: PSNR %.1f dB (luma; R, G, B: %.1f dB)" % (p_luma, p_rgb))
            best = max(best, (p_luma, p_rgb))
            if p_luma >= 30:
                break
            time.sleep(0.5)
        if best[0] < 30:
            W.fail("the page does not show the ParaView view: PSNR %.1f dB" % best[0])
        shot = P.path("paraview.png")
        d.save_screenshot(shot)
        if os.environ.get("SMI_WEB_SCREENSHOT"):
            import shutil
            shutil.copy(shot, os.environ["SMI_WEB_SCREENSHOT"])
        W.log("ok: a ParaView view plays in Chromium")
    W.log("PASS")


def case_formats():
    import json
    formats = ("float32", "int16", "int32", "uint32", "float64")
    with W.Processes() as P:
        streams = []
        for fmt in formats + ("rgb8",):
            streams.append(P.path(fmt + ".smi"))
            P.publisher(streams[-1], "64x48", name="publisher-" + fmt, extra=["--format", fmt])
        web, url = P.web(streams)

        def status_of(name, want):
            ws = W.WebSocket(url, "/ws/" + name)
            if ws.status != 101:
                W.fail("WebSocket of %s answered %d" % (name, ws.status))
            ws.send_frame(json.dumps({"type": "hello", "codecs": ["VP8"]}))
            seen = []
            while True:
                message = ws.recv_json("status", timeout=20)
                if message is None:
                    W.fail("%s: the socket closed; statuses %r" % (name, seen))
                seen.append(message["text"])
                if want(message["text"]):
                    ws.close()
                    return message["text"]
        for fmt in formats:
            text = status_of(fmt, lambda t: t.startswith("cannot show"))
            if "its frames are %s " % fmt not in text or "rgb8, rgba8, gray8 and gray16" not in text:
                W.fail("%s: the status does not say why: %r" % (fmt, text))
            W.log("ok: %s: %r" % (fmt, text))
        text = status_of("rgb8", lambda t: t in ("waiting for frames", "playing"))
        W.log("ok: rgb8 beside them: %r" % text)
        log = P.output("smi-web")
        for fmt in formats:
            tried = [line for line in log.splitlines()
                     if ("stream \"%s\"" % fmt) in line and "trying again" in line]
            if tried:
                W.fail("smi-web started a reader for the %s stream: %r" % (fmt, tried))
        status, body = W.http_get(url + "/")
        if status != 200 or not all(fmt in body.decode() for fmt in formats):
            W.fail("the list page does not name every format")
        if web.poll() is not None:
            W.fail("smi-web died")
    W.log("PASS")


CASES = {"formats": case_formats, "paraview": case_paraview, "h264": case_h264, "restart": case_restart, "resize": case_resize, "play": case_play, "viewers": case_viewers, "token": case_token, "garbage": case_garbage}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        print("usage: test_web.py " + "|".join(CASES), file=sys.stderr)
        return 2
    W.watchdog(float(os.environ.get("SMI_WEB_TEST_TIMEOUT", "170")))
    CASES[sys.argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
