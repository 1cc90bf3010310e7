#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# 4K through pyensight's file: a 25 MiB file of zeros (what pyensight writes
# before it asks for a stream), served in the EnSight layout at 3840x2160 RGB
# (24.9 MB a frame: more than one 12.5 MiB block, so each frame is split over
# both), zero-copy and with --copy; smi-read --verify checks every pixel of
# every frame it gets.
. "$(dirname "$0")/tools_test_lib.sh"

for mode in zerocopy copy; do
  rm -f "$STREAM"
  head -c $((25 << 20)) /dev/zero > "$STREAM"
  chmod 600 "$STREAM"
  args=(--ensight --size 3840x2160 --rate 30 --seconds 20 --quiet)
  [ "$mode" = copy ] && args+=(--copy)
  start_bg "read-$mode" "$SMI_READ" --wait-file --verify --frames 12 --timeout 15 --quiet "$STREAM"
  reader=$BG_PID
  sleep 0.2
  start_bg "publish-$mode" "$SMI_PUBLISH" "${args[@]}" "$STREAM"
  publisher=$BG_PID
  wait_bg "$reader" 0 "smi-read --verify ($mode)"
  expect_in "read-$mode.out" '^smi-read: 12 frames, 0 mismatches'
  kill -TERM "$publisher"
  wait_bg "$publisher" 0 "smi-publish ${args[*]}"
  expect_in "publish-$mode.out" '^smi-publish: [0-9]+ frames published'
  # The file kept pyensight's size.
  [ "$(stat -c %s "$STREAM")" -eq $((25 << 20)) ] || fail "the file's size changed"
done
echo "PASS"
