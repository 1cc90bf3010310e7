#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad input: a missing, foreign or truncated stream file, a symbolic link,
# float32 and instrument (int16, int32, uint32, float64) frames, which no
# GStreamer video format carries, a file truncated under a running smisrc, a sink location in
# a missing folder or on a FIFO. Each gives a GStreamer error whose text
# holds the library's own error string, within a bounded time, never a crash
# (exit status 1 or 255: GStreamer's error exits, not a signal) nor a hang.
. "$(dirname "$0")/gst_test_lib.sh"
needs_python_module

# expect_gst_error NAME CODE|TEXT PIPELINE...: gst-launch-1.0 fails (not by a
# signal) within 30 s, naming the library's error string of CODE (or TEXT).
expect_gst_error() {
    local name=$1 want=$2 rc
    shift 2
    [[ $want =~ ^-?[0-9]+$ ]] && want=$(errorstring "$want")
    timeout 30 "$GST_LAUNCH" "$@" >"$WORK/$name.out" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || [ "$rc" -eq 255 ] || fail "$name: gst-launch-1.0 exited with $rc"
    grep -F -q -- "$want" "$WORK/$name.out" || fail "$name: no error saying '$want'"
    grep -q -E '^ERROR: from element .*(smisrc|smisink)0' "$WORK/$name.out" ||
        fail "$name: no error from the element"
    expect_not_in "$name.out" 'CRITICAL|AddressSanitizer|runtime error:'
    echo "ok: $name: $(grep -m1 '^ERROR: from element' "$WORK/$name.out")"
}

expect_gst_error missing -3 smisrc location="$WORK/missing.smi" ! fakesink
head -c 200000 /dev/urandom >"$WORK/foreign.smi"
chmod 600 "$WORK/foreign.smi"
expect_gst_error foreign -12 smisrc location="$WORK/foreign.smi" ! fakesink
expect_rc publish 0 "$SMI_PUBLISH" --size 64x48 --frames 3 --quiet "$WORK/short.smi"
truncate -s 1000 "$WORK/short.smi"
# (a file cut inside its header page: too small, or a header that does not hold)
code=-12
expect_gst_error truncated "$code" smisrc location="$WORK/short.smi" ! fakesink
ln -s "$WORK/foreign.smi" "$WORK/link.smi"
expect_gst_error link -17 smisrc location="$WORK/link.smi" ! fakesink
for fmt in float32 int16 int32 uint32 float64; do
    expect_rc "publish_$fmt" 0 "$SMI_PUBLISH" --format $fmt --size 16x8 --frames 3 --quiet "$WORK/$fmt.smi"
    expect_gst_error $fmt "carries $fmt frames of 16x8x1: smisrc outputs" \
        smisrc location="$WORK/$fmt.smi" ! fakesink
    grep -F -q "no raw video format for float, signed or 32-bit values" "$WORK/$fmt.out" ||
        fail "$fmt: the error does not say why"
done
expect_gst_error nodir -4 videotestsrc num-buffers=3 ! smisink location="$WORK/nodir/x.smi"
expect_in nodir.out "the folder $WORK/nodir does not exist: create it"
# A user's file of other data: smisink refuses it (NOT_A_STREAM) and leaves
# it byte for byte as it was.
for i in $(seq 1 500); do echo "line $i of a user's notes, not a stream"; done >"$WORK/notes.txt"
cp "$WORK/notes.txt" "$WORK/notes.orig"
expect_gst_error notes -19 videotestsrc num-buffers=3 ! smisink location="$WORK/notes.txt"
cmp -s "$WORK/notes.txt" "$WORK/notes.orig" || fail "smisink changed a file that is not a stream"
mkfifo "$WORK/fifo.smi"
expect_gst_error fifo -17 videotestsrc num-buffers=3 ! smisink location="$WORK/fifo.smi"
expect_gst_error nolocation "No stream file given" smisrc ! fakesink

# Truncated under a running smisrc (after its server is gone): a warning,
# attempts to attach again, then the error, once retry-timeout has passed.
live=$WORK/live.smi
start_bg pub "$SMI_PUBLISH" --size 64x48 --rate 100 --quiet "$live"
pub=$BG_PID
wait_until 20 served "$live" || fail "smi-publish never served $live"
start_bg gst timeout 30 "$GST_LAUNCH" smisrc location="$live" retry-timeout=500 ! fakesink
gst=$BG_PID
attached() { "$SMI_INFO" "$live" | grep -q -E '^clients: +1 '; }
wait_until 20 attached || fail "smisrc never attached"
kill -TERM "$pub"
wait_bg "$pub" 0 "smi-publish"
truncate -s 0 "$live"
wait "$gst"
rc=$?
BG_PIDS=$(echo "$BG_PIDS" | tr ' ' '\n' | grep -vx "$gst" | tr '\n' ' ')
cat "$WORK/gst.err" >>"$WORK/gst.out" # gst-launch-1.0 prints errors to stderr
[ "$rc" -eq 1 ] || fail "smisrc on a truncated file: gst-launch-1.0 exited with $rc"
expect_in gst.out "^WARNING: from element .*smisrc0: .*$(errorstring -3); attaching again"
expect_in gst.out "^ERROR: from element .*smisrc0: .*$(errorstring -3)"
expect_not_in gst.out 'CRITICAL|AddressSanitizer|runtime error:'
echo "ok: truncated while running: $(grep -m1 '^ERROR: from element' "$WORK/gst.out")"
echo "PASS"
