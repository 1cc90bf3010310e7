#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-publish in one process, smi-read --verify in another: every byte of
# every frame must be the test pattern of its frame number.
# Usage: test_publish_read.sh extended|ensight zerocopy|copy [flip|bottomup]
# (bottomup: frames stored bottom row first, as OpenGL and VTK have them; the
# reader must see them upright).
# The reader starts first (--wait-file) so that it also meets a file that is
# being created. 333x257 crosses the pattern's 256-pixel bands both ways.
. "$(dirname "$0")/tools_test_lib.sh"

layout=$1 mode=$2 flip=${3:-}
args=(--size 333x257 --rate 200 --seconds 9 --quiet)
[ "$layout" = ensight ] && args+=(--ensight)
[ "$mode" = copy ] && args+=(--copy)
[ "$flip" = flip ] && args+=(--flip)
[ "$flip" = bottomup ] && args+=(--bottom-up)

start_bg read "$SMI_READ" --wait-file --verify --frames 150 --timeout 8 --quiet "$STREAM"
reader=$BG_PID
sleep 0.2
start_bg publish "$SMI_PUBLISH" "${args[@]}" "$STREAM"
publisher=$BG_PID

wait_bg "$reader" 0 "smi-read --verify"
expect_in read.out '^smi-read: 150 frames, 0 mismatches, [0-9.]+ frames/s, [0-9]+ dropped'

# A second reader after the first one left: frame numbers go on, still the pattern.
expect_rc read2 0 "$SMI_READ" --verify --frames 30 --timeout 5 --quiet "$STREAM"
expect_in read2.out '^smi-read: 30 frames, 0 mismatches'
# --touch: reads a byte of every page of every frame, no check.
expect_rc touch 0 "$SMI_READ" --touch --frames 30 --timeout 5 --quiet "$STREAM"
expect_in touch.out '^smi-read: 30 frames, 0 mismatches'

kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish ${args[*]}"
expect_in publish.out '^smi-publish: [0-9]+ frames published, [0-9]+ dropped, [0-9]+ unconnected'
expect_in publish.out 'last frame [0-9]+$'

# EnSight's layout drops frames nobody reads: the summary says none went out
# (frame numbers start at 0, so "last frame 0" would not tell).
expect_rc lonely 0 "$SMI_PUBLISH" --ensight --seconds 0.3 "$WORK/lonely.smi"
expect_in lonely.out '^smi-publish: 0 frames published, .*, no frame published$'
echo "PASS"
