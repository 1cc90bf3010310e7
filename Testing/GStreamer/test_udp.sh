#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Recipe: across "machines" (loopback UDP, three processes): smi-publish ->
# `smisrc ! rtpvrawpay ! udpsink` (one gst-launch-1.0) -> `udpsrc !
# rtpvrawdepay ! smisink` (another) -> a Python client. raw: every frame read
# is exactly a frame of the test pattern (frame numbers do not travel over
# RTP: the pattern's own pixels tell which). h264: x264enc/avdec_h264 in
# between, the frames (18 of 20) within a PSNR threshold of the pattern.
# Argument: raw | h264.
. "$(dirname "$0")/gst_test_lib.sh"
needs_python_module
mode=$1
in=$WORK/in.smi
case $mode in
raw)
    # Small frames: rtpvrawdepay pushes a frame with a lost packet as it is,
    # and the kernel's default socket buffer (rmem_max, about 200 KiB, which
    # udpsrc cannot raise) must hold a whole burst: 160x120 RGB is 42 packets.
    size=160x120
    caps="application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)RAW,sampling=(string)RGB,depth=(string)8,width=(string)160,height=(string)120,colorimetry=(string)SMPTE240M,payload=(int)96"
    send=(rtpvrawpay mtu=1400)
    recv=(rtpvrawdepay)
    check=(--pattern)
    ;;
h264)
    size=320x240
    caps="application/x-rtp,media=(string)video,clock-rate=(int)90000,encoding-name=(string)H264,payload=(int)96"
    send=(videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 pass=quant
        quantizer=12 ! rtph264pay config-interval=-1 pt=96)
    recv=(rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=RGB)
    # (UDP may lose a packet under load; a damaged frame lasts until the
    # next key frame: 18 of the 20 frames must reach 30 dB)
    check=(--psnr 30 --psnr-fraction 0.9)
    ;;
*) fail "unknown mode $mode" ;;
esac

start_bg pub "$SMI_PUBLISH" --size "$size" --rate 30 --seconds 80 --quiet "$in"
pub=$BG_PID
wait_until 20 served "$in" || fail "smi-publish never served $in"
echo "$(date +%T) served: $in"
# receiver_settled PID PORT: the receiver PID has bound PORT, or has exited.
receiver_settled() {
    ! kill -0 "$1" 2>/dev/null || udp_bound_by "$1" "$2"
}
# A free port can be taken by another program (a WebRTC peer of a test
# beside this one, say) before udpsrc binds it: then try another one.
for attempt in 1 2 3; do
    port=$("$PYTHON" "$GST_CHECK" free-port) || fail "no free UDP port"
    start_bg receiver "$GST_LAUNCH" -e udpsrc port="$port" buffer-size=4194304 caps="$caps" ! \
        "${recv[@]}" ! queue ! smisink location="$STREAM" sync=false
    receiver=$BG_PID
    wait_until 20 receiver_settled "$receiver" "$port" || fail "udpsrc never bound port $port"
    kill -0 "$receiver" 2>/dev/null && break
    grep -q "Address already in use" "$WORK/receiver.err" ||
        fail "the receiver (udpsrc ! ... ! smisink) exited at start"
    wait "$receiver"
    echo "$(date +%T) UDP port $port was taken before udpsrc bound it; another one"
    [ "$attempt" -lt 3 ] || fail "three free UDP ports taken before udpsrc bound them"
done
echo "$(date +%T) the receiver listens on UDP port $port"
start_bg sender "$GST_LAUNCH" -e smisrc location="$in" ! "${send[@]}" ! \
    udpsink host=127.0.0.1 port="$port" sync=false
sender=$BG_PID
expect_rc check 0 "$PYTHON" "$GST_CHECK" read "$STREAM" --frames 20 --timeout 40 --size "$size" \
    "${check[@]}"
tail -3 "$WORK/check.out"
echo "$(date +%T) read 20 frames; stopping the sender and the receiver"
interrupt_and_wait "$sender" 0 "the sender (smisrc ! ... ! udpsink)"
interrupt_and_wait "$receiver" 0 "the receiver (udpsrc ! ... ! smisink)"
gst_clean sender
gst_clean receiver
kill -TERM "$pub"
wait_bg "$pub" 0 "smi-publish"
echo "PASS"
