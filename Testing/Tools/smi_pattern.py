# SPDX-License-Identifier: BSD-3-Clause
"""The tools' test pattern in Python: the one Python copy of the formula, for
every Python test (the tools', the module's, the GStreamer, web and plugin
tests) as bytes (standard library only) or as a numpy array.

The definition is the C one, Core/Tools/smi_pattern.h (and .c); Tools.Pattern
checks that both sides give the same bytes in every format. For frame number
n and pixel (x, y), y = 0 being the top row, with 32-bit wrapping arithmetic:

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

channels() is that table, once; pattern_row() and pattern_frame() give the
bytes a stream stores, pattern_array() the numpy array of the same bytes.
"""

import struct

# In the order of their IMAGESTREAM_FORMAT_* codes (FORMATS[code]).
FORMATS = ("rgb8", "rgba8", "gray8", "gray16", "float32", "int16", "int32", "uint32", "float64")
BYTES_PER_PIXEL = {"rgb8": 3, "rgba8": 4, "gray8": 1, "gray16": 2, "float32": 4,
                   "int16": 2, "int32": 4, "uint32": 4, "float64": 8}
# How one channel is stored: a struct code (little-endian), a numpy dtype.
_STRUCT = {"rgb8": "B", "rgba8": "B", "gray8": "B", "gray16": "H", "float32": "f",
           "int16": "h", "int32": "i", "uint32": "I", "float64": "d"}
_DTYPE = {"rgb8": "uint8", "rgba8": "uint8", "gray8": "uint8", "gray16": "uint16",
          "float32": "float32", "int16": "int16", "int32": "int32", "uint32": "uint32",
          "float64": "float64"}
_M32 = 0xFFFFFFFF


def format_name(fmt):
    """A format's name ("rgb8"), from its name or its IMAGESTREAM_FORMAT_* code."""
    if isinstance(fmt, str):
        if fmt not in _STRUCT:
            raise ValueError("unknown format %r" % fmt)
        return fmt
    if 0 <= int(fmt) < len(FORMATS):
        return FORMATS[int(fmt)]
    raise ValueError("unknown format %r" % fmt)


def channels(fmt, x, y, n):
    """The channel values of pixel (x, y) of frame n (the table above, once):
    x and y Python ints or numpy int64 arrays (broadcast against each other),
    giving exact integers (floats for the float formats) of the same kind."""
    n &= _M32  # 32-bit n; the masks below make the rest exact in 64 bits
    if fmt in ("rgb8", "rgba8"):
        rgb = ((x + n) & 255, (3 * y + n) & 255, ((x >> 8) ^ ((y >> 8) << 4) ^ (7 * n)) & 255)
        return rgb + ((x ^ y ^ n) & 255,) if fmt == "rgba8" else rgb
    if fmt == "gray8":
        return ((x + 2 * y + n) & 255,)
    if fmt == "float32":
        return (0.25 * ((x + 2 * y + n) & 0xFFFF),)
    u = (x + 256 * y + n) & 0xFFFF
    if fmt == "gray16":
        return (u,)
    if fmt == "int16":
        return (u - 32768,)
    if fmt == "int32":
        return (((u << 16) | u) - 2**31,)
    if fmt == "uint32":
        return ((u << 16) | u,)
    if fmt == "float64":
        return ((u - 32768.0) / 3.0,)
    raise ValueError("unknown format %r" % fmt)


def pattern_row(fmt, width, y, n):
    """Bytes of row y (0 = top) of frame n, as the stream stores them."""
    fmt = format_name(fmt)
    values = [v for x in range(width) for v in channels(fmt, x, y, n)]
    return struct.pack("<%d%s" % (len(values), _STRUCT[fmt]), *values)


def pattern_frame(fmt, width, height, n):
    """Bytes of the whole frame n, top row first."""
    return b"".join(pattern_row(fmt, width, y, n) for y in range(height))


def pattern_array(fmt, width, height, n):
    """Frame n as a numpy array, top row first: (height, width, channels) for
    RGB8 and RGBA8, (height, width) for the one-channel formats, in the
    machine's byte order (on a little-endian machine its bytes are
    pattern_frame()'s). fmt: a name or an IMAGESTREAM_FORMAT_* code."""
    import numpy as np

    fmt = format_name(fmt)
    x = np.arange(width, dtype=np.int64)[None, :]
    y = np.arange(height, dtype=np.int64)[:, None]
    planes = [np.broadcast_to(p, (height, width)) for p in channels(fmt, x, y, n)]
    image = np.stack(planes, axis=-1) if len(planes) > 1 else planes[0]
    return image.astype(_DTYPE[fmt])


def first_mismatch(fmt, width, height, n, data):
    """None when data is frame n of the pattern, else (x, y) of the first difference."""
    fmt = format_name(fmt)
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
