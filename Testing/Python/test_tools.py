# SPDX-License-Identifier: BSD-3-Clause
"""Interop with the C tools: frames from smi-publish verified in Python
against the test pattern (Core/Tools/smi_pattern.h), and frames from
Python verified by smi-read --verify. The tools come from $SMI_PUBLISH and
$SMI_READ (set by CTest); the tests are skipped without them."""
import os
import subprocess
import time

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import PUBLISH, READ, need_publish, need_read, pattern

W, H = 320, 240

FORMATS = {smi.format_name(v): v for k, v in vars(smi).items() if k.startswith("FORMAT_")}


def attach(path, any_format, timeout=10.0):
    """A client, once the publisher has set the file up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if smi.inspect(path)["server_alive"]:
                return smi.Client(path, any_format=any_format)
        except smi.Error:
            pass
        if time.monotonic() > deadline:
            pytest.fail("smi-publish did not set up %s" % path)
        time.sleep(0.01)


@need_publish
@pytest.mark.parametrize("fmt,args", [
    ("rgb8", []),
    ("rgb8", ["--copy"]),
    ("rgb8", ["--copy", "--flip"]),
    ("rgb8", ["--ensight"]),
    ("rgb8", ["--ensight", "--copy", "--flip"]),
    ("rgba8", []),
    ("gray8", []),
    ("gray16", ["--copy"]),
    ("float32", []),
    ("int16", []),
    ("int32", ["--copy"]),
    ("uint32", []),
    ("float64", ["--copy", "--flip"]),
    ("rgb8", ["--bottom-up"]),
    ("rgb8", ["--copy", "--bottom-up"]),
    ("rgb8", ["--ensight", "--bottom-up"]),
    ("gray16", ["--bottom-up"]),
])
def test_smi_publish_to_python(stream_path, fmt, args):
    """Frames stored bottom row first (--bottom-up: as ParaView publishes
    them) are viewed upright too: with any_format, with no copy (a negative
    row stride); a client of EnSight's API (RGB8 only) gets an upright copy."""
    stored_bottom_up = "--bottom-up" in args and "--ensight" not in args
    any_format = fmt != "rgb8" or "--copy" not in args
    viewed_bottom_up = stored_bottom_up and any_format
    cmd = [PUBLISH, "--size", "%dx%d" % (W, H), "--rate", "200", "--seconds", "20",
           "--format", fmt, "--quiet"] + args + [stream_path]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with attach(stream_path, any_format=any_format) as client:
            checked = 0
            last = -1  # smi-publish numbers a new stream from 0
            while checked < 8:
                assert client.wait(timeout=5.0), "no frame from smi-publish"
                frame = client.lock()
                if frame is None:
                    continue
                with frame:
                    assert frame.format == FORMATS[fmt] and frame.number > last
                    assert frame.bottom_up == viewed_bottom_up
                    last = frame.number
                    pixels = np.asarray(frame)
                    expected = pattern(FORMATS[fmt], W, H, frame.number)
                    assert pixels.dtype == expected.dtype and pixels.shape == expected.shape
                    assert np.array_equal(pixels, expected), "frame %d" % frame.number
                    assert (pixels.strides[0] < 0) == viewed_bottom_up
                    assert np.array_equal(frame.copy(), expected)
                    del pixels
                checked += 1
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


@need_read
@pytest.mark.parametrize("fmt,flip,ensight", [
    ("rgb8", False, False),
    ("rgb8", True, False),
    ("rgb8", False, True),
    ("rgba8", False, False),
    ("gray16", False, False),
    ("float32", True, False),
    ("int16", False, False),
    ("int32", True, False),
    ("uint32", False, False),
    ("float64", True, False),
    ("rgb8", "bottom_up", False),
    ("float32", "bottom_up", False),
    ("rgb8", "bottom_up", True),
])
def test_python_to_smi_read(stream_path, fmt, flip, ensight):
    """flip: rows given bottom first, turned upright by flip_vertical=True, or
    stored so and marked ("bottom_up"); smi-read sees them upright."""
    f = FORMATS[fmt]
    smi.create_file(stream_path, W, H, format=f)
    frames = 15
    bottom_up = flip == "bottom_up"
    with smi.Server(stream_path, flip_vertical=flip is True,
                    ensight_layout=ensight) as server:
        cmd = [READ, "--verify", "--frames", str(frames), "--timeout", "10", "--quiet"]
        if fmt != "rgb8":
            cmd.append("--any-format")
        proc = subprocess.Popen(cmd + [stream_path], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            n = 0
            deadline = time.monotonic() + 20
            while proc.poll() is None and time.monotonic() < deadline:
                n += 1
                image = pattern(f, W, H, n)
                if flip:
                    image = np.ascontiguousarray(image[::-1])
                server.send(image, frame_number=n, bottom_up=bottom_up)
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, (out, err)
    assert "%d frames, 0 mismatches" % frames in out, out


@need_read
def test_python_zero_copy_publish_to_smi_read(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        proc = subprocess.Popen([READ, "--verify", "--frames", "10", "--timeout", "10",
                                 "--quiet", stream_path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while proc.poll() is None and time.monotonic() < deadline:
                frame = server.acquire(W, H)
                if frame is not None:
                    a = np.asarray(frame)
                    a[...] = pattern(smi.FORMAT_RGB8, W, H, frame.number)
                    del a
                    frame.publish()
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, (out, err)
