# SPDX-License-Identifier: BSD-3-Clause
"""smi-web's benchmark: glass-to-glass latency and CPU per viewer, against RTP.

  /usr/bin/python3 Benchmarks/bench_web.py BUILD [--seconds 8] [--rate 30]
      [--sizes 640x480,1280x720,1920x1080] [--viewers 3] [--csv FILE]

For each size, in one run, on loopback:
  web      a publisher (web_publish.py --code: the frame number drawn into the
           pixels, the publish time of each frame noted) -> smi-web (VP8) ->
           headless Chromium; the page reads the number back from each frame
           it shows (drawn to a canvas, at requestVideoFrameCallback's
           expected display time). Latency = shown - published (p50, p99),
           frames shown per second; smi-web's CPU with 1 viewer (the encode)
           and with --viewers viewers (what each more viewer costs), and
           Chromium's CPU per viewer (decode and display). Twice: the page
           reads the numbers from a canvas (web), then from WebCodecs'
           VideoFrame (web-vf; no RGB conversion of whole frames, one viewer).
  rtp-raw  the README's recipe: smisrc ! rtpvrawpay ! udpsink, udpsrc !
           rtpvrawdepay ! queue ! smisink, then a reader (the Python module)
           that reads the number from each frame it locks.
  rtp-h264 the README's H.264 variant (x264enc tune=zerolatency, rtph264pay;
           rtph264depay ! avdec_h264 ! videoconvert ! smisink).
CPU is a percentage of one CPU (user + system time over the window) of the
processes named. Needs the build's smi-web, smisrc/smisink and Python module,
Chromium, chromedriver, selenium, gst-launch-1.0. Figures depend on the
machine and its load: compare rows of one run.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

# The web tests' helpers (web_lib, web_publish.py), in Testing/Web.
HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Testing", "Web")
sys.path.insert(0, HERE)
import web_lib as W  # noqa: E402

COLLECT_JS = """
const v = document.getElementById('video');
const c = document.createElement('canvas');
const g = c.getContext('2d', {willReadFrequently: true});
const reader = arguments[0];
window.smiBench = {samples: [], bad: 0};
// Mean of a block of pixels: 4 bytes per pixel (RGBA) or 1 (a luma plane).
function mean(d, offset, stride, bpp, x0, x1, y0, y1) {
  let sum = 0, count = 0;
  for (let y = y0; y < y1; y += 2)
    for (let x = x0; x < x1; x += 2) {
      const i = offset + y * stride + x * bpp;
      if (bpp === 4) { sum += (d[i] + d[i + 1] + d[i + 2]) / 3; } else { sum += d[i]; }
      count++;
    }
  return sum / count;
}
function decode(d, offset, stride, bpp, w) {
  const s = Math.max(4, Math.min(32, Math.floor(w / 26)));
  let n = 0;
  for (let i = 0; i < 24; i++) {
    const x0 = (i + 1) * s + (s >> 2), x1 = (i + 2) * s - (s >> 2);
    const top = mean(d, offset, stride, bpp, x0, x1, s >> 2, s - (s >> 2));
    const bottom = mean(d, offset, stride, bpp, x0, x1, s + (s >> 2), 2 * s - (s >> 2));
    if (Math.abs(top - bottom) < 80) return null;
    n = n * 2 + (top > bottom ? 1 : 0);
  }
  return n;
}
function record(n, meta) {
  if (n === null) window.smiBench.bad++;
  else window.smiBench.samples.push([n, (performance.timeOrigin + meta.expectedDisplayTime) / 1000]);
}
async function onFrame(now, meta) {
  v.requestVideoFrameCallback(onFrame);
  const w = v.videoWidth, s = Math.max(4, Math.min(32, Math.floor(w / 26)));
  if (reader === 'canvas') {
    // The frame drawn to a canvas (the top rows), read back.
    if (c.width !== w || c.height !== 2 * s) { c.width = w; c.height = 2 * s; }
    g.drawImage(v, 0, 0, w, 2 * s, 0, 0, w, 2 * s);
    record(decode(g.getImageData(0, 0, w, 2 * s).data, 0, 4 * w, 4, w), meta);
  } else {
    // WebCodecs: the decoded frame's top rows as they are (luma plane), no RGB conversion.
    const f = new VideoFrame(v);
    try {
      const rect = {x: 0, y: 0, width: w & ~1, height: (2 * s + 1) & ~1};
      const buf = new Uint8Array(f.allocationSize({rect}));
      const layout = await f.copyTo(buf, {rect});
      const rgb = /^(RGB|BGR)/.test(f.format);
      record(decode(buf, layout[0].offset, layout[0].stride, rgb ? 4 : 1, w), meta);
    } finally { f.close(); }
  }
}
v.requestVideoFrameCallback(onFrame);
"""


def read_times(path):
    times = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                times[int(parts[0])] = float(parts[1])
    return times


def latency_stats(samples, times):
    """(p50 ms, p99 ms, frames) of samples [(n, seconds)] against publish times."""
    lat = [(t - times[n]) * 1000.0 for n, t in samples if n in times]
    if not lat:
        return float("nan"), float("nan"), 0
    return float(np.percentile(lat, 50)), float(np.percentile(lat, 99)), len(lat)


def tree_cpu(pids):
    """CPU seconds of processes and all their descendants (live ones)."""
    total = 0.0
    seen = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            total += W.cpu_seconds(pid)
            for task in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return total


def chromium_pids(driver):
    """The chromedriver process (Chromium runs as its child)."""
    return [driver.service.process.pid]


def measure(window, pids, also=()):
    """CPU % of pids (with descendants) over window seconds; also: extra pid lists."""
    start = [tree_cpu(pids)] + [tree_cpu(p) for p in also]
    t0 = time.monotonic()
    time.sleep(window)
    wall = time.monotonic() - t0
    end = [tree_cpu(pids)] + [tree_cpu(p) for p in also]
    return [100.0 * (e - s) / wall for s, e in zip(start, end)]


def bench_web(P, size, args, results, reader, viewers):
    w, h = size
    stream = P.path("web-%dx%d.smi" % size)
    times_path = P.path("web-%dx%d.times" % size)
    pub = P.py_publisher(stream, "%dx%d" % size, args.rate, name="pub-web-%dx%d" % size, code=True,
                         times=times_path)
    web, url = P.web([stream], name="smi-web-%dx%d" % size)
    d = P.browser()
    d.get(url + "/view/" + os.path.basename(stream)[:-4])
    W.wait_playing(d, frames=20, timeout=60)
    d.execute_script(COLLECT_JS, reader)
    time.sleep(1.0)
    d.execute_script("window.smiBench.samples = []; window.smiBench.bad = 0;")
    cpu_web1, cpu_chrome1 = measure(args.seconds, [web.pid], also=[chromium_pids(d)])
    samples = d.execute_script("return window.smiBench.samples;")
    bad = d.execute_script("return window.smiBench.bad;")
    # More viewers: windows of the same Chromium.
    for _ in range(viewers - 1):
        d.switch_to.new_window("window")
        d.get(url + "/view/" + os.path.basename(stream)[:-4])
        W.wait_playing(d, frames=10, timeout=60)
    if viewers > 1:
        time.sleep(1.0)
        cpu_webn, cpu_chromen = measure(args.seconds, [web.pid], also=[chromium_pids(d)])
    else:
        cpu_webn, cpu_chromen = cpu_web1, cpu_chrome1
    P.stop(pub)
    p50, p99, n = latency_stats(samples, read_times(times_path))
    row = {"size": "%dx%d" % size, "path": "web" if reader == "canvas" else "web-vf", "p50_ms": p50,
           "p99_ms": p99, "fps": n / args.seconds, "unreadable": bad,
           "cpu_server_1": cpu_web1, "cpu_server_n": cpu_webn, "cpu_browser_1": cpu_chrome1,
           "cpu_server_per_extra_viewer": (cpu_webn - cpu_web1) / (viewers - 1) if viewers > 1 else None,
           "cpu_browser_per_viewer": cpu_chromen / viewers, "viewers": viewers}
    results.append(row)
    for dr in list(P.drivers):
        dr.quit()
        P.drivers.remove(dr)
    P.stop(web)


def bench_rtp(P, size, args, results, kind, port):
    w, h = size
    stream = P.path("rtp-%s-%dx%d.smi" % (kind, w, h))
    copy = P.path("rtp-%s-%dx%d-copy.smi" % (kind, w, h))
    times_path = P.path("rtp-%s-%dx%d.times" % (kind, w, h))
    launch = os.environ.get("GST_LAUNCH", "gst-launch-1.0")
    if kind == "raw":
        send = ["rtpvrawpay", "!", "udpsink", "host=127.0.0.1", "port=%d" % port, "sync=false"]
        caps = ("application/x-rtp,media=video,clock-rate=90000,encoding-name=RAW,sampling=RGB,"
                "depth=(string)8,width=(string)%d,height=(string)%d,colorimetry=SMPTE240M,payload=96" % (w, h))
        receive = ["udpsrc", "port=%d" % port, "buffer-size=33554432", "caps=" + caps, "!",
                   "rtpvrawdepay", "!", "queue", "!", "smisink", "location=" + copy, "sync=false"]
    else:
        send = ["videoconvert", "!", "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "!",
                "rtph264pay", "config-interval=-1", "!", "udpsink", "host=127.0.0.1", "port=%d" % port,
                "sync=false"]
        caps = "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"
        receive = ["udpsrc", "port=%d" % port, "caps=" + caps, "!", "rtph264depay", "!", "avdec_h264", "!",
                   "videoconvert", "!", "video/x-raw,format=RGB", "!", "smisink", "location=" + copy,
                   "sync=false"]
    rx = P.start("rtp-rx-%s-%dx%d" % (kind, w, h), [launch, "-q"] + receive)
    pub = P.py_publisher(stream, "%dx%d" % size, args.rate, name="pub-rtp-%s-%dx%d" % (kind, w, h), code=True,
                         times=times_path)
    tx = P.start("rtp-tx-%s-%dx%d" % (kind, w, h), [launch, "-q", "smisrc", "location=" + stream, "!"] + send)
    reader = P.start("rtp-reader-%s-%dx%d" % (kind, w, h),
                     [sys.executable, os.path.abspath(__file__), "--read", copy, "--read-seconds",
                      str(args.seconds + 6)])
    W.wait_until("the RTP copy to be read", lambda: "reading" in P.output(reader.name) or reader.poll() is not None,
                 timeout=60)
    time.sleep(3.0)
    cpu_tx, cpu_rx = measure(args.seconds, [tx.pid], also=[[rx.pid]])
    reader.wait(timeout=60)
    lines = [line.split() for line in P.output(reader.name).splitlines() if line.startswith("F ")]
    t_end = time.time()
    samples = [(int(n), float(t)) for _, n, t in lines if float(t) > t_end - args.seconds - 4]
    for p in (tx, rx, pub):
        P.stop(p)
    p50, p99, n = latency_stats(samples, read_times(times_path))
    results.append({"size": "%dx%d" % size, "path": "rtp-" + kind, "p50_ms": p50, "p99_ms": p99,
                    "fps": n / (args.seconds + 4), "cpu_server_1": cpu_tx, "cpu_receiver": cpu_rx})


def read_loop(path, seconds):
    """--read: print "F NUMBER TIME" for each frame of `path` (the RTP copy) for `seconds`."""
    import shared_memory_image as smi
    W.wait_until("the copy's file", lambda: os.path.exists(path), timeout=30)
    end = time.monotonic() + seconds
    with smi.Client(path) as client:
        print("reading", flush=True)
        while time.monotonic() < end:
            if not client.wait(timeout=0.2):
                continue
            frame = client.lock()
            if frame is None:
                continue
            with frame:
                a = np.asarray(frame)
                s = W.code_geometry(a.shape[1])
                n = W.read_code(a[:2 * s])
                del a
            t = time.time()
            if n is not None:
                print("F %d %.6f" % (n, t), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build", nargs="?")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--sizes", default="640x480,1280x720,1920x1080")
    ap.add_argument("--viewers", type=int, default=3)
    ap.add_argument("--only", default="web,rtp-raw,rtp-h264")
    ap.add_argument("--reader", default="canvas,videoframe",
                    help="how the page reads the frame numbers back, one run each: canvas (drawImage, "
                    "getImageData) and/or videoframe (WebCodecs VideoFrame.copyTo of the luma: no RGB "
                    "conversion of the whole frame, which costs Chromium a CPU at 1080p)")
    ap.add_argument("--csv")
    ap.add_argument("--read")
    ap.add_argument("--read-seconds", type=float, default=10)
    args = ap.parse_args()
    if args.read:
        return read_loop(args.read, args.read_seconds)
    if not args.build:
        ap.error("give the build folder")
    build = os.path.abspath(args.build)
    os.environ.setdefault("SMI_WEB", os.path.join(build, "Web", "smi-web"))
    os.environ.setdefault("SMI_PUBLISH", os.path.join(build, "Core", "Tools", "smi-publish"))
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(build, "gstreamer-1.0"))
    os.environ["PYTHONPATH"] = os.path.join(build, "python") + os.pathsep + os.environ.get("PYTHONPATH", "")
    sys.path.insert(0, os.path.join(build, "python"))
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    only = args.only.split(",")
    results = []
    load = os.getloadavg()
    with W.Processes() as P:
        for i, size in enumerate(sizes):
            for k, reader in enumerate(args.reader.split(",")):
                if "web" in only:
                    bench_web(P, size, args, results, reader, args.viewers if k == 0 else 1)
            if "rtp-raw" in only:
                bench_rtp(P, size, args, results, "raw", 47000 + 2 * i)
            if "rtp-h264" in only:
                bench_rtp(P, size, args, results, "h264", 47100 + 2 * i)
            for r in results[-4:]:
                print(json.dumps(r), flush=True)
    print()
    print("smi-web against the README's RTP recipes, %g frames/s published, %g s windows, loopback, "
          "%d CPUs, load %.1f %.1f %.1f at the start" % (args.rate, args.seconds, os.cpu_count(), *load))
    print("%-10s %-9s %8s %8s %7s %11s %13s %11s" % ("size", "path", "p50 ms", "p99 ms", "fps", "CPU sender",
                                                     "+CPU/viewer", "CPU recv"))
    for r in results:
        recv = r.get("cpu_browser_per_viewer", r.get("cpu_receiver", float("nan")))
        extra = r.get("cpu_server_per_extra_viewer")
        print("%-10s %-9s %8.1f %8.1f %7.1f %10.0f%% %13s %10.0f%%" % (
            r["size"], r["path"], r["p50_ms"], r["p99_ms"], r["fps"], r["cpu_server_1"],
            "%.1f%%" % extra if extra is not None else "-", recv))
    print("CPU sender: smi-web with one viewer (web), or the sending gst-launch-1.0 (rtp); +CPU/viewer: "
          "what each viewer more adds to smi-web; CPU recv: Chromium per viewer (web: decode, display "
          "and reading the numbers back) or the receiving gst-launch-1.0 (rtp). %% of one CPU." )
    if args.csv:
        import csv
        keys = sorted({k for r in results for k in r})
        with open(args.csv, "w", newline="") as f:
            wr = csv.DictWriter(f, keys)
            wr.writeheader()
            wr.writerows(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
