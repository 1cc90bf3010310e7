# SPDX-License-Identifier: BSD-3-Clause
"""Child process of test_multiprocess.py: attach to a stream, read frames
zero-copy, check each one against the test pattern of its frame number, and
print one line: "ok <frames> <first> <last>" or "error <message>".

Usage: smi_child_reader.py PATH FRAMES FORMAT
"""
import sys

import numpy as np

import shared_memory_image as smi
from smi_testutil import pattern


def main():
    path, frames, fmt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with smi.Client(path, any_format=True) as client:
        print("ready", flush=True)
        numbers = []
        while len(numbers) < frames:
            if not client.wait(timeout=10.0):
                print("error timed out after %d frames" % len(numbers), flush=True)
                return 1
            frame = client.lock()
            if frame is None:
                continue
            with frame:
                pixels = np.asarray(frame)
                expected = pattern(fmt, frame.width, frame.height, frame.number)
                if not np.array_equal(pixels, expected):
                    print("error frame %d does not match the pattern" % frame.number, flush=True)
                    return 1
                if numbers and frame.number <= numbers[-1]:
                    print("error frame numbers went back: %d after %d"
                          % (frame.number, numbers[-1]), flush=True)
                    return 1
                numbers.append(frame.number)
                del pixels
    print("ok %d %d %d" % (len(numbers), numbers[0], numbers[-1]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
