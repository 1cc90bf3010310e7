# SPDX-License-Identifier: BSD-3-Clause
"""Read one frame of the stream in argv[1] with shared_memory_image and
compare it byte for byte with the file argv[2] (row-major gray16, width
argv[3], height argv[4], depth argv[5]) and with the metadata
test_publish_verify.m sends. Exit 0 and one line when it matches."""
import sys

import numpy as np
import shared_memory_image as smi

path, expected, w, h, d = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
with smi.Client(path, any_format=True) as client:
    frame = None
    while frame is None:
        if not client.wait(timeout=20.0):
            sys.exit("no frame within 20 s")
        frame = client.lock()
    with frame:
        pixels = np.array(frame)  # a copy
        meta = (frame.number, frame.timestamp, tuple(frame.spacing), tuple(frame.origin))
want = np.fromfile(expected, dtype="<u2").reshape(d, h, w)
if pixels.dtype != np.uint16 or pixels.shape != want.shape:
    sys.exit("got %s %s, expected uint16 %s" % (pixels.dtype, pixels.shape, want.shape))
if not np.array_equal(pixels, want):
    sys.exit("pixels differ at %s" % (np.argwhere(pixels != want)[0],))
if meta != (77, 1234.5, (0.5, 0.25, 2.0), (1.0, -2.0, 3.5)):
    sys.exit("metadata %r" % (meta,))
print("gray16 volume %dx%dx%d and its metadata exact" % (w, h, d))
