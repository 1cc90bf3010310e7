#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark (not a test): how fast the ParaView GUI follows a live stream.
# smi-publish serves a moving pattern at RATE frames/s and SIZE; the GUI shows
# it with the plugin's source (its live-source polling, nothing else), and
# bench_gui_rate.py counts the frames the source took and the renders that
# showed a new frame. Prints one line per case: publisher's rate, received
# and displayed frames/s, and displayed/published.
#   Benchmarks/bench_gui_rate.sh BUILD [SECONDS] [RATExSIZE ...]
# e.g. bench_gui_rate.sh build-tests 8 60x960x540 60x1920x1080 120x960x540
# Runs under xvfb-run when there is no display.
set -u
build=$(cd "${1:?usage: bench_gui_rate.sh BUILD [SECONDS] [RATExWxH ...]}" && pwd)
seconds=${2:-8}
shift 2 2>/dev/null || shift $#
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(30x960x540 60x960x540 60x1920x1080 120x960x540)
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1920x1200x24 -noreset" "$0" "$build" "$seconds" "${cases[@]}"
fi

publish="$build/Core/Tools/smi-publish"
plugin_dir="$build/lib/paraview-5.11/plugins/SharedMemoryImage"
work=$(mktemp -d "${TMPDIR:-/tmp}/smi-bench-gui.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work" /dev/shm/smi-bench-gui-$$.smi' EXIT
mkdir -p "$work/home/.config/ParaView" "$work/runtime"
chmod 700 "$work/runtime"
for ini in ParaView5.11.0.ini ParaView5.11.0-dr.ini; do
  printf '[General]\nGeneralSettings.ShowWelcomeDialog=false\n' > "$work/home/.config/ParaView/$ini"
done
# No --test-script: while a test script plays (its "pause" included), the
# GUI defers the timers that poll live sources and render views.

printf "%-22s %10s %10s %10s %9s\n" "case" "published" "received" "displayed" "ratio"
for c in "${cases[@]}"; do
  IFS=x read -r rate w h <<< "$c"
  stream=/dev/shm/smi-bench-gui-$$.smi
  rm -f "$stream" "$work/out"
  "$publish" --quiet --size "${w}x${h}" --rate "$rate" --seconds $((seconds + 20)) "$stream" \
    > "$work/publish.out" 2>&1 &
  pub=$!
  HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_RUNTIME_DIR="$work/runtime" \
    PV_PLUGIN_PATH="$plugin_dir" PYTHONPATH="$build/python" \
    SMI_BENCH_STREAM="$stream" SMI_BENCH_OUT="$work/out" \
    paraview --script="$here/bench_gui_rate.py" > "$work/paraview.log" 2>&1 &
  gui=$!
  # The first measurement comes a second after the first frame; then measure.
  for _ in $(seq 300); do
    [ -s "$work/out" ] && break
    kill -0 "$gui" 2>/dev/null || break
    sleep 0.1
  done
  sleep "$seconds"
  kill "$gui" "$pub" 2>/dev/null
  wait "$gui" "$pub" 2>/dev/null
  if [ ! -s "$work/out" ]; then
    echo "$c: no measurement (paraview.log follows)"; tail -20 "$work/paraview.log"; continue
  fi
  read -r updates displayed secs last first < "$work/out"
  awk -v c="$c" -v rate="$rate" -v u="$updates" -v d="$displayed" -v s="$secs" \
      -v n=$((last - first)) 'BEGIN {
    pub = n / s;  # frames the publisher numbered meanwhile (it counts up by one)
    printf "%-22s %10.1f %10.1f %10.1f %9.2f\n", c " (" s " s)", pub, u / s, d / s, (d / s) / pub }'
done
