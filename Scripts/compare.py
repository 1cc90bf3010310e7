#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The one-run comparison of Scripts/compare.sh (run that, not this).

Rows (frames/s the writer publishes, with 1, 2, 4, 8 reader processes):
  memcpy(shm)            a warm memcpy of one frame into a mapped file (no reader)
  smi acquire ext        this library, zero-copy: acquire, memcpy (stands in
                         for rendering), publish; extended layout, growing buffers
  smi acquire ext 2buf   the same, limited to 2 buffers (as before growing)
  smi putframe ext       putframe (one copy), extended layout
  smi putframe/acquire EnSight   EnSight's layout (one reader at most)
  smisink (GStreamer)    this project's element: videotestsrc pattern=black !
                         smisink; readers smisrc ! fakesink
  shmsink one-copy       videotestsrc pattern=black ! identity drop-allocation=true
                         ! shmsink (the source renders into its own buffers,
                         shmsink copies them into its shared memory)
  shmsink zero-copy      videotestsrc pattern=black ! shmsink (the source renders
                         straight into shmsink's shared memory)
  gst fakesink           videotestsrc pattern=black ! fakesink: the source alone,
                         GStreamer's floor for the rows above
  TCP loopback           every frame sent to every reader over 127.0.0.1
                         (sendall / recv_into, one kernel copy each way)

Readers of this library's rows lock, read one byte of every page and unlock
(smi-bench part 5); shmsrc/smisrc readers pass buffers to fakesink without
reading pixels; TCP readers receive every byte. shmsink hands every frame
to every reader and waits for the slowest: its rate is the slowest reader's,
from the buffers' timestamps (shmsrc do-timestamp=true). smisink and
fakesink rates are the writer's, from two runs of N and 2N frames
(N / (t(2N) - t(N))), which cancels the start-up and the readers connecting.
"""
import argparse
import csv
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing import Process

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
READERS = (1, 2, 4, 8)


def log(msg):
    print(msg, flush=True)


# ---- this library: smi-bench part 5 --------------------------------------------

def run_smi_bench(build, seconds, workdir):
    exe = os.path.join(build, "Core", "Tools", "smi-bench")
    out = os.path.join(workdir, "smi-bench.csv")
    cmd = [exe, "--only", "5", "--seconds", str(seconds), "--csv", out]
    log("compare: " + " ".join(cmd))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(os.path.join(workdir, "smi-bench.log"), "w") as f:
        f.write(r.stdout)
    if r.returncode != 0:
        log(r.stdout)
        raise SystemExit("compare: smi-bench failed")
    rows = {}
    memcpy = {}
    with open(out) as f:
        for kind, size, what, readers, value, _extra in csv.reader(f):
            if kind == "memcpy":
                memcpy[(size, what)] = float(value)
            elif kind == "writer":
                rows[(what, size, int(readers))] = float(value)
    names = {
        "acquire-extended-grow": "smi acquire ext",
        "acquire-extended-2buf": "smi acquire ext 2buf",
        "putframe-extended-grow": "smi putframe ext",
        "putframe-ensight-grow": "smi putframe EnSight",
        "acquire-ensight-grow": "smi acquire EnSight",
    }
    table = {}
    for (what, size, readers), fps in rows.items():
        table.setdefault(names.get(what, what), {})[(size, readers)] = fps
    for size in SIZES:
        for n in READERS:
            table.setdefault("memcpy(shm)", {})[(size, n)] = memcpy.get((size, "shm"), 0.0)
    return table, memcpy


# ---- GStreamer ------------------------------------------------------------------

def gst_elapsed(text):
    for line in text.splitlines():
        if line.startswith("Execution ended after "):
            h, m, s = line.split()[-1].split(":")
            return int(h) * 3600 + int(m) * 60 + float(s)
    return None


def have_element(name, env):
    return subprocess.run(["gst-inspect-1.0", name], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env).returncode == 0


def pts_rate(path):
    """Frames/s from a `fakesink silent=false` log: (count - 1) / (last pts - first pts)."""
    pts = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                i = line.find(" pts: ")
                if "chain" in line and i >= 0:
                    h, m, sec = line[i + 6:].split(",")[0].split(":")
                    pts.append(int(h) * 3600 + int(m) * 60 + float(sec))
    except OSError:
        return 0.0, 0
    if len(pts) < 3 or pts[-1] <= pts[0]:
        return 0.0, len(pts)
    return (len(pts) - 1) / (pts[-1] - pts[0]), len(pts)


def count_chain(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"chain")
    except OSError:
        return 0


def gst_run(kind, size, readers, frames, workdir, env, seconds):
    """One writer pipeline of `frames` frames with `readers` reader pipelines.
    shmsink: returns the frames/s the slowest reader received (shmsink hands
    every frame to every reader, and waits for them), from the readers'
    timestamps. Otherwise: the writer's seconds (for the 2-run difference)."""
    w, h = SIZES[size]
    caps = "video/x-raw,format=RGB,width=%d,height=%d,framerate=1000/1" % (w, h)
    frame = w * h * 3
    sock = os.path.join(workdir, "gst.sock")
    stream = os.path.join(workdir, "gst.smi")
    for p in (sock, stream):
        if os.path.exists(p):
            os.unlink(p)
    src = ["videotestsrc", "pattern=black", "num-buffers=%d" % frames, "!", caps, "!"]
    counted = ["!", "fakesink", "sync=false", "silent=false"]
    if kind == "shmsink one-copy":
        sink = ["identity", "drop-allocation=true", "!", "shmsink", "socket-path=" + sock,
                "shm-size=%d" % (frame * 12), "wait-for-connection=true", "sync=false"]
        reader = ["shmsrc", "socket-path=" + sock, "is-live=true", "do-timestamp=true"] + counted
    elif kind == "shmsink zero-copy":
        sink = ["shmsink", "socket-path=" + sock, "shm-size=%d" % (frame * 12),
                "wait-for-connection=true", "sync=false"]
        reader = ["shmsrc", "socket-path=" + sock, "is-live=true", "do-timestamp=true"] + counted
    elif kind == "smisink (GStreamer)":
        sink = ["smisink", "location=" + stream, "sync=false"]
        reader = ["smisrc", "location=" + stream, "!", "fakesink", "sync=false"]
    else:  # gst fakesink
        sink = ["fakesink", "sync=false"]
        reader = None
        readers = 0
    shm = kind.startswith("shmsink")
    procs, logs = [], []
    writer = None

    def start_readers():
        for k in range(readers):
            logs.append(os.path.join(workdir, "reader%d.log" % k))
            with open(logs[-1], "w") as f:
                procs.append(subprocess.Popen(["gst-launch-1.0", "-v" if shm else "-q"] + reader,
                                              env=env, stdout=f, stderr=subprocess.STDOUT))
    try:
        if kind == "smisink (GStreamer)" and readers:
            start_readers()  # smisrc waits for the stream to appear
            time.sleep(0.5)
        writer = subprocess.Popen(["gst-launch-1.0"] + src + sink, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if shm and readers:
            deadline = time.monotonic() + 10
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.005)
            start_readers()
            # shmsink waits at the end until its readers leave: let them take
            # every frame, then stop them.
            deadline = time.monotonic() + 10 + 5 * seconds
            while time.monotonic() < deadline and writer.poll() is None and \
                    min(count_chain(f) for f in logs) < frames and \
                    any(p.poll() is None for p in procs):  # (a reader that failed: give up)
                time.sleep(0.05)
            for p in procs:
                p.send_signal(signal.SIGINT)
        try:
            out, _ = writer.communicate(timeout=15 + 5 * seconds)
        except subprocess.TimeoutExpired:
            writer.kill()
            out, _ = writer.communicate()
            return None
        if shm:
            for p in procs:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
            rates = [pts_rate(f)[0] for f in logs]
            return min(rates) if rates else None
        return gst_elapsed(out)
    finally:
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if shm and writer is not None:
            # A shmsink that did not stop cleanly leaves its shared memory
            # behind, named after its process: /dev/shm/"shmpipe.%5d.%5d".
            for leftover in glob.glob("/dev/shm/shmpipe.%5d.*" % writer.pid):
                try:
                    os.unlink(leftover)
                except OSError:
                    pass


def run_gstreamer(build, seconds, workdir, table, notes):
    if not shutil.which("gst-launch-1.0"):
        notes.append("GStreamer rows left out: gst-launch-1.0 is missing "
                     "(Debian: gstreamer1.0-tools)")
        return
    env = dict(os.environ)
    plugin_dir = os.path.join(build, "gstreamer-1.0")
    env["GST_PLUGIN_PATH"] = plugin_dir + os.pathsep + env.get("GST_PLUGIN_PATH", "")
    env["GST_REGISTRY"] = os.path.join(workdir, "registry.bin")
    kinds = []
    for kind, element in (("gst fakesink", "fakesink"), ("shmsink one-copy", "shmsink"),
                          ("shmsink zero-copy", "shmsink"), ("smisink (GStreamer)", "smisink")):
        if have_element(element, env):
            kinds.append(kind)
        else:
            notes.append("%s left out: element %s not found (%s)" % (
                kind, element, "build the project's GStreamer elements" if element == "smisink"
                else "Debian: gstreamer1.0-plugins-bad" if element == "shmsink"
                else "Debian: gstreamer1.0-plugins-base"))
    for kind in kinds:
        for size in SIZES:
            # About `seconds` of frames (shmsink runs ~7x slower than the others).
            if kind.startswith("shmsink"):
                base = max(20, int(seconds * (600 if size == "1080p" else 150)))
            else:
                base = max(40, int(seconds * (4000 if size == "1080p" else 600)))
            for n in (READERS if kind != "gst fakesink" else (1,)):
                if kind.startswith("shmsink"):
                    fps = 0.0
                    for _ in range(2):  # (a reader that missed the start: once more)
                        fps = gst_run(kind, size, n, base, workdir, env, seconds) or 0.0
                        if fps:
                            break
                else:
                    t1 = gst_run(kind, size, n, base, workdir, env, seconds)
                    t2 = gst_run(kind, size, n, 2 * base, workdir, env, seconds)
                    fps = base / (t2 - t1) if t1 and t2 and t2 > t1 else 0.0
                if kind == "gst fakesink":
                    for m in READERS:
                        table.setdefault(kind, {})[(size, m)] = fps
                else:
                    table.setdefault(kind, {})[(size, n)] = fps
                log("compare: %-20s %-5s %d readers: %8.1f frames/s" % (kind, size, n, fps))


# ---- TCP loopback ---------------------------------------------------------------

def tcp_reader(port, frame):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    buf = bytearray(frame)
    view = memoryview(buf)
    while True:
        got = 0
        while got < frame:
            k = s.recv_into(view[got:], frame - got)
            if k == 0:
                return
            got += k


def run_tcp(seconds, table):
    for size, (w, h) in SIZES.items():
        frame = w * h * 3
        data = bytes(frame)
        for n in READERS:
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("127.0.0.1", 0))
            srv.listen(n)
            port = srv.getsockname()[1]
            procs = [Process(target=tcp_reader, args=(port, frame)) for _ in range(n)]
            for p in procs:
                p.start()
            conns = []
            for _ in range(n):
                c, _ = srv.accept()
                c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
                conns.append(c)
            t_warm = time.perf_counter() + 0.25 * seconds
            while time.perf_counter() < t_warm:
                for c in conns:
                    c.sendall(data)
            frames, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                for c in conns:
                    c.sendall(data)
                frames += 1
            fps = frames / (time.perf_counter() - t0)
            for c in conns:
                c.close()
            srv.close()
            for p in procs:
                p.join(10)
                if p.is_alive():
                    p.kill()
            table.setdefault("TCP loopback", {})[(size, n)] = fps
            log("compare: %-20s %-5s %d readers: %8.1f frames/s" % ("TCP loopback", size, n, fps))


# ---- output ---------------------------------------------------------------------

ORDER = ["memcpy(shm)", "smi acquire ext", "smi acquire ext 2buf", "smi putframe ext",
         "smi acquire EnSight", "smi putframe EnSight", "smisink (GStreamer)",
         "shmsink zero-copy", "shmsink one-copy", "gst fakesink", "TCP loopback"]


def fmt(v):
    return "%8.1f" % v if v else "%8s" % "-"


def print_table(table, memcpy, header):
    lines = [header, ""]
    cols = ["%-22s" % "frames/s (writer)"]
    for size in SIZES:
        cols += ["%8s" % ("%s r%d" % (size, n)) for n in READERS]
    cols += ["%9s" % "4K cost", "%9s" % "r8/r1", "%9s" % "/memcpy"]
    lines.append(" ".join(cols))
    for name in ORDER + sorted(k for k in table if k not in ORDER):
        if name not in table:
            continue
        row = table[name]
        cells = ["%-22s" % name]
        for size in SIZES:
            cells += [fmt(row.get((size, n), 0.0)) for n in READERS]
        a, b = row.get(("1080p", 1), 0.0), row.get(("4K", 1), 0.0)
        r1, r8 = row.get(("1080p", 1), 0.0), row.get(("1080p", 8), 0.0)
        mc = memcpy.get(("1080p", "shm"), 0.0)
        cells.append("%9s" % ("%.2fx" % (a / b) if a and b else "-"))
        cells.append("%9s" % ("%.2f" % (r8 / r1) if r1 and r8 else "-"))
        cells.append("%9s" % ("%.2f" % (r1 / mc) if r1 and mc else "-"))
        lines.append(" ".join(cells))
    lines += ["",
              "r1..r8: reader processes. 4K cost: frames/s at 1080p / at 4K, 1 reader "
              "(4K has 4x the pixels: ~4x expected).",
              "r8/r1: frames/s with 8 readers / with 1, 1080p (1.00: readers cost the "
              "writer nothing). /memcpy: 1080p, 1 reader, / memcpy(shm) 1080p."]
    return "\n".join(lines)


def plot(table, path, title, notes):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        notes.append("no plot: matplotlib is missing (Debian: python3-matplotlib)")
        return False
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=False)
    names = ORDER + sorted(k for k in table if k not in ORDER)
    colors = {n: plt.cm.tab20.colors[(2 * i) % 20 + (2 * i) // 20 % 2] for i, n in enumerate(names)}
    for ax, size in zip(axes, SIZES):
        for name in names:
            row = table.get(name)
            if not row:
                continue
            xs = [n for n in READERS if row.get((size, n))]
            if not xs:
                continue
            style = "--" if name in ("memcpy(shm)", "gst fakesink") else "-"
            ax.plot(xs, [row[(size, n)] for n in xs], style, marker="o", label=name,
                    color=colors[name])
        ax.set_xscale("log", base=2)
        ax.set_xticks(READERS)
        ax.set_xticklabels([str(n) for n in READERS])
        ax.set_yscale("log")
        ax.set_xlabel("reader processes")
        ax.set_ylabel("frames/s published (writer)")
        ax.set_title(size)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8, loc="lower left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=float, default=1.0, help="per measurement (1)")
    ap.add_argument("--out", default=None, help="directory for compare.txt/.csv/.png "
                    "(default: BUILD/compare)")
    ap.add_argument("--quick", action="store_true", help="short runs (0.3 s)")
    ap.add_argument("--skip", default="", help="comma list: smi,gst,tcp")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 0.3
    out = args.out or os.path.join(args.build, "compare")
    os.makedirs(out, exist_ok=True)
    skip = set(x for x in args.skip.split(",") if x)
    load0 = os.getloadavg()
    header = ("compare: %d CPUs, load average %.2f %.2f %.2f at the start; %.1f s per "
              "measurement" % (os.cpu_count() or 0, load0[0], load0[1], load0[2], args.seconds))
    log(header)
    notes = []
    workdir = tempfile.mkdtemp(prefix="smi-compare-", dir="/dev/shm" if os.path.isdir(
        "/dev/shm") else None)
    table, memcpy = {}, {}
    try:
        if "smi" not in skip:
            table, memcpy = run_smi_bench(args.build, args.seconds, workdir)
            shutil.copy(os.path.join(workdir, "smi-bench.log"), os.path.join(out, "smi-bench.log"))
        if "gst" not in skip:
            run_gstreamer(args.build, args.seconds, workdir, table, notes)
        if "tcp" not in skip:
            run_tcp(args.seconds, table)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load1 = os.getloadavg()
    header += "; load %.2f at the end" % load1[0]
    text = print_table(table, memcpy, header)
    for n in notes:
        text += "\nnote: " + n
    log("\n" + text)
    with open(os.path.join(out, "compare.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "compare.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["transport", "size", "readers", "frames_per_s"])
        for name, row in sorted(table.items()):
            for (size, n), v in sorted(row.items()):
                wr.writerow([name, size, n, "%.2f" % v])
    png = os.path.join(out, "compare.png")
    if plot(table, png, header, notes):
        log("compare: plot saved to %s" % png)
    else:
        log("compare: " + notes[-1])
    log("compare: table in %s, figures in %s" % (os.path.join(out, "compare.txt"),
                                                  os.path.join(out, "compare.csv")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
