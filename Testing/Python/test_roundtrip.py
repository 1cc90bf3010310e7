# SPDX-License-Identifier: BSD-3-Clause
"""Round trips through shared_memory_image: exact pixels, no copy on the
reading side, frame numbering, flip, both layouts, zero-copy publishing."""
import contextlib
import os
import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern

W, H = 160, 96


def data_address(a):
    return a.__array_interface__["data"][0]


def test_rgb_round_trip_is_exact_and_zero_copy(stream_path):
    smi.create_file(stream_path, W, H)
    image = pattern(smi.FORMAT_RGB8, W, H, 7)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        assert server.send(image) == smi.IMAGESTREAM_NOERROR
        assert client.wait(timeout=2.0)
        frame = client.lock()
        assert isinstance(frame, smi.Frame)
        with frame:
            pixels = np.asarray(frame)
            assert pixels.shape == (H, W, 3) and pixels.dtype == np.uint8
            assert np.array_equal(pixels, image)
            # A view of the mapping: read-only, not owned, the same memory each time.
            assert not pixels.flags.writeable and not pixels.flags.owndata
            again = np.asarray(frame)
            assert data_address(again) == data_address(pixels)
            assert frame.exports == 2
            assert (frame.width, frame.height, frame.depth) == (W, H, 1)
            assert frame.format == smi.FORMAT_RGB8 and frame.format_name == "rgb8"
            assert frame.shape == (H, W, 3) and frame.dtype == "uint8"
            assert frame.nbytes == W * H * 3
            assert frame.number == 0 and frame.locked  # a new stream numbers from 0
            del pixels, again
        assert not frame.locked


def test_buffer_protocol_without_numpy(stream_path):
    smi.create_file(stream_path, W, H)
    image = pattern(smi.FORMAT_RGB8, W, H, 3)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        server.send(image.tobytes(), W, H)  # raw bytes, size given
        frame = client.lock()
        with memoryview(frame) as view:
            assert view.readonly and view.format == "B"
            assert view.shape == (H, W, 3) and view.nbytes == W * H * 3
            assert view.tobytes() == image.tobytes()
        assert bytes(frame) == image.tobytes()
        assert frame.tobytes() == image.tobytes()
        frame.unlock()


def test_latest_frame_wins_and_numbers_pass_as_given(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        for n in (10, 11, 12):
            server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n)
        frame = client.lock()
        assert frame.number == 12
        assert np.array_equal(frame.copy(), pattern(smi.FORMAT_RGB8, W, H, 12))
        frame.unlock()
        assert client.lock() is None  # nothing newer
        # The server's number is the one clients see, even going back.
        server.send(pattern(smi.FORMAT_RGB8, W, H, 5), frame_number=5)
        frame = client.lock()
        assert frame.number == 5
        assert np.array_equal(frame.copy(), pattern(smi.FORMAT_RGB8, W, H, 5))
        frame.unlock()
        # 0 means "the next one".
        server.send(pattern(smi.FORMAT_RGB8, W, H, 0))
        with client.lock() as frame:
            assert frame.number == 6


@pytest.mark.parametrize("ensight", [False, True])
def test_numbers_from_zero_and_raised_only_after_takeover(stream_path, ensight):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path, ensight_layout=ensight) as server:
        assert server.open_code == smi.IMAGESTREAM_NOERROR
        client = smi.Client(stream_path)
        for n in range(3):  # counts from 0, as EnSight's own example does
            assert server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n) == \
                smi.IMAGESTREAM_NOERROR
            with client.lock() as frame:
                assert frame.number == n
    try:
        # A new server counting from 0 again: its numbers are raised above
        # the frames still in the file, for the client that stayed attached.
        with smi.Server(stream_path, ensight_layout=ensight) as server:
            # (the last server ended cleanly: served again, not taken over)
            assert server.open_code == smi.IMAGESTREAM_NOERROR
            assert client.lock() is None  # (EnSight layout: meets the new server)
            for n in range(3):
                assert server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n) == \
                    smi.IMAGESTREAM_NOERROR
                with client.lock() as frame:
                    assert frame.number == 3 + n
                    assert np.array_equal(frame.copy(), pattern(smi.FORMAT_RGB8, W, H, n))
    finally:
        client.close()


def test_flip_vertical(stream_path):
    smi.create_file(stream_path, W, H)
    top_down = pattern(smi.FORMAT_RGB8, W, H, 1)
    with smi.Server(stream_path, flip_vertical=True) as server, \
            smi.Client(stream_path) as client:
        assert server.options & smi.IMAGESTREAM_OPTIONS_FLIPVERTICAL
        server.send(np.ascontiguousarray(top_down[::-1]))  # a bottom-up image
        frame = client.lock()
        assert np.array_equal(frame.copy(), top_down)
        frame.unlock()


def test_flip_vertical_volume_flips_each_slice(stream_path):
    volume = np.stack([pattern(smi.FORMAT_GRAY16, 8, 6, z) for z in range(3)])
    smi.create_file(stream_path, 8, 6, format=smi.FORMAT_GRAY16, depth=3)
    with smi.Server(stream_path, flip_vertical=True) as server, \
            smi.Client(stream_path, any_format=True) as client:
        server.send(np.ascontiguousarray(volume[:, ::-1]))
        with client.lock() as frame:
            assert np.array_equal(frame.copy(), volume)


def test_ensight_layout(stream_path):
    smi.create_file(stream_path, W, H)
    image = pattern(smi.FORMAT_RGB8, W, H, 2)
    with smi.Server(stream_path, ensight_layout=True) as server:
        assert not server.options & smi.IMAGESTREAM_OPTIONS_EXTENDED
        # No client yet: EnSight's layout drops the frame.
        assert server.send(image) == smi.IMAGESTREAM_UNCONNECTED
        with smi.Client(stream_path) as client:
            assert server.send(image) == smi.IMAGESTREAM_NOERROR
            assert client.wait(timeout=2.0)
            with client.lock() as frame:
                assert np.array_equal(np.asarray(frame), image)
            # Only RGB8 images fit this layout.
            with pytest.raises(smi.Error) as err:
                server.send(np.zeros((H, W), np.uint16))
            assert err.value.code == smi.IMAGESTREAM_BAD_FORMAT
        info = smi.inspect(stream_path)
        assert info["layout"] == "ensight" and info["buffer_count"] == 2


def test_acquire_publish_writes_in_place(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        frame = server.acquire(W, H)
        assert isinstance(frame, smi.AcquiredFrame) and server.acquired
        buf = np.asarray(frame)
        assert buf.shape == (H, W, 3) and buf.flags.writeable and not buf.flags.owndata
        buf[...] = pattern(smi.FORMAT_RGB8, W, H, 40)
        frame.number = 40
        del buf
        assert frame.publish() == smi.IMAGESTREAM_NOERROR
        assert not server.acquired and not frame.acquired
        assert frame.number == 40
        with client.lock() as got:
            assert got.number == 40
            assert np.array_equal(np.asarray(got), pattern(smi.FORMAT_RGB8, W, H, 40))

        # The context-manager form publishes when the block ends.
        with server.acquire(W, H, frame_number=41) as frame:
            a = np.asarray(frame)
            a[...] = pattern(smi.FORMAT_RGB8, W, H, 41)
            del a
        assert client.wait(timeout=2.0)
        with client.lock() as got:
            assert got.number == 41
            assert np.array_equal(got.copy(), pattern(smi.FORMAT_RGB8, W, H, 41))


def test_acquire_block_that_raises_publishes_nothing(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        with pytest.raises(ZeroDivisionError):
            with server.acquire(W, H) as frame:
                np.asarray(frame)[...] = 1
                1 / 0
        # No view is left: the half-made buffer was given back, unpublished.
        assert not server.acquired
        assert client.lock() is None  # clients never see the half-made frame
        assert server.send(pattern(smi.FORMAT_RGB8, W, H, 5)) == smi.IMAGESTREAM_NOERROR
        with client.lock() as got:
            assert np.array_equal(got.copy(), pattern(smi.FORMAT_RGB8, W, H, 5))


def test_acquire_block_that_raises_with_a_live_view_stays_acquired(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        with pytest.raises(ZeroDivisionError):
            with server.acquire(W, H) as frame:
                view = np.asarray(frame)
                view[...] = 1
                1 / 0
        # A writable view still points into the buffer: it stays acquired.
        assert server.acquired
        assert client.lock() is None
        with pytest.raises(smi.Error) as err:
            server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
        assert err.value.code == smi.IMAGESTREAM_LOCKED
        del view, frame
        assert server.publish() == smi.IMAGESTREAM_NOERROR  # published on purpose
        with client.lock() as got:
            assert np.asarray(got).min() == 1


def test_no_free_buffer_is_reported_not_raised(stream_path):
    smi.create_file(stream_path, W, H)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(smi.Server(stream_path))
        clients = [stack.enter_context(smi.Client(stream_path)) for _ in range(8)]
        # Each client holds a different frame: the server adds a buffer
        # each time (2 at first, 8 at most), so every send gets through.
        held = []
        for k, c in enumerate(clients):
            assert server.send(pattern(smi.FORMAT_RGB8, W, H, k + 1)) == smi.IMAGESTREAM_NOERROR
            held.append(c.lock())
        assert [f.number for f in held] == list(range(8))
        assert server.info()["buffer_count"] == 8
        # All eight buffers are held: the server drops, and is never blocked.
        assert server.send(pattern(smi.FORMAT_RGB8, W, H, 9)) == \
            smi.IMAGESTREAM_NO_BUFFERAVAILABLE
        assert server.acquire(W, H) is None
        assert server.last_code == smi.IMAGESTREAM_NO_BUFFERAVAILABLE
        # The held frames are untouched.
        for k, f in enumerate(held):
            assert np.array_equal(f.copy(), pattern(smi.FORMAT_RGB8, W, H, k + 1))
        held[0].unlock()
        assert server.send(pattern(smi.FORMAT_RGB8, W, H, 9)) == smi.IMAGESTREAM_NOERROR
        for f in held[1:]:
            f.unlock()


def test_set_buffers_makes_and_caps_buffers(stream_path):
    smi.create_file(stream_path, W, H)
    size = os.path.getsize(stream_path)
    with smi.Server(stream_path) as server:
        server.set_buffers(4, 4)  # four now (the file grows), never more
        assert server.info()["buffer_count"] == 4
        assert os.path.getsize(stream_path) > size
        clients = [smi.Client(stream_path) for _ in range(5)]
        try:
            held = []
            for k, c in enumerate(clients[:4]):
                assert server.send(pattern(smi.FORMAT_RGB8, W, H, k + 1)) == smi.IMAGESTREAM_NOERROR
                held.append(c.lock())
            # Four clients hold the four buffers: capped, so the frame is dropped.
            assert server.send(pattern(smi.FORMAT_RGB8, W, H, 5)) == \
                smi.IMAGESTREAM_NO_BUFFERAVAILABLE
            assert smi.inspect(stream_path)["buffer_count"] == 4
            server.set_buffers(2, 5)  # raising the cap lets the next send grow
            assert server.send(pattern(smi.FORMAT_RGB8, W, H, 5)) == smi.IMAGESTREAM_NOERROR
            with clients[4].lock() as got:
                assert np.array_equal(got.copy(), pattern(smi.FORMAT_RGB8, W, H, 5))
            for k, f in enumerate(held):
                assert np.array_equal(f.copy(), pattern(smi.FORMAT_RGB8, W, H, k + 1))
                f.unlock()
        finally:
            for c in clients:
                c.close()
        with pytest.raises(ValueError):
            server.set_buffers(3, 2)
        with pytest.raises(ValueError):
            server.set_buffers(1, 9)
    ensight = stream_path + ".ensight"
    smi.create_file(ensight, W, H, layout="ensight")
    try:
        with smi.Server(ensight, ensight_layout=True) as server:
            server.set_buffers(2, 2)  # what the EnSight layout has
            with pytest.raises(smi.Error) as err:
                server.set_buffers(3, 8)
            assert err.value.code == smi.IMAGESTREAM_BAD_FORMAT
    finally:
        os.unlink(ensight)


def test_unconnected_frames_wait_for_late_clients(stream_path):
    smi.create_file(stream_path, W, H)
    image = pattern(smi.FORMAT_RGB8, W, H, 9)
    with smi.Server(stream_path) as server:
        assert server.send(image) == smi.IMAGESTREAM_UNCONNECTED
        with smi.Client(stream_path) as client:
            with client.lock() as frame:
                assert np.array_equal(np.asarray(frame), image)


def test_read_frame_and_client_read_return_copies(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        server.send(pattern(smi.FORMAT_RGB8, W, H, 4))
        copy = smi.read_frame(stream_path, timeout=2.0)
        assert copy.flags.owndata and copy.flags.writeable
        assert np.array_equal(copy, pattern(smi.FORMAT_RGB8, W, H, 4))
        with smi.Client(stream_path) as client:
            first = client.read(timeout=1.0)
            assert np.array_equal(first, pattern(smi.FORMAT_RGB8, W, H, 4))
            assert client.read(timeout=0.05) is None
            server.send(pattern(smi.FORMAT_RGB8, W, H, 5))
            assert np.array_equal(client.read(timeout=1.0), pattern(smi.FORMAT_RGB8, W, H, 5))


def test_inspect_and_info(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        with smi.Client(stream_path) as client:
            server.send(pattern(smi.FORMAT_RGB8, W, H, 1), frame_number=77)
            info = smi.inspect(stream_path)
            assert info["layout"] == "extended" and info["version"] == 1
            assert info["server_alive"] and info["clients"] == 1
            assert info["last_frame"] == 77 and info["max_clients"] >= 8
            assert len(info["buffers"]) == info["buffer_count"]
            ready = [b for b in info["buffers"] if b["frame"] == 77]
            assert ready and ready[0]["width"] == W and ready[0]["format_name"] == "rgb8"
            assert client.info()["server_alive"]
            assert server.info()["clients"] == 1
    assert not smi.inspect(stream_path)["server_alive"]


def test_reprs_and_constants(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        assert "Server" in repr(server) and "open" in repr(server)
        server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
        frame = client.lock()
        assert "locked" in repr(frame) and "160x96" in repr(frame)
        frame.unlock()
        assert "unlocked" in repr(frame)
    assert "closed" in repr(server) and server.closed
    assert smi.IMAGESTREAM_UNCONNECTED == 4 and smi.IMAGESTREAM_LOCKED == -11
    assert smi.IMAGESTREAM_OPTIONS_FLIPVERTICAL == 0x100
    assert smi.FORMAT_FLOAT32 == smi.IMAGESTREAM_FORMAT_FLOAT32 == 4
    assert smi.API_VERSION == "1.0" and smi.__version__
    assert smi.format_size(smi.FORMAT_RGBA8) == 4 and smi.format_name(smi.FORMAT_GRAY16) == "gray16"
    assert smi.errorstring(smi.IMAGESTREAM_NOERROR) == "success"
    assert smi.errorstring(1337) == smi.errorstring(-1337)  # generic, never None
    assert "Client" in smi.__doc__ and smi.Client.wait.__doc__
