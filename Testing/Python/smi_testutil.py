# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by the Python tests: the project's test pattern in numpy,
stream file paths, and running a helper script in another process.

The test pattern is the contract documented at the top of
Core/Tools/smi_pattern.h (smi-publish draws it, smi-read --verify checks
it): for frame number n and pixel (x, y), y counted from the top row, with
unsigned 32-bit arithmetic:

    RGB8     R = (x + n) & 255, G = (3y + n) & 255,
             B = ((x >> 8) ^ ((y >> 8) << 4) ^ 7n) & 255
    RGBA8    RGB8 plus A = (x ^ y ^ n) & 255
    GRAY8    (x + 2y + n) & 255
    GRAY16   (x + 256y + n) & 65535
    FLOAT32  0.25 * ((x + 2y + n) & 65535)
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import shared_memory_image as smi


def pattern(fmt, width, height, n):
    """Frame n of the test pattern as a numpy array (top row first)."""
    x = np.arange(width, dtype=np.uint32)[None, :]
    y = np.arange(height, dtype=np.uint32)[:, None]
    n = np.uint32(n)
    if fmt in (smi.FORMAT_RGB8, smi.FORMAT_RGBA8):
        r = (x + n) & 255
        g = (np.uint32(3) * y + n) & 255
        b = ((x >> 8) ^ ((y >> 8) << 4) ^ (np.uint32(7) * n)) & 255
        planes = [r + 0 * y, g + 0 * x, b]
        if fmt == smi.FORMAT_RGBA8:
            planes.append((x ^ y ^ n) & 255)
        return np.stack(planes, axis=-1).astype(np.uint8)
    if fmt == smi.FORMAT_GRAY8:
        return ((x + np.uint32(2) * y + n) & 255).astype(np.uint8)
    if fmt == smi.FORMAT_GRAY16:
        return ((x + np.uint32(256) * y + n) & 65535).astype(np.uint16)
    if fmt == smi.FORMAT_FLOAT32:
        return (np.float32(0.25) * ((x + np.uint32(2) * y + n) & 65535)).astype(np.float32)
    raise ValueError("unknown format %r" % fmt)


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
