#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Extended layout: three smi-read --verify at once on one stream; smi-info
# counts them while they are attached.
. "$(dirname "$0")/tools_test_lib.sh"

start_bg publish "$SMI_PUBLISH" --size 320x240 --rate 150 --seconds 9 --quiet "$STREAM"
publisher=$BG_PID
readers=""
for i in 1 2 3; do
    start_bg "read$i" "$SMI_READ" --wait-file --verify --frames 200 --timeout 5 --quiet "$STREAM"
    readers="$readers $BG_PID"
done
wait_until 5 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '\"clients\": 3,'" ||
    fail "smi-info never showed 3 clients"
i=0
for pid in $readers; do
    i=$((i + 1))
    wait_bg "$pid" 0 "smi-read #$i"
    expect_in "read$i.out" '^smi-read: 200 frames, 0 mismatches'
done
kill -TERM "$publisher"
wait_bg "$publisher" 0 smi-publish
echo "PASS"
