#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build everything and run every test (what CI runs).
#   ./run-tests.sh            build in ./build-tests and run ctest twice in a row
# The suite runs twice, each time with twice as many tests at once as there are
# CPUs, so that a test that depends on timing or on running alone shows up.
# Environment: BUILD_DIR (default build-tests), JOBS (build jobs, default: the
# number of CPUs), TEST_JOBS (default: twice that), RUNS (default 2).
set -euo pipefail
cd "$(dirname "$0")"

Scripts/install-deps.sh

build="${BUILD_DIR:-build-tests}"
jobs="${JOBS:-$(nproc)}"
test_jobs="${TEST_JOBS:-$((2 * jobs))}"
runs="${RUNS:-2}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMI_WERROR=ON
cmake --build "$build" -j "$jobs"

# The passes, as one shell command (it runs under xvfb-run when needed).
export SMI_BUILD="$build" SMI_RUNS="$runs" SMI_TEST_JOBS="$test_jobs"
suite='set -e
for i in $(seq 1 "$SMI_RUNS"); do
  echo "run-tests: pass $i of $SMI_RUNS (ctest -j $SMI_TEST_JOBS)"
  ctest --test-dir "$SMI_BUILD" -j "$SMI_TEST_JOBS" --output-on-failure --timeout 300
done'
# One X server for the whole run (-noreset: it must outlive every client),
# since Debian's ParaView renders only through X.
if command -v xvfb-run >/dev/null && [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1280x1024x24 -noreset" bash -c "$suite"
fi
exec bash -c "$suite"
