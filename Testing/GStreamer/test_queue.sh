#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smisrc mode=queue and mode=reliable record every frame, in order: the
# frame numbers in the buffers' offsets are consecutive. History: 6 frames a
# publisher left in an 8-buffer file come out 0..5 (mode=newest gives the
# last only). Live: a reliable smisrc attached first gets 200 consecutive
# frames of smi-publish at 1000 frames/s in a 3-buffer file. A burst
# mode=queue sleeps through (stopped while 100 frames go into 4 buffers) is
# recorded as the 4 the file holds, 96..99, and its 'lost' is exactly the
# 96 before them. An EnSight-layout stream is refused in a queue mode with
# a message.
. "$(dirname "$0")/gst_test_lib.sh"

# offsets NAME: the buffer offsets fakesink printed (gst-launch -v), one a line.
offsets() {
    sed -n 's/.*chain   \*\*\*.* offset: \([0-9]*\),.*/\1/p' "$WORK/$1.out"
}

# consecutive NAME FIRST COUNT: the offsets are FIRST, FIRST + 1, ... COUNT of them.
consecutive() {
    local got want
    got=$(offsets "$1" | tr '\n' ' ')
    want=$(seq "$2" $(($2 + $3 - 1)) | tr '\n' ' ')
    [ "$got" = "$want" ] || fail "$1: offsets '$got', expected '$want'"
}

expect_rc publish6 0 "$SMI_PUBLISH" --size 64x48 --rate 0 --frames 6 --buffers 8:8 --quiet "$STREAM"
expect_rc history 0 "$GST_LAUNCH" -v smisrc location="$STREAM" mode=queue num-buffers=6 ! \
    fakesink silent=false
consecutive history 0 6
expect_rc newest 0 timeout 3 "$GST_LAUNCH" -v smisrc location="$STREAM" num-buffers=1 ! \
    fakesink silent=false
consecutive newest 5 1

rm -f "$STREAM"
expect_rc setup 0 "$SMI_PUBLISH" --size 64x48 --frames 0 --quiet "$STREAM"
start_bg reliable "$GST_LAUNCH" -v smisrc location="$STREAM" mode=reliable num-buffers=200 ! \
    fakesink silent=false
gst=$BG_PID
wait_until 10 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '\"clients\": 1,'" ||
    fail "smisrc mode=reliable never attached"
start_bg publish "$SMI_PUBLISH" --size 64x48 --rate 1000 --seconds 30 --buffers 3:3 --quiet \
    "$STREAM"
pub=$BG_PID
wait_bg "$gst" 0 "smisrc mode=reliable"
consecutive reliable "$(offsets reliable | head -n 1)" 200
echo "ok: 200 consecutive frames from $(offsets reliable | head -n 1)"
kill -TERM "$pub"
wait_bg "$pub" 0 smi-publish

# A burst smisrc mode=queue sleeps through: attached first, then every
# thread of gst-launch asleep (the source's waits for a frame: a queue
# reader sets its start right after its claim), then stopped.
asleep() {
    local stat
    for stat in /proc/"$1"/task/*/stat; do
        [ "$(sed 's/.*) //' "$stat" | cut -d ' ' -f 1)" = S ] || return 1
    done
}
rm -f "$STREAM"
expect_rc slept-setup 0 "$SMI_PUBLISH" --size 64x48 --frames 0 --quiet "$STREAM"
GST_DEBUG=smisrc:2 start_bg slept "$GST_LAUNCH" -v smisrc location="$STREAM" mode=queue \
    num-buffers=4 ! fakesink silent=false
gst=$BG_PID
wait_until 10 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '\"clients\": 1,'" ||
    fail "smisrc mode=queue never attached"
wait_until 10 asleep "$gst" || fail "smisrc mode=queue never went to sleep"
kill -STOP "$gst"
expect_rc burst 0 "$SMI_PUBLISH" --size 64x48 --rate 0 --frames 100 --buffers 4:4 --quiet \
    "$STREAM"
kill -CONT "$gst"
wait_bg "$gst" 0 "smisrc mode=queue (stopped during the burst)"
consecutive slept 96 4
lost=0
for n in $(sed -n 's/.* \([0-9][0-9]*\) frames lost before frame .*/\1/p' "$WORK/slept.out" \
    "$WORK/slept.err"); do
    lost=$((lost + n))
done
[ "$lost" = 96 ] || fail "smisrc counted $lost frames lost, not the 96 before frame 96"
echo "ok: frames 96..99 recorded, 96 lost"

rm -f "$STREAM"
start_bg ensight "$SMI_PUBLISH" --ensight --size 64x48 --rate 50 --seconds 20 --quiet "$STREAM"
pub=$BG_PID
wait_until 10 test -s "$STREAM" || fail "no EnSight stream"
expect_rc ensightq 1 timeout 20 "$GST_LAUNCH" smisrc location="$STREAM" mode=queue ! fakesink
grep -q "need the extended layout" "$WORK/ensightq.out" "$WORK/ensightq.err" ||
    fail "no message about the layout"
kill -TERM "$pub"
wait_bg "$pub" 0 smi-publish
echo "PASS"
