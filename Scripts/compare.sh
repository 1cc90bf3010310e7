#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One comparison, one run: frames/s of memcpy, this library (putframe and
# acquire/publish, both layouts), GStreamer's shmsink/shmsrc (one copy and
# zero copy), this project's smisink/smisrc, and TCP loopback, at 1080p and
# 4K with 1, 2, 4 and 8 readers; a table with ratios, a CSV and a PNG plot.
#
#   Scripts/compare.sh [BUILD_DIR] [--seconds S] [--out DIR] [--quick]
#
# BUILD_DIR (default build/): configured when new; its tools and GStreamer
# elements are rebuilt when out of date. Peers come from Debian
# packages (Scripts/install-deps.sh: gstreamer1.0-tools, -plugins-bad for
# shmsink, python3-matplotlib for the plot); a missing one is reported and
# left out, and the run goes on. Figures depend on the machine and on what
# else runs on it: the header prints the CPU count and the load average.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    build=$(cd "$1" 2>/dev/null && pwd || echo "$1")
    shift
fi
# Configured once (Release); the tools and elements are brought up to date
# on every run, so the figures are never an older build's.
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "compare: configuring $build"
    mkdir -p "$build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build/compare-configure.log" 2>&1 ||
        { cat "$build/compare-configure.log"; exit 1; }
fi
cmake --build "$build" -j"$(nproc)" --target smi-bench smi-read smi-publish >/dev/null ||
    { echo "compare: building the tools failed"; exit 1; }
if ! cmake --build "$build" -j"$(nproc)" --target gstsmi >/dev/null 2>&1; then
    echo "compare: the GStreamer elements smisink/smisrc could not be built" \
        "(GStreamer development packages missing?): their row is left out"
fi
# Debian's Python, for Debian's numpy and matplotlib.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$root/Scripts/compare.py" --build "$build" "$@"
