# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034
# Sourced by every tool test. Gives the tools' paths (SMI_PUBLISH, SMI_READ,
# SMI_INFO from the environment, set by CMake), a private directory under
# /dev/shm ($WORK, stream file $STREAM) removed on exit, background processes
# that are stopped on exit, and small checks that print the tools' output
# before failing.

set -u
: "${SMI_PUBLISH:?set by ctest}" "${SMI_READ:?set by ctest}" "${SMI_INFO:?set by ctest}"
PYTHON=${SMI_PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1 # keep the source tree clean
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECK="$TESTS_DIR/smi_tools_check.py"
SHM=/dev/shm
[ -d "$SHM" ] && [ -w "$SHM" ] || SHM=${TMPDIR:-/tmp}
WORK=$(mktemp -d "$SHM/smi-tools-test.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
STREAM=$WORK/stream.smi
BG_PIDS=""

smi_cleanup() {
    local pid
    for pid in $BG_PIDS; do kill -TERM "$pid" 2>/dev/null; done
    for pid in $BG_PIDS; do wait "$pid" 2>/dev/null; done
    rm -rf "$WORK"
}
trap smi_cleanup EXIT
trap 'exit 1' INT TERM

# fail MESSAGE: print it and every captured output, then exit 1.
fail() {
    echo "FAIL: $*" >&2
    local f
    for f in "$WORK"/*.out "$WORK"/*.err; do
        [ -s "$f" ] && { echo "----- ${f##*/}"; cat "$f"; } >&2
    done
    exit 1
}

# expect_rc NAME RC COMMAND...: run COMMAND, output to $WORK/NAME.{out,err},
# and check its exit status.
expect_rc() {
    local name=$1 want=$2 rc
    shift 2
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "$name: '$*' exited with $rc, expected $want"
    echo "ok: $name: exit $rc"
}

# start_bg NAME COMMAND...: run COMMAND in the background (output to
# $WORK/NAME.{out,err}); its pid is left in BG_PID.
start_bg() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    BG_PID=$!
    BG_PIDS="$BG_PIDS $BG_PID"
}

# wait_bg PID RC NAME: wait for a background command and check its status.
wait_bg() {
    local pid=$1 want=$2 name=$3 rc
    wait "$pid"
    rc=$?
    BG_PIDS=$(echo "$BG_PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ')
    [ "$rc" -eq "$want" ] || fail "$name exited with $rc, expected $want"
    echo "ok: $name: exit $rc"
}

# expect_in NAME.out|NAME.err REGEX: the captured output matches (grep -E).
expect_in() {
    grep -q -E -- "$2" "$WORK/$1" || fail "$1 does not match /$2/"
}

# expect_not_in NAME.out|NAME.err REGEX
expect_not_in() {
    ! grep -q -E -- "$2" "$WORK/$1" || fail "$1 matches /$2/"
}

# wait_until SECONDS COMMAND...: retry COMMAND every 50 ms until it succeeds;
# 1 when SECONDS have passed (wall time: a slow COMMAND, a Python start-up
# on a loaded machine, say, does not stretch the limit).
wait_until() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000)) # microseconds
    shift
    until "$@" >/dev/null 2>&1; do
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# served FILE: smi-info says a server of this library holds FILE.
served() {
    "$SMI_INFO" "$1" | grep -q -E '^server: +alive'
}
