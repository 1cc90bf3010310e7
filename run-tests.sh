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
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 300
