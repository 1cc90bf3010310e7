# SPDX-License-Identifier: BSD-3-Clause
"""Helpers for the plugin's pvpython tests (builtin mode).

The tests are .py.in files that file(GENERATE) fills with the built plugin's
and tools' paths; they import this module (found through PYTHONPATH, set by
the test) and the tools' test pattern, smi_pattern.py (Testing/Tools).
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

import smi_pattern  # noqa: E402  (Testing/Tools, on PYTHONPATH)

from paraview import servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow

FORMAT_OF = {  # (VTK scalar type name, components) -> stream format
    ("unsigned char", 3): "rgb8",
    ("unsigned char", 4): "rgba8",
    ("unsigned char", 1): "gray8",
    ("unsigned short", 1): "gray16",
    ("float", 1): "float32",
    ("short", 1): "int16",
    ("int", 1): "int32",
    ("unsigned int", 1): "uint32",
    ("double", 1): "float64",
}


def fail(message):
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


_private_dir = None


def private_dir():
    """This process's own directory for stream files (mkdtemp: a new,
    unpredictable name, mode 0700, in /dev/shm when usable), removed at exit.
    Fixed names in a shared directory could be taken first by another
    user's file or symbolic link, which a test's open(..., "wb") would follow."""
    global _private_dir
    if _private_dir is None:
        base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
        _private_dir = tempfile.mkdtemp(prefix="smi-pvtest-%d-" % os.getpid(), dir=base)
        atexit.register(shutil.rmtree, _private_dir, True)
    return _private_dir


def stream_path(name):
    """A fresh stream file name in this process's private directory."""
    path = os.path.join(private_dir(), "%s.smi" % name)
    remove(path)
    return path


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def refresh(source):
    """What the GUI's live-source polling does: read the newest frame."""
    source.SMProxy.InvokeCommand("Refresh")
    source.UpdatePipeline()


class Frame:
    """A fetched image: format, size, frame number and pixels top row first."""

    def __init__(self, data):
        self.dims = data.GetDimensions()
        scalars = data.GetPointData().GetScalars()
        self.number = None
        numbers = data.GetFieldData().GetArray("FrameNumber")
        if numbers is not None:
            self.number = int(numbers.GetValue(0))
        self.data = data
        if scalars is None:
            self.format = None
            self.pixels = b""
            return
        key = (scalars.GetDataTypeAsString(), scalars.GetNumberOfComponents())
        self.format = FORMAT_OF.get(key)
        w, h, d = self.dims
        array = vtk_to_numpy(scalars).reshape((d, h, w, -1))
        self.array = array[:, ::-1]  # VTK is bottom row first; streams top row first
        self.pixels = self.array.tobytes()


def fetch(source):
    return Frame(servermanager.Fetch(source))


def wait_for_frame(source, after=-1, timeout=10.0):
    """Refresh until the source produces a frame numbered above `after`
    (by default any frame: a new stream's first one is number 0)."""
    deadline = time.monotonic() + timeout
    while True:
        refresh(source)
        frame = fetch(source)
        if frame.number is not None and frame.number > after:
            return frame
        if time.monotonic() > deadline:
            fail("no frame above %d within %g s (last: %r)" % (after, timeout, frame.number))
        time.sleep(0.02)


def check_pattern(frame, fmt, width, height):
    check(frame.format == fmt, "format %r, expected %r" % (frame.format, fmt))
    check(frame.dims == (width, height, 1), "dimensions %r" % (frame.dims,))
    where = smi_pattern.first_mismatch(fmt, width, height, frame.number, frame.pixels)
    if where is not None:
        flipped = b"".join(
            smi_pattern.pattern_row(fmt, width, y, frame.number) for y in reversed(range(height)))
        fail("frame %d (%s) differs from the pattern at %r%s" % (
            frame.number, fmt, where, ": upside down" if frame.pixels == flipped else ""))


class Messages:
    """Collects VTK's warnings and errors (builtin mode: the same process)."""

    def __enter__(self):
        self.window = vtkStringOutputWindow()
        self.previous = vtkOutputWindow.GetInstance()
        self.previous.Register(None)
        vtkOutputWindow.SetInstance(self.window)
        return self

    def text(self):
        return self.window.GetOutput()

    def __exit__(self, *exc):
        vtkOutputWindow.SetInstance(self.previous)
        self.previous.UnRegister(None)
        return False


def run(args, timeout=20):
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    return result


def start(args):
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
