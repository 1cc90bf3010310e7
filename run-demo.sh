#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Set up, build and run the main job: one pvpython process renders a ParaView
# scene and publishes its view into a shared-memory stream; a second, separate
# pvpython process reads it with the plugin's source, prints the live frame
# rate and saves what it received as a PNG. Without the plugin (no ParaView
# SDK), the C tools' demo runs instead.
#   ./run-demo.sh [seconds]      (default 8)
set -euo pipefail
cd "$(dirname "$0")"

Scripts/install-deps.sh

build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build "$build" -j "$(nproc)"
cmake --install "$build" --prefix "$build/install" >/dev/null

bin="$build/install/bin"
plugin="$build/install/lib/paraview-5.11/plugins/SharedMemoryImage/SharedMemoryImage.so"
seconds="${1:-8}"
png="${DEMO_PNG:-smi-demo.png}"

if [ -f "$plugin" ] && command -v pvpython >/dev/null; then
  # Debian's ParaView renders only through X: one Xvfb for both processes when
  # there is no display.
  if [ -n "${DISPLAY:-}" ]; then
    Scripts/demo_paraview.sh "$plugin" "$seconds" "$png"
  else
    xvfb-run -a -s "-screen 0 1280x1024x24 -noreset" Scripts/demo_paraview.sh "$plugin" "$seconds" "$png"
  fi
  exit 0
fi

echo "demo: the ParaView plugin was not built; running the C tools' demo instead"
stream="/dev/shm/smi-demo-$$.smi"
[ -d /dev/shm ] || stream="/tmp/smi-demo-$$.smi"
"$bin/smi-publish" "$stream" --size 1920x1080 --rate 60 --seconds "$((seconds + 2))" --quiet &
publisher=$!
trap 'kill $publisher 2>/dev/null || true; rm -f "$stream"' EXIT
echo "demo: publisher (pid $publisher) streams 1920x1080 at 60 Hz into $stream"
"$bin/smi-read" "$stream" --wait-file --verify --seconds "$seconds" --save "$png"
"$bin/smi-info" "$stream"
wait $publisher
echo "demo: saved the received frame to $png"
