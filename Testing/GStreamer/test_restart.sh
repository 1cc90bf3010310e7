#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Recipe: smisrc through server restarts, a size change and a format change:
# `smisrc ! smisink` keeps running with no error or warning, renegotiates
# its caps for each new size and format, and every frame that comes out of
# it (read by smi-read --verify from the smisink stream, which stays attached
# throughout) is exactly the test pattern of its number.
# Argument: the input layout (extended | ensight: a client there attaches
# again when a new server comes; EnSight carries RGB only).
. "$(dirname "$0")/gst_test_lib.sh"
layout=$1
in=$WORK/in.smi
args=()
[ "$layout" = ensight ] && args=(--ensight)

# last_frame FILE: the newest frame number smi-info reports.
last_frame() {
    "$SMI_INFO" --json "$1" 2>/dev/null |
        "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["last_frame"])' 2>/dev/null
}
# frames_after FILE N: FILE has published a frame numbered above N.
frames_after() {
    local last
    last=$(last_frame "$1") && [ -n "$last" ] && [ "$last" -gt "$2" ]
}

start_bg pub1 "$SMI_PUBLISH" "${args[@]}" --size 640x480 --rate 60 --quiet "$in"
pub=$BG_PID
wait_until 20 served "$in" || fail "the first server never came up"
start_bg gst "$GST_LAUNCH" -e -v smisrc location="$in" ! smisink location="$STREAM"
gst=$BG_PID
start_bg read "$SMI_READ" --wait-file --verify --any-format --seconds 80 --timeout 30 --quiet \
    "$STREAM"
reader=$BG_PID
wait_until 30 frames_after "$STREAM" 20 || fail "no frames came through smisrc ! smisink"
kill -TERM "$pub"
wait_bg "$pub" 0 "the first smi-publish"
mark=$(last_frame "$STREAM")

# A new server, another size. (Smaller: a server cannot grow the buffers of
# a stream that has clients attached; smi-publish sizes the file for its
# frames only.)
start_bg pub2 "$SMI_PUBLISH" "${args[@]}" --size 320x240 --rate 60 --quiet "$in"
pub=$BG_PID
wait_until 30 frames_after "$STREAM" $((mark + 20)) || fail "no frames after the restart"
kill -TERM "$pub"
wait_bg "$pub" 0 "the second smi-publish"
mark=$(last_frame "$STREAM")

# A third server; in the extended layout another format.
fmt=(--format gray8)
[ "$layout" = ensight ] && fmt=()
start_bg pub3 "$SMI_PUBLISH" "${args[@]}" "${fmt[@]}" --size 200x150 --rate 60 --quiet "$in"
pub=$BG_PID
wait_until 30 frames_after "$STREAM" $((mark + 20)) || fail "no frames after the second restart"
kill -TERM "$pub"
wait_bg "$pub" 0 "the third smi-publish"

interrupt_and_wait "$gst" 0 "smisrc ! smisink (EOS)"
kill -TERM "$reader"
wait_bg "$reader" 0 "smi-read --verify"
expect_in read.out '^smi-read: [0-9]+ frames, 0 mismatches'
cat "$WORK/read.out"
gst_clean gst
expect_in gst.out 'smisrc0.GstPad:src: caps = video/x-raw, format=\(string\)RGB, width=\(int\)320, height=\(int\)240'
expect_in gst.out 'smisrc0.GstPad:src: caps = video/x-raw, format=\(string\)RGB, width=\(int\)640, height=\(int\)480'
if [ "$layout" = ensight ]; then
    expect_in gst.out 'smisrc0.GstPad:src: caps = video/x-raw, format=\(string\)RGB, width=\(int\)200, height=\(int\)150'
else
    expect_in gst.out 'smisrc0.GstPad:src: caps = video/x-raw, format=\(string\)GRAY8, width=\(int\)200, height=\(int\)150'
fi
echo "PASS"
