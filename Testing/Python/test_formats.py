# SPDX-License-Identifier: BSD-3-Clause
"""Every pixel format, volumes and per-frame metadata: the numpy view of a
locked frame has the right dtype and shape, and the bytes are exact."""
import os

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern

W, H = 96, 64

IMAGE_CASES = [
    (smi.FORMAT_RGB8, (H, W, 3), np.uint8, "B"),
    (smi.FORMAT_RGBA8, (H, W, 4), np.uint8, "B"),
    (smi.FORMAT_GRAY8, (H, W), np.uint8, "B"),
    (smi.FORMAT_GRAY16, (H, W), np.uint16, "H"),
    (smi.FORMAT_FLOAT32, (H, W), np.float32, "f"),
]


@pytest.mark.parametrize("fmt,shape,dtype,code", IMAGE_CASES)
def test_image_formats(stream_path, fmt, shape, dtype, code):
    smi.create_file(stream_path, W, H, format=fmt)
    image = pattern(fmt, W, H, 21)
    assert image.shape == shape and image.dtype == dtype
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        server.send(image, timestamp=1234.5, spacing=(0.5, 0.25, 2.0), origin=(1, 2, 3))
        assert client.wait(timeout=2.0)
        with client.lock() as frame:
            assert frame.format == fmt
            view = np.asarray(frame)
            assert view.shape == shape and view.dtype == dtype
            assert not view.flags.writeable
            assert np.array_equal(view, image)
            assert frame.timestamp == 1234.5
            assert frame.spacing == (0.5, 0.25, 2.0) and frame.origin == (1.0, 2.0, 3.0)
            with memoryview(frame) as mv:
                assert mv.format == code and mv.shape == shape
            del view


@pytest.mark.parametrize("fmt,channels,dtype", [
    (smi.FORMAT_RGB8, 3, np.uint8),
    (smi.FORMAT_RGBA8, 4, np.uint8),
    (smi.FORMAT_GRAY16, 0, np.uint16),
    (smi.FORMAT_FLOAT32, 0, np.float32),
])
def test_volumes(stream_path, fmt, channels, dtype):
    depth = 5
    volume = np.stack([pattern(fmt, W, H, z) for z in range(depth)])
    shape = (depth, H, W) + ((channels,) if channels else ())
    assert volume.shape == shape
    smi.create_file(stream_path, W, H, format=fmt, depth=depth)
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        server.send(volume, spacing=(1.0, 1.0, 2.5), origin=(0.0, 0.0, -10.0))
        with client.lock() as frame:
            assert (frame.width, frame.height, frame.depth) == (W, H, depth)
            assert frame.shape == shape and frame.dtype == np.dtype(dtype).name
            assert frame.spacing == (1.0, 1.0, 2.5) and frame.origin[2] == -10.0
            assert np.array_equal(frame.copy(), volume)


def test_gray8_volume_needs_a_format_or_depth(stream_path):
    volume = np.stack([pattern(smi.FORMAT_GRAY8, W, H, z) for z in range(3)])
    smi.create_file(stream_path, W, H, format=smi.FORMAT_GRAY8, depth=3)
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        with pytest.raises(ValueError, match="ambiguous"):
            server.send(volume)
        server.send(volume, format=smi.FORMAT_GRAY8)
        with client.lock() as frame:
            assert frame.shape == (3, H, W) and frame.depth == 3
            assert np.array_equal(frame.copy(), volume)
        server.send(volume, depth=3)
        with client.lock() as frame:
            assert frame.format == smi.FORMAT_GRAY8 and frame.depth == 3


def test_raw_bytes_with_explicit_description(stream_path):
    image = pattern(smi.FORMAT_GRAY16, W, H, 2)
    smi.create_file(stream_path, W, H, format=smi.FORMAT_GRAY16)
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        server.send(bytearray(image.tobytes()), W, H, format=smi.FORMAT_GRAY16)
        with client.lock() as frame:
            assert np.array_equal(frame.copy(), image)


def test_acquire_other_formats(stream_path):
    smi.create_file(stream_path, W, H, format=smi.FORMAT_FLOAT32, depth=2)
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        with server.acquire(W, H, format=smi.FORMAT_FLOAT32, depth=2, timestamp=5.0,
                            spacing=(2, 2, 2)) as frame:
            a = np.asarray(frame)
            assert a.shape == (2, H, W) and a.dtype == np.float32 and a.flags.writeable
            a[0] = pattern(smi.FORMAT_FLOAT32, W, H, 0)
            a[1] = pattern(smi.FORMAT_FLOAT32, W, H, 1)
            del a
        with client.lock() as got:
            assert got.timestamp == 5.0 and got.spacing == (2.0, 2.0, 2.0)
            assert np.array_equal(got.copy()[1], pattern(smi.FORMAT_FLOAT32, W, H, 1))


def test_default_metadata(stream_path):
    import time
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        before = time.time()
        server.send(pattern(smi.FORMAT_RGB8, W, H, 0))
        with client.lock() as frame:
            assert frame.spacing == (1.0, 1.0, 1.0) and frame.origin == (0.0, 0.0, 0.0)
            assert before - 5 <= frame.timestamp <= time.time() + 5  # "now", by default


def test_rgb_only_client_skips_other_formats(stream_path):
    smi.create_file(stream_path, W, H, format=smi.FORMAT_RGBA8)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        server.send(pattern(smi.FORMAT_GRAY16, W, H, 1))
        assert client.lock() is None  # skipped: not packed RGB
        server.send(pattern(smi.FORMAT_RGB8, W, H, 2))
        with client.lock() as frame:
            assert frame.format == smi.FORMAT_RGB8
        server.send(pattern(smi.FORMAT_RGBA8, W, H, 3))
        assert client.lock() is None


def test_create_file_sizes(stream_path):
    """Either layout (default): an RGB8 file is at least 20 MiB, what
    EnSight's client asks for; 'extended': a 4 KiB header page and two
    page-rounded frames; 'ensight': 20 MiB or two frames and 2 KiB."""
    page = 4096
    frame = W * H * 3
    extended = page + 2 * ((frame + page - 1) // page * page)
    for layout, size in ((None, 20 << 20), ("ensight", 20 << 20), ("extended", extended)):
        if os.path.exists(stream_path):
            os.unlink(stream_path)
        smi.create_file(stream_path, W, H, layout=layout)
        assert os.path.getsize(stream_path) == size, layout
    os.unlink(stream_path)
    smi.create_file(stream_path, 4096, 2160, layout="ensight")  # 2 frames > 20 MiB
    assert os.path.getsize(stream_path) == 2 * 4096 * 2160 * 3 + 2048
    os.unlink(stream_path)
    smi.create_file(stream_path, W, H, format=smi.FORMAT_GRAY16)  # extended only
    assert os.path.getsize(stream_path) == page + 2 * ((W * H * 2 + page - 1) // page * page)
    with pytest.raises(smi.Error) as err:
        smi.create_file(stream_path, W, H, format=smi.FORMAT_GRAY8, layout="ensight")
    assert err.value.code == smi.IMAGESTREAM_BAD_FORMAT
    with pytest.raises(ValueError, match="layout"):
        smi.create_file(stream_path, W, H, layout="tiled")


def test_file_sized_for_the_format(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")  # room for RGB8 only
    with smi.Server(stream_path) as server:
        with pytest.raises(smi.Error) as err:
            server.send(np.zeros((2, H, W, 4), np.uint8))
        assert err.value.code == smi.IMAGESTREAM_FRAME_TOO_LARGE
        assert "create_file" in str(err.value)
