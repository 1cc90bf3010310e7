#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smisink creates a missing stream file sized for its frames and grows it
# when a later pipeline's frames do not fit: GRAY8 64x48 frames, then RGB
# 640x480 into the same file; the last frame of each is read back exactly
# (the second server numbers on from the first one's frames: 5 up).
. "$(dirname "$0")/gst_test_lib.sh"
needs_python_module
size_of() { stat -c %s "$1"; }
step=0
for spec in GRAY8:gray8:64x48 RGB:rgb8:640x480; do
    IFS=: read -r gst_format fmt size <<<"$spec"
    step=$((step + 1))
    caps="video/x-raw,format=$gst_format,width=${size%x*},height=${size#*x}"
    src=(videotestsrc pattern=smpte horizontal-speed=5 num-buffers=5)
    expect_rc ref$step 0 "$GST_LAUNCH" -q "${src[@]}" ! "$caps" ! filesink location="$WORK/ref$step.raw"
    expect_rc sink$step 0 "$GST_LAUNCH" "${src[@]}" ! "$caps" ! smisink location="$STREAM" sync=false
    gst_clean sink$step
    bytes=$(size_of "$STREAM")
    need=$((2 * ${size%x*} * ${size#*x} * $("$PYTHON" -c "print({'gray8': 1, 'rgb8': 3}['$fmt'])")))
    [ "$bytes" -ge "$need" ] || fail "the file holds $bytes bytes, two $size $fmt frames need $need"
    [ "$step" -eq 1 ] && [ "$bytes" -ge $((1024 * 1024)) ] &&
        fail "a file for 64x48 gray8 frames holds $bytes bytes"
    echo "ok: $size $fmt: the file holds $bytes bytes"
    expect_rc last$step 0 "$PYTHON" "$GST_CHECK" read "$STREAM" --frames 1 --timeout 10 \
        --raw "$WORK/ref$step.raw" --format $fmt --size "$size" --base $((5 * (step - 1)))
    cat "$WORK/last$step.out"
done
echo "PASS"
