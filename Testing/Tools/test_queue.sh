#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-read --queue and --reliable against smi-publish, separate processes:
# frames published before the reader came are read in order from the file's
# history; a reader following a publisher as fast as it goes reports as
# 'lost' exactly the frames missing from the numbers it got (dropped);
# a reliable reader loses none; --spin reads every frame too; the EnSight
# layout is refused with a message.
. "$(dirname "$0")/tools_test_lib.sh"

# summary FILE FIELD: the number before FIELD in smi-read's summary line.
summary() {
    sed -n "s/^smi-read: .* \([0-9][0-9]*\) $2.*/\1/p" "$WORK/$1" | head -n 1
}

# reader_attached_first NAME SMI-READ-OPTION...: a 320x240 stream set up by a
# server that publishes nothing, then smi-read with the options started on it
# in the background (BG_PID, output NAME.out) and waited for until smi-info
# counts it attached, so that it sees every frame the next server publishes.
reader_attached_first() {
    local name=$1
    shift
    rm -f "$STREAM"
    expect_rc "$name-setup" 0 "$SMI_PUBLISH" --size 320x240 --frames 0 --quiet "$STREAM"
    start_bg "$name" "$SMI_READ" "$@" --quiet "$STREAM"
    wait_until 5 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '\"clients\": 1,'" ||
        fail "the $name reader never attached"
}

# History: 6 frames in 8 buffers, the publisher gone; a queue reader gets all
# of them, in order; a newest-mode reader only the last.
expect_rc publish6 0 "$SMI_PUBLISH" --size 64x48 --rate 0 --frames 6 --buffers 8:8 --quiet "$STREAM"
expect_rc history 0 "$SMI_READ" --queue --verify --frames 6 --timeout 2 --quiet "$STREAM"
expect_in history.out '^smi-read: 6 frames, 0 mismatches, .* 0 dropped, 0 lost, last frame 5$'
expect_rc newest 3 "$SMI_READ" --verify --frames 6 --timeout 0.5 --quiet "$STREAM"
expect_in newest.out '^smi-read: 1 frames, 0 mismatches, .* last frame 5$'

# Live, as fast as the publisher goes, 4 buffers, the reader attached first:
# every gap in the numbers it got is counted in 'lost'. (The count may
# exceed the gaps, never fall below them: a frame the server took and put
# back, or one published while the reader attached, may be counted too;
# LAYOUT.md, "Queue reading".)
reader_attached_first fastread --queue --verify --timeout 2
reader=$BG_PID
expect_rc fastpublish 0 "$SMI_PUBLISH" --size 320x240 --rate 0 --frames 3000 --buffers 4:4 \
    --quiet "$STREAM"
wait_bg "$reader" 3 "smi-read --queue (ends by --timeout)"
expect_in fastread.out ' 0 mismatches, .*, last frame 2999$'
dropped=$(summary fastread.out dropped)
lost=$(summary fastread.out lost)
echo "fast publisher: $dropped dropped (gaps in frame numbers), $lost lost"
[ -n "$lost" ] && [ "$lost" -ge "$dropped" ] || fail "lost ($lost) is below the gaps ($dropped)"

# Reliable, 3 buffers, attached first: nothing lost (the publisher drops
# frames instead).
reader_attached_first reliable --reliable --verify --timeout 3
reader=$BG_PID
expect_rc relpublish 0 "$SMI_PUBLISH" --size 320x240 --rate 0 --frames 1000 --buffers 3:3 \
    --quiet "$STREAM"
wait_bg "$reader" 3 "smi-read --reliable (ends by --timeout)"
published=$(sed -n 's/^smi-publish: \([0-9]*\) frames published.*/\1/p' "$WORK/relpublish.out")
echo "reliable reader: the publisher published $published frames, dropped the rest"
expect_in reliable.out "^smi-read: $published frames, 0 mismatches, .* 0 dropped, 0 lost,"

# A spinning reader at 200 frames/s gets every frame.
rm -f "$STREAM"
start_bg spin "$SMI_READ" --spin 0.01 --queue --verify --wait-file --frames 100 --timeout 5 \
    --quiet "$STREAM"
reader=$BG_PID
expect_rc spinpublish 0 "$SMI_PUBLISH" --size 64x48 --rate 200 --frames 100 --buffers 8:8 \
    --quiet "$STREAM"
wait_bg "$reader" 0 "smi-read --spin"
expect_in spin.out '^smi-read: 100 frames, 0 mismatches, .* 0 dropped, 0 lost, last frame 99$'

# The EnSight layout holds one frame at a time: refused, with the reason.
rm -f "$STREAM"
start_bg ensight "$SMI_PUBLISH" --ensight --size 64x48 --rate 50 --seconds 5 --quiet "$STREAM"
wait_until 5 served "$STREAM" || wait_until 5 test -s "$STREAM"
expect_rc ensightread 1 "$SMI_READ" --queue --timeout 3 "$STREAM"
expect_in ensightread.err 'need an extended-layout stream'
expect_rc badspin 2 "$SMI_READ" --spin 3 "$STREAM"
echo "PASS"
