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

# The README's example and its VTK CMake project must be these files, byte
# for byte (the CMake one from its first command on).
python3 - "$src/README.md" "$src/Testing/Install/consumer/example.c" \
    "$src/Testing/Install/vtkconsumer/CMakeLists.txt" <<'PY'
import sys
readme, example = open(sys.argv[1]).read(), open(sys.argv[2]).read()
vtk = open(sys.argv[3]).read()
vtk = vtk[vtk.index("cmake_minimum_required"):]
if example not in readme:
    sys.exit("README.md does not contain Testing/Install/consumer/example.c verbatim")
if vtk not in readme:
    sys.exit("README.md does not contain Testing/Install/vtkconsumer/CMakeLists.txt verbatim")
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

# 3. The README's recipe for it, from the README's own text, run as written
#    (the prefix and the stream file replaced by this test's).
recipe="$work/recipe"; mkdir -p "$recipe"
cp "$src/Testing/Install/consumer/example.c" "$recipe/"
rstream="/dev/shm/smi-install-recipe-$$.smi"; [ -d /dev/shm ] || rstream="/tmp/smi-install-recipe-$$.smi"
python3 - "$src/README.md" "$prefix" "$rstream" > "$recipe/recipe.sh" <<'PY'
import re, sys
readme, prefix, stream = sys.argv[1:]
blocks = re.findall(r"```sh\n(# Build example.c against /opt/smi.*?)```", open(readme).read(), re.S)
if len(blocks) != 1:
    sys.exit("README.md has no (or several) 'Build example.c against /opt/smi' recipes")
print("set -e")
print(blocks[0].replace("/opt/smi", prefix).replace("/dev/shm/example.smi", stream))
PY
(cd "$recipe" && env -u LD_LIBRARY_PATH bash recipe.sh > recipe.out 2>&1) ||
  { cat "$recipe/recipe.out" >&2; echo "the README's build recipe failed" >&2; exit 1; }
rm -f "$rstream"
grep -Eq '^frame [0-9]+: 640x480, first byte 99$' "$recipe/recipe.out" ||
  { cat "$recipe/recipe.out" >&2; echo "the README's recipe did not end with frame 99's bytes" >&2; exit 1; }
echo "the README's build recipe ran: $(tail -1 "$recipe/recipe.out")"
echo "install test passed"
