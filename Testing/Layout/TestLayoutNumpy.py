# SPDX-License-Identifier: BSD-3-Clause
"""Read an extended-layout stream with numpy.memmap and Core/LAYOUT.md only.

Usage: python3 TestLayoutNumpy.py PATH_TO_smi_layout_writer

The writer (smi_layout_writer.c, built against the library) publishes known
frames and holds a client lock; this script knows nothing of the library:
every offset, size and rule below comes from Core/LAYOUT.md. It checks the
file header (section 2.1), finds the newest frame as section 5 does, compares
its pixels and metadata exactly (section 2.2), reads the client slots (2.3)
and the liveness byte locks (3), at two stages of the stream, then one frame
of each instrument format (INT16, INT32, UINT32, FLOAT64: extremes, NaN,
infinity and -0.0 bit patterns), and after the writer has exited. Exit status 0 on success, 1 with a message on failure.
"""
import os
import select
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:
    sys.stderr.write(
        "FAILED: numpy cannot be imported by %s (%s).\n"
        "This test needs numpy: on Debian install python3-numpy, or configure with\n"
        "-DSMI_LAYOUT_PYTHON=<a python that has numpy>.\n" % (sys.executable, e))
    sys.exit(1)

MAGIC = b"\x89SMI\r\n\x1a\n"
HEADER = 4096
BPP = {0: 3, 1: 4, 2: 1, 3: 2, 4: 4, 5: 2, 6: 4, 7: 4, 8: 8}
DTYPE = {0: "u1", 1: "u1", 2: "u1", 3: "<u2", 4: "<f4", 5: "<i2", 6: "<i4", 7: "<u4", 8: "<f8"}
# The instrument frames of smi_layout_writer.c: format code, frame number,
# the values of its first pixels, and the rule for the rest (pixel i).
INSTRUMENT = {
    "int16": (5, 21, [-32768, 32767, -1, 0, 1], lambda i: (i - 10) * 3001),
    "int32": (6, 22, [-2**31, 2**31 - 1, -1, 0, 1], lambda i: (i - 10) * 200000033),
    "uint32": (7, 23, [0, 2**32 - 1, 1, 2**31, 2**31 - 1], lambda i: i * 200000033),
}
FLOAT64_BITS = [0x7FF8000000000000, 0x7FF800000000ABCD, 0xFFF8000000000001,
                0x7FF4000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
                0x8000000000000000, 0x7FEFFFFFFFFFFFFF, 0x0000000000000001,
                0x0010000000000000]
SERVER_BYTE = 1 << 62


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def u32(m, off):
    return int(m[off:off + 4].view("<u4")[0])


def u64(m, off):
    return int(m[off:off + 8].view("<u8")[0])


def f64(m, off):
    return float(m[off:off + 8].view("<f8")[0])


def file_header(m, real_size):
    """Section 2.1, the checks in the documented order."""
    check(bytes(m[:8]) == MAGIC, "magic is %r" % bytes(m[:8]))
    h = {
        "version": u32(m, 8), "header_size": u32(m, 12), "buffer_count": u32(m, 16),
        "guard": bytes(m[20:24]), "slot_count": u32(m, 24), "generation": u32(m, 28),
        "file_size": u64(m, 32), "buffer_size": u64(m, 40), "last_sequence": u64(m, 48),
        "last_frame": u32(m, 56), "claim_counter": u32(m, 60), "publish_count": u32(m, 64),
        "consume_count": u32(m, 68), "server_waiting": u32(m, 72),
    }
    check(h["version"] == 1, "version %d" % h["version"])
    check(h["header_size"] == HEADER, "header_size %d" % h["header_size"])
    check(h["buffer_count"] == 2, "servers write 2 buffers, found %d" % h["buffer_count"])
    check(h["guard"] == b"\xff\xff\xff\xff", "ensight_guard %r" % h["guard"])
    check(h["slot_count"] == 32, "servers write 32 slots, found %d" % h["slot_count"])
    check(h["buffer_size"] > 0 and h["buffer_size"] % 4096 == 0,
          "buffer_size %d" % h["buffer_size"])
    check(h["file_size"] == HEADER + h["buffer_count"] * h["buffer_size"] <= real_size,
          "file_size %d, buffers %d x %d, real size %d"
          % (h["file_size"], h["buffer_count"], h["buffer_size"], real_size))
    check(h["generation"] >= 1, "server_generation %d" % h["generation"])
    check(h["claim_counter"] >= 1, "claim_counter %d after a client attached" % h["claim_counter"])
    check(h["server_waiting"] == 0, "server_waiting %d: no server waits for a buffer"
          % h["server_waiting"])
    return h


def buffer_header(m, i, fh):
    """Section 2.2, with the validation a reader does on a ready buffer."""
    h = 256 + 128 * i
    b = {
        "index": i, "state": u32(m, h), "format": u32(m, h + 4), "sequence": u64(m, h + 8),
        "frame": u32(m, h + 16), "width": u32(m, h + 20), "height": u32(m, h + 24),
        "depth": u32(m, h + 28), "data_offset": u64(m, h + 32), "data_size": u64(m, h + 40),
        "timestamp": f64(m, h + 48),
        "spacing": tuple(f64(m, h + 56 + 8 * k) for k in range(3)),
        "origin": tuple(f64(m, h + 80 + 8 * k) for k in range(3)),
        "flags": u32(m, h + 104), "flags_check": u32(m, h + 108),
    }
    # "Row order": the flags count only when written with this frame.
    b["bottom_up"] = (b["flags_check"] == b["sequence"] % 2**32) and bool(b["flags"] & 1)
    if b["state"] == 2:
        check(b["format"] in BPP, "buffer %d: format %d" % (i, b["format"]))
        check(min(b["width"], b["height"], b["depth"]) >= 1, "buffer %d: zero size" % i)
        check(b["data_offset"] == HEADER + i * fh["buffer_size"],
              "buffer %d: data_offset %d" % (i, b["data_offset"]))
        n = b["width"] * b["height"] * b["depth"] * BPP[b["format"]]
        check(b["data_size"] == n <= fh["buffer_size"],
              "buffer %d: data_size %d for %d bytes of pixels" % (i, b["data_size"], n))
    return b


def newest(m, fh):
    """Section 5: the ready buffer with the largest sequence."""
    best = None
    for i in range(fh["buffer_count"]):
        b = buffer_header(m, i, fh)
        if b["state"] == 2 and (best is None or b["sequence"] > best["sequence"]):
            best = b
    check(best is not None, "no ready buffer")
    check(best["sequence"] == fh["last_sequence"],
          "newest sequence %d, last_sequence %d" % (best["sequence"], fh["last_sequence"]))
    check(best["frame"] == fh["last_frame"],
          "newest frame %d, last_frame %d" % (best["frame"], fh["last_frame"]))
    return best


def pixels(m, b):
    """The buffer's pixels as an array: (height, width, 3|4) for colour,
    (depth, height, width) for one channel (x fastest, then y, then z)."""
    raw = m[b["data_offset"]:b["data_offset"] + b["data_size"]]
    fmt = b["format"]
    if fmt in (0, 1):
        ch = BPP[fmt]
        return raw.reshape(b["depth"], b["height"], b["width"], ch)
    return raw.view(DTYPE[fmt]).reshape(b["depth"], b["height"], b["width"])


def expected_rgb(f):
    y, x, c = np.meshgrid(np.arange(30), np.arange(40), np.arange(3), indexing="ij")
    return ((7 * x + 13 * y + 71 * c + 29 * f) % 256).astype(np.uint8).reshape(1, 30, 40, 3)


def expected_volume(f):
    z, y, x = np.meshgrid(np.arange(5), np.arange(6), np.arange(8), indexing="ij")
    return (x + 10.0 * y + 100.0 * z + f / 2.0).astype("<f4")


def slots(m, fh):
    out = []
    for j in range(fh["slot_count"]):
        s = 1280 + 64 * j
        out.append({"j": j, "claim": u32(m, s), "hold": u32(m, s + 4), "waiting": u32(m, s + 8),
                    "mode": u32(m, s + 12), "last_sequence": u64(m, s + 16),
                    "frames_locked": u64(m, s + 24), "frames_lost": u64(m, s + 32)})
    return out


def byte_locked(path, offset):
    """Section 3: is the byte lock at `offset` held by someone? F_GETLK sees
    open-file-description locks too, and changes nothing."""
    import fcntl
    if not sys.platform.startswith("linux"):
        return None
    flock = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, offset, 1, 0)
    with open(path, "rb") as f:
        res = fcntl.fcntl(f.fileno(), fcntl.F_GETLK, flock)
    return struct.unpack("hhqqi4x", res)[0] != fcntl.F_UNLCK


def read_line(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    check(ready, "the writer said nothing for %d s" % timeout)
    return proc.stdout.readline().decode().strip()


def stage1(path):
    m = np.memmap(path, dtype=np.uint8, mode="r")
    fh = file_header(m, os.path.getsize(path))
    check(fh["last_sequence"] == 3, "three frames published, last_sequence %d" % fh["last_sequence"])
    b = newest(m, fh)
    check((b["format"], b["width"], b["height"], b["depth"]) == (4, 8, 6, 5),
          "newest frame: format %d, %dx%dx%d" % (b["format"], b["width"], b["height"], b["depth"]))
    check(b["frame"] == 10, "newest frame number %d" % b["frame"])
    check(b["timestamp"] == 1234.5, "timestamp %r" % b["timestamp"])
    check(b["spacing"] == (0.5, 0.25, 2.0), "spacing %r" % (b["spacing"],))
    check(b["origin"] == (-1.0, 2.0, 3.5), "origin %r" % (b["origin"],))
    vol = pixels(m, b)
    check(np.array_equal(vol, expected_volume(10)), "FLOAT32 volume differs:\n%s" % vol)
    check(b["bottom_up"] and b["flags"] == 1, "the volume was published bottom row first: %r" % b)

    # The other buffer holds frame 2, locked by the writer's client.
    other = buffer_header(m, 1 - b["index"], fh)
    check(other["state"] == 2 and other["frame"] == 2 and other["format"] == 0
          and not other["bottom_up"], "other buffer: %r" % other)
    check(np.array_equal(pixels(m, other), expected_rgb(2)), "RGB8 frame 2 differs")
    claimed = [s for s in slots(m, fh) if s["claim"] != 0]
    check(len(claimed) == 1, "one client attached, %d claimed slots" % len(claimed))
    s = claimed[0]
    check(s["hold"] == other["index"] + 1,
          "the client holds buffer %d (hold %d)" % (other["index"], s["hold"]))
    check(s["last_sequence"] == other["sequence"], "slot last_sequence %d" % s["last_sequence"])
    check(s["frames_locked"] == 1, "frames_locked %d" % s["frames_locked"])
    check(s["waiting"] == 0, "the client is not waiting")
    check(s["mode"] == 0 and s["frames_lost"] == 0,
          "a newest-mode client: mode %d, frames_lost %d" % (s["mode"], s["frames_lost"]))
    if byte_locked(path, SERVER_BYTE) is not None:
        check(byte_locked(path, SERVER_BYTE), "server byte lock not held by the live server")
        check(byte_locked(path, SERVER_BYTE + 1 + s["j"]),
              "slot %d byte lock not held by its live client" % s["j"])
        free = [j for j in range(fh["slot_count"]) if j != s["j"]]
        check(not byte_locked(path, SERVER_BYTE + 1 + free[0]), "a free slot's byte is locked")
    del m
    return s["j"]


def stage2(path, writer_alive, slot):
    m = np.memmap(path, dtype=np.uint8, mode="r")
    fh = file_header(m, os.path.getsize(path))
    b = newest(m, fh)
    check((b["format"], b["width"], b["height"], b["depth"], b["frame"]) == (0, 40, 30, 1, 11),
          "newest frame: %r" % b)
    check(b["spacing"] == (1.0, 1.0, 1.0) and b["origin"] == (0.0, 0.0, 0.0),
          "default spacing/origin: %r %r" % (b["spacing"], b["origin"]))
    check(not b["bottom_up"], "frame 11 is top row first: %r" % b)
    rgb = np.array(pixels(m, b))  # a copy, then re-check as section 5 advises
    after = buffer_header(m, b["index"], fh)
    check(after["state"] == 2 and after["sequence"] == b["sequence"], "overwritten while read")
    check(np.array_equal(rgb, expected_rgb(11)), "RGB8 frame 11 differs")
    # Flipping it would not match: the pattern is not symmetric.
    check(not np.array_equal(rgb[:, ::-1], expected_rgb(11)), "pattern is symmetric")
    if byte_locked(path, SERVER_BYTE) is not None:
        check(byte_locked(path, SERVER_BYTE) == writer_alive,
              "server byte lock %s" % ("missing" if writer_alive else "still held"))
        check(byte_locked(path, SERVER_BYTE + 1 + slot) == writer_alive, "client byte lock")
    del m


def expected_instrument(name):
    """(format code, frame number, the 5x4 frame's values as raw integers:
    the values themselves, the IEEE bit patterns for float64)."""
    if name == "float64":
        rest = (np.arange(len(FLOAT64_BITS), 20) - 10.0) / 3.0
        bits = FLOAT64_BITS + [int(b) for b in rest.astype("<f8").view("<u8")]
        return 8, 24, np.array(bits, np.uint64).reshape(4, 5)
    code, frame, special, rule = INSTRUMENT[name]
    values = special + [rule(i) for i in range(len(special), 20)]
    return code, frame, np.array(values, DTYPE[code]).reshape(4, 5)


def stage_instrument(path, name):
    """The newest frame is the writer's 5x4 frame of format `name`; its
    values, read as LAYOUT.md says (little-endian two's complement or IEEE),
    are exact, bit for bit."""
    m = np.memmap(path, dtype=np.uint8, mode="r")
    fh = file_header(m, os.path.getsize(path))
    b = newest(m, fh)
    code, frame, want = expected_instrument(name)
    check((b["format"], b["width"], b["height"], b["depth"], b["frame"]) == (code, 5, 4, 1, frame),
          "newest frame, %s expected: %r" % (name, b))
    check(b["data_size"] == 20 * BPP[code], "%s data_size %d" % (name, b["data_size"]))
    got = np.array(pixels(m, b))[0]
    if name == "float64":
        check(np.isnan(got[0, 0]) and np.isinf(got[0, 4]) and np.signbit(got[1, 1]),
              "float64 specials read %r" % got[:2])
        got = got.view("<u8")
    check(got.dtype == want.dtype and np.array_equal(got, want),
          "%s frame differs:\n%s\nexpected\n%s" % (name, got, want))
    del m


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: TestLayoutNumpy.py PATH_TO_smi_layout_writer\n")
        return 2
    writer = sys.argv[1]
    folder = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    fd, path = tempfile.mkstemp(prefix="smi-layout-", suffix=".smi", dir=folder)
    os.close(fd)
    os.unlink(path)
    proc = subprocess.Popen([writer, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        check(read_line(proc, 20) == "READY 1", "writer did not reach stage 1")
        slot = stage1(path)
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        check(read_line(proc, 20) == "READY 2", "writer did not reach stage 2")
        stage2(path, True, slot)
        for name in ("int16", "int32", "uint32", "float64"):
            proc.stdin.write(b"\n")
            proc.stdin.flush()
            check(read_line(proc, 20) == "READY " + name, "writer did not publish " + name)
            stage_instrument(path, name)
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        check(proc.wait(timeout=20) == 0, "writer exited with %s" % proc.returncode)
        stage_instrument(path, "float64")  # the frames outlive the writer
        if byte_locked(path, SERVER_BYTE) is not None:
            check(not byte_locked(path, SERVER_BYTE), "server byte lock held after exit")
            check(not byte_locked(path, SERVER_BYTE + 1 + slot), "client byte lock after exit")
    except Failure as e:
        sys.stderr.write("FAILED: %s\n" % e)
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if os.path.exists(path):
            os.unlink(path)
    print("numpy reader: newest frames read by LAYOUT.md alone match, pixels exact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
