#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The ParaView demo: one pvpython process renders a scene and publishes its
# view into a shared-memory stream (Scripts/demo_publish.py); a second,
# separate pvpython process reads it with the SharedMemoryImageSource proxy,
# prints the live frame rate and saves what it received as a PNG
# (Scripts/demo_read.py). Needs an X display: run-demo.sh wraps it in
# xvfb-run when there is none.
#   Scripts/demo_paraview.sh PLUGIN [SECONDS] [PNG]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
plugin="$1"
seconds="${2:-8}"
png="${3:-smi-paraview-demo.png}"
stream="/dev/shm/smi-paraview-demo-$$.smi"
[ -d /dev/shm ] || stream="/tmp/smi-paraview-demo-$$.smi"

pvpython "$here/demo_publish.py" --plugin "$plugin" --file "$stream" \
  --seconds "$((seconds + 4))" --rate 30 --size 960x540 &
publisher=$!
trap 'kill $publisher 2>/dev/null || true; rm -f "$stream"' EXIT
echo "demo: pvpython (pid $publisher) renders a scene and publishes its view into $stream"
pvpython "$here/demo_read.py" --plugin "$plugin" --file "$stream" --seconds "$seconds" --png "$png"
wait $publisher
echo "demo: saved the received frame to $png"
