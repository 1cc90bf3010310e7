#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-read --save writes valid PPM/PGM/PNG files of the right size holding the
# test pattern (checked by a stdlib-only Python reader: signature, IHDR,
# chunk CRCs, zlib stream and Adler-32, every pixel).
. "$(dirname "$0")/tools_test_lib.sh"

start_bg publish "$SMI_PUBLISH" --size 301x203 --rate 100 --seconds 9 --quiet "$STREAM"
publisher=$BG_PID

expect_rc save_ppm 0 "$SMI_READ" --wait-file --save "$WORK/a.ppm" --timeout 5 "$STREAM"
expect_in save_ppm.out '^smi-read: 1 frames, 0 mismatches'
expect_in save_ppm.err "saved frame [0-9]+ \\(301x203 rgb8\\) to $WORK/a.ppm"
"$PYTHON" "$CHECK" check-ppm "$WORK/a.ppm" 301 203 --pattern || fail "a.ppm"

expect_rc save_png 0 "$SMI_READ" --save "$WORK/b.png" --save-frame 5 --timeout 5 --verify "$STREAM"
expect_in save_png.out '^smi-read: 5 frames, 0 mismatches'
"$PYTHON" "$CHECK" check-png "$WORK/b.png" 301 203 2 8 --pattern rgb8 || fail "b.png"

# With --frames, reading goes on after the save.
expect_rc save_frames 0 "$SMI_READ" --save "$WORK/c.PNG" --frames 10 --timeout 5 "$STREAM"
expect_in save_frames.out '^smi-read: 10 frames'
"$PYTHON" "$CHECK" check-png "$WORK/c.PNG" 301 203 2 8 --pattern rgb8 || fail "c.PNG"

# Cannot write: exit 1, message naming the file, no file left behind.
expect_rc save_bad 1 "$SMI_READ" --save "$WORK/no/such/dir/x.png" --timeout 5 "$STREAM"
expect_in save_bad.err "$WORK/no/such/dir/x.png"
kill -TERM "$publisher"
wait_bg "$publisher" 0 smi-publish

# Frames stored bottom row first (as ParaView publishes them) are saved upright.
rm -f "$STREAM"
start_bg publish_up "$SMI_PUBLISH" --bottom-up --size 301x203 --rate 100 --seconds 9 --quiet "$STREAM"
expect_rc save_up 0 "$SMI_READ" --wait-file --save "$WORK/up.png" --timeout 5 "$STREAM"
"$PYTHON" "$CHECK" check-png "$WORK/up.png" 301 203 2 8 --pattern rgb8 || fail "up.png (bottom-up)"
kill -TERM "$BG_PID"
wait_bg "$BG_PID" 0 "smi-publish --bottom-up"

# Other formats (extended layout).
for fmt in gray16 gray8 rgba8 float32 int16 int32 uint32 float64; do
    rm -f "$STREAM"
    start_bg publish "$SMI_PUBLISH" --format $fmt --size 130x70 --rate 100 --seconds 9 --quiet "$STREAM"
    publisher=$BG_PID
    case $fmt in
    gray16)
        expect_rc png16 0 "$SMI_READ" --wait-file --any-format --save "$WORK/g16.png" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-png "$WORK/g16.png" 130 70 0 16 --pattern gray16 || fail "g16.png"
        expect_rc pgm16 0 "$SMI_READ" --any-format --save "$WORK/g16.pgm" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-pgm "$WORK/g16.pgm" 130 70 65535 --pattern gray16 || fail "g16.pgm"
        ;;
    gray8)
        expect_rc png8 0 "$SMI_READ" --wait-file --any-format --save "$WORK/g8.png" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-png "$WORK/g8.png" 130 70 0 8 --pattern gray8 || fail "g8.png"
        expect_rc pgm8 0 "$SMI_READ" --any-format --save "$WORK/g8.pgm" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-pgm "$WORK/g8.pgm" 130 70 255 --pattern gray8 || fail "g8.pgm"
        ;;
    rgba8)
        expect_rc pngrgba 0 "$SMI_READ" --wait-file --any-format --save "$WORK/rgba.png" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-png "$WORK/rgba.png" 130 70 6 8 --pattern rgba8 || fail "rgba.png"
        expect_rc ppmrgba 0 "$SMI_READ" --any-format --save "$WORK/rgba.ppm" --timeout 5 "$STREAM"
        "$PYTHON" "$CHECK" check-ppm "$WORK/rgba.ppm" 130 70 --pattern || fail "rgba.ppm (alpha dropped)"
        ;;
    float32|int16|int32|uint32|float64)  # neither PNG nor Netpbm holds these values
        for ext in png pgm; do
            expect_rc "save_${fmt}_$ext" 1 "$SMI_READ" --wait-file --any-format --save "$WORK/f.$ext" \
                --timeout 5 "$STREAM"
            expect_in "save_${fmt}_$ext.err" "cannot save a $fmt frame as an image file \\($WORK/f.$ext\\)"
            [ ! -e "$WORK/f.$ext" ] || fail "f.$ext exists"
        done
        ;;
    esac
    kill -TERM "$publisher"
    wait_bg "$publisher" 0 "smi-publish --format $fmt"
done
echo "PASS"
