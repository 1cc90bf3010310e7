# SPDX-License-Identifier: BSD-3-Clause
"""Child process of test_queue.py: a queue reader (queue=True, or
reliable=True) that takes every frame with Client.next(), checks each against
the test pattern of its number, that numbers increase and that frame.lost is
exactly the gap before each, sleeping `delay` seconds per frame; it stops at
frame LAST and prints "ok <got> <lost>" (or "error <message>").

Usage: smi_child_queue.py PATH queue|reliable DELAY LAST
"""
import sys
import time

import numpy as np

import shared_memory_image as smi
from smi_testutil import pattern


def main():
    path, mode, delay, last = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    with smi.Client(path, queue=True, reliable=mode == "reliable") as client:
        print("ready", flush=True)
        got, previous = 0, 0
        while previous < last:
            frame = client.next(timeout=10.0)
            if frame is None:
                print("error no frame after %d" % previous, flush=True)
                return 1
            with frame:
                number, lost = frame.number, frame.lost
                same = np.array_equal(np.asarray(frame),
                                      pattern(smi.FORMAT_RGB8, frame.width, frame.height, number))
            if not same or number <= previous or lost != number - previous - 1:
                print("error frame %d after %d: lost %d, pixels %s"
                      % (number, previous, lost, "ok" if same else "wrong"), flush=True)
                return 1
            got, previous = got + 1, number
            time.sleep(delay)
        print("ok %d %d" % (got, client.lost), flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
