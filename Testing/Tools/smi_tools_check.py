# SPDX-License-Identifier: BSD-3-Clause
"""Checks for the tool tests (standard library only).

  check-ppm FILE W H [--pattern]           P6 header, size; pixels = pattern?
  check-pgm FILE W H MAXVAL [--pattern FMT] P5 header, size; pixels = pattern?
  check-png FILE W H TYPE DEPTH [--pattern FMT]
                                           signature, chunk CRCs, IHDR, zlib
                                           stream (Adler-32), filter bytes;
                                           pixels = pattern?
  write-ppm FILE W H                       an image that is not the pattern
                                           (asymmetric gradient)
  same-pixels PPM1 PPM2                    two P6 files hold the same pixels
  info-json KEY=VALUE...                   smi-info --json on stdin has them
  check-stream FILE FMT W H                the newest frame of an extended-layout
                                           file no server writes any more, read
                                           as Core/LAYOUT.md says, is the pattern
                                           of its frame number (this Python
                                           pattern against the C one)

With --pattern, the frame number is read off the image itself: pixel (0, 0)
holds n mod 256 (RGB8, RGBA8, GRAY8) or n mod 65536 (GRAY16). Exit 0 when all is well, 1 with a message otherwise.
"""

import json
import struct
import sys
import zlib

import smi_pattern


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def read_pnm(path, magic):
    data = open(path, "rb").read()
    tokens = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while pos < len(data) and data[pos:pos + 1] != b"\n":
                pos += 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        if start == pos:
            fail("%s: truncated header" % path)
        tokens.append(data[start:pos])
    pos += 1  # the single whitespace byte before the pixels
    if tokens[0] != magic:
        fail("%s: magic %r, expected %r" % (path, tokens[0], magic))
    return int(tokens[1]), int(tokens[2]), int(tokens[3]), data[pos:]


def guess_and_check(fmt, width, height, pixels, path):
    """Read n off pixel (0, 0) (n mod 256 for 8-bit formats, mod 65536 for
    gray16/float32) and check every pixel against that frame."""
    if fmt in ("rgb8", "rgba8", "gray8"):
        n = pixels[0]
    elif fmt == "gray16":
        n = struct.unpack_from("<H", pixels)[0]
    else:
        n = int(struct.unpack_from("<f", pixels)[0] * 4)
    where = smi_pattern.first_mismatch(fmt, width, height, n, pixels)
    if where is not None:
        fail("%s: not the %s pattern of frame n = %d: first mismatch at %r" % (path, fmt, n, where))
    return n


def check_ppm(args):
    path, width, height = args[0], int(args[1]), int(args[2])
    w, h, maxval, pixels = read_pnm(path, b"P6")
    if (w, h, maxval) != (width, height, 255):
        fail("%s: %dx%d maxval %d, expected %dx%d maxval 255" % (path, w, h, maxval, width, height))
    if len(pixels) != w * h * 3:
        fail("%s: %d bytes of pixels, expected %d" % (path, len(pixels), w * h * 3))
    if "--pattern" in args:
        n = guess_and_check("rgb8", w, h, pixels, path)
        print("%s: %dx%d PPM, pattern frame n = %d (mod 256)" % (path, w, h, n))


def check_pgm(args):
    path, width, height, maxval_wanted = args[0], int(args[1]), int(args[2]), int(args[3])
    w, h, maxval, pixels = read_pnm(path, b"P5")
    if (w, h, maxval) != (width, height, maxval_wanted):
        fail("%s: %dx%d maxval %d, expected %dx%d maxval %d"
             % (path, w, h, maxval, width, height, maxval_wanted))
    bps = 2 if maxval > 255 else 1
    if len(pixels) != w * h * bps:
        fail("%s: %d bytes of pixels, expected %d" % (path, len(pixels), w * h * bps))
    if "--pattern" in args:
        fmt = args[args.index("--pattern") + 1]
        if bps == 2:  # PGM is big-endian, the stream little-endian
            pixels = b"".join(pixels[i + 1:i + 2] + pixels[i:i + 1] for i in range(0, len(pixels), 2))
        n = guess_and_check(fmt, w, h, pixels, path)
        print("%s: %dx%d PGM, pattern frame n = %d (mod 256)" % (path, w, h, n))


def check_png(args):
    path, width, height = args[0], int(args[1]), int(args[2])
    color_type, depth = int(args[3]), int(args[4])
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: bad PNG signature %r" % (path, data[:8]))
    pos = 8
    chunks = []
    while pos < len(data):
        if pos + 12 > len(data):
            fail("%s: truncated chunk at %d" % (path, pos))
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            fail("%s: truncated %r chunk" % (path, ctype))
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            fail("%s: bad CRC in %r chunk" % (path, ctype))
        chunks.append((ctype, body))
        pos += 12 + length
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        fail("%s: chunks %r: IHDR must come first and IEND last" % (path, [c[0] for c in chunks]))
    w, h, d, ct, comp, filt, inter = struct.unpack(">IIBBBBB", chunks[0][1])
    if (w, h, d, ct, comp, filt, inter) != (width, height, depth, color_type, 0, 0, 0):
        fail("%s: IHDR %r, expected %r"
             % (path, (w, h, d, ct, comp, filt, inter), (width, height, depth, color_type, 0, 0, 0)))
    idat = b"".join(body for ctype, body in chunks if ctype == b"IDAT")
    try:
        raw = zlib.decompress(idat)  # checks the Adler-32 too
    except zlib.error as e:
        fail("%s: zlib stream: %s" % (path, e))
    channels = {0: 1, 2: 3, 6: 4}[ct]
    stride = w * channels * d // 8
    if len(raw) != h * (stride + 1):
        fail("%s: %d bytes of image data, expected %d" % (path, len(raw), h * (stride + 1)))
    rows = []
    for y in range(h):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        if line[0] != 0:
            fail("%s: row %d uses filter %d, expected 0" % (path, y, line[0]))
        rows.append(line[1:])
    pixels = b"".join(rows)
    if "--pattern" in args:
        fmt = args[args.index("--pattern") + 1]
        if d == 16:  # PNG is big-endian, the stream little-endian
            pixels = b"".join(pixels[i + 1:i + 2] + pixels[i:i + 1] for i in range(0, len(pixels), 2))
        n = guess_and_check(fmt, w, h, pixels, path)
        print("%s: %dx%d PNG, %d IDAT chunk(s), pattern frame n = %d (mod 256)"
              % (path, w, h, sum(1 for c in chunks if c[0] == b"IDAT"), n))


def write_ppm(args):
    path, width, height = args[0], int(args[1]), int(args[2])
    out = bytearray()
    for y in range(height):
        for x in range(width):
            out += bytes(((x * 7 + y) & 255, (y * 5) & 255, (x ^ (y * 3)) & 255))
    with open(path, "wb") as f:
        f.write(b"P6\n# written by smi_tools_check.py\n%d %d\n255\n" % (width, height))
        f.write(out)


def same_pixels(args):
    a = read_pnm(args[0], b"P6")
    b = read_pnm(args[1], b"P6")
    if a[:3] != b[:3]:
        fail("%s is %r, %s is %r" % (args[0], a[:3], args[1], b[:3]))
    if a[3] != b[3]:
        stride = a[0] * 3
        for y in range(a[1]):
            if a[3][y * stride:(y + 1) * stride] != b[3][y * stride:(y + 1) * stride]:
                fail("%s and %s differ first in row %d" % (args[0], args[1], y))
        fail("%s and %s differ in length" % (args[0], args[1]))


def info_json(args):
    text = sys.stdin.read()
    try:
        info = json.loads(text)
    except ValueError as e:
        fail("smi-info --json printed invalid JSON (%s): %r" % (e, text))
    for item in args:
        key, want = item.split("=", 1)
        got = info
        for part in key.split("."):
            got = got[int(part)] if isinstance(got, list) else got.get(part)
        if str(got).lower() != want.lower():
            fail("smi-info --json: %s is %r, expected %s\n%s" % (key, got, want, text))


def check_stream(args):
    path, fmt, width, height = args[0], args[1], int(args[2]), int(args[3])
    m = open(path, "rb").read()
    if m[:8] != b"\x89SMI\r\n\x1a\n" or struct.unpack_from("<I", m, 8)[0] != 1:
        fail("%s: not an extended-layout version 1 file" % path)
    count = struct.unpack_from("<I", m, 16)[0]
    best = None
    for i in range(count):
        h = 256 + 128 * i
        state, fmt_code = struct.unpack_from("<II", m, h)
        seq = struct.unpack_from("<Q", m, h + 8)[0]
        if state == 2 and (best is None or seq > best[0]):
            best = (seq, h)
    if best is None:
        fail("%s: no ready buffer" % path)
    h = best[1]
    fmt_code, = struct.unpack_from("<I", m, h + 4)
    number, w, hgt, d = struct.unpack_from("<IIII", m, h + 16)
    off, size = struct.unpack_from("<QQ", m, h + 32)
    if (smi_pattern.FORMATS[fmt_code], w, hgt, d) != (fmt, width, height, 1):
        fail("%s: newest frame is %s %dx%dx%d" % (path, smi_pattern.FORMATS[fmt_code], w, hgt, d))
    where = smi_pattern.first_mismatch(fmt, w, hgt, number, m[off:off + size])
    if where is not None:
        fail("%s: frame %d is not the %s pattern: first mismatch at %r" % (path, number, fmt, where))
    # The numpy form the module's, GStreamer and web tests use: the same bytes.
    try:
        import numpy  # noqa: F401
    except ImportError:
        numpy = None
    if numpy is not None and sys.byteorder == "little":
        if smi_pattern.pattern_array(fmt, w, hgt, number).tobytes() != m[off:off + size]:
            fail("%s: frame %d: pattern_array's %s bytes differ from the C pattern's"
                 % (path, number, fmt))
    print("%s: frame %d (%dx%d %s) is the pattern%s" % (path, number, w, hgt, fmt,
          "" if numpy is None else ", as bytes and as a numpy array"))


COMMANDS = {
    "check-stream": check_stream,
    "check-ppm": check_ppm,
    "check-pgm": check_pgm,
    "check-png": check_png,
    "write-ppm": write_ppm,
    "same-pixels": same_pixels,
    "info-json": info_json,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail("usage: smi_tools_check.py {%s} ARGS..." % ",".join(sorted(COMMANDS)))
    COMMANDS[sys.argv[1]](sys.argv[2:])
