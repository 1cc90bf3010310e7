# SPDX-License-Identifier: BSD-3-Clause
"""The tools' test pattern, in plain Python (standard library only).

This is the reference the Python tests reuse; the C version and the
specification are in Core/Tools/smi_pattern.h (and .c). For frame number n
and pixel (x, y), y = 0 being the top row, with 32-bit wrapping arithmetic:

  RGB8     R = (x + n) & 255, G = (3*y + n) & 255,
           B = ((x >> 8) ^ ((y >> 8) << 4) ^ (7*n)) & 255
  RGBA8    R, G, B as RGB8, A = (x ^ y ^ n) & 255
  GRAY8    V = (x + 2*y + n) & 255
  GRAY16   V = (x + 256*y + n) & 65535, little-endian
  FLOAT32  V = 0.25 * ((x + 2*y + n) & 65535), little-endian float32

and the instrument formats, from U = (x + 256*y + n) & 65535, little-endian:

  INT16    V = U - 32768
  INT32    V = ((U << 16) | U) - 2**31
  UINT32   V = (U << 16) | U
  FLOAT64  V = (U - 32768.0) / 3.0
"""

import struct

# In the order of their IMAGESTREAM_FORMAT_* codes (FORMATS[code]).
FORMATS = ("rgb8", "rgba8", "gray8", "gray16", "float32", "int16", "int32", "uint32", "float64")
BYTES_PER_PIXEL = {"rgb8": 3, "rgba8": 4, "gray8": 1, "gray16": 2, "float32": 4,
                   "int16": 2, "int32": 4, "uint32": 4, "float64": 8}
# The instrument formats: struct code and value of U.
_INSTRUMENT = {
    "int16": ("h", lambda u: u - 32768),
    "int32": ("i", lambda u: ((u << 16) | u) - 2**31),
    "uint32": ("I", lambda u: (u << 16) | u),
    "float64": ("d", lambda u: (u - 32768.0) / 3.0),
}
_M32 = 0xFFFFFFFF


def pattern_row(fmt, width, y, n):
    """Bytes of row y (0 = top) of frame n, as the stream stores them."""
    n &= _M32
    if fmt in ("rgb8", "rgba8"):
        g = (3 * y + n) & 255
        b_row = ((y >> 8) << 4) ^ ((7 * n) & _M32)
        out = bytearray()
        for x in range(width):
            out += bytes(((x + n) & 255, g, ((x >> 8) ^ b_row) & 255))
            if fmt == "rgba8":
                out.append((x ^ y ^ n) & 255)
        return bytes(out)
    if fmt == "gray8":
        return bytes((x + 2 * y + n) & 255 for x in range(width))
    if fmt == "gray16":
        return struct.pack("<%dH" % width, *(((x + 256 * y + n) & 0xFFFF) for x in range(width)))
    if fmt == "float32":
        return struct.pack("<%df" % width, *(0.25 * ((x + 2 * y + n) & 0xFFFF) for x in range(width)))
    if fmt in _INSTRUMENT:
        code, value = _INSTRUMENT[fmt]
        return struct.pack("<%d%s" % (width, code),
                           *(value((x + 256 * y + n) & 0xFFFF) for x in range(width)))
    raise ValueError("unknown format %r" % fmt)


def pattern_frame(fmt, width, height, n):
    """Bytes of the whole frame n, top row first."""
    return b"".join(pattern_row(fmt, width, y, n) for y in range(height))


def first_mismatch(fmt, width, height, n, data):
    """None when data is frame n of the pattern, else (x, y) of the first difference."""
    bpp = BYTES_PER_PIXEL[fmt]
    stride = width * bpp
    if len(data) != stride * height:
        return ("size", len(data), stride * height)
    for y in range(height):
        want = pattern_row(fmt, width, y, n)
        got = data[y * stride:(y + 1) * stride]
        if got != want:
            for x in range(width):
                if got[x * bpp:(x + 1) * bpp] != want[x * bpp:(x + 1) * bpp]:
                    return (x, y)
    return None
