# SPDX-License-Identifier: BSD-3-Clause
"""Every pixel format, volumes and per-frame metadata: the numpy view of a
locked frame has the right dtype and shape, and the bytes are exact; the
instrument formats (int16, int32, uint32, float64) keep extremes, NaN,
infinity and -0.0 bit for bit between processes, both ways."""
import contextlib
import os
import zlib

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern, run_python, same_bits, special_values

W, H = 96, 64

IMAGE_CASES = [
    (smi.FORMAT_RGB8, (H, W, 3), np.uint8, "B"),
    (smi.FORMAT_RGBA8, (H, W, 4), np.uint8, "B"),
    (smi.FORMAT_GRAY8, (H, W), np.uint8, "B"),
    (smi.FORMAT_GRAY16, (H, W), np.uint16, "H"),
    (smi.FORMAT_FLOAT32, (H, W), np.float32, "f"),
    (smi.FORMAT_INT16, (H, W), np.int16, "h"),
    (smi.FORMAT_INT32, (H, W), np.int32, "i"),
    (smi.FORMAT_UINT32, (H, W), np.uint32, "I"),
    (smi.FORMAT_FLOAT64, (H, W), np.float64, "d"),
]
INSTRUMENT = [smi.FORMAT_INT16, smi.FORMAT_INT32, smi.FORMAT_UINT32, smi.FORMAT_FLOAT64]


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
    (smi.FORMAT_INT16, 0, np.int16),
    (smi.FORMAT_INT32, 0, np.int32),
    (smi.FORMAT_UINT32, 0, np.uint32),
    (smi.FORMAT_FLOAT64, 0, np.float64),
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


# A server in another process: it publishes, per instrument format, a frame
# with the special values and a 3-slice volume, each when told to go on (a
# byte on a pipe of its own: under pvpython, children run under pvpython,
# which does not hand a script a piped stdin).
SPECIAL_SERVER = r'''
import os, sys
import numpy as np
import shared_memory_image as smi
from smi_testutil import special_values
go = int(sys.argv[1])
path, w, h = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
formats = [int(f) for f in sys.argv[5:]]
go_on = lambda: os.read(go, 1)
smi.create_file(path, w, h, format=smi.FORMAT_FLOAT64, depth=3)
with smi.Server(path) as server:
    print("ready", flush=True)
    for number, fmt in enumerate(formats, 1):
        go_on()
        image = special_values(fmt, w, h, number)
        volume = np.stack([special_values(fmt, w, h, number + z) for z in range(3)])
        server.send(image, frame_number=2 * number, spacing=(0.5, 0.5, 0.5))
        go_on()
        server.send(volume, frame_number=2 * number + 1)
        print("sent", smi.format_name(fmt), flush=True)
    go_on()
'''


@contextlib.contextmanager
def child(tmp_path, text, *args):
    """A Python child process running script `text` with the descriptor
    that go_on() writes to and `args`, its stdout piped, once it said
    "ready"; it must end by itself with status 0."""
    script = tmp_path / "child.py"
    script.write_text(text)
    read_end, proc_go = os.pipe()
    proc = run_python(str(script), read_end, *args, pass_fds=(read_end,))
    os.close(read_end)
    proc.go = proc_go
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        yield proc
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    finally:
        os.close(proc_go)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def go_on(proc):
    """Tell the child to go on (a byte on its pipe)."""
    os.write(proc.go, b"g")


def test_instrument_values_from_another_process(stream_path, tmp_path):
    with child(tmp_path, SPECIAL_SERVER, stream_path, W, H, *INSTRUMENT) as proc, \
            smi.Client(stream_path, any_format=True) as client:
        for number, fmt in enumerate(INSTRUMENT, 1):
            go_on(proc)
            assert client.wait(timeout=10.0)
            with client.lock() as frame:
                assert (frame.format, frame.number, frame.dtype) == (
                    fmt, 2 * number, smi.format_name(fmt))
                assert same_bits(frame.copy(), special_values(fmt, W, H, number))
                view = np.asarray(frame)
                assert same_bits(np.array(view), special_values(fmt, W, H, number))
                del view
            go_on(proc)
            assert proc.stdout.readline().strip() == "sent " + smi.format_name(fmt)
            with client.lock() as frame:
                want = np.stack([special_values(fmt, W, H, number + z) for z in range(3)])
                assert frame.depth == 3 and same_bits(frame.copy(), want)
        go_on(proc)


# A client in another process: reads the frames this process publishes and
# prints, per frame, its format name and whether its bits are the expected.
SPECIAL_CLIENT = r'''
import os, sys
import shared_memory_image as smi
from smi_testutil import same_bits, special_values
go = int(sys.argv[1])
path, w, h, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with smi.Client(path, any_format=True) as client:
    print("ready", flush=True)
    for _ in range(count):
        if not client.wait(timeout=10.0):
            print("timeout", flush=True)
            sys.exit(1)
        with client.lock() as frame:
            ok = same_bits(frame.copy(), special_values(frame.format, w, h, frame.number))
            print(frame.format_name, frame.dtype, "exact" if ok else "DIFFERENT", flush=True)
        os.read(go, 1)
'''


def test_instrument_values_to_another_process(stream_path, tmp_path):
    smi.create_file(stream_path, W, H, format=smi.FORMAT_FLOAT64)
    with smi.Server(stream_path) as server, \
            child(tmp_path, SPECIAL_CLIENT, stream_path, W, H, len(INSTRUMENT)) as proc:
        for number, fmt in enumerate(INSTRUMENT, 1):
            server.send(special_values(fmt, W, H, number), frame_number=number)
            name = smi.format_name(fmt)
            assert proc.stdout.readline().split() == [name, name, "exact"]
            go_on(proc)
def test_bottom_up_volume(stream_path):
    """A volume sent bottom row first (each slice) is viewed upright, slice by
    slice, without a copy; copy() and tobytes() give it top row first; a
    consumer that cannot take strides gets BufferError, not wrong rows."""
    depth = 3
    volume = np.stack([pattern(smi.FORMAT_GRAY16, W, H, z) for z in range(depth)])
    smi.create_file(stream_path, W, H, format=smi.FORMAT_GRAY16, depth=depth)
    with smi.Server(stream_path) as server, smi.Client(stream_path, any_format=True) as client:
        server.send(np.ascontiguousarray(volume[:, ::-1]), bottom_up=True)
        with client.lock() as frame:
            assert frame.bottom_up and frame.flags == smi.FRAME_BOTTOMUP
            view = np.asarray(frame)
            assert view.shape == volume.shape and view.strides[1] < 0
            assert np.array_equal(view, volume)
            assert np.array_equal(frame.copy(), volume)
            assert frame.tobytes() == volume.tobytes()
            with pytest.raises(BufferError):
                zlib.crc32(frame)  # (asks for plain contiguous bytes)
            del view
        server.send(volume)  # the flag belongs to the frame
        with client.lock() as frame:
            assert not frame.bottom_up
            view = np.asarray(frame)
            assert np.array_equal(view, volume) and view.strides[1] > 0
            del view
