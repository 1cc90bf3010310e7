#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-publish --image: the PPM arrives unchanged (zero-copy, and putframe with
# --flip), and smi-read --verify rejects it, since it is not the pattern.
. "$(dirname "$0")/tools_test_lib.sh"

"$PYTHON" "$CHECK" write-ppm "$WORK/in.ppm" 211 147 || fail "write-ppm"

for mode in zerocopy "copy flip" "ensight copy" ; do
    args=()
    case $mode in
    "copy flip") args=(--copy --flip) ;;
    "ensight copy") args=(--ensight --copy) ;;
    esac
    rm -f "$STREAM"
    start_bg publish "$SMI_PUBLISH" --image "$WORK/in.ppm" --rate 100 --seconds 9 --quiet "${args[@]}" "$STREAM"
    publisher=$BG_PID
    expect_rc save 0 "$SMI_READ" --wait-file --save "$WORK/out.ppm" --save-frame 3 --timeout 5 "$STREAM"
    "$PYTHON" "$CHECK" same-pixels "$WORK/in.ppm" "$WORK/out.ppm" || fail "$mode: image changed"

    expect_rc verify 1 "$SMI_READ" --verify --frames 5 --timeout 5 "$STREAM"
    expect_in verify.err "^smi-read: $STREAM: frame [0-9]+ \\(211x147 rgb8\\) does not match the test pattern: pixel \\(x=[0-9]+, y=[0-9]+\\)"
    expect_in verify.out '^smi-read: 1 frames, 1 mismatches'
    kill -TERM "$publisher"
    wait_bg "$publisher" 0 "smi-publish --image ($mode)"
done

# --keep-going counts every bad frame.
start_bg publish "$SMI_PUBLISH" --image "$WORK/in.ppm" --rate 100 --seconds 9 --quiet "$STREAM"
publisher=$BG_PID
expect_rc keep 1 "$SMI_READ" --verify --keep-going --frames 5 --timeout 5 "$STREAM"
expect_in keep.out '^smi-read: 5 frames, 5 mismatches'
kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish --image"

# A file that is not a PPM: exit 1 with a message, nothing served.
printf 'P3\n2 2\n255\n0 0 0 0 0 0 0 0 0 0 0 0\n' >"$WORK/ascii.ppm"
expect_rc bad_image 1 "$SMI_PUBLISH" --image "$WORK/ascii.ppm" --frames 1 "$WORK/other.smi"
expect_in bad_image.err "^smi-publish: $WORK/ascii.ppm is not a binary PPM"
head -c 100 "$WORK/in.ppm" >"$WORK/short.ppm"
expect_rc short_image 1 "$SMI_PUBLISH" --image "$WORK/short.ppm" --frames 1 "$WORK/other.smi"
expect_in short_image.err "truncated"
expect_rc no_image 1 "$SMI_PUBLISH" --image "$WORK/none.ppm" --frames 1 "$WORK/other.smi"
expect_in no_image.err "cannot open $WORK/none.ppm: No such file"
echo "PASS"
