#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Benchmark of the GStreamer elements (not a test: figures are printed,
# nothing is asserted).
#
#   Benchmarks/bench_gst.sh [BUILD_DIR]      (default: build)
#
# 1. Reading: one smi-publish (zero-copy, as fast as it can) serves a stream
#    at 1080p and at 4K; `smisrc ! fakesink` and `smi-read` read it in turn
#    for the same time. smisrc copies each frame once into a buffer, smi-read
#    reads in place: the ratio is smisrc's frames/s over smi-read's (goal >= 0.9).
#    Then the same with the publisher held to a rate both readers can follow
#    (200/s at 1080p, 50/s at 4K): there smisrc must keep up (ratio 1).
# 2. Writing: `videotestsrc ! smisink` (zero copy: videotestsrc draws into the
#    stream), `! shmsink` and `! fakesink`, N frames each, sync=false, a
#    moving smpte pattern (cheap to draw, so the sinks' own cost shows) and
#    snow. Goal: faster than shmsink, within 10% of fakesink. (shmsink is in
#    gstreamer1.0-plugins-bad; without it that column says n/a.)
# Runs under nice; on a shared machine, expect noise of a few percent.
set -u
build=${1:-build}
build=$(cd "$build" && pwd) || exit 2
tools=$build/Core/Tools
export GST_PLUGIN_PATH=$build/gstreamer-1.0
export GST_REGISTRY=$build/gstreamer-1.0/bench-registry.bin
for t in "$tools/smi-publish" "$tools/smi-read" "$GST_PLUGIN_PATH/libgstsmi.so"; do
    [ -e "$t" ] || { echo "bench_gst: $t is missing: build first" >&2; exit 2; }
done
command -v gst-launch-1.0 >/dev/null || { echo "bench_gst: gst-launch-1.0 is missing" >&2; exit 2; }
work=$(mktemp -d /dev/shm/smi-bench-gst.XXXXXX)
pub=""
trap '[ -n "$pub" ] && kill $pub 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
seconds=${BENCH_SECONDS:-4}

# elapsed OUTPUT: the seconds gst-launch-1.0 reports for its run.
elapsed() {
    sed -n 's/^Execution ended after \([0-9]*\):\([0-9]*\):\([0-9.]*\)$/\1 \2 \3/p' "$1" |
        awk '{ printf "%.4f", $1 * 3600 + $2 * 60 + $3 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "== Reading: smisrc ! fakesink against smi-read, same stream, ${seconds} s each"
printf "%-6s %-6s %12s %12s %12s %8s\n" size rate publisher smi-read smisrc ratio
for run in 1920x1080:0 3840x2160:0 1920x1080:200 3840x2160:50; do
    size=${run%:*} rate=${run#*:}
    stream=$work/read-$size-$rate.smi
    nice -n 10 "$tools/smi-publish" --size "$size" --rate "$rate" --quiet "$stream" \
        >"$work/pub.out" 2>&1 &
    pub=$!
    for _ in $(seq 100); do [ -s "$stream" ] && break; sleep 0.05; done
    sleep 0.5
    read_fps=$(nice -n 10 "$tools/smi-read" --seconds "$seconds" --quiet "$stream" |
        sed -n 's/.* \([0-9.]*\) frames\/s.*/\1/p')
    frames=$(awk -v f="$read_fps" -v s="$seconds" 'BEGIN { printf "%d", f * s }')
    nice -n 10 gst-launch-1.0 smisrc location="$stream" num-buffers="$frames" ! \
        fakesink sync=false >"$work/src.out" 2>&1
    t=$(elapsed "$work/src.out")
    src_fps=$(awk -v n="$frames" -v t="$t" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')
    kill "$pub"
    wait "$pub" 2>/dev/null
    pub=""
    pub_fps=$(sed -n 's/.* \([0-9.]*\) frames\/s.*/\1/p' "$work/pub.out" | tail -1)
    [ "$rate" = 0 ] && rate=max
    printf "%-6s %-6s %12s %12s %12s %8s\n" "${size#*x}p" "$rate" "$pub_fps/s" "$read_fps/s" \
        "$src_fps/s" "$(ratio "$src_fps" "$read_fps")x"
done

echo
echo "== Writing: videotestsrc ! SINK sync=false, 1080p RGB, best of 3 runs (no reader attached)"
n=${BENCH_FRAMES:-600}
printf "%-6s %-10s %10s %10s %10s %12s %12s\n" pattern "" smisink shmsink fakesink \
    "vs shmsink" "vs fakesink"
for pattern in smpte snow; do
    caps="video/x-raw,format=RGB,width=1920,height=1080,framerate=1000/1"
    # horizontal-speed: every frame is drawn anew (videotestsrc reuses the
    # buffer of a still pattern when it can, which only its own pool allows)
    src=(videotestsrc pattern=$pattern horizontal-speed=2 num-buffers=$n)
    declare -A fps=()
    for sink in smisink shmsink fakesink; do
        if ! gst-inspect-1.0 $sink >/dev/null 2>&1; then # shmsink: gstreamer1.0-plugins-bad
            fps[$sink]=n/a
            continue
        fi
        case $sink in
        smisink) args=(smisink location="$work/write.smi" sync=false) ;;
        shmsink) args=(shmsink socket-path="$work/shm.sock" wait-for-connection=false
            shm-size=67108864 sync=false) ;;
        fakesink) args=(fakesink sync=false) ;;
        esac
        # The best of three runs (a shared machine is noisy). (shmsink
        # without a reader reports an error as it stops: the run's time is
        # there all the same.)
        fps[$sink]=0
        for _ in 1 2 3; do
            nice -n 10 gst-launch-1.0 "${src[@]}" ! "$caps" ! "${args[@]}" >"$work/w.out" 2>&1
            t=$(elapsed "$work/w.out")
            [ -n "$t" ] || { echo "bench_gst: $sink failed:"; cat "$work/w.out"; }
            f=$(awk -v n="$n" -v t="$t" 'BEGIN { printf "%.1f", (t > 0 ? n / t : 0) }')
            fps[$sink]=$(awk -v a="$f" -v b="${fps[$sink]}" 'BEGIN { print (a > b ? a : b) }')
            rm -f "$work/write.smi" "$work/shm.sock"
        done
    done
    printf "%-6s %-10s %10s %10s %10s %12s %12s\n" "$pattern" "frames/s" "${fps[smisink]}" \
        "${fps[shmsink]}" "${fps[fakesink]}" "$(ratio "${fps[smisink]}" "${fps[shmsink]}")x" \
        "$(ratio "${fps[smisink]}" "${fps[fakesink]}")x"
    unset fps
done
