#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# 4K through EnSight's layout, one run: frames/s of 3840x2160 RGB frames
# through pyensight's 25 MiB file (each frame split over both blocks: the
# server stages it and copies it in, the client copies both parts out) against
# a 50 MiB file (two whole frames: zero-copy on both sides), in alternating
# rounds. The server is smi-publish --ensight as fast as it can go (zero-copy
# acquire/publish, and --copy: putframe); the client is smi-read, reading
# every page of each frame it locks (--touch), as a viewer would.
#
#   Benchmarks/bench_ensight_split.sh [BUILD_DIR] [--seconds S] [--rounds N]
#
# BUILD_DIR (default build-tests/) must hold the tools (Core/Tools/smi-publish,
# smi-read). Figures depend on the machine and what else runs on it: the
# header prints the CPU count and the load average.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-tests
seconds=3
rounds=3
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench_ensight_split: unknown option $1" >&2; exit 2 ;;
    *) build=$(cd "$1" && pwd); shift ;;
    esac
done
publish=$build/Core/Tools/smi-publish
read=$build/Core/Tools/smi-read
for tool in "$publish" "$read"; do
    [ -x "$tool" ] || { echo "bench_ensight_split: $tool not built" >&2; exit 1; }
done
work=$(mktemp -d /dev/shm/smi-bench-split.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "EnSight layout, 3840x2160 RGB (24.9 MB a frame), $seconds s per run, $rounds rounds"
echo "$(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# calc EXPR: the value of an arithmetic expression (awk: no bc needed).
calc() {
    awk "BEGIN { print $1 }"
}

# run FILE_MIB MODE: one run; prints "published/s read/s".
run() {
    local mib=$1 mode=$2 file=$work/stream.smi
    rm -f "$file"
    head -c $((mib << 20)) /dev/zero >"$file"
    chmod 600 "$file"
    local args=(--ensight --size 3840x2160 --rate 0 --warmup 0.5 --seconds "$seconds" --quiet)
    [ "$mode" = copy ] && args+=(--copy)
    "$read" --touch --seconds "$(calc "$seconds + 1.5")" --quiet --wait-file "$file" \
        >"$work/read.out" 2>&1 &
    local reader=$!
    sleep 0.2
    "$publish" "${args[@]}" "$file" >"$work/publish.out" 2>&1
    wait "$reader" || true
    [ "$(stat -c %s "$file")" -eq $((mib << 20)) ] ||
        { echo "bench_ensight_split: the ${mib} MiB file was resized" >&2; exit 1; }
    local pub got
    pub=$(grep -oE '[0-9.]+ frames/s' "$work/publish.out" | head -1 | cut -d' ' -f1)
    got=$(grep -oE '[0-9.]+ frames/s' "$work/read.out" | tail -1 | cut -d' ' -f1)
    echo "${pub:-0} ${got:-0}"
}

declare -A pub_sum read_sum
for mode in zerocopy copy; do
    for mib in 25 50; do
        pub_sum[$mode.$mib]=0
        read_sum[$mode.$mib]=0
    done
done
for ((r = 1; r <= rounds; r++)); do
    for mode in zerocopy copy; do
        for mib in 25 50; do
            read -r p g < <(run "$mib" "$mode")
            pub_sum[$mode.$mib]=$(calc "${pub_sum[$mode.$mib]} + $p")
            read_sum[$mode.$mib]=$(calc "${read_sum[$mode.$mib]} + $g")
        done
    done
done
printf '%-10s %-28s %12s %12s\n' server file "published/s" "read/s"
for mode in zerocopy copy; do
    for mib in 25 50; do
        what="$mib MiB"
        [ "$mib" = 25 ] && what="$what (split frames)" || what="$what (whole frames)"
        printf '%-10s %-28s %12.1f %12.1f\n' "$mode" "$what" \
            "$(calc "${pub_sum[$mode.$mib]} / $rounds")" \
            "$(calc "${read_sum[$mode.$mib]} / $rounds")"
    done
    printf '%-10s %-28s %12.2f %12.2f\n' "$mode" "ratio 25 / 50 MiB" \
        "$(calc "${pub_sum[$mode.25]} / ${pub_sum[$mode.50]}")" \
        "$(calc "${read_sum[$mode.25]} / ${read_sum[$mode.50]}")"
done
