#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The like-for-like comparison, one command: memcpy (the ceiling), this
# library's API, the project's smisink/smisrc, GStreamer's shmsink/shmsrc and
# TCP loopback, every writer copying one prepared frame per frame, one reader
# each (zero-copy and one-copy readers), at 1080p and 4K; the writer's and the
# slowest reader's frames/s, the median of 5 runs with their min-max, peer
# ratios, the load; then smi-bench part 4 (wake-up latency against a raw
# futex). A table (compare.txt), every run (compare.csv) and a plot
# (compare.png). Benchmarks/compare.py's docstring says what each row does.
#
#   Benchmarks/compare.sh [BUILD_DIR] [--seconds S] [--warm S] [--repeat N]
#                      [--readers N] [--sizes 1080p,4K|WxH,...] [--rows WORDS]
#                      [--out DIR] [--quick]
#
# BUILD_DIR (default build/): configured when new; smi-compare, smi-bench and
# the GStreamer elements are rebuilt when out of date. Peers come from Debian
# packages (Scripts/install-deps.sh: gstreamer1.0-tools, -plugins-bad for
# shmsink, python3-matplotlib for the plot); a missing one is reported and
# left out, and the run goes on. --quick is a smoke run (tiny frames, one
# short run each): its figures mean nothing. Figures depend on the machine
# and on what else runs on it: compare rows of one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    build=$(cd "$1" 2>/dev/null && pwd || echo "$1")
    shift
fi
# Configured once (Release); the programs are brought up to date on every
# run, so the figures are never an older build's.
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "compare: configuring $build"
    mkdir -p "$build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/compare-configure.log" 2>&1 ||
        { cat "$build/compare-configure.log"; exit 1; }
fi
jobs=${SMI_COMPARE_JOBS:-$(nproc)}
cmake --build "$build" -j"$jobs" --target smi-compare smi-bench >/dev/null ||
    { echo "compare: building smi-compare and smi-bench failed"; exit 1; }
if ! cmake --build "$build" -j"$jobs" --target gstsmi >/dev/null 2>&1; then
    echo "compare: the GStreamer elements smisink/smisrc could not be built" \
        "(GStreamer development packages missing?): their rows are left out"
fi
# Debian's Python, for Debian's matplotlib.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$root/Benchmarks/compare.py" --build "$build" "$@"
