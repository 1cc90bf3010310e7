#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smisrc stops promptly however idle its stream: on EOS (SIGINT to
# gst-launch-1.0 -e), when the pipeline goes to NULL (SIGINT without -e),
# and after num-buffers; each within 5 s, exit status 0.
. "$(dirname "$0")/gst_test_lib.sh"
# A server that publishes one frame, then nothing for a minute.
start_bg pub "$SMI_PUBLISH" --size 64x48 --rate 0.016 --seconds 60 --quiet "$STREAM"
pub=$BG_PID
wait_until 20 served "$STREAM" || fail "smi-publish never served $STREAM"
attached() { "$SMI_INFO" "$STREAM" | grep -q -E '^clients: +1 '; }
for how in eos null; do
    args=(-e)
    [ $how = null ] && args=()
    start_bg "$how" "$GST_LAUNCH" "${args[@]}" smisrc location="$STREAM" ! fakesink
    gst=$BG_PID
    wait_until 20 attached || fail "$how: smisrc never attached"
    sleep 0.3 # let it sleep in the library's wait
    start=$(date +%s%N)
    kill -INT "$gst"
    for _ in $(seq 100); do kill -0 "$gst" 2>/dev/null || break; sleep 0.05; done
    elapsed=$((($(date +%s%N) - start) / 1000000))
    kill -0 "$gst" 2>/dev/null && fail "$how: gst-launch-1.0 still runs 5 s after SIGINT"
    wait_bg "$gst" 0 "smisrc stopped by SIGINT ($how)"
    echo "ok: $how: stopped in $elapsed ms"
    gst_clean "$how"
    wait_until 5 bash -c "! $SMI_INFO '$STREAM' | grep -q -E '^clients: +1 '" ||
        fail "$how: the client slot is still taken"
done
# num-buffers: EOS after that many frames (only one ever comes: the one
# already published, then smisrc waits; so num-buffers=1).
expect_rc count 0 timeout 10 "$GST_LAUNCH" smisrc location="$STREAM" num-buffers=1 ! fakesink
gst_clean count
kill -TERM "$pub"
wait_bg "$pub" 0 "smi-publish"
echo "PASS"
