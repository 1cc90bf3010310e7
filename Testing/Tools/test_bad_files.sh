#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A missing file, a garbage file, a truncated file, a directory: smi-info and
# smi-read exit with 1 and a message naming the file and the library's error;
# smi-publish exits with 1 when it cannot create its file.
. "$(dirname "$0")/tools_test_lib.sh"

missing=$WORK/missing.smi
expect_rc info_missing 1 "$SMI_INFO" "$missing"
expect_in info_missing.err "^smi-info: $missing: [a-z]"
expect_rc read_missing 1 "$SMI_READ" --timeout 2 "$missing"
expect_in read_missing.err "^smi-read: cannot attach to $missing: [a-z]"

garbage=$WORK/garbage.smi
head -c 65536 /dev/zero | tr '\0' '\253' >"$garbage"
expect_rc info_garbage 1 "$SMI_INFO" "$garbage"
expect_in info_garbage.err "^smi-info: $garbage: [a-z]"
expect_rc read_garbage 1 "$SMI_READ" --timeout 2 "$garbage"
expect_in read_garbage.err "^smi-read: cannot attach to $garbage: [a-z]"
# The message is the library's error string, the same for both tools.
msg_info=$(sed -n "s|^smi-info: $garbage: \\(.*\\) (.*|\\1|p" "$WORK/info_garbage.err")
msg_read=$(sed -n "s|^smi-read: cannot attach to $garbage: ||p" "$WORK/read_garbage.err")
[ -n "$msg_info" ] && [ "$msg_info" = "$msg_read" ] ||
    fail "different messages: '$msg_info' and '$msg_read'"

# Pseudo-random bytes (fixed seed), with invalid EnSight block states.
random=$WORK/random.smi
"$PYTHON" -c '
import random, sys
r = random.Random(20240601)
data = bytearray(r.getrandbits(8) for _ in range(100000))
data[20] = 0xC7                       # block 0 buffer_state: not 0..4
data[24 + (len(data) - 48) // 2 + 20] = 0x99  # block 1
open(sys.argv[1], "wb").write(data)' "$random" || fail "python"
expect_rc info_random 1 "$SMI_INFO" "$random"
expect_in info_random.err "^smi-info: $random: [a-z]"
expect_rc read_random 1 "$SMI_READ" "$random"

# Extended magic with a wrong version.
printf '\211SMI\r\n\032\n\007\000\000\000' >"$WORK/version.smi"
truncate -s 8192 "$WORK/version.smi"
expect_rc info_version 1 "$SMI_INFO" "$WORK/version.smi"
expect_in info_version.err "version 7"

truncated=$WORK/truncated.smi
printf 'SMI' >"$truncated"
expect_rc info_truncated 1 "$SMI_INFO" "$truncated"
expect_rc read_truncated 1 "$SMI_READ" "$truncated"
expect_rc info_dir 1 "$SMI_INFO" "$WORK"
expect_rc info_json_missing 1 "$SMI_INFO" --json "$missing"
"$PYTHON" -c 'import json, sys; d = json.load(sys.stdin); assert d["error"] < 0 and d["message"], d' \
    <"$WORK/info_json_missing.out" || fail "JSON error object"

# One bad file among good ones: still 1, the good one still shown.
"$SMI_PUBLISH" --frames 2 --rate 0 --quiet "$STREAM" >/dev/null || fail "publish"
expect_rc info_mixed 1 "$SMI_INFO" "$STREAM" "$missing"
expect_in info_mixed.out "^file: +$STREAM"

expect_rc publish_nodir 1 "$SMI_PUBLISH" --frames 1 "$WORK/no/such/dir/x.smi"
expect_in publish_nodir.err "^smi-publish: cannot create $WORK/no/such/dir/x.smi"

# A user's file that is not a stream is never served: refused, unchanged.
notes=$WORK/notes.txt
for i in $(seq 1 2000); do echo "line $i of a user's notes, not a stream"; done >"$notes"
cp "$notes" "$WORK/notes.orig"
expect_rc publish_notes 1 "$SMI_PUBLISH" --frames 1 "$notes"
expect_in publish_notes.err "not a stream"
expect_rc publish_notes_ensight 1 "$SMI_PUBLISH" --ensight --frames 1 "$notes"
cmp -s "$notes" "$WORK/notes.orig" || fail "smi-publish changed a file that is not a stream"

# Nothing above changed the files it only looked at.
head -c 65536 /dev/zero | tr '\0' '\253' | cmp -s - "$garbage" || fail "garbage file changed"
echo "PASS"
