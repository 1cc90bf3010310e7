# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034
# Sourced by every GStreamer test. Reuses the tools tests' helpers
# (Testing/Tools/tools_test_lib.sh: $WORK, a private directory under /dev/shm
# removed on exit, $STREAM, start_bg/wait_bg/expect_rc/fail/wait_until) and
# adds GStreamer's: $GST_LAUNCH (gst-launch-1.0, with the plugin on
# GST_PLUGIN_PATH, both set by CMake), $GST_CHECK (gst_check.py).
. "$(dirname "${BASH_SOURCE[0]}")/../Tools/tools_test_lib.sh"
: "${GST_LAUNCH:?set by ctest}" "${GST_PLUGIN_PATH:?set by ctest}"
GST_CHECK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/gst_check.py"
export GST_DEBUG_NO_COLOR=1

# needs_python_module: skip (77) when the project's Python module was not built.
needs_python_module() {
    "$PYTHON" -c 'import numpy, shared_memory_image' 2>/dev/null ||
        { echo "SKIP: the Python module shared_memory_image (and numpy) is needed"; exit 77; }
}

# errorstring CODE: the library's text for a return code.
errorstring() {
    "$PYTHON" "$GST_CHECK" errorstring "$1"
}

# gst_clean NAME: a gst-launch run's output has no ERROR, no WARNING and no
# GLib-CRITICAL (GStreamer's own checks of its callers).
gst_clean() {
    expect_not_in "$1.out" '^(ERROR|WARNING)'
    expect_not_in "$1.err" '^(ERROR|WARNING)|CRITICAL|AddressSanitizer|runtime error:'
    expect_not_in "$1.out" 'CRITICAL|AddressSanitizer|runtime error:'
}

# udp_bound_by PID PORT: process PID holds a UDP socket bound to PORT (its
# inode in /proc/net/udp{,6} is one of PID's open files), not another one.
udp_bound_by() {
    local hex inode
    hex=$(printf '%04X' "$2")
    for inode in $(awk -v p=":$hex" '$2 ~ p "$" { print $10 }' /proc/net/udp /proc/net/udp6 2>/dev/null); do
        ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$inode\]" && return 0
    done
    return 1
}

# interrupt_and_wait PID RC NAME: SIGINT to a gst-launch-1.0 -e (EOS, then
# exit), checked to end within 20 s with status RC.
interrupt_and_wait() {
    local pid=$1 i
    kill -INT "$pid" 2>/dev/null
    for i in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "$3 did not stop within 20 s of SIGINT"; }
    wait_bg "$pid" "$2" "$3"
}
