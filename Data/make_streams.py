#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the small hand-built stream files in this folder.

Each file follows Core/LAYOUT.md by hand (Python's struct module only, no
library), so that tests check the library against the document:

  ensight-initialized.smi  EnSight layout, 816 bytes (two blocks of P = 384
                           bytes: one 16x8 RGB frame each), both headers zero
                           and both states 4, as a server's create leaves it.
  ensight-two-frames.smi   both blocks at state 2 (finished, unread): block 0
                           frame 42 (16x8), block 1 frame 41 (12x6). The newest
                           frame is in block 0.
  ensight-partial.smi      frame 50 (16x8) split over both blocks at state 2:
                           rows 0-3 in block 0, rows 4-7 in block 1.
  ensight-bad-state.smi    block 1's buffer_state is 7 (not a stream).
  ensight-too-large.smi    block 1 at state 2 claims a 16x9 frame: 432 bytes
                           of pixels, more than its 384-byte payload.
  extended-version2.smi    4096 bytes: the extended magic with version 2.

Pixels: channel c of pixel (x, y) of frame f is (13x + 31y + 87c + 7f) mod 256
(smi_data_pixel() in Testing/Core/smi_test.h). Run with any Python 3:
    python3 Data/make_streams.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 16, 8                  # capacity of one block
P = W * H * 3                 # payload bytes per block
L = 48 + 2 * P                # file size: 816


def pixel(f, x, y, c):
    return (13 * x + 31 * y + 87 * c + 7 * f) % 256


def rows(f, w, first, count):
    return bytes(pixel(f, x, y, c)
                 for y in range(first, first + count)
                 for x in range(w) for c in range(3))


def block(frame=0, width=0, height=0, offset=0, scanlines=0, state=0, pixels=b""):
    head = struct.pack("<5I B 3x", frame, width, height, offset, scanlines, state)
    assert len(head) == 24 and len(pixels) <= P
    return head + pixels + bytes(P - len(pixels))


def ensight(b0, b1):
    data = b0 + b1
    assert len(data) == L
    return data


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


write("ensight-initialized.smi", ensight(block(state=4), block(state=4)))
write("ensight-two-frames.smi", ensight(
    block(42, 16, 8, 0, 8, 2, rows(42, 16, 0, 8)),
    block(41, 12, 6, 0, 6, 2, rows(41, 12, 0, 6))))
write("ensight-partial.smi", ensight(
    block(50, 16, 8, 0, 4, 2, rows(50, 16, 0, 4)),
    block(50, 16, 8, 4, 4, 2, rows(50, 16, 4, 4))))
write("ensight-bad-state.smi", ensight(block(state=4), block(state=7)))
write("ensight-too-large.smi", ensight(
    block(state=0),
    block(9, 16, 9, 0, 9, 2, rows(9, 16, 0, 8))))
write("extended-version2.smi",
      b"\x89SMI\r\n\x1a\n" + struct.pack("<I", 2) + bytes(4096 - 12))
