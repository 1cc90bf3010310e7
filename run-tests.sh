#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build everything and run every test (what CI runs).
#   ./run-tests.sh            build in ./build-tests and run ctest
# Environment: BUILD_DIR (default build-tests), JOBS (default: number of CPUs).
set -euo pipefail
cd "$(dirname "$0")"

Scripts/install-deps.sh

build="${BUILD_DIR:-build-tests}"
jobs="${JOBS:-$(nproc)}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMI_WERROR=ON
cmake --build "$build" -j "$jobs"
# One X server for the whole run (-noreset: it must outlive every client),
# since Debian's ParaView renders only through X.
if command -v xvfb-run >/dev/null && [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x1024x24 -noreset" \
    ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300
fi
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300
