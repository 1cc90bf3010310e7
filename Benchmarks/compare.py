#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The like-for-like comparison of Benchmarks/compare.sh (run that, not this).

Every row is one writer process and its reader processes (one by default),
all of them smi-compare (Benchmarks/smi_compare.c). Every writer does the same
work per frame: one copy of one prepared RGB frame into the transport.

  writer "zero": the writer copies the frame itself into the transport's own
    memory: this library's acquire/publish, a buffer of smisink's pool, a
    buffer of shmsink's allocator (pushed from the writer's thread).
  writer "one": the writer hands the frame over and the transport copies it:
    putframe, a buffer wrapping the frame pushed to smisink or shmsink, send()
    on TCP loopback.
  reader "lock"/"shmsrc": reads one byte of every page of each frame where
    it lies (zero copy: lock/unlock, shmsrc's buffers in shmsink's memory).
  reader "copy"/"smisrc": ends with each frame copied once into its own
    memory (copyframe, a memcpy of shmsrc's buffer, smisrc's own copy, recv).
  memcpy: the copy alone into one of two buffers of a mapped file, no
    reader: the ceiling of every row.

Reported for every row: the frames/s the writer finished and those the
slowest reader finished, each over a window of --seconds after --warm
seconds (a writer's clock starts once its readers are attached, a reader's
at its first frame). Each point is the median of --repeat runs, shown with
its min-max; the runs of all rows are interleaved (run 1 of every row, then
run 2, ...) so that a change in the machine's load falls on every row, and
the rows of the same copies run one after another: each ratio between them
is taken run by run (rows seconds apart) and shown as the median and min-max
of the runs' ratios. The
load average is printed at the start and the end. smi-bench part 4 (wake-up
latency against a raw futex) is run last and its lines are copied into the
report.
"""
import argparse
import csv
import glob
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = {"1080p": (1920, 1080), "4K": (3840, 2160)}
QUICK_SIZES = {"320x240": (320, 240), "640x360": (640, 360)}

# name, writer transport, writer copy, reader transport, reader copy; in
# groups of the same copies, so that the rows a ratio compares run seconds
# apart.
ROWS = [
    ("memcpy (ceiling)", "memcpy", "one", None, None),
    ("smi acquire -> lock", "smi", "zero", "smi", "zero"),
    ("smisink pool -> lock", "smisink", "zero", "smi", "zero"),
    ("shmsink alloc -> shmsrc", "shmsink", "zero", "shmsrc", "zero"),
    ("smi acquire -> copy", "smi", "zero", "smi", "one"),
    ("smisink pool -> smisrc", "smisink", "zero", "smisrc", "one"),
    ("shmsink alloc -> shmsrc+copy", "shmsink", "zero", "shmsrc", "one"),
    ("smi putframe -> lock", "smi", "one", "smi", "zero"),
    ("smisink copy -> lock", "smisink", "one", "smi", "zero"),
    ("shmsink copy -> shmsrc", "shmsink", "one", "shmsrc", "zero"),
    ("smi putframe -> copy", "smi", "one", "smi", "one"),
    ("smisink copy -> smisrc", "smisink", "one", "smisrc", "one"),
    ("shmsink copy -> shmsrc+copy", "shmsink", "one", "shmsrc", "one"),
    ("TCP send -> recv", "tcp", "one", "tcp", "one"),
]

# The peer ratios: (what, numerator row, denominator row), same copies on
# both sides.
RATIOS = [
    ("smisink / shmsink, zero-copy writer, zero-copy reader",
     "smisink pool -> lock", "shmsink alloc -> shmsrc"),
    ("smisink / shmsink, zero-copy writer, one-copy reader",
     "smisink pool -> smisrc", "shmsink alloc -> shmsrc+copy"),
    ("smisink / shmsink, one-copy writer, zero-copy reader",
     "smisink copy -> lock", "shmsink copy -> shmsrc"),
    ("smisink / shmsink, one-copy writer, one-copy reader",
     "smisink copy -> smisrc", "shmsink copy -> shmsrc+copy"),
    ("smi API / shmsink, zero-copy writer, zero-copy reader",
     "smi acquire -> lock", "shmsink alloc -> shmsrc"),
    ("smi API / shmsink, zero-copy writer, one-copy reader",
     "smi acquire -> copy", "shmsink alloc -> shmsrc+copy"),
    ("smi API / shmsink, one-copy writer, zero-copy reader",
     "smi putframe -> lock", "shmsink copy -> shmsrc"),
    ("smi API / shmsink, one-copy writer, one-copy reader",
     "smi putframe -> copy", "shmsink copy -> shmsrc+copy"),
    ("smi API / TCP loopback, one-copy writer, one-copy reader",
     "smi putframe -> copy", "TCP send -> recv"),
    ("smi acquire -> lock / memcpy", "smi acquire -> lock", "memcpy (ceiling)"),
    ("smi putframe -> lock / memcpy", "smi putframe -> lock", "memcpy (ceiling)"),
]


def log(msg):
    print(msg, flush=True)


def load_text():
    a = os.getloadavg()
    return "%.2f %.2f %.2f" % a


# ---- one run of one row ---------------------------------------------------------

def parse_rate(text):
    """The frames/s of a "rate" line (0 for a window with no frame), or None."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "rate":
            return float(parts[1])
    return None


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def stop(proc, grace):
    """SIGTERM, then SIGKILL after `grace` seconds; returns its stdout."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


def run_row(exe, row, size, wh, args, workdir, env):
    """(writer frames/s, slowest reader frames/s or None, problem or None)."""
    name, wt, wc, rt, rc = row
    path = os.path.join(workdir, "stream")
    for p in glob.glob(path + "*"):
        os.unlink(p)
    geometry = "%dx%d" % wh
    timing = [str(args.seconds), str(args.warm)]
    limit = args.warm + args.seconds + 20
    errs = os.path.join(workdir, "stderr")
    wfile = os.path.join(workdir, "writer.out")
    with open(errs, "w") as err, open(wfile, "w") as wout_f:
        # The writer prints its rate once its window is over (a shmsink
        # writer may then block in a push for ever, waiting for a reader).
        writer = subprocess.Popen([exe, "writer", wt, wc, geometry, path] + timing +
                                  [str(args.readers if rt else 0)], env=env,
                                  stdout=wout_f, stderr=err, text=True)
        readers = [subprocess.Popen([exe, "reader", rt, rc, geometry, path] + timing, env=env,
                                    stdout=subprocess.PIPE, stderr=err, text=True)
                   for _ in range(args.readers if rt else 0)]
        problem = None
        rates = []
        try:
            for r in readers:
                try:
                    out, _ = r.communicate(timeout=limit)
                except subprocess.TimeoutExpired:
                    problem = "a reader stalled (no frame for %.0f s)" % limit
                    out = stop(r, 1)
                rates.append(parse_rate(out))
            if readers:  # a writer goes on until told to stop
                writer.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + limit
            while writer.poll() is None and time.monotonic() < deadline and \
                    parse_rate(read_text(wfile)) is None:
                time.sleep(0.01)
            stalled = writer.poll() is None and parse_rate(read_text(wfile)) is None
            stop(writer, 0.2)
            wout = read_text(wfile)
        finally:
            for p in readers + [writer]:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            # shmsink's shared memory, named after its process, stays behind
            # when the writer is killed: /dev/shm/"shmpipe.%5d.%5d".
            for leftover in glob.glob("/dev/shm/shmpipe.%5d.*" % writer.pid):
                try:
                    os.unlink(leftover)
                except OSError:
                    pass
    # A window with no frame in it (a process not scheduled for all of a
    # short window) is a figure, 0; a program that failed, died or stalled
    # is a problem.
    wrate = parse_rate(wout)
    lines = [ln.strip() for ln in read_text(errs).splitlines() if ln.strip()]
    if problem:
        pass
    elif lines:
        problem = lines[0]
    elif wrate is None:
        problem = ("the writer died of signal %d" % -writer.returncode
                   if not stalled and writer.returncode and writer.returncode < 0
                   else "no rate reported (the writer stalled)")
    elif any(r.returncode or rate is None for r, rate in zip(readers, rates)):
        problem = "a reader ended with exit %s and no rate" % ", ".join(
            str(r.returncode) for r in readers)
    rates = [x or 0.0 for x in rates]
    return wrate or 0.0, (min(rates) if readers else None), problem


# ---- the table --------------------------------------------------------------------

def spread(values):
    """(median, min, max) of the non-zero values, or None."""
    v = [x for x in values if x]
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


def cell(values):
    s = spread(values)
    if not s:
        return "%21s" % "-"
    return "%8.1f [%5.0f-%5.0f]" % s


def table_text(results, sizes, header, notes):
    lines = [header, ""]
    for size in sizes:
        lines.append("%s: frames/s, median [min-max] of the runs" % size)
        lines.append("%-30s %21s %21s" % ("row (writer -> reader)", "writer", "slowest reader"))
        for row in ROWS:
            w, r = results.get((row[0], size), ([], []))
            lines.append("%-30s %s %s" % (row[0], cell(w), cell(r) if row[3] else "%21s" % ""))
        lines.append("")
    lines.append("Ratios, run by run (the two rows of a ratio ran in the same run, "
                 "seconds apart): median [min-max] of the runs' ratios")
    lines.append("%-58s %-7s %19s %19s" % ("", "", "writer", "slowest reader"))
    for what, num, den in RATIOS:
        for size in sizes:
            a, b = results.get((num, size)), results.get((den, size))
            cells = []
            for i in (0, 1) if den != "memcpy (ceiling)" else (0,):
                r = [x / y for x, y in zip(a[i], b[0 if den == "memcpy (ceiling)" else i])
                     if x and y] if a and b else []
                s = spread(r)
                cells.append("%19s" % ("%5.2f [%4.2f-%4.2f]" % s if s else "-"))
            lines.append("%-58s %-7s %s" % (what, size, " ".join(cells)))
    lines += ["",
              "Every writer copies one prepared frame per frame (zero: into the "
              "transport's memory; one: the transport copies it).",
              "Readers: lock/shmsrc read a byte of every page in place; "
              "copy/shmsrc+copy/smisrc/recv copy each frame once."]
    for n in notes:
        lines.append("note: " + n)
    return "\n".join(lines)


def plot(results, sizes, path, title, notes):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        notes.append("no plot: matplotlib is missing (Debian: python3-matplotlib)")
        return False
    fig, axes = plt.subplots(1, len(sizes), figsize=(7 * len(sizes), 6.5), sharey=True)
    if len(sizes) == 1:
        axes = [axes]
    ys = list(range(len(ROWS)))
    for ax, size in zip(axes, sizes):
        for i, (kind, marker, color, dy) in enumerate((("writer", "o", "tab:blue", -0.15),
                                                       ("slowest reader", "s", "tab:red", 0.15))):
            pts = []
            for y, row in zip(ys, ROWS):
                s = spread(results.get((row[0], size), ([], []))[i])
                if s:
                    pts.append((y + dy, s))
            if not pts:
                continue
            ax.errorbar([s[0] for _, s in pts], [y for y, _ in pts],
                        xerr=[[s[0] - s[1] for _, s in pts], [s[2] - s[0] for _, s in pts]],
                        fmt=marker, color=color, capsize=3, label=kind + " (median, min-max)")
        ceiling = spread(results.get(("memcpy (ceiling)", size), ([], []))[0])
        if ceiling:
            ax.axvline(ceiling[0], color="gray", linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("frames/s")
        ax.set_title(size)
        ax.grid(True, which="both", axis="x", alpha=0.3)
        ax.set_yticks(ys)
        ax.set_yticklabels([r[0] for r in ROWS], fontsize=8)
    axes[0].invert_yaxis()
    axes[-1].legend(fontsize=8, loc="lower left")
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


# ---- wake-up latency (smi-bench part 4) -------------------------------------------

def wake_latency(build, quick):
    exe = os.path.join(build, "Benchmarks", "smi-bench")
    cmd = [exe, "--only", "4"] + (["--quick"] if quick else ["--samples", "1000"])
    log("compare: " + " ".join(cmd))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, inside = [], False
    for line in r.stdout.splitlines():
        if line.startswith("4. "):
            inside = True
        elif inside and line and not line.startswith(" "):
            break
        if inside and line.strip():
            lines.append(line)
    if r.returncode or not lines:
        return "smi-bench part 4 failed (exit %d):\n%s" % (r.returncode, r.stdout[-2000:])
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------

def gst_available(exe, env, notes):
    if subprocess.run([exe, "--gstreamer"]).returncode != 0:
        notes.append("GStreamer rows left out: smi-compare was built without GStreamer "
                     "(Debian: libgstreamer1.0-dev, libgstreamer-plugins-base1.0-dev)")
        return set()
    if not shutil.which("gst-inspect-1.0"):
        notes.append("GStreamer rows left out: gst-inspect-1.0 is missing (Debian: "
                     "gstreamer1.0-tools)")
        return set()
    have = set()
    for element, where in (("smisink", "build the project's GStreamer elements"),
                           ("smisrc", "build the project's GStreamer elements"),
                           ("shmsink", "Debian: gstreamer1.0-plugins-bad"),
                           ("shmsrc", "Debian: gstreamer1.0-plugins-bad")):
        if subprocess.run(["gst-inspect-1.0", element], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=env).returncode == 0:
            have.add(element)
        else:
            notes.append("rows with %s left out: element not found (%s)" % (element, where))
    return have


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=float, default=1.0, help="window of each run (1)")
    ap.add_argument("--warm", type=float, default=0.3, help="seconds before the window (0.3)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each row (5)")
    ap.add_argument("--readers", type=int, default=1, help="reader processes per row (1)")
    ap.add_argument("--sizes", default="1080p,4K", help="1080p,4K or WxH,... (1080p,4K)")
    ap.add_argument("--rows", default="", help="only the rows whose name contains one of "
                    "these comma-separated words")
    ap.add_argument("--out", default=None, help="folder for compare.txt/.csv/.png "
                    "(default: BUILD/compare)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: tiny frames, one run "
                    "of 0.05 s each, smi-bench --quick (figures meaningless)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.warm, args.repeat = 0.05, 0.02, 1
        sizes = dict(QUICK_SIZES)
    else:
        sizes = {}
        for s in args.sizes.split(","):
            if s in SIZES:
                sizes[s] = SIZES[s]
            else:
                w, h = (int(x) for x in s.split("x"))
                sizes[s] = (w, h)
    if args.repeat < 1 or args.readers < 1:
        raise SystemExit("compare: --repeat and --readers must be at least 1")
    exe = os.path.join(args.build, "Benchmarks", "smi-compare")
    if not os.access(exe, os.X_OK):
        raise SystemExit("compare: %s is missing: build it first" % exe)
    out = args.out or os.path.join(args.build, "compare")
    os.makedirs(out, exist_ok=True)
    notes = []
    workdir = tempfile.mkdtemp(prefix="smi-compare-", dir="/dev/shm" if os.path.isdir(
        "/dev/shm") else None)
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(args.build, "gstreamer-1.0") + os.pathsep + \
        env.get("GST_PLUGIN_PATH", "")
    # A registry of this build's own, kept: scanning every installed plugin
    # again on each run takes seconds.
    env["GST_REGISTRY"] = os.path.join(args.build, "compare-registry.bin")
    have = gst_available(exe, env, notes)
    words = [w for w in args.rows.split(",") if w]
    rows = [r for r in ROWS
            if (r[1] not in ("smisink", "shmsink") or r[1] in have) and
            (r[3] not in ("smisrc", "shmsrc") or r[3] in have) and
            (not words or any(w in r[0] for w in words))]
    header = ("compare: %d CPUs, load average %s at the start; %d run(s) of %.2f s after "
              "%.2f s, %d reader(s) per row" % (os.cpu_count() or 0, load_text(), args.repeat,
                                                args.seconds, args.warm, args.readers))
    log(header)
    results = {}
    runs = []
    problems = 0
    try:
        for rep in range(args.repeat):
            for size, wh in sizes.items():
                for row in rows:
                    w, r, problem = run_row(exe, row, size, wh, args, workdir, env)
                    res = results.setdefault((row[0], size), ([], []))
                    res[0].append(w)
                    res[1].append(r or 0.0)
                    runs.append((row[0], size, rep + 1, w, r, load_text().split()[0]))
                    if problem:
                        problems += 1
                        notes.append("%s, %s, run %d: %s" % (row[0], size, rep + 1, problem))
                    log("compare: run %d %-7s %-30s writer %8.1f  reader %8s  (load %s)%s" % (
                        rep + 1, size, row[0], w, "%.1f" % r if r is not None else "-",
                        load_text().split()[0], "  " + problem if problem else ""))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    header += "; load average %s at the end" % load_text()
    text = table_text(results, list(sizes), header, notes)
    text += "\n\nWake-up latency (smi-bench part 4, run after the table):\n" + \
        wake_latency(args.build, args.quick)
    log("\n" + text)
    with open(os.path.join(out, "compare.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out, "compare.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["row", "size", "run", "writer_frames_per_s", "reader_frames_per_s",
                     "load_1min"])
        for name, size, rep, w, r, load in runs:
            wr.writerow([name, size, rep, "%.2f" % w, "%.2f" % r if r is not None else "",
                         load])
    png = os.path.join(out, "compare.png")
    if plot(results, list(sizes), png, header, notes):
        log("compare: plot saved to %s" % png)
    else:
        log("compare: " + notes[-1])
    log("compare: table in %s, every run in %s" % (os.path.join(out, "compare.txt"),
                                                   os.path.join(out, "compare.csv")))
    # A run whose programs failed, died or stalled fails the script (its
    # note says which; the peers whose packages are missing were left out
    # above and are no failure).
    if problems:
        log("compare: %d run(s) failed, died or stalled (see the notes)" % problems)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
