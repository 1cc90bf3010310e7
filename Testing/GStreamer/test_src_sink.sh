#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-publish (the tools' test pattern) -> `smisrc ! smisink` in one
# gst-launch-1.0 -> smi-read --verify: every frame read from the second
# stream is exactly the pattern of its number (smisrc puts the frame number in
# the buffer offset, smisink publishes it as the frame number). Stops on EOS
# (SIGINT to gst-launch-1.0 -e) within the bound, exit status 0.
# Arguments: INPUT_LAYOUT OUTPUT_LAYOUT (extended | ensight), and for the
# input, bottomup: frames stored bottom row first (as ParaView publishes
# them), which smisrc hands on upright.
. "$(dirname "$0")/gst_test_lib.sh"
in_layout=$1 out_layout=$2 in_rows=${3:-}
in=$WORK/in.smi
args=()
[ "$in_layout" = ensight ] && args=(--ensight)
[ "$in_rows" = bottomup ] && args+=(--bottom-up)
start_bg pub "$SMI_PUBLISH" "${args[@]}" --size 320x240 --rate 60 --seconds 80 --quiet "$in"
pub=$BG_PID
wait_until 20 served "$in" || fail "smi-publish never served $in"
start_bg gst "$GST_LAUNCH" -e smisrc location="$in" ! smisink location="$STREAM" layout="$out_layout"
gst=$BG_PID
expect_rc read 0 "$SMI_READ" --wait-file --verify --frames 60 --timeout 30 "$STREAM"
expect_in read.out '^smi-read: 60 frames, 0 mismatches'
cat "$WORK/read.out"
interrupt_and_wait "$gst" 0 "smisrc ! smisink"
gst_clean gst
kill -TERM "$pub"
wait_bg "$pub" 0 "smi-publish"
echo "PASS"
