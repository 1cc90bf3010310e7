#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A full file system: on a 2 MiB tmpfs mounted for the test (root only, in a
# private mount namespace when unshare(1) can make one; skipped otherwise):
# - smi-publish of frames too large for it exits with 1 and "not enough
#   space", leaving no file;
# - smi-info on a 64 MiB sparse file (made by truncate) answers at once and
#   allocates nothing (the tmpfs's free blocks are unchanged);
# - smi-publish onto that sparse file exits with 1 and "not enough space",
#   not with SIGBUS, and allocates nothing;
# - smi-read --wait-file on it times out (3) and allocates nothing;
# - a stream that fits is served and read.
if [ "${SMI_IN_MOUNT_NS:-}" != 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: mounting a small tmpfs needs root"
        exit 77
    fi
    if command -v unshare >/dev/null 2>&1 && unshare -m --propagation private true 2>/dev/null; then
        SMI_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
    fi
fi
. "$(dirname "$0")/tools_test_lib.sh"

MNT=$WORK/tmpfs
mkdir "$MNT" || fail "mkdir"
if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" 2>"$WORK/mount.log"; then
    echo "SKIP: cannot mount a tmpfs: $(cat "$WORK/mount.log")"
    exit 77
fi
trap 'umount "$MNT" 2>/dev/null; smi_cleanup' EXIT
free_blocks() { stat -f -c %f "$MNT"; }
# expect_free N WHAT: the tmpfs still has N free blocks.
expect_free() {
    local now
    now=$(free_blocks)
    [ "$now" -eq "$1" ] || fail "$2 allocated $(($1 - now)) blocks of the tmpfs"
}

f0=$(free_blocks)
expect_rc publish_big 1 timeout 20 "$SMI_PUBLISH" --size 1024x1024 --frames 1 --quiet "$MNT/big.smi"
expect_in publish_big.err "^smi-publish: cannot create $MNT/big.smi .*: not enough space on the file system"
[ ! -e "$MNT/big.smi" ] || fail "smi-publish left $(stat -c %s "$MNT/big.smi") bytes behind"
expect_free "$f0" "smi-publish (too large)"

sparse=$MNT/sparse.smi
truncate -s 64M "$sparse" || fail "truncate"
f0=$(free_blocks)
expect_rc info_sparse 0 timeout 20 "$SMI_INFO" "$sparse"
expect_in info_sparse.out '^layout: +ensight'
expect_in info_sparse.out '^file size: +67108864 bytes'
expect_free "$f0" "smi-info"
expect_rc info_sparse_json 0 timeout 20 "$SMI_INFO" --json "$sparse"
expect_free "$f0" "smi-info --json"

expect_rc publish_sparse 1 timeout 20 "$SMI_PUBLISH" --frames 1 --quiet "$sparse"
expect_in publish_sparse.err "not enough space on the file system"
expect_free "$f0" "smi-publish (sparse file)"
[ "$(stat -c %b "$sparse")" -eq 0 ] || fail "the sparse file got blocks"

expect_rc read_sparse 3 timeout 20 "$SMI_READ" --wait-file --timeout 0.5 "$sparse"
expect_free "$f0" "smi-read --wait-file"
rm -f "$sparse"

# A stream that fits (4 KiB + 2 x 12 KiB) works as ever.
small=$MNT/small.smi
start_bg publish "$SMI_PUBLISH" --size 64x64 --rate 100 --seconds 20 --quiet "$small"
publisher=$BG_PID
expect_rc read_small 0 timeout 20 "$SMI_READ" --wait-file --frames 3 --verify --timeout 10 --quiet "$small"
kill -TERM "$publisher"
wait_bg "$publisher" 0 "smi-publish (small)"
echo "PASS"
