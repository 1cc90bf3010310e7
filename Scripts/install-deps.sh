#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages SharedMemoryImage needs to build and test.
# Only missing packages are installed; nothing is done when all are present.
set -euo pipefail

# The core and the Python module; libpng for the tools (smi-read --save
# FILE.png); clang's libFuzzer and spin for the fuzzers and the protocol model.
packages=(build-essential cmake pkg-config libpng-dev python3-numpy python3-pytest
  clang libclang-rt-14-dev spin)
# The ParaView plugin: ParaView 5.11's SDK, what its CMake files look for, and
# Xvfb for the rendering tests (Debian's ParaView renders only through X).
packages+=(paraview paraview-dev python3-paraview xvfb xauth
  mpi-default-dev libutfcpp-dev liblz4-dev libdouble-conversion-dev
  qtbase5-dev libqt5svg5-dev qttools5-dev libqt5opengl5-dev qtxmlpatterns5-dev-tools
  libxml2-dev libhdf5-openmpi-dev libtheora-dev libavformat-dev libavcodec-dev
  libavutil-dev libswscale-dev libswresample-dev libgl2ps-dev libpng-dev
  libnetcdf-dev libgdal-dev libx11-dev libxt-dev libglew-dev libgl-dev
  libjpeg-dev libtiff-dev libfreetype-dev libboost-dev)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) for apt-get" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
