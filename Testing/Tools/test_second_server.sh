#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A second smi-publish on a live stream is refused (exit 1, message) and does
# not resize the file (which would move EnSight blocks under a live client);
# the first server goes on undisturbed. SIGINT stops a server cleanly.
. "$(dirname "$0")/tools_test_lib.sh"

for layout in extended ensight; do
    extra=()
    [ "$layout" = ensight ] && extra=(--ensight)
    rm -f "$STREAM"
    start_bg publish "$SMI_PUBLISH" --size 100x80 --rate 100 "${extra[@]}" --quiet "$STREAM"
    publisher=$BG_PID
    wait_until 5 served "$STREAM" || fail "$layout: the server never came up"
    size_before=$(stat -c %s "$STREAM")

    expect_rc second 1 "$SMI_PUBLISH" --size 1920x1080 --frames 5 "$STREAM"
    expect_in second.err "^smi-publish: .*$STREAM.*: [a-z]"
    expect_rc second_ensight 1 "$SMI_PUBLISH" --ensight --copy --frames 5 "$STREAM"
    [ "$(stat -c %s "$STREAM")" = "$size_before" ] || fail "$layout: the refused server resized the file"

    expect_rc read 0 "$SMI_READ" --verify --frames 20 --timeout 5 --quiet "$STREAM"
    kill -INT "$publisher"
    wait_bg "$publisher" 0 "smi-publish (SIGINT)"
    expect_in publish.out '^smi-publish: [0-9]+ frames published'
done
echo "PASS"
