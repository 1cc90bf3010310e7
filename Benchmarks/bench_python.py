#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Throughput of the shared_memory_image Python module against the C tools.

For 1080p (1920x1080 RGB) and 4K (3840x2160 RGB) it measures, in rounds that
alternate Python and C (the memory bandwidth of a shared VM drifts by 10% and
more within seconds, so the two are compared side by side):

  send       Server.send(array), one copy into the shared buffer, while a
             Python client process locks every frame it can (zero-copy)
             vs. smi-publish --copy (putframe) with smi-read as the client
  zero-copy  Server.acquire() + numpy.copyto(view, image) + publish()
             vs. smi-publish (acquire, memcpy of the image, publish)
  read       frames/s a client process locks and reads zero-copy
             (numpy.asarray(frame), a byte at each end, unlock) from
             smi-publish --copy: a Python client vs. smi-read

Frames/s are medians over the rounds; the ratio is Python / C (target 0.9).
The publishers run as fast as they can (smi-publish --rate 0) and publish
the same image over and over; the C side runs the same loop in C.

Like is compared with like: both publishers are warm when their window
opens (the Python loop publishes for --warmup seconds after its client has
attached; smi-publish --warmup does the same, so that its start-up, the
file's set-up, the client attaching and the first page faults stay out of
its figure), and both windows are --seconds long.

Usage:
  PYTHONPATH=<build>/python /usr/bin/python3 Benchmarks/bench_python.py [--seconds S]
      [--rounds N] [--dir DIR] [--tools DIR] [--sizes 1080p,4K] [--quick]

The tools (smi-publish, smi-read) are looked for in --tools, $SMI_PUBLISH /
$SMI_READ, next to the module's build directory (<build>/Core/Tools), and on
PATH; without them only the Python figures are printed.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import shared_memory_image as smi

# The directory that holds the package (<build>/python).
MODULE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(smi.__file__)))
SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
TARGET = 0.9


# ---- the Python client process ---------------------------------------------

def reader_main(path):
    """Lock every frame we can, read it zero-copy, report like smi-read."""
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    print("started", flush=True)  # up, and stoppable: the publisher may start
    deadline = time.monotonic() + 30
    while True:  # the publisher may still be setting the file up
        try:
            if smi.inspect(path)["server_alive"]:
                break
        except smi.Error:
            pass
        if stop or time.monotonic() > deadline:
            return 1
        time.sleep(0.002)
    frames, t_first, t_last, checksum = 0, 0.0, 0.0, 0
    with smi.Client(path) as client:
        print("ready", flush=True)
        while not stop:
            if not client.wait(timeout=0.1):
                continue
            frame = client.lock()
            if frame is None:
                continue
            pixels = np.asarray(frame)
            checksum ^= int(pixels[0, 0, 0]) ^ int(pixels[-1, -1, -1])
            del pixels
            frame.unlock()
            now = time.monotonic()
            if frames == 0:
                t_first = now
            t_last = now
            frames += 1
    rate = (frames - 1) / (t_last - t_first) if frames >= 2 and t_last > t_first else 0.0
    print("python-read: %d frames, %.1f frames/s (%d)" % (frames, rate, checksum), flush=True)
    return 0


# ---- helpers ------------------------------------------------------------------

def find_tool(name, tools_dir):
    candidates = []
    if tools_dir:
        candidates.append(os.path.join(tools_dir, name))
    env = os.environ.get(name.upper().replace("-", "_"))
    if env:
        candidates.append(env)
    build = os.path.dirname(MODULE_DIR)  # <build>/python/shared_memory_image/__init__.py
    candidates += [os.path.join(build, "Core", "Tools", name),
                   os.path.join(build, "main", "Core", "Tools", name)]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return shutil.which(name)


def test_image(width, height):
    x = np.arange(width, dtype=np.uint32)[None, :]
    y = np.arange(height, dtype=np.uint32)[:, None]
    return np.stack([(x + 0 * y) & 255, (3 * y + 0 * x) & 255, (x ^ y) & 255],
                    axis=-1).astype(np.uint8)


def write_ppm(path, image):
    h, w, _ = image.shape
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(image.tobytes())


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def start_python_reader(path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([MODULE_DIR] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--reader", path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_ready(proc, what, want="ready"):
    line = proc.stdout.readline().strip()
    if line == "started" and want != "started":
        line = proc.stdout.readline().strip()
    if line != want:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError("%s did not start: %s %s %s" % (what, line, out, err))


def finish(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out, err


def parse_rate(text, pattern):
    m = re.search(pattern, text)
    if not m:
        raise RuntimeError("cannot parse %r in: %s" % (pattern, text.strip()))
    return float(m.group(1))


def wait_clients(server, count, timeout=15.0):
    deadline = time.monotonic() + timeout
    while server.info()["clients"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the client process did not attach")
        time.sleep(0.002)


# ---- the runs -------------------------------------------------------------------

def python_publish(path, image, seconds, zero_copy, warmup):
    """Publisher in this process, a Python client process. Returns
    (published frames/s, client frames/s)."""
    h, w, _ = image.shape
    remove(path)
    smi.create_file(path, w, h)
    with smi.Server(path) as server:
        reader = start_python_reader(path)
        try:
            wait_ready(reader, "python reader")
            wait_clients(server, 1)
            # Warm, as smi-publish --warmup: publish for `warmup` seconds first.
            warm_end = time.perf_counter() + warmup
            while time.perf_counter() < warm_end:
                if zero_copy:
                    frame = server.acquire(w, h)
                    if frame is not None:
                        np.copyto(np.asarray(frame), image)
                        frame.publish()
                else:
                    server.send(image)
            published = 0
            t0 = time.perf_counter()
            end = t0 + seconds
            if zero_copy:
                while time.perf_counter() < end:
                    frame = server.acquire(w, h)
                    if frame is None:
                        continue
                    view = np.asarray(frame)
                    np.copyto(view, image)
                    del view
                    rc = frame.publish()
                    if rc in (smi.IMAGESTREAM_NOERROR, smi.IMAGESTREAM_UNCONNECTED):
                        published += 1
            else:
                while time.perf_counter() < end:
                    rc = server.send(image)
                    if rc in (smi.IMAGESTREAM_NOERROR, smi.IMAGESTREAM_UNCONNECTED):
                        published += 1
            elapsed = time.perf_counter() - t0
        finally:
            out, err = finish(reader)
    remove(path)
    return published / elapsed, parse_rate(out, r"([\d.]+) frames/s")


def c_publish(path, ppm, seconds, zero_copy, reader_kind, tools, warmup):
    """smi-publish as the publisher, smi-read or a Python client as the client.
    Returns (published frames/s, client frames/s)."""
    remove(path)
    if reader_kind == "c":
        reader = subprocess.Popen([tools["smi-read"], "--wait-file", "--quiet", path],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    else:
        reader = start_python_reader(path)
    try:
        if reader_kind != "c":
            # (Python starts slower than smi-publish runs a short window.)
            wait_ready(reader, "python reader", "started")
        cmd = [tools["smi-publish"], "--rate", "0", "--seconds", str(seconds), "--quiet",
               "--warmup", str(warmup), "--image", ppm]
        if not zero_copy:
            cmd.append("--copy")
        pub = subprocess.Popen(cmd + [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
        if reader_kind != "c":
            # The Python reader is up (its signal handlers too) before it can
            # be told to stop.
            wait_ready(reader, "python reader")
        try:
            pub_out, pub_err = pub.communicate(timeout=seconds + warmup + 40)
        except subprocess.TimeoutExpired:
            pub.kill()
            raise
        if pub.returncode != 0:
            raise RuntimeError("smi-publish failed: %s" % pub_err.strip())
    finally:
        out, err = finish(reader)
    remove(path)
    # The first summary line is the measured window's (smi-publish --warmup).
    return (parse_rate(pub_out, r"measured window.* ([\d.]+) frames/s"),
            parse_rate(out, r"([\d.]+) frames/s"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reader", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each run (1)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (5)")
    ap.add_argument("--dir", default="/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
                    help="where the stream files go (/dev/shm)")
    ap.add_argument("--tools", help="directory of smi-publish and smi-read")
    ap.add_argument("--sizes", default="1080p,4K", help="1080p,4K")
    ap.add_argument("--warmup", type=float, default=0.5,
                    help="seconds each publisher runs before its window opens (0.5)")
    ap.add_argument("--quick", action="store_true", help="short runs (0.3 s, 1 round)")
    args = ap.parse_args()
    if args.reader:
        return reader_main(args.reader)
    if args.quick:
        args.seconds, args.rounds, args.warmup = 0.3, 1, min(args.warmup, 0.2)

    tools = {t: find_tool(t, args.tools) for t in ("smi-publish", "smi-read")}
    have_c = all(tools.values())
    print("bench_python: shared_memory_image %s, Python %s, numpy %s"
          % (smi.__version__, sys.version.split()[0], np.__version__))
    print("  %s" % (("C tools: %s, %s" % (tools["smi-publish"], tools["smi-read"])) if have_c
                    else "C tools not found: Python figures only (use --tools DIR)"))
    print("  %d round(s) of %.1f s per run after %.1f s of warm-up (both sides), files in %s,"
          " %d CPUs, load %.2f; frames/s are medians"
          % (args.rounds, args.seconds, args.warmup, args.dir, os.cpu_count() or 0,
             os.getloadavg()[0]))

    # A private directory (mkdtemp: a new, unpredictable name, mode 0700) for
    # the stream and the PPM file: a fixed name in a shared directory such as
    # /dev/shm could be taken first by another user's file or symbolic link.
    workdir = tempfile.mkdtemp(prefix="smi-bench-python-", dir=args.dir)
    path = os.path.join(workdir, "stream.smi")
    ppm = os.path.join(workdir, "image.ppm")
    results = []
    try:
        for name in args.sizes.split(","):
            w, h = SIZES[name]
            image = test_image(w, h)
            write_ppm(ppm, image)
            runs = {}
            for _ in range(args.rounds):
                for key, fn in (
                        ("py_send", lambda: python_publish(path, image, args.seconds, False, args.warmup)),
                        ("c_send", lambda: c_publish(path, ppm, args.seconds, False, "c", tools, args.warmup)),
                        ("py_zc", lambda: python_publish(path, image, args.seconds, True, args.warmup)),
                        ("c_zc", lambda: c_publish(path, ppm, args.seconds, True, "c", tools, args.warmup)),
                        ("py_read", lambda: c_publish(path, ppm, args.seconds, False, "py", tools, args.warmup)),
                        ("c_read", lambda: c_publish(path, ppm, args.seconds, False, "c", tools, args.warmup)),
                ):
                    if key.startswith("c_") or key == "py_read":
                        if not have_c:
                            continue
                    runs.setdefault(key, []).append(fn())
            med = {k: (statistics.median(p for p, _ in v), statistics.median(c for _, c in v))
                   for k, v in runs.items()}
            results.append((name, med))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("\n%-6s %-34s %12s %12s %8s" % ("size", "measure", "Python f/s", "C f/s", "Py/C"))
    worst = None
    for name, med in results:
        rows = [
            ("send (copy) published", "py_send", "c_send", 0),
            ("  its client read (zero-copy)", "py_send", "c_send", 1),
            ("acquire/publish (zero-copy)", "py_zc", "c_zc", 0),
            ("read (client of smi-publish)", "py_read", "c_read", 1),
        ]
        for label, pk, ck, i in rows:
            if pk not in med:
                continue
            py = med[pk][i]
            if ck in med and med[ck][i] > 0:
                c = med[ck][i]
                ratio = py / c
                worst = ratio if worst is None else min(worst, ratio)
                print("%-6s %-34s %12.1f %12.1f %8.2f" % (name, label, py, c, ratio))
            else:
                print("%-6s %-34s %12.1f %12s %8s" % (name, label, py, "-", "-"))
    if worst is not None:
        print("\nworst ratio Python/C: %.3f (target >= %.1f): %s"
              % (worst, TARGET, "met" if worst >= TARGET else "MISSED (a noisy machine?)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
