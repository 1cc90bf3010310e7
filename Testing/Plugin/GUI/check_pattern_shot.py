# SPDX-License-Identifier: BSD-3-Clause
"""Does a screenshot show smi-publish's RGB test pattern in its true colors?

    check_pattern_shot.py SHOT.png WIDTH HEIGHT

The pattern (Core/Tools/smi_pattern.h) of a frame narrower than 256 pixels
has, for frame number n, pixel (x, y) = ((x + n) & 255, (3y + n) & 255,
(7n) & 255). So each screen pixel names its own n (7 is invertible modulo
256: n = 183 * B mod 256) and, if it is a pattern pixel, the frame pixel it
shows. The screenshot passes when, for one n, every one of the frame's
WIDTH x HEIGHT pixels appears on the screen with exactly its color: the
whole frame shown, in its own colors (a frame mapped through a color map, or
shown as a solid color, has none or few of them). Exit 0 when it does, 1 with
what was found when not."""
import sys

import numpy as np
from PIL import Image


def coverage(shot, width, height):
    """(n, frame pixels seen) for the frame number seen most on the screen."""
    rgb = np.asarray(shot.convert("RGB"), dtype=np.int64).reshape(-1, 3)
    n = (183 * rgb[:, 2]) & 255
    x = (rgb[:, 0] - n) & 255
    y3 = (rgb[:, 1] - n) & 255
    ok = (x < width) & (y3 % 3 == 0) & (y3 // 3 < height)
    if not ok.any():
        return None, 0
    n, x, y = n[ok], x[ok], y3[ok] // 3
    best = int(np.bincount(n, minlength=256).argmax())
    mine = n == best
    seen = np.unique(y[mine] * width + x[mine]).size
    return best, seen


def main():
    path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    best, seen = coverage(Image.open(path), width, height)
    if seen == width * height:
        print("%s: frame %d of the pattern, all %d pixels in their own colors"
              % (path, best, seen))
        return 0
    print("%s: not the pattern in its own colors: %d of %d frame pixels seen (frame %s)"
          % (path, seen, width * height, best))
    return 1


if __name__ == "__main__":
    sys.exit(main())
