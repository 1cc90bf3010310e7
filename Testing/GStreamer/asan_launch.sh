#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# gst-launch-1.0 with the ASan runtime preloaded, for the ASan build of the
# plugin (gst-launch-1.0 itself is not instrumented; the runtime must be the
# first library loaded). SMI_GST_LAUNCH_REAL and SMI_ASAN_RUNTIME: set by ctest.
exec env LD_PRELOAD="${SMI_ASAN_RUNTIME:?}" "${SMI_GST_LAUNCH_REAL:?}" "$@"
