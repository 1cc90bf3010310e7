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
# The GStreamer elements (GStreamer/) and their tests: the development files,
# gst-launch-1.0/gst-inspect-1.0, and the elements the recipes use
# (videotestsrc, rtpvrawpay, x264enc, avdec_h264, mp4mux, udpsrc), and
# GStreamer's own shared-memory elements (shmsink, plugins-bad) that
# Benchmarks/bench_gst.sh compares with.
packages+=(libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  gstreamer1.0-plugins-bad gstreamer1.0-libav)
# smi-web (Web/): WebRTC through GStreamer's webrtcbin (the webrtc library's
# headers in plugins-bad's -dev, ICE from libnice's GStreamer element), the
# VP8 and H.264 encoders (plugins-good vpx, plugins-ugly x264), the HTTP and
# WebSocket server (libsoup 3) and JSON signaling (json-glib); its browser
# tests drive a headless Chromium through chromedriver with selenium and read
# screenshots with PIL.
packages+=(libgstreamer-plugins-bad1.0-dev gstreamer1.0-nice libsoup-3.0-dev libjson-glib-dev
  chromium chromium-driver python3-selenium python3-pil)
# MATLAB and GNU Octave (Matlab/): Octave 7 (octave-cli runs the tests) and
# its MEX compiler and headers (liboctave-dev brings octave-dev: mkoctfile,
# mex.h); without them CMake skips Matlab/. The font Octave's plots need
# (imshow/image in the README's recipe; a recommendation of octave).
packages+=(octave liboctave-dev fonts-freefont-otf)
# Benchmarks/compare.sh: the plot of the one-run comparison with the peers
# (shmsink/shmsrc and TCP loopback use the GStreamer packages above).
packages+=(python3-matplotlib)

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
