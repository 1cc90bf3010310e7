#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Recipe: `videotestsrc ! smisink`, read live by smi-read (and, extended
# layout, by a Python client at the same time), pixels compared exactly with
# the same videotestsrc frames written to a file through filesink; frame
# numbers are videotestsrc's buffer offsets. Then the stream's last frame,
# read after the pipeline ended, is the last frame of the file.
# Arguments: GST_FORMAT (RGB, RGBA, GRAY8, GRAY16_LE) LAYOUT (extended,
# ensight) [WxH].
. "$(dirname "$0")/gst_test_lib.sh"
needs_python_module
gst_format=$1 layout=$2 size=${3:-320x240}
case $gst_format in
RGB) fmt=rgb8 ext=ppm ;;
RGBA) fmt=rgba8 ext=ppm ;;
GRAY8) fmt=gray8 ext=pgm ;;
GRAY16_LE) fmt=gray16 ext=pgm ;;
*) fail "unknown format $gst_format" ;;
esac
width=${size%x*} height=${size#*x}
frames=60
caps="video/x-raw,format=$gst_format,width=$width,height=$height,framerate=30/1"
# A moving pattern: every frame differs (the SMPTE bars move 3 pixels a frame).
src=(videotestsrc pattern=smpte horizontal-speed=3 num-buffers=$frames)

expect_rc ref 0 "$GST_LAUNCH" -q "${src[@]}" ! "$caps" ! filesink location="$WORK/ref.raw"
[ "$("$PYTHON" "$GST_CHECK" raw-frames "$WORK/ref.raw" --format $fmt --size "$size")" = $frames ] ||
    fail "the reference file does not hold $frames frames"

# The sink publishes at 30 frames/s (sync on the clock); the readers wait for
# the file and the server.
start_bg read "$SMI_READ" --wait-file --any-format --frames 10 --save "$WORK/frame.$ext" \
    --save-frame 10 --timeout 30 "$STREAM"
read_pid=$BG_PID
if [ "$layout" = extended ]; then
    # (The sink starts once the Python client is ready: its start-up, numpy
    # and the raw frames, can outlast the 2 s stream on a loaded machine.)
    start_bg pyread "$PYTHON" "$GST_CHECK" read "$STREAM" --frames 10 --timeout 30 \
        --raw "$WORK/ref.raw" --format $fmt --size "$size" --ready "$WORK/pyready"
    py_pid=$BG_PID
    wait_until 60 test -e "$WORK/pyready" || fail "the Python client never got ready"
fi
start_bg sink env GST_DEBUG=smisink:4 "$GST_LAUNCH" "${src[@]}" ! "$caps" ! \
    smisink location="$STREAM" layout="$layout"
sink_pid=$BG_PID
wait_bg "$read_pid" 0 "smi-read"
[ "$layout" = extended ] && wait_bg "$py_pid" 0 "the Python client"
wait_bg "$sink_pid" 0 "videotestsrc ! smisink"
gst_clean sink
number=$(sed -n 's/^smi-read: saved frame \([0-9]*\) .*/\1/p' "$WORK/read.err")
[ -n "$number" ] || fail "smi-read saved no frame"
expect_rc cmp 0 "$PYTHON" "$GST_CHECK" pnm "$WORK/frame.$ext" --raw "$WORK/ref.raw" \
    --format $fmt --number "$number"
cat "$WORK/cmp.out"
[ "$layout" = extended ] && tail -1 "$WORK/pyread.out"

# Zero copy: with rows as GStreamer lays them out (or GstVideoMeta), the
# frames are drawn by videotestsrc straight into the stream's buffers.
zero=$(sed -n 's/.* \([0-9]*\) frames published without a copy, \([0-9]*\) copied.*/\1/p' \
    "$WORK/sink.err")
echo "smisink: $zero of $frames frames published without a copy"
if [ "$layout" = extended ]; then
    [ "${zero:-0}" -ge $((frames - 2)) ] || fail "only ${zero:-0} of $frames frames were zero-copy"
fi

# After the pipeline: the last frame stays for clients that attach later.
if [ "$layout" = extended ]; then
    expect_rc last 0 "$PYTHON" "$GST_CHECK" read "$STREAM" --frames 1 --timeout 10 \
        --raw "$WORK/ref.raw" --format $fmt --size "$size"
    expect_in last.out "^frame $((frames - 1)) "
fi
echo "PASS"
