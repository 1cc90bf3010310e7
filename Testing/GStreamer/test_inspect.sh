#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# gst-inspect-1.0 finds smisrc and smisink through GST_PLUGIN_PATH, with
# their documented properties and caps.
. "$(dirname "$0")/gst_test_lib.sh"
: "${GST_INSPECT:?set by ctest}"
expect_rc src 0 "$GST_INSPECT" smisrc
expect_in src.out 'location +: Shared-memory image stream file to read'
expect_in src.out 'retry-timeout +: Milliseconds to keep attaching again'
expect_in src.out 'format: \{ \(string\)RGB, \(string\)RGBA, \(string\)GRAY8, \(string\)GRAY16_LE \}'
expect_in src.out 'Source/Video'
expect_rc sink 0 "$GST_INSPECT" smisink
expect_in sink.out 'location +: Shared-memory image stream file to serve'
expect_in sink.out 'layout +: Stream layout to write'
expect_in sink.out '\(1\): ensight'
expect_rc plugin 0 "$GST_INSPECT" smi
expect_in plugin.out 'smisrc: Shared-memory image stream source'
expect_in plugin.out 'smisink: Shared-memory image stream sink'
echo "PASS"
