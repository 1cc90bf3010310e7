#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# smi-info on a live stream (server alive, one client, buffers with frames),
# in text and JSON, for both layouts; afterwards the server is gone; and
# smi-info never changes a byte of the file.
. "$(dirname "$0")/tools_test_lib.sh"

for layout in extended ensight; do
    extra=()
    max=32
    if [ "$layout" = ensight ]; then extra=(--ensight); max=1; fi
    rm -f "$STREAM"

    start_bg publish "$SMI_PUBLISH" --size 160x120 --rate 100 --seconds 9 --quiet "${extra[@]}" "$STREAM"
    publisher=$BG_PID
    start_bg read "$SMI_READ" --wait-file --seconds 8 --quiet "$STREAM"
    reader=$BG_PID
    wait_until 5 sh -c "'$SMI_INFO' --json '$STREAM' | grep -q '\"clients\": 1,'" ||
        fail "$layout: smi-info never showed 1 client"
    sleep 0.3 # let a few frames through

    expect_rc info 0 "$SMI_INFO" "$STREAM"
    expect_in info.out "^file: +$STREAM\$"
    if [ "$layout" = extended ]; then
        expect_in info.out '^layout: +extended \(version 1\)'
    else
        expect_in info.out '^layout: +ensight'
    fi
    expect_in info.out '^server: +alive'
    expect_in info.out "^clients: +1 attached \\($max max\\)"
    expect_in info.out '^buffers: +2 x [0-9]+ bytes'
    expect_in info.out '^last frame: +[1-9][0-9]*'
    expect_in info.out '^buffer 0: '
    expect_in info.out '^buffer 1: '
    if [ "$layout" = extended ]; then
        expect_in info.out 'ready, frame [1-9][0-9]*, 160x120 rgb8, sequence [1-9]'
    fi

    expect_rc info_json 0 "$SMI_INFO" --json "$STREAM"
    "$PYTHON" "$CHECK" info-json layout=$layout server_alive=true clients=1 \
        max_clients=$max buffer_count=2 <"$WORK/info_json.out" || fail "$layout: JSON"

    # EnSight's layout has one client slot: a second client is refused.
    if [ "$layout" = ensight ]; then
        expect_rc read_second 1 "$SMI_READ" --frames 1 --timeout 2 "$STREAM"
        expect_in read_second.err "^smi-read: cannot attach to $STREAM: ."
    fi

    kill -INT "$reader"
    wait_bg "$reader" 0 "smi-read (SIGINT)"
    expect_in read.out '^smi-read: [0-9]+ frames, 0 mismatches'
    kill -TERM "$publisher"
    wait_bg "$publisher" 0 "smi-publish (SIGTERM)"

    expect_rc info_after 0 "$SMI_INFO" --json "$STREAM"
    "$PYTHON" "$CHECK" info-json layout=$layout server_alive=false clients=0 \
        <"$WORK/info_after.out" || fail "$layout: JSON after the server left"

    # Read-only: the file is byte for byte the same after smi-info.
    cp "$STREAM" "$WORK/before.smi"
    expect_rc info_ro 0 "$SMI_INFO" "$STREAM"
    expect_rc info_ro_json 0 "$SMI_INFO" --json "$STREAM"
    cmp -s "$STREAM" "$WORK/before.smi" || fail "$layout: smi-info changed the file"
done

# Several files: one line of JSON each.
expect_rc info_two 0 "$SMI_INFO" --json "$STREAM" "$STREAM"
[ "$(wc -l <"$WORK/info_two.out")" -eq 2 ] || fail "two files, not two JSON lines"

# smi-publish --buffers MIN:MAX: MIN buffers made at start, shown by smi-info.
rm -f "$STREAM"
expect_rc publish_buffers 0 "$SMI_PUBLISH" --size 160x120 --frames 3 --rate 0 --buffers 3:5 \
    --quiet "$STREAM"
expect_rc info_buffers 0 "$SMI_INFO" "$STREAM"
expect_in info_buffers.out '^buffers: +3 x [0-9]+ bytes'
expect_in info_buffers.out '^buffer 2: '

# Every format by its name, in text and JSON.
for fmt in gray16 float32 int16 int32 uint32 float64; do
    rm -f "$STREAM"
    expect_rc "publish_$fmt" 0 "$SMI_PUBLISH" --format $fmt --size 12x5 --frames 2 --rate 0 \
        --quiet "$STREAM"
    expect_rc "info_$fmt" 0 "$SMI_INFO" "$STREAM"
    expect_in "info_$fmt.out" "^buffer 1: +ready, frame 1, 12x5 $fmt, "
    expect_rc "info_json_$fmt" 0 "$SMI_INFO" --json "$STREAM"
    "$PYTHON" "$CHECK" info-json buffers.1.format=$fmt <"$WORK/info_json_$fmt.out" ||
        fail "$fmt: JSON"
done
echo "PASS"
