#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Set up, build and run the main job: one process publishes a moving test
# pattern into a shared-memory stream, a second process reads it, verifies
# every pixel, prints the live frame rate and saves the last frame as a PNG.
#   ./run-demo.sh [seconds]      (default 5)
set -euo pipefail
cd "$(dirname "$0")"

Scripts/install-deps.sh

build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build "$build" -j "$(nproc)"
cmake --install "$build" --prefix "$build/install" >/dev/null

bin="$build/install/bin"
seconds="${1:-5}"
stream="/dev/shm/smi-demo-$$.smi"
[ -d /dev/shm ] || stream="/tmp/smi-demo-$$.smi"
png="${DEMO_PNG:-smi-demo.png}"

"$bin/smi-publish" "$stream" --size 1920x1080 --rate 60 --seconds "$((seconds + 2))" --quiet &
publisher=$!
trap 'kill $publisher 2>/dev/null || true; rm -f "$stream"' EXIT

echo "demo: publisher (pid $publisher) streams 1920x1080 at 60 Hz into $stream"
"$bin/smi-read" "$stream" --wait-file --verify --seconds "$seconds" --save "$png"
"$bin/smi-info" "$stream"
wait $publisher
echo "demo: saved the received frame to $png"
