# SPDX-License-Identifier: BSD-3-Clause
"""Checks for the GStreamer tests (Debian's python3 with numpy, and the
project's Python module shared_memory_image on PYTHONPATH).

  gst_check.py read STREAM --frames N [--timeout S] (--pattern | --psnr DB |
               --raw FILE --format FMT) [--size WxH]
      attach to STREAM as a client (waiting for it up to the timeout), read N
      frames and check each: --pattern: exactly the tools' test pattern of
      some frame number (found from the pixels, so it works when frame
      numbers were lost on the way, as over RTP); --psnr: within DB of the
      pattern (lossy codecs), for --psnr-fraction of the frames (UDP may
      lose a packet, and H.264 then shows damage until the next key frame); --raw: exactly frame `number` of a raw file of
      FMT frames (what videotestsrc wrote through filesink), frame `number -
      base` with --base.
  gst_check.py pnm FILE --raw RAW --format FMT --number N
      a PPM/PGM saved by smi-read is exactly frame N of the raw file.
  gst_check.py raw-frames FILE --format FMT --size WxH
      print how many whole frames a raw file holds (fails when not whole).
  gst_check.py errorstring CODE
      print the library's text for a return code.
  gst_check.py free-port
      print a free UDP port of 127.0.0.1.
"""
import argparse
import os
import socket
import sys
import time

import numpy as np

# The test pattern, one Python copy of Core/Tools/smi_pattern.h's formula.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "Tools"))
import smi_pattern  # noqa: E402

BPP = {"rgb8": 3, "rgba8": 4, "gray8": 1, "gray16": 2}
SHAPE = {"rgb8": 3, "rgba8": 4, "gray8": None, "gray16": None}
DTYPE = {"rgb8": np.uint8, "rgba8": np.uint8, "gray8": np.uint8, "gray16": "<u2"}


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def pattern_rgb8(width, height, n):
    """The tools' RGB8 test pattern of frame n (Testing/Tools/smi_pattern.py)."""
    return smi_pattern.pattern_array("rgb8", width, height, n)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def raw_frames(path, fmt, width, height):
    """The frames of a raw file, packed: GStreamer's rows are padded to 4 bytes."""
    data = np.fromfile(path, dtype=np.uint8)
    row = width * BPP[fmt]
    stride = (row + 3) // 4 * 4
    frame_bytes = stride * height
    if data.size % frame_bytes:
        fail("%s holds %d bytes, not whole %s frames of %dx%d" % (path, data.size, fmt, width,
                                                                 height))
    frames = data.reshape(-1, height, stride)[:, :, :row]
    return np.ascontiguousarray(frames).reshape(-1, row * height)


def as_bytes(array):
    return np.ascontiguousarray(array).view(np.uint8).reshape(-1)


def attach(smi, path, deadline):
    while True:
        try:
            return smi.Client(path, any_format=True)
        except (smi.Error, OSError) as e:
            if time.monotonic() > deadline:
                fail("cannot attach to %s: %s" % (path, e))
            time.sleep(0.05)


def cmd_read(args):
    import shared_memory_image as smi
    deadline = time.monotonic() + args.timeout
    raw = None
    if args.raw:
        w, h = (int(v) for v in args.size.split("x"))
        raw = raw_frames(args.raw, args.format, w, h)
    seen, below = [], []
    if args.ready:
        open(args.ready, "w").close()
    with attach(smi, args.stream, deadline) as client:
        while len(seen) < args.frames:
            if time.monotonic() > deadline:
                fail("%d of %d frames within %g s" % (len(seen), args.frames, args.timeout))
            if not client.wait(timeout=0.2):
                continue
            frame = client.lock()
            if frame is None:
                continue
            with frame:
                number, fmt = frame.number, frame.format_name
                pixels = np.array(frame)  # a copy: the check runs unlocked
            if args.size and pixels.shape[1::-1] != tuple(int(v) for v in args.size.split("x")):
                fail("frame %d is %dx%d, expected %s" % (number, pixels.shape[1],
                                                         pixels.shape[0], args.size))
            h, w = pixels.shape[:2]
            if raw is not None:
                if fmt != args.format:
                    fail("frame %d is %s, expected %s" % (number, fmt, args.format))
                index = number - args.base
                if not 0 <= index < len(raw):
                    fail("frame number %d, the raw file holds %d frames from %d" % (
                        number, len(raw), args.base))
                got = as_bytes(pixels)
                if not np.array_equal(got, raw[index]):
                    diff = np.flatnonzero(got != raw[index])
                    fail("frame %d differs from raw frame %d in %d bytes, first at byte %d" % (
                        number, index, diff.size, diff[0]))
                what = "equals raw frame %d" % index
            else:
                if fmt != "rgb8":
                    fail("frame %d is %s, expected rgb8" % (number, fmt))
                n0 = int(pixels[0, 0, 0])  # R(0, 0) = n & 255
                if args.pattern:
                    if not np.array_equal(pixels, pattern_rgb8(w, h, n0)):
                        bad = np.argwhere(np.any(pixels != pattern_rgb8(w, h, n0), axis=2))
                        fail("frame %d is not pattern frame %d: %d pixels differ, first at "
                             "row %d column %d" % (number, n0, len(bad), bad[0][0], bad[0][1]))
                    what = "is exactly pattern frame %d (mod 256)" % n0
                else:
                    best = max(psnr(pixels, pattern_rgb8(w, h, n)) for n in range(n0 - 8, n0 + 9))
                    if best < args.psnr:
                        below.append(number)
                    what = "PSNR %.1f dB%s" % (best, " (below %.1f)" % args.psnr
                                               if best < args.psnr else "")
            seen.append(number)
            print("frame %d (%dx%d %s) %s" % (number, w, h, fmt, what), flush=True)
    if len(below) > args.frames * (1.0 - args.psnr_fraction):
        fail("%d of %d frames are below %.1f dB: %s" % (len(below), len(seen), args.psnr, below))
    print("ok: %d frames checked" % len(seen))


def read_pnm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    pixels = np.frombuffer(data[pos + 1:], dtype=">u2" if maxval > 255 else np.uint8)
    channels = 3 if magic == b"P6" else 1
    return pixels.reshape(h, w, channels) if channels == 3 else pixels.reshape(h, w)


def cmd_pnm(args):
    got = read_pnm(args.file)
    h, w = got.shape[:2]
    raw = raw_frames(args.raw, args.format, w, h)
    if args.number >= len(raw):
        fail("frame number %d, the raw file holds %d frames" % (args.number, len(raw)))
    want = raw[args.number].view(DTYPE[args.format])
    want = want.reshape(h, w, SHAPE[args.format]) if SHAPE[args.format] else want.reshape(h, w)
    if args.format == "rgba8":
        want = want[:, :, :3]  # a PPM has no alpha
    if not np.array_equal(got.astype(np.int64), want.astype(np.int64)):
        bad = np.argwhere((got.astype(np.int64) != want.astype(np.int64)).reshape(h, w, -1)
                          .any(axis=2))
        fail("%s differs from raw frame %d in %d pixels, first at row %d column %d" % (
            args.file, args.number, len(bad), bad[0][0], bad[0][1]))
    print("ok: %s (%dx%d) equals raw frame %d" % (args.file, w, h, args.number))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("read")
    p.add_argument("stream")
    p.add_argument("--frames", type=int, default=5)
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--pattern", action="store_true")
    p.add_argument("--psnr", type=float)
    p.add_argument("--psnr-fraction", type=float, default=1.0,
                   help="with --psnr: the fraction of frames that must reach it")
    p.add_argument("--raw")
    p.add_argument("--format", choices=sorted(BPP))
    p.add_argument("--size")
    p.add_argument("--ready", help="a file to create once ready to attach (the raw frames "
                   "loaded), so that a test starts the stream's server only then")
    p.add_argument("--base", type=int, default=0,
                   help="frame number of the raw file's first frame")
    p = sub.add_parser("pnm")
    p.add_argument("file")
    p.add_argument("--raw", required=True)
    p.add_argument("--format", choices=sorted(BPP), required=True)
    p.add_argument("--number", type=int, required=True)
    p = sub.add_parser("raw-frames")
    p.add_argument("file")
    p.add_argument("--format", choices=sorted(BPP), required=True)
    p.add_argument("--size", required=True)
    p = sub.add_parser("errorstring")
    p.add_argument("code", type=int)
    sub.add_parser("free-port")
    args = parser.parse_args()
    if args.cmd == "read":
        if not (args.pattern or args.psnr is not None or args.raw):
            parser.error("read wants --pattern, --psnr or --raw")
        cmd_read(args)
    elif args.cmd == "pnm":
        cmd_pnm(args)
    elif args.cmd == "raw-frames":
        w, h = (int(v) for v in args.size.split("x"))
        print(len(raw_frames(args.file, args.format, w, h)))
    elif args.cmd == "errorstring":
        import shared_memory_image as smi
        print(smi.errorstring(args.code))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()


if __name__ == "__main__":
    main()
