#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the build into a fresh prefix, then build the README's example
# against it twice (CMake package and pkg-config), and run a server and a
# client of it in two processes.
#   TestInstall.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"; src="$2"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/shared_memory_image_client.h include/shared_memory_image_client_priv.h \
         lib/pkgconfig/shared-memory-image.pc lib/cmake/SharedMemoryImage/SharedMemoryImageConfig.cmake \
         bin/smi-info bin/smi-publish bin/smi-read bin/smi-bench; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
ls "$prefix"/lib/libshared-memory-image.so* >/dev/null

# The Python modules, when the build has them.
if ls "$build"/python/shared_memory_image/_core*.so >/dev/null 2>&1; then
  PYTHONPATH="$prefix/lib/python3/dist-packages" /usr/bin/python3 -c \
    'import shared_memory_image, ensight_grpc_shmem; print("python modules import from the prefix")'
fi

# The plugin's VTK module from a C++ VTK program, when the build has the plugin.
if [ -f "$prefix/lib/cmake/SharedMemoryImage/SharedMemoryImage-targets.cmake" ]; then
  cmake -S "$src/Testing/Install/vtkconsumer" -B "$work/vtk" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/vtk" >/dev/null
  vstream="/dev/shm/smi-install-vtk-$$.smi"; [ -d /dev/shm ] || vstream="/tmp/smi-install-vtk-$$.smi"
  "$work/vtk/publish_window" "$vstream"
  rm -f "$vstream"
fi

# The README's example must be this file, byte for byte.
python3 - "$src/README.md" "$src/Testing/Install/consumer/example.c" <<'PY'
import sys
readme, example = open(sys.argv[1]).read(), open(sys.argv[2]).read()
if example not in readme:
    sys.exit("README.md does not contain Testing/Install/consumer/example.c verbatim")
PY

# 1. CMake package.
cmake -S "$src/Testing/Install/consumer" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
# 2. pkg-config.
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -std=c11 -Wall -Wextra -Werror \
  "$src/Testing/Install/consumer/example.c" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs shared-memory-image) \
  -Wl,-rpath,"$prefix/lib" -o "$work/example-pc"

stream="/dev/shm/smi-install-$$.smi"; [ -d /dev/shm ] || stream="/tmp/smi-install-$$.smi"
export LD_LIBRARY_PATH="$prefix/lib"
"$work/example-pc" serve "$stream"            # publishes 100 frames, nobody listening
"$work/cm/example" watch "$stream" > "$work/out.txt" &
watcher=$!
sleep 0.3
"$work/example-pc" serve "$stream"            # a second server run: clients go on
wait $watcher
rm -f "$stream"
lines=$(grep -c '^frame ' "$work/out.txt" || true)
echo "watcher saw $lines frames"
head -3 "$work/out.txt"
[ "$lines" -ge 2 ] || { echo "watcher saw too few frames" >&2; exit 1; }
# Frame numbers strictly increase across both servers.
awk '{n=$2+0; if (NR>1 && n<=last) {print "frame numbers not increasing" > "/dev/stderr"; exit 1} last=n}' "$work/out.txt"
echo "install test passed"
