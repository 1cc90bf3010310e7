# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the Python tests: the project's test pattern in numpy,
stream file paths, running a helper script in another process, and
pyensight's polling thread.

The test pattern is the contract documented at the top of
Core/Tools/smi_pattern.h (smi-publish draws it, smi-read --verify checks
it); pattern() is Testing/Tools/smi_pattern.py's, the one Python copy of
its formula.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

import shared_memory_image as smi

# The test pattern, one Python copy of Core/Tools/smi_pattern.h's formula.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "Tools"))
import smi_pattern  # noqa: E402


def pattern(fmt, width, height, n):
    """Frame n of the test pattern as a numpy array (top row first); fmt is
    an smi.FORMAT_* code."""
    return smi_pattern.pattern_array(fmt, width, height, n)


# The C tools, from $SMI_PUBLISH and $SMI_READ (set by CTest); tests that
# need one are skipped without it.
PUBLISH = os.environ.get("SMI_PUBLISH")
READ = os.environ.get("SMI_READ")
need_publish = pytest.mark.skipif(not PUBLISH or not os.access(PUBLISH, os.X_OK),
                                  reason="smi-publish not given ($SMI_PUBLISH)")
need_read = pytest.mark.skipif(not READ or not os.access(READ, os.X_OK),
                               reason="smi-read not given ($SMI_READ)")


def stream_dir():
    """/dev/shm when usable (memory speed), else the temporary directory."""
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def child_env():
    """Environment for a child Python that must import the modules under test."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    # The directory that holds the package (smi.__file__ is its __init__.py).
    module_dir = os.path.dirname(os.path.dirname(os.path.abspath(smi.__file__)))
    parts = [module_dir, here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def child_interpreter():
    """This interpreter's program, to run children the same way. pvpython
    reports a sys.executable that does not exist (.../vtkpython), so under
    pvpython children run with pvpython itself."""
    if sys.executable and os.path.exists(sys.executable):
        return sys.executable
    pvpython = shutil.which("pvpython")
    if pvpython is None:
        raise RuntimeError("cannot find an interpreter for child processes")
    return pvpython


def run_python(script_path, *args, **kwargs):
    """Start `script_path` with this interpreter (python3 or pvpython)."""
    return subprocess.Popen([child_interpreter(), script_path] + [str(a) for a in args],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kwargs)


def poll_like_pyensight(client, count, seconds, step=None):
    """Run pyensight's polling thread (ensight_grpc_shmem.stream_lock, then
    stream_unlock, in a loop) on stream id `client` until `count` frames came
    or `seconds` passed, calling step() from this thread every 20 ms meanwhile
    (a server that publishes, say). Returns the frames' dicts; fails the test
    on anything the thread raised, or on fewer than `count` frames."""
    import ensight_grpc_shmem as shm
    images, failure = [], []
    stop = threading.Event()

    def poll_images():
        try:
            while not stop.is_set():
                img = shm.stream_lock(client)
                if type(img) is dict:
                    images.append(img)
                    shm.stream_unlock(client)
                else:
                    time.sleep(0.001)
        except Exception as e:  # pragma: no cover - reported below
            failure.append(e)

    thread = threading.Thread(target=poll_images, daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    try:
        while len(images) < count and time.monotonic() < deadline and not failure:
            if step is not None:
                step()
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not failure, failure
    assert len(images) >= count, "%d frames in %g s" % (len(images), seconds)
    return images


def check_rgb8_frames(images, width, height):
    """Frames from poll_like_pyensight: numbers increasing, each the RGB8 test
    pattern of its number at width x height, every pixel."""
    numbers = [img["framenumber"] for img in images]
    assert numbers == sorted(set(numbers)), numbers
    for img in images:
        assert (img["width"], img["height"]) == (width, height)
        expected = pattern(smi.FORMAT_RGB8, width, height, img["framenumber"])
        got = np.frombuffer(img["pixeldata"], np.uint8).reshape(height, width, 3)
        assert np.array_equal(got, expected), "frame %d" % img["framenumber"]


# The values instrument data must keep exactly: each format's extremes and
# neighbours of zero; for float64 the bit patterns of NaNs (quiet, with a
# payload, negative, signalling), infinities, -0.0 and the largest and
# smallest doubles.
SPECIAL_BITS_FLOAT64 = [0x7FF8000000000000, 0x7FF800000000ABCD, 0xFFF8000000000001,
                        0x7FF4000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
                        0x8000000000000000, 0x7FEFFFFFFFFFFFFF, 0x0000000000000001,
                        0x0010000000000000]


def special_values(fmt, width, height, n):
    """Frame n of the pattern with its first pixels (row by row) replaced by
    the format's special values (see SPECIAL_BITS_FLOAT64)."""
    image = pattern(fmt, width, height, n)
    flat = image.reshape(-1)
    if fmt == smi.FORMAT_FLOAT64:  # the bits themselves: no float conversion
        flat.view(np.uint64)[:len(SPECIAL_BITS_FLOAT64)] = SPECIAL_BITS_FLOAT64
    else:
        info = np.iinfo(image.dtype)
        values = [info.min, info.max, info.min + 1, info.max - 1, 0, 1]
        if info.min < 0:
            values.append(-1)
        flat[:len(values)] = values
    return image


def same_bits(a, b):
    """Arrays of one dtype and shape whose bytes are equal (NaNs compared by
    their bit patterns)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
