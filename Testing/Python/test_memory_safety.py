# SPDX-License-Identifier: BSD-3-Clause
"""Python never reads a buffer after it was unlocked or reused.

As CPython's mmap does: a Frame counts the views of its buffer; unlock() and
close() raise BufferError while any exist (the frame stays locked, so the
server cannot reuse it), and a Frame used after unlock raises ValueError."""
import os
import subprocess
import threading

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import child_env, child_interpreter, pattern

W, H = 64, 48


@pytest.fixture
def stream(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        yield server, client


def test_unlock_with_live_view_raises_and_keeps_the_lock(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    view = np.asarray(frame)
    with pytest.raises(BufferError, match="1 view"):
        frame.unlock()
    assert frame.locked and client.frame is frame
    # Still locked: the server keeps publishing around it, never into it.
    for n in range(2, 8):
        server.send(np.full((H, W, 3), n, np.uint8))
    assert np.array_equal(view, pattern(smi.FORMAT_RGB8, W, H, 1))
    del view
    frame.unlock()
    assert not frame.locked


def test_with_block_exit_with_live_view_raises(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    with pytest.raises(BufferError):
        with client.lock() as frame:
            kept = np.asarray(frame)
    assert frame.locked
    del kept
    frame.unlock()


def test_exception_in_with_block_is_not_masked(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    with pytest.raises(KeyError):
        with client:
            with client.lock() as frame:
                view = np.asarray(frame)
                raise KeyError("the user's own error")
    # The view still exists: the frame stayed locked and the client open.
    assert frame.locked and not client.closed
    assert view[0, 0, 0] == 1
    del view
    frame.unlock()
    client.close()


def test_released_memoryview_does_not_count(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    view = memoryview(frame)
    assert frame.exports == 1
    view.release()
    assert frame.exports == 0
    frame.unlock()


def test_frame_after_unlock_raises_value_error(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    frame.unlock()
    for use in (np.asarray, memoryview, bytes, lambda f: f.copy(), lambda f: f.tobytes()):
        with pytest.raises(ValueError, match="unlocked"):
            use(frame)
    # The metadata was copied at lock time and stays readable (a new
    # stream's first frame is number 0).
    assert frame.width == W and frame.number == 0 and frame.shape == (H, W, 3)


def test_locked_frames_are_read_only(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    with client.lock() as frame:
        view = np.asarray(frame)
        with pytest.raises(ValueError, match="read-only"):
            view[0, 0, 0] = 1
        with pytest.raises(TypeError):
            memoryview(frame)[0, 0, 0] = 1
        with pytest.raises(ValueError):
            view.setflags(write=True)
        del view


def test_close_with_live_view_raises_and_stays_open(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    view = np.asarray(frame)
    with pytest.raises(BufferError):
        client.close()
    assert not client.closed and frame.locked
    assert view[0, 0, 0] == 1  # still readable: still mapped and locked
    del view
    client.close()
    assert client.closed and not frame.locked
    with pytest.raises(ValueError):
        np.asarray(frame)


def test_acquired_frame_publish_and_server_close_with_live_view(stream):
    server, client = stream
    frame = server.acquire(W, H)
    view = np.asarray(frame)
    with pytest.raises(BufferError):
        frame.publish()
    with pytest.raises(BufferError):
        server.publish()
    with pytest.raises(BufferError):
        server.close()
    assert frame.acquired and client.lock() is None
    view[...] = 3
    del view
    frame.publish()
    with pytest.raises(ValueError, match="published"):
        np.asarray(frame)
    with client.lock() as got:
        assert got.copy().max() == 3


def test_dropping_a_frame_unlocks_it(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    client.lock()  # dropped at once
    server.send(pattern(smi.FORMAT_RGB8, W, H, 2))
    frame = client.lock()
    assert frame is not None and frame.number == 1
    frame.unlock()


def test_views_outliving_their_client_object(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        server.send(pattern(smi.FORMAT_RGB8, W, H, 5))
        view = np.asarray(smi.Client(stream_path).lock())  # the view keeps all alive
        assert np.array_equal(view, pattern(smi.FORMAT_RGB8, W, H, 5))
        del view  # frame, then client, go: unlock and detach, no crash
        assert smi.inspect(stream_path)["clients"] == 0


def test_other_thread_cannot_unlock_under_a_view(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    view = np.asarray(frame)
    errors = []

    def other():
        try:
            frame.unlock()
        except BufferError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 1 and frame.locked
    del view
    frame.unlock()


def test_never_a_torn_or_reused_frame_under_load(stream):
    """A server thread publishes uniform frames as fast as it can while the
    client locks, reads and unlocks: every frame read is whole and single."""
    server, client = stream
    stop = threading.Event()

    def publish():
        n = 0
        while not stop.is_set():
            n += 1
            server.send(np.full((H, W, 3), n & 255, np.uint8), frame_number=n)

    t = threading.Thread(target=publish)
    t.start()
    try:
        seen = 0
        last = 0
        while seen < 300:
            if not client.wait(timeout=2.0):
                break
            frame = client.lock()
            if frame is None:
                continue
            with frame:
                a = np.asarray(frame)
                lo, hi = int(a.min()), int(a.max())
                assert lo == hi == frame.number & 255
                assert frame.number > last
                last = frame.number
                del a
            seen += 1
        assert seen == 300
    finally:
        stop.set()
        t.join()


# ---- a frame deleted while locked, after its file shrank ------------------------
#
# Deleting a locked Frame unlocks it. When the stream file was truncated or
# replaced by a smaller one meanwhile, that unlock fails (BAD_FILE_SIZE): the
# error goes to sys.unraisablehook, and the process goes on. Each case runs in
# a child process, since getting this wrong is a crash (a double free of the
# Frame gave exit 139).

SHRINK_CHILD = r'''
import os, shutil, sys
import numpy as np
import shared_memory_image as smi

path, small, layout, case = sys.argv[1:5]
ensight = layout == "ensight"
# An EnSight-layout file is at least 20 MiB: the live one must be larger.
side = 2048 if ensight else 256

if case == "copy":
    # A smaller, valid stream file of the same layout, served once.
    smi.create_file(small, 8, 8, layout=layout)
    with smi.Server(small, ensight_layout=ensight) as s, smi.Client(small):
        s.send(np.zeros((8, 8, 3), np.uint8))

smi.create_file(path, side, side, layout=layout)
server = smi.Server(path, ensight_layout=ensight)
client = smi.Client(path)
server.send(np.zeros((side, side, 3), np.uint8))

if case == "copy":
    def hold_and_replace():
        frame = client.lock()
        assert frame is not None and frame.locked
        before = os.path.getsize(path)
        shutil.copyfile(small, path)   # same inode, now smaller
        assert os.path.getsize(path) < before
    hold_and_replace()     # the frame is unlocked (and fails) on return
    assert client.frame is None
    client.close()
    server.close()
else:
    frame = client.lock()
    assert frame is not None and frame.locked
    os.truncate(path, 0)
    if case == "truncate-del":
        del frame          # unlocked (and fails) here
        assert client.frame is None
        client.close()
        server.close()
    # else "truncate-exit": the frame goes with the interpreter
print("done", flush=True)
'''


@pytest.fixture
def small_stream_path(stream_path):
    path = stream_path[:-len(".smi")] + "-small.smi"
    yield path
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@pytest.mark.parametrize("case", ["truncate-del", "truncate-exit", "copy"])
@pytest.mark.parametrize("layout", ["extended", "ensight"])
def test_locked_frame_deleted_after_the_file_shrank(stream_path, small_stream_path,
                                                   tmp_path, layout, case):
    script = tmp_path / "shrink_child.py"
    script.write_text(SHRINK_CHILD)
    proc = subprocess.run(
        [child_interpreter(), "-X", "dev", "-X", "faulthandler", str(script),
         stream_path, small_stream_path, layout, case],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)
    out, err = proc.stdout, proc.stderr
    # 0, not a signal: the Frame freed twice gave -11 (-7 under -X dev, whose
    # allocator poisons freed memory).
    assert proc.returncode == 0, (proc.returncode, out, err)
    assert out.strip().endswith("done"), (out, err)
    # The failed unlock reached sys.unraisablehook, with the library's reason.
    assert "Exception ignored" in err, err
    assert "unlock %r: %s" % (stream_path,
                              smi.errorstring(smi.IMAGESTREAM_BAD_FILE_SIZE)) in err, err
