#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Extended layout: servers come and go on one file (putframe, then zero-copy,
# then one killed outright, then putframe again) while one client stays
# attached; a server that follows one that ended cleanly does not say it takes
# the stream over, one that follows a killed server does. Frame numbers keep
# increasing and every frame is still the pattern of its number.
# EnSight layout: a client does not survive a server restart there, but a new
# client of the new server still sees the pattern of the numbers it gets
# (the server numbers on from the frames the previous one left).
. "$(dirname "$0")/tools_test_lib.sh"

# attached FILE: smi-info counts one client of FILE.
attached() {
    "$SMI_INFO" --json "$1" 2>/dev/null | "$PYTHON" "$CHECK" info-json clients=1 >/dev/null 2>&1
}

# The reader runs until told to stop; the first server until the reader has
# attached and seen it publish a while (however slow the machine is).
start_bg read "$SMI_READ" --wait-file --verify --seconds 120 --timeout 10 --quiet "$STREAM"
reader=$BG_PID
start_bg first "$SMI_PUBLISH" --copy --size 200x100 --rate 100 --quiet "$STREAM"
first=$BG_PID
wait_until 20 attached "$STREAM" || fail "the reader never attached"
sleep 0.5
kill -TERM "$first"
wait_bg "$first" 0 "the first smi-publish (stopped by SIGTERM)"
expect_rc info1 0 "$SMI_INFO" --json "$STREAM"
"$PYTHON" "$CHECK" info-json server_alive=false server_generation=1 clients=1 <"$WORK/info1.out" ||
    fail "after the first server"
last1=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["last_frame"])' <"$WORK/info1.out")

# The first ended cleanly (SIGTERM): the second serves the stream again,
# without a word of taking it over.
expect_rc second 0 "$SMI_PUBLISH" --size 200x100 --rate 100 --seconds 1.2 "$STREAM"
expect_not_in second.err "taking over"
# One killed outright (kill -9) leaves a stream that the next takes over.
start_bg crashed "$SMI_PUBLISH" --size 200x100 --rate 100 --quiet "$STREAM"
crashed=$BG_PID
sleep 0.5
kill -KILL "$crashed"
wait_bg "$crashed" 137 "the smi-publish killed with SIGKILL"
expect_rc third 0 "$SMI_PUBLISH" --copy --size 200x100 --rate 100 --seconds 1.2 "$STREAM"
expect_in third.err "taking over"

expect_rc info3 0 "$SMI_INFO" --json "$STREAM"
"$PYTHON" "$CHECK" info-json server_generation=4 <"$WORK/info3.out" || fail "after the fourth server"
last3=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["last_frame"])' <"$WORK/info3.out")
[ "$last3" -gt "$last1" ] || fail "last frame $last3 is not above $last1"

kill -TERM "$reader"
wait_bg "$reader" 0 "smi-read --verify across three servers"
expect_in read.out '^smi-read: [0-9]+ frames, 0 mismatches'
expect_not_in read.out 'out of order'
frames=$(sed -n 's/^smi-read: \([0-9]*\) frames.*/\1/p' "$WORK/read.out")
[ "$frames" -gt "$last1" ] || fail "the reader saw $frames frames, the first server alone published $last1"

ensight=$WORK/ensight.smi
for mode in --copy --copy zerocopy; do
    args=()
    [ "$mode" = --copy ] && args=(--copy)
    start_bg publish_es "$SMI_PUBLISH" --ensight "${args[@]}" --size 120x90 --rate 100 --seconds 9 \
        --quiet "$ensight"
    publisher=$BG_PID
    # Attach only once the new server has set the blocks up: an EnSight client
    # that attaches before that is undone by the server's initialization.
    wait_until 5 served "$ensight" || fail "the EnSight server never came up"
    sleep 0.1
    expect_rc read_es 0 "$SMI_READ" --wait-file --verify --frames 20 --timeout 5 --quiet "$ensight"
    expect_in read_es.out '^smi-read: 20 frames, 0 mismatches'
    kill -TERM "$publisher"
    wait_bg "$publisher" 0 "smi-publish --ensight $mode"
done
echo "PASS"
