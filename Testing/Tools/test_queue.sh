#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-read --queue and --reliable against smi-publish, separate processes:
# frames published before the reader came are read in order from the file's
# history; a queue reader's 'lost' is exactly the frames published after it
# attached that it never got: the ones before its first frame plus the gaps
# in the numbers it got ('dropped'), so got + lost = published. Checked on a
# burst the reader sleeps through (stopped: 96 of 100 lost, every number
# known) and on bursts as fast as the publisher goes, a server restart
# between them and a newest-mode reader beside (which makes the server put
# back buffers it took). A reliable reader loses none; --spin reads every
# frame too; the EnSight layout is refused with a message.
. "$(dirname "$0")/tools_test_lib.sh"

# summary FILE FIELD: the number of FIELD in smi-read's summary line
# ("smi-read: N frames, ..., N dropped, N lost, first frame N, ...").
summary() {
    case $2 in
    frames) sed -n 's/^smi-read: \([0-9][0-9]*\) frames,.*/\1/p' "$WORK/$1" ;;
    *frame) sed -n "s/^smi-read: .*, $2 \([0-9][0-9]*\).*/\1/p" "$WORK/$1" ;;
    *) sed -n "s/^smi-read: .*, \([0-9][0-9]*\) $2,.*/\1/p" "$WORK/$1" ;;
    esac | head -n 1
}

# clients N: smi-info counts N clients attached to the stream.
clients() {
    "$SMI_INFO" --json "$STREAM" | grep -q "\"clients\": $1,"
}

# asleep PID: the process is sleeping (state S in /proc/PID/stat).
asleep() {
    [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d ' ' -f 1)" = S ]
}

# reader_attached_first NAME SMI-READ-OPTION...: a 320x240 stream set up by a
# server that publishes nothing, then smi-read with the options started on it
# in the background (BG_PID, output NAME.out) and waited for until smi-info
# counts it attached and it sleeps (in its wait: a queue reader sets its
# start right after its claim, with no system call between), so that its
# queue starts before the next server's first frame (the file has none).
reader_attached_first() {
    local name=$1
    shift
    rm -f "$STREAM"
    expect_rc "$name-setup" 0 "$SMI_PUBLISH" --size 320x240 --frames 0 --quiet "$STREAM"
    start_bg "$name" "$SMI_READ" "$@" --quiet "$STREAM"
    wait_until 5 clients 1 || fail "the $name reader never attached"
    wait_until 5 asleep "$BG_PID" || fail "the $name reader never went to sleep"
}

# exact NAME PUBLISHED: the queue reader's summary in NAME.out adds up, for a
# reader attached before frame 0 of PUBLISHED frames numbered 0, 1, ...:
# lost = first frame + dropped (the frames before its first one and the gaps
# between the ones it got) and got + lost = PUBLISHED. Leaves LOST set.
exact() {
    local got first dropped
    got=$(summary "$1.out" frames)
    first=$(summary "$1.out" "first frame")
    dropped=$(summary "$1.out" dropped)
    LOST=$(summary "$1.out" lost)
    [ -n "$got" ] && [ -n "$first" ] && [ -n "$dropped" ] && [ -n "$LOST" ] ||
        fail "$1: no summary"
    echo "$1: got $got (first frame $first), $dropped dropped between, $LOST lost, of $2"
    [ "$LOST" -eq $((first + dropped)) ] ||
        fail "$1: lost $LOST is not first frame $first + dropped $dropped"
    [ $((got + LOST)) -eq "$2" ] || fail "$1: got $got + lost $LOST is not $2"
}

# History: 6 frames in 8 buffers, the publisher gone; a queue reader gets all
# of them, in order; a newest-mode reader only the last.
expect_rc publish6 0 "$SMI_PUBLISH" --size 64x48 --rate 0 --frames 6 --buffers 8:8 --quiet "$STREAM"
expect_rc history 0 "$SMI_READ" --queue --verify --frames 6 --timeout 2 --quiet "$STREAM"
expect_in history.out '^smi-read: 6 frames, 0 mismatches, .* 0 dropped, 0 lost, first frame 0, last frame 5$'
expect_rc newest 3 "$SMI_READ" --verify --frames 6 --timeout 0.5 --quiet "$STREAM"
expect_in newest.out '^smi-read: 1 frames, 0 mismatches, .* first frame 5, last frame 5$'

# A burst the reader sleeps through: it attached first, then is stopped
# while 100 frames go into 4 buffers; woken, it gets the 4 the file holds
# (96..99) and counts the 96 before them, exactly; smi-info shows the same
# in its slot while it is still attached.
reader_attached_first slept --queue --verify --timeout 2
reader=$BG_PID
kill -STOP "$reader"
expect_rc burst 0 "$SMI_PUBLISH" --size 320x240 --rate 0 --frames 100 --buffers 4:4 --quiet \
    "$STREAM"
kill -CONT "$reader"
slot='"mode": "queue", "frames_locked": 4, "frames_lost": 96, "last_sequence": 100,'
wait_until 5 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '$slot'" ||
    fail "smi-info never showed the queue reader's slot with 4 frames, 96 lost"
expect_rc slept-info 0 "$SMI_INFO" "$STREAM"
expect_in slept-info.out '^client 0: +slot [0-9]+, queue, 4 frames locked, 96 lost, last sequence 100'
wait_bg "$reader" 3 "smi-read --queue (stopped during the burst; ends by --timeout)"
expect_in slept.out '^smi-read: 4 frames, 0 mismatches, .* 0 dropped, 96 lost, first frame 96, last frame 99$'

# Live, as fast as the publisher goes, 4 buffers, the reader attached first:
# two bursts of 1500 frames by two servers one after the other (the second
# takes the file over and numbers on from 1500), with a newest-mode reader
# beside the queue reader (a lock between the server's two looks makes it
# put a taken buffer back). Every frame of the 3000 is got or counted lost.
reader_attached_first fastread --queue --verify --timeout 3
reader=$BG_PID
start_bg newest "$SMI_READ" --verify --timeout 3 --quiet "$STREAM"
newest=$BG_PID
wait_until 5 clients 2 || fail "the newest-mode reader never attached"
expect_rc fastpublish1 0 "$SMI_PUBLISH" --size 320x240 --rate 0 --frames 1500 --buffers 4:4 \
    --quiet "$STREAM"
expect_rc fastpublish2 0 "$SMI_PUBLISH" --size 320x240 --rate 0 --frames 1500 --buffers 4:4 \
    --quiet "$STREAM"
expect_in fastpublish1.out '^smi-publish: 1500 frames published, 0 dropped, .* last frame 1499$'
expect_in fastpublish2.out '^smi-publish: 1500 frames published, 0 dropped, .* last frame 2999$'
wait_bg "$reader" 3 "smi-read --queue (ends by --timeout)"
wait_bg "$newest" 3 "smi-read (newest, ends by --timeout)"
expect_in fastread.out ' 0 mismatches, .*, last frame 2999$'
expect_not_in fastread.out 'out of order'
exact fastread 3000
echo "fast publisher: $LOST of 3000 lost (counted exactly)"

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
expect_in spin.out '^smi-read: 100 frames, 0 mismatches, .* 0 dropped, 0 lost, first frame 0, last frame 99$'

# The EnSight layout holds one frame at a time: refused, with the reason.
rm -f "$STREAM"
start_bg ensight "$SMI_PUBLISH" --ensight --size 64x48 --rate 50 --seconds 5 --quiet "$STREAM"
wait_until 5 served "$STREAM" || wait_until 5 test -s "$STREAM"
expect_rc ensightread 1 "$SMI_READ" --queue --timeout 3 "$STREAM"
expect_in ensightread.err 'need an extended-layout stream'
expect_rc badspin 2 "$SMI_READ" --spin 3 "$STREAM"
echo "PASS"
