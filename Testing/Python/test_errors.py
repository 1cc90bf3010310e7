# SPDX-License-Identifier: BSD-3-Clause
"""Errors are clear exceptions: library codes raise smi.Error with the code
and the library's string; unusable arrays raise TypeError or ValueError."""
import os
import pickle

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern

W, H = 64, 48


def test_missing_file(stream_path):
    for make in (smi.Client, smi.Server, smi.inspect):
        with pytest.raises(smi.Error) as err:
            make(stream_path)
        e = err.value
        assert isinstance(e, RuntimeError)
        assert e.code == smi.IMAGESTREAM_BAD_FILE_SIZE
        assert e.name == "IMAGESTREAM_BAD_FILE_SIZE"
        assert stream_path in str(e)
        assert smi.errorstring(e.code) in str(e)
    with pytest.raises(smi.Error) as err:
        smi.read_frame(stream_path, timeout=0.1)
    assert err.value.code == smi.IMAGESTREAM_BAD_FILE_SIZE


def test_open_messages_say_what_the_path_is(tmp_path):
    """A folder, a file in a missing folder, a missing file: the message says
    which, and what to do (the library's checkfile() text)."""
    folder, nofolder = str(tmp_path), str(tmp_path / "no-such-folder" / "view.smi")
    missing = str(tmp_path / "missing.smi")
    for make in (smi.Client, smi.Server):
        with pytest.raises(smi.Error) as err:
            make(folder)
        assert "%s is a folder, not a stream file: name a file in it" % folder in str(err.value)
        with pytest.raises(smi.Error) as err:
            make(nofolder)
        assert "the folder %s does not exist: create it" % os.path.dirname(nofolder) \
            in str(err.value)
    with pytest.raises(smi.Error) as err:
        smi.Client(missing)
    assert "%s does not exist yet: start its server first" % missing in str(err.value)
    assert not os.path.exists(missing) and not os.path.exists(os.path.dirname(nofolder))


def test_garbage_file(stream_path):
    rng = np.random.default_rng(1)
    junk = rng.integers(0, 256, 65536, dtype=np.uint8)
    junk[20] = 200  # an EnSight buffer_state no stream ever has
    junk.tofile(stream_path)
    with pytest.raises(smi.Error) as err:
        smi.Client(stream_path)
    assert err.value.code == smi.IMAGESTREAM_BAD_FILE_FORMAT
    with pytest.raises(smi.Error) as err:
        smi.inspect(stream_path)
    assert err.value.code == smi.IMAGESTREAM_BAD_FILE_FORMAT


def test_a_server_leaves_other_data_alone(stream_path):
    """A user's file that is not a stream (here random bytes) is never taken
    over: Server and create_file raise NOT_A_STREAM, the file is unchanged."""
    junk = np.random.default_rng(2).integers(0, 256, 1 << 20, dtype=np.uint8)
    junk.tofile(stream_path)
    for make in (lambda: smi.Server(stream_path),
                 lambda: smi.Server(stream_path, ensight_layout=True),
                 lambda: smi.create_file(stream_path, 64, 64)):
        with pytest.raises(smi.Error) as err:
            make()
        assert err.value.code == smi.IMAGESTREAM_NOT_A_STREAM
        assert "not a stream" in str(err.value)
    assert np.array_equal(np.fromfile(stream_path, np.uint8), junk)


def test_truncated_and_wrong_version_files(stream_path):
    with open(stream_path, "wb") as f:
        f.write(b"\x89SMI")
    with pytest.raises(smi.Error) as err:
        smi.Client(stream_path)
    assert err.value.code == smi.IMAGESTREAM_BAD_FILE_SIZE
    os.unlink(stream_path)
    smi.create_file(stream_path, W, H)
    smi.Server(stream_path).close()  # writes an extended header
    with open(stream_path, "r+b") as f:
        f.seek(8)
        f.write((99).to_bytes(4, "little"))
    with pytest.raises(smi.Error) as err:
        smi.Client(stream_path)
    assert err.value.code == smi.IMAGESTREAM_VERSION_MISMATCH


@pytest.mark.parametrize("extended", [True, False])
def test_file_truncated_under_live_streams(stream_path, extended):
    """A file shrunk under a server and a client: smi.Error, not SIGBUS."""
    smi.create_file(stream_path, W, H)
    frame = pattern(smi.FORMAT_RGB8, W, H, 1)
    with smi.Server(stream_path, ensight_layout=not extended) as server, \
            smi.Client(stream_path) as client:
        server.send(frame)
        assert client.wait(timeout=1.0)
        locked = client.lock()
        os.truncate(stream_path, 4096)
        for call in (locked.copy, locked.unlock, lambda: client.wait(timeout=0.1), client.lock,
                     lambda: server.send(frame), client.info):
            with pytest.raises(smi.Error) as err:
                call()
            assert err.value.code == smi.IMAGESTREAM_BAD_FILE_SIZE, call
            assert "too small" in str(err.value)


def test_zero_filled_file_is_an_empty_ensight_stream(stream_path):
    with open(stream_path, "wb") as f:
        f.write(bytes(1 << 16))
    with smi.Client(stream_path) as client:
        assert client.lock() is None
        assert not client.wait(timeout=0.05)


def test_unsafe_files_are_refused(stream_path):
    """A FIFO or a symbolic link at the path, or a file others may write:
    IMAGESTREAM_UNSAFE_FILE at once (Core/LAYOUT.md, "Opening files"); the
    file that Python's open() makes (0644 under umask 022) is fine."""
    os.mkfifo(stream_path, 0o600)
    try:
        for make in (smi.Client, smi.Server, smi.inspect,
                     lambda p: smi.create_file(p, W, H)):
            with pytest.raises(smi.Error) as err:
                make(stream_path)
            assert err.value.code == smi.IMAGESTREAM_UNSAFE_FILE == -17
            assert err.value.name == "IMAGESTREAM_UNSAFE_FILE"
            assert "not a regular file" in str(err.value)
    finally:
        os.unlink(stream_path)
    target = stream_path + ".target"
    old_umask = os.umask(0o022)
    try:
        with open(target, "wb") as f:
            f.write(bytes(1 << 16))
    finally:
        os.umask(old_umask)
    try:
        assert os.stat(target).st_mode & 0o777 == 0o644
        with smi.Client(target) as client:  # Python's own file is fine
            assert client.lock() is None
        os.symlink(target, stream_path)
        for make in (smi.Client, smi.Server, smi.inspect,
                     lambda p: smi.create_file(p, W, H)):
            with pytest.raises(smi.Error) as err:
                make(stream_path)
            assert err.value.code == smi.IMAGESTREAM_UNSAFE_FILE
        assert os.path.getsize(target) == 1 << 16  # not grown through the link
        os.unlink(stream_path)
        os.chmod(target, 0o666)
        with pytest.raises(smi.Error) as err:
            smi.Client(target)
        assert err.value.code == smi.IMAGESTREAM_UNSAFE_FILE
        assert smi.inspect(target)["layout"] == "ensight"  # reading is fine
    finally:
        os.unlink(target)
    assert smi.IMAGESTREAM_NO_SPACE == -18 and smi.IMAGESTREAM_OPTIONS_ANYFILE == 0x40000
    assert "space" in smi.errorstring(smi.IMAGESTREAM_NO_SPACE)


def test_error_object():
    e = smi.Error(smi.IMAGESTREAM_LOCKED)
    assert e.code == -11 and e.message == smi.errorstring(-11) and str(e) == e.message
    e = smi.Error(-4, "cannot open 'x'")
    assert e.name == "IMAGESTREAM_UNABLE_TO_OPEN_FILE" and str(e) == "cannot open 'x'"
    back = pickle.loads(pickle.dumps(e))  # crosses process boundaries intact
    assert type(back) is smi.Error and back.code == -4 and str(back) == "cannot open 'x'"
    with pytest.raises(TypeError):
        smi.Error("not a code")


def test_second_server_is_refused(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path):
        with pytest.raises(smi.Error) as err:
            smi.Server(stream_path)
        assert err.value.code == smi.IMAGESTREAM_SERVER_ACTIVE
    with smi.Server(stream_path) as again:  # the file is free again
        # (the last server ended cleanly: served again, not taken over)
        assert again.open_code == smi.IMAGESTREAM_NOERROR


@pytest.mark.parametrize("bad,exc,words", [
    (np.zeros((H, W), np.int64), TypeError, "struct format 'l'"),
    (np.zeros((H, W), np.int8), TypeError, "cannot send"),
    (np.zeros((H, W), np.float16), TypeError, "cannot send"),
    (np.zeros((H, W), np.uint64), TypeError, "int16 \\(INT16\\), int32 \\(INT32\\)"),
    (np.zeros((H, W), np.bool_), TypeError, "cannot send"),
    (np.zeros((H, W), ">u2"), TypeError, "cannot send"),
    (np.zeros((H, W, 5, 2), np.uint8), ValueError, "shape"),
    (np.zeros((H, W, 5), np.uint8), ValueError, "ambiguous"),
    (np.zeros(W * H * 3, np.uint8), ValueError, "width= and height="),
    (np.zeros((H, W, 3), np.uint8)[:, ::2], ValueError, "contiguous"),
    (np.asfortranarray(np.zeros((H, W, 3), np.uint8)), ValueError, "contiguous"),
    (np.zeros((0, W, 3), np.uint8), ValueError, "empty"),
    ([[0, 0, 0]], TypeError, "numpy array or another buffer"),
    ("text", TypeError, "numpy array or another buffer"),
])
def test_send_rejects_unusable_arrays(stream_path, bad, exc, words):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        with pytest.raises(exc, match=words):
            server.send(bad)
        assert server.send(pattern(smi.FORMAT_RGB8, W, H, 0)) == smi.IMAGESTREAM_UNCONNECTED


def test_send_checks_sizes_and_arguments(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")  # no room to spare
    with smi.Server(stream_path) as server:
        with pytest.raises(ValueError, match="holds 10 bytes"):
            server.send(bytes(10), W, H)
        with pytest.raises(TypeError, match="both width and height"):
            server.send(bytes(W * H * 3), W)
        with pytest.raises(TypeError, match="uint16"):
            server.send(np.zeros((H, W), np.uint16), format=smi.FORMAT_FLOAT32)
        with pytest.raises(TypeError, match="needs a float32"):
            server.send(np.zeros((H, W), np.uint8), format=smi.FORMAT_FLOAT32)
        with pytest.raises(TypeError, match="format int32 needs an int32 array, not uint8"):
            server.send(np.zeros((H, W), np.uint8), format=smi.FORMAT_INT32)
        with pytest.raises(TypeError, match="a float64 array cannot be sent as format int16"):
            server.send(np.zeros((H, W), np.float64), format=smi.FORMAT_INT16)
        with pytest.raises(ValueError, match="unknown pixel format"):
            server.send(np.zeros((H, W), np.uint8), format=42)
        with pytest.raises(ValueError, match="depth=2"):
            server.send(np.zeros((3, H, W), np.uint16), depth=2)
        with pytest.raises(ValueError, match="spacing"):
            server.send(pattern(smi.FORMAT_RGB8, W, H, 0), spacing=(1,))
        with pytest.raises(ValueError, match="frame_number"):
            server.send(pattern(smi.FORMAT_RGB8, W, H, 0), frame_number=-1)
        with pytest.raises(smi.Error) as err:
            server.send(np.zeros((H * 2, W * 2, 3), np.uint8))
        assert err.value.code == smi.IMAGESTREAM_FRAME_TOO_LARGE
        with pytest.raises(ValueError, match="width"):
            server.acquire(0, H)
        with pytest.raises(TypeError, match="integer"):
            server.acquire(1.5, H)


def test_lock_and_unlock_misuse(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        with pytest.raises(smi.Error) as err:
            client.unlock()
        assert err.value.code == smi.IMAGESTREAM_NOT_LOCKED
        server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
        frame = client.lock()
        server.send(pattern(smi.FORMAT_RGB8, W, H, 2))
        with pytest.raises(smi.Error) as err:
            client.lock()
        assert err.value.code == smi.IMAGESTREAM_LOCKED
        assert client.frame is frame
        client.unlock()  # unlocks the frame it holds
        assert not frame.locked and client.frame is None
        frame.unlock()  # a second unlock does nothing
        with pytest.raises(smi.Error) as err:
            server.publish()
        assert err.value.code == smi.IMAGESTREAM_NOT_LOCKED


def test_closed_objects(stream_path):
    smi.create_file(stream_path, W, H)
    server = smi.Server(stream_path)
    client = smi.Client(stream_path)
    client.close()
    server.close()
    client.close()  # twice is fine
    for call in (client.lock, client.unlock, client.info, lambda: client.wait(0),
                 lambda: server.send(pattern(smi.FORMAT_RGB8, W, H, 0)),
                 lambda: server.acquire(W, H), server.info):
        with pytest.raises(ValueError, match="closed"):
            call()
    with pytest.raises(ValueError):
        with client:
            pass


def test_bad_arguments_elsewhere(stream_path, tmp_path):
    with pytest.raises(smi.Error) as err:
        smi.create_file(str(tmp_path / "no" / "such" / "dir.smi"), W, H)
    assert err.value.code == smi.IMAGESTREAM_UNABLE_TO_OPEN_FILE
    with pytest.raises(ValueError):
        smi.create_file(stream_path, 0, H)
    with pytest.raises(ValueError):
        smi.create_file(stream_path, W, H, format=9)
    smi.create_file(stream_path, W, H)
    with smi.Client(stream_path) as client:
        with pytest.raises(ValueError, match="timeout"):
            client.wait(timeout=-1)
        with pytest.raises(TypeError):
            client.wait(timeout="soon")
    with pytest.raises(TypeError):
        smi.Client(12.5)


def test_server_max_size_serves_in_one_call(stream_path):
    """Server(path, max_size=...) makes or grows the file and serves it
    (SharedMemoryImageStream_serve, as the tools and elements do): a file a
    live server holds is not resized, a file of other data is refused and
    left as it was, pyensight's 25 MiB EnSight file is served as it is for 4K
    frames (split over both blocks)."""
    with smi.Server(stream_path, max_size=(W, H)) as server, smi.Client(stream_path) as client:
        server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
        frame = client.read(timeout=5)
        assert np.array_equal(np.asarray(frame), pattern(smi.FORMAT_RGB8, W, H, 1))
        size = os.path.getsize(stream_path)
        with pytest.raises(smi.Error) as err:
            smi.Server(stream_path, max_size=(4 * W, 4 * H))
        assert err.value.code == smi.IMAGESTREAM_SERVER_ACTIVE
        assert os.path.getsize(stream_path) == size
    with smi.Server(stream_path, max_size=(4 * W, 4 * H), format=smi.FORMAT_GRAY16) as server:
        assert server.info()["buffer_size"] >= 4 * W * 4 * H * 2
    os.unlink(stream_path)
    notes = b"".join(b"line %d of a user's notes\n" % i for i in range(500))
    with open(stream_path, "wb") as f:
        f.write(notes)
    with pytest.raises(smi.Error) as err:
        smi.Server(stream_path, max_size=(W, H))
    assert err.value.code == smi.IMAGESTREAM_NOT_A_STREAM
    with open(stream_path, "rb") as f:
        assert f.read() == notes
    os.unlink(stream_path)
    with open(stream_path, "wb") as f:
        f.write(bytes(25 << 20))
    with smi.Server(stream_path, ensight_layout=True, max_size=(3840, 2160)) as server:
        assert server.info()["layout"] == "ensight"
    assert os.path.getsize(stream_path) == 25 << 20
