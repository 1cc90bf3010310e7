#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-read --timeout exits with 3 when no frame comes: on a stream that never
# gets a frame, on a file that never appears (--wait-file), and on a stream
# whose frames it cannot take (not RGB8, without --any-format).
. "$(dirname "$0")/tools_test_lib.sh"

# A zero-filled file is an EnSight stream with no frame yet.
truncate -s 1M "$STREAM"
t0=$(date +%s.%N)
expect_rc zero 3 "$SMI_READ" --timeout 1 --quiet "$STREAM"
t1=$(date +%s.%N)
expect_in zero.err "^smi-read: timeout: no frame from $STREAM for 1 s"
expect_in zero.out '^smi-read: 0 frames, 0 mismatches, 0.0 frames/s, 0 dropped'
"$PYTHON" -c "import sys; d = $t1 - $t0; sys.exit(0 if 0.9 <= d < 4 else 1)" ||
    fail "timeout took $t0 .. $t1"

rm -f "$STREAM"
expect_rc nofile 3 "$SMI_READ" --wait-file --timeout 0.5 "$STREAM"
expect_in nofile.err "^smi-read: timeout: $STREAM is not a served stream"

# A served stream without frames.
expect_rc publish0 0 "$SMI_PUBLISH" --frames 0 --quiet "$STREAM"
expect_rc noframes 3 "$SMI_READ" --wait-file --timeout 0.5 "$STREAM"

# Frames stop coming: --timeout counts from the last frame.
start_bg publish "$SMI_PUBLISH" --size 64x64 --rate 100 --frames 50 --quiet "$STREAM"
publisher=$BG_PID
expect_rc stopped 3 "$SMI_READ" --verify --timeout 1 --quiet "$STREAM"
expect_in stopped.out '^smi-read: [1-9][0-9]* frames, 0 mismatches'
wait_bg "$publisher" 0 "smi-publish --frames 50"

# gray16 frames are skipped by a plain client.
rm -f "$STREAM"
start_bg publish "$SMI_PUBLISH" --format gray16 --size 64x64 --rate 100 --seconds 9 --quiet "$STREAM"
publisher=$BG_PID
expect_rc skipped 3 "$SMI_READ" --wait-file --timeout 1 "$STREAM"
expect_in skipped.err 'any-format'
expect_in skipped.out '^smi-read: 0 frames, .* [1-9][0-9]* skipped'
kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish --format gray16"

# Ctrl-C before any frame came: exit 4, and a message that says so.
rm -f "$STREAM"
start_bg interrupted "$SMI_READ" --wait-file "$STREAM"
reader=$BG_PID
sleep 0.5
kill -INT "$reader"
wait_bg "$reader" 4 "smi-read interrupted before any frame"
expect_in interrupted.err 'stopped before'
echo "PASS"
