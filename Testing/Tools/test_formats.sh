#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Extended layout, every pixel format, zero-copy, putframe (with --flip) and
# stored bottom row first (--bottom-up): smi-read --any-format --verify checks
# each frame against the pattern, upright.
. "$(dirname "$0")/tools_test_lib.sh"

for fmt in rgba8 gray8 gray16 float32 int16 int32 uint32 float64; do
    for mode in zerocopy copyflip bottomup; do
        args=()
        [ "$mode" = copyflip ] && args=(--copy --flip)
        [ "$mode" = bottomup ] && args=(--bottom-up)
        rm -f "$STREAM"
        start_bg publish "$SMI_PUBLISH" --format $fmt --size 270x260 --rate 200 --seconds 9 \
            --quiet "${args[@]}" "$STREAM"
        publisher=$BG_PID
        expect_rc "read_${fmt}_$mode" 0 "$SMI_READ" --wait-file --any-format --verify --frames 40 \
            --timeout 5 --quiet "$STREAM"
        expect_in "read_${fmt}_$mode.out" '^smi-read: 40 frames, 0 mismatches'
        expect_not_in "read_${fmt}_$mode.out" 'unverified'
        kill -TERM "$publisher"
        wait_bg "$publisher" 0 "smi-publish --format $fmt ${args[*]}"
    done
done
echo "PASS"
