# SPDX-License-Identifier: BSD-3-Clause
"""A publisher for smi-web's tests and benchmark (the Python module, one process).

  web_publish.py FILE --sizes 320x240,480x360 [--rate 30] [--code] [--times OUT]

Serves FILE (extended layout, created for the largest size) and publishes at
--rate frames/s. Frames are the tools' test pattern (Core/Tools/smi_pattern.h)
of the first size (WxHg: GRAY8 frames, the gray pattern); each SIGUSR1 moves on to the next size, in the same server
(a size change as a resized render window makes). With --code the pixels are
a still gradient with the frame number drawn into the top rows instead (two
rows of 24 blocks: the number's bits, then the same bits inverted; see
web_lib.read_code), and --times OUT records when each frame was published
(wall clock, lines "NUMBER SECONDS") for the latency benchmark. SIGTERM or
SIGINT ends it.
"""

import argparse
import os
import signal
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shared_memory_image as smi  # noqa: E402
import web_lib as W  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--sizes", default="320x240")
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--code", action="store_true")
    ap.add_argument("--times")
    args = ap.parse_args()
    # "WxH" (RGB8), or "WxHg" (GRAY8: the gray pattern, V = (x + 2y + n) & 255).
    sizes = [tuple(int(v) for v in s.rstrip("g").split("x")) for s in args.sizes.split(",")]
    grays = [s.endswith("g") for s in args.sizes.split(",")]
    state = {"size": 0, "stop": False}

    def next_size(signum, frame):
        state["size"] = min(state["size"] + 1, len(sizes) - 1)

    def stop(signum, frame):
        state["stop"] = True
    signal.signal(signal.SIGUSR1, next_size)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    smi.create_file(args.file, max(w for w, _ in sizes), max(h for _, h in sizes), layout="extended")
    times = open(args.times, "w") if args.times else None
    backgrounds = {}
    period = 1.0 / args.rate
    n = 0
    next_time = time.monotonic()
    with smi.Server(args.file) as server:
        print("publishing", flush=True)
        while not state["stop"]:
            w, h = sizes[state["size"]]
            if args.code:
                if (w, h) not in backgrounds:
                    backgrounds[(w, h)] = W.code_background(w, h)
                image = backgrounds[(w, h)].copy()
                W.draw_code(image, n)
            elif grays[state["size"]]:
                image = W.gray_pattern(w, h, n)
            else:
                image = W.pattern(w, h, n)
            server.send(image, frame_number=n)
            if times:
                times.write("%d %.6f\n" % (n, time.time()))
            n += 1
            next_time += period
            delay = next_time - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_time = time.monotonic()
    if times:
        times.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
