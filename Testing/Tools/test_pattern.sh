#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The Python copy of the test pattern (smi_pattern.py, which every Python
# test uses) agrees with the C one (Core/Tools/smi_pattern.c) byte for byte
# in every format: frames published by smi-publish, read straight from the
# file as Core/LAYOUT.md describes, are the Python pattern of their frame
# number, as bytes and (with numpy) as pattern_array(). Frame numbers above
# 256 and 65536 check the wrapping arithmetic.
. "$(dirname "$0")/tools_test_lib.sh"

for fmt in rgb8 rgba8 gray8 gray16 float32 int16 int32 uint32 float64; do
    for frames in 3 300; do
        rm -f "$STREAM"
        expect_rc "publish_$fmt" 0 "$SMI_PUBLISH" --format $fmt --size 263x258 --rate 0 \
            --frames $frames --quiet "$STREAM"
        "$PYTHON" "$CHECK" check-stream "$STREAM" $fmt 263 258 || fail "$fmt, $frames frames"
    done
done
# Far frame numbers: let a copy-mode server number on from a file whose last
# frame is high (the library keeps numbers increasing across servers).
rm -f "$STREAM"
expect_rc publish_many 0 "$SMI_PUBLISH" --size 16x16 --rate 0 --frames 66000 --quiet "$STREAM"
expect_rc publish_after 0 "$SMI_PUBLISH" --format gray16 --copy --size 16x16 --rate 0 --frames 2 --quiet "$STREAM"
"$PYTHON" "$CHECK" check-stream "$STREAM" gray16 16 16 || fail "gray16 past frame 65536"
expect_rc publish_after2 0 "$SMI_PUBLISH" --format float32 --size 16x16 --rate 0 --frames 2 --quiet "$STREAM"
"$PYTHON" "$CHECK" check-stream "$STREAM" float32 16 16 || fail "float32 past frame 65536"
for fmt in int16 int32 uint32 float64; do
    expect_rc "publish_after_$fmt" 0 "$SMI_PUBLISH" --format $fmt --size 16x16 --rate 0 --frames 2 --quiet "$STREAM"
    "$PYTHON" "$CHECK" check-stream "$STREAM" $fmt 16 16 || fail "$fmt past frame 65536"
done
echo "PASS"
