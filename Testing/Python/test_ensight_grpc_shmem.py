# SPDX-License-Identifier: BSD-3-Clause
"""ensight_grpc_shmem, used the way pyensight uses it: pyensight writes a
zero-filled 25 MB file, EnSight serves it (OPTIONS_SERVER), and a polling
thread of pyensight loops stream_lock / stream_unlock."""
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import ensight_grpc_shmem as shm
import shared_memory_image as smi
from smi_testutil import check_rgb8_frames, pattern, poll_like_pyensight

W, H = 1920, 1080
PUBLISH = os.environ.get("SMI_PUBLISH")


@pytest.fixture
def zero_file(stream_path):
    with open(stream_path, "wb") as f:
        f.write(b"\0" * (1024 * 1024 * 25))  # as pyensight's _find_filename()
    return stream_path


def test_constants():
    assert shm.version == "1.0"
    assert shm.OPTIONS_NONE == 0 and shm.OPTIONS_FLIPVERTICAL == 0x100
    assert shm.OPTIONS_SERVER == 3 == shm.IMAGESTREAM_OPTIONS_SERVER
    assert (shm.ERROR_NOERROR, shm.ERROR_NO_BUFFERAVAILABLE, shm.ERROR_NO_FRAMEAVAILABLE,
            shm.ERROR_RECONNECTING, shm.ERROR_UNCONNECTED) == (0, 1, 2, 3, 4)
    assert shm.ERROR_BAD_ARGS == -1 and shm.ERROR_LOCKED == -11
    assert shm.ERROR_UNSAFE_FILE == -17 and shm.ERROR_NO_SPACE == -18
    assert shm.stream_putframe.__doc__ and shm.__doc__


def test_pyensight_polling_thread(zero_file):
    server = shm.stream_create(zero_file, shm.OPTIONS_SERVER)  # EnSight's side
    client = shm.stream_create(zero_file)                      # pyensight's side
    assert server and client and server != client               # ids are true values
    images = []
    stop = threading.Event()
    failure = []

    def poll_images():  # pyensight's _poll_images, shared-memory branch
        try:
            while not stop.is_set():
                img = shm.stream_lock(client)
                if type(img) is dict:
                    images.append((img["framenumber"], img["width"], img["height"],
                                   img["pixeldata"]))
                    shm.stream_unlock(client)
        except Exception as e:  # pragma: no cover - reported below
            failure.append(e)

    thread = threading.Thread(target=poll_images, daemon=True)
    thread.start()
    try:
        sent = 0
        deadline = time.monotonic() + 60  # ends at the 5th image; slow under TSan
        while len(images) < 5 and time.monotonic() < deadline:
            sent += 1
            frame = pattern(smi.FORMAT_RGB8, W, H, sent).tobytes()
            rc = shm.stream_putframe(server, W, H, sent, frame)
            assert rc in (shm.ERROR_NOERROR, shm.ERROR_NO_BUFFERAVAILABLE)
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not failure, failure
    assert len(images) >= 5
    numbers = [n for n, _, _, _ in images]
    assert numbers == sorted(set(numbers))
    for n, w, h, data in images:
        assert (w, h) == (W, H) and isinstance(data, bytes)
        assert data == pattern(smi.FORMAT_RGB8, W, H, n).tobytes()
    assert shm.stream_destroy(client) == shm.ERROR_NOERROR
    assert shm.stream_destroy(server) == shm.ERROR_NOERROR


def test_destroy_while_the_thread_polls(zero_file):
    """pyensight's close() destroys the stream under its polling thread: the
    thread gets a RuntimeError and ends; nothing crashes."""
    server = shm.stream_create(zero_file, shm.OPTIONS_SERVER)
    client = shm.stream_create(zero_file)
    ended = []

    def poll():
        try:
            while True:
                img = shm.stream_lock(client)
                if type(img) is dict:
                    shm.stream_unlock(client)
        except RuntimeError as e:
            ended.append(e)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    for n in range(1, 20):
        shm.stream_putframe(server, 64, 48, n, bytes(64 * 48 * 3))
    shm.stream_destroy(client)
    thread.join(timeout=5)
    assert not thread.is_alive() and ended
    shm.stream_destroy(server)


def test_return_codes_and_errors(zero_file):
    server = shm.stream_create(zero_file, shm.OPTIONS_SERVER)
    assert shm.stream_putframe(server, 4, 2, 1, bytes(24)) == shm.ERROR_UNCONNECTED
    client = shm.stream_create(zero_file)
    assert shm.stream_lock(client) == shm.ERROR_NO_FRAMEAVAILABLE
    assert shm.stream_putframe(server, 4, 2, 1, bytearray(range(24))) == shm.ERROR_NOERROR
    img = shm.stream_lock(client)
    assert img == {"width": 4, "height": 2, "framenumber": 1, "pixeldata": bytes(range(24))}
    with pytest.raises(RuntimeError, match="locked"):
        shm.stream_lock(client)
    assert shm.stream_unlock(client) == shm.ERROR_NOERROR
    with pytest.raises(RuntimeError, match="no frame is locked"):
        shm.stream_unlock(client)
    with pytest.raises(RuntimeError, match="server"):
        shm.stream_lock(server)
    with pytest.raises(RuntimeError, match="client"):
        shm.stream_putframe(client, 4, 2, 2, bytes(24))
    with pytest.raises(RuntimeError, match="pixeldata holds 10 bytes"):
        shm.stream_putframe(server, 4, 2, 2, bytes(10))
    with pytest.raises(RuntimeError, match="larger than"):
        shm.stream_putframe(server, 8000, 8000, 3, bytes(8000 * 8000 * 3))
    shm.stream_destroy(client)
    shm.stream_destroy(server)
    with pytest.raises(RuntimeError):
        shm.stream_destroy(server)
    with pytest.raises(RuntimeError):
        shm.stream_lock(12345)
    with pytest.raises(RuntimeError, match="missing"):
        shm.stream_create(zero_file + ".missing")


def test_flip_and_ensight_example_names(zero_file):
    # EnSight's own example spells the option IMAGESTREAM_OPTIONS_SERVER.
    server = shm.stream_create(zero_file, shm.IMAGESTREAM_OPTIONS_SERVER | shm.OPTIONS_FLIPVERTICAL)
    client = shm.stream_create(zero_file)
    image = pattern(smi.FORMAT_RGB8, 32, 16, 1)
    shm.stream_putframe(server, 32, 16, 1, np.ascontiguousarray(image[::-1]))
    img = shm.stream_lock(client)
    assert img["pixeldata"] == image.tobytes()
    shm.stream_unlock(client)
    shm.stream_destroy(client)
    shm.stream_destroy(server)


def test_interop_with_shared_memory_image(zero_file):
    """An EnSight-style server read by smi.Client, and smi.Server(ensight_layout)
    read through ensight_grpc_shmem: the same file format."""
    server = shm.stream_create(zero_file, shm.OPTIONS_SERVER)
    with smi.Client(zero_file) as client:
        image = pattern(smi.FORMAT_RGB8, 64, 32, 5)
        assert shm.stream_putframe(server, 64, 32, 5, image.tobytes()) == shm.ERROR_NOERROR
        assert client.wait(timeout=2.0)
        with client.lock() as frame:
            assert frame.number == 5 and np.array_equal(np.asarray(frame), image)
    shm.stream_destroy(server)

    with smi.Server(zero_file, ensight_layout=True) as sserver:
        reader = shm.stream_create(zero_file)
        sserver.send(image, frame_number=9)
        img = shm.stream_lock(reader)
        assert img["framenumber"] == 9 and img["pixeldata"] == image.tobytes()
        shm.stream_unlock(reader)
        shm.stream_destroy(reader)


def test_truncated_file_raises_not_crashes(stream_path):
    """The file shrunk under EnSight's server and pyensight's client: the
    calls raise RuntimeError (BAD_FILE_SIZE); the process lives on."""
    import os
    with open(stream_path, "wb") as f:
        f.write(b"\0" * (1024 * 1024))
    server = shm.stream_create(stream_path, shm.OPTIONS_SERVER)
    client = shm.stream_create(stream_path)
    w, h = 64, 48
    frame = pattern(smi.FORMAT_RGB8, w, h, 1).tobytes()
    assert shm.stream_putframe(server, w, h, 1, frame) == shm.ERROR_NOERROR
    os.truncate(stream_path, 100)
    for call in (lambda: shm.stream_lock(client),
                 lambda: shm.stream_putframe(server, w, h, 2, frame)):
        with pytest.raises(RuntimeError, match="too small"):
            call()
    shm.stream_destroy(client)
    shm.stream_destroy(server)


def test_frame_numbers_are_the_servers_from_zero(stream_path):
    """EnSight's own example counts from 0: every client sees 0, 1, 2."""
    with open(stream_path, "wb") as f:
        f.write(bytes(25 << 20))
    s = shm.stream_create(stream_path, 3)
    c = shm.stream_create(stream_path)
    seen = []
    for i in range(3):
        assert shm.stream_putframe(s, 2, 1, i, b"abcdef") == shm.ERROR_NOERROR
        seen.append(shm.stream_lock(c)["framenumber"])
        shm.stream_unlock(c)
    assert seen == [0, 1, 2]
    shm.stream_destroy(c)
    shm.stream_destroy(s)


def test_ensight_keyword_names(zero_file):
    """EnSight's module names its arguments stream_id, width, height,
    framenumber, pixeldata (and filename, options)."""
    server = shm.stream_create(filename=zero_file, options=shm.OPTIONS_SERVER)
    client = shm.stream_create(filename=zero_file)
    pixels = bytes(range(24))
    assert shm.stream_putframe(stream_id=server, width=4, height=2, framenumber=7,
                               pixeldata=pixels) == shm.ERROR_NOERROR
    img = shm.stream_lock(stream_id=client)
    assert img == {"width": 4, "height": 2, "framenumber": 7, "pixeldata": pixels}
    assert shm.stream_unlock(stream_id=client) == shm.ERROR_NOERROR
    assert shm.stream_lock(stream_id=client) == shm.ERROR_NO_FRAMEAVAILABLE
    with pytest.raises(TypeError):
        shm.stream_lock(id=client)  # not EnSight's name
    assert shm.stream_destroy(stream_id=client) == shm.ERROR_NOERROR
    assert shm.stream_destroy(stream_id=server) == shm.ERROR_NOERROR


def _wait_for_server(path, timeout=10.0):
    """What pyensight's SubscribeImages() call waits for: the server set up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if smi.inspect(path)["server_alive"]:
                return
        except smi.Error:
            pass
        time.sleep(0.01)
    pytest.fail("smi-publish did not set up %s" % path)


@pytest.mark.skipif(not PUBLISH or not os.access(PUBLISH, os.X_OK),
                    reason="smi-publish not given ($SMI_PUBLISH)")
@pytest.mark.parametrize("flip", [False, True])
def test_pyensight_sequence_against_smi_publish(zero_file, flip):
    """pyensight's whole shared-memory sequence, with smi-publish as the
    EnSight server: a 25 MB zero file, the server sets it up, stream_create,
    a polling thread of stream_lock / stream_unlock, stream_destroy. Every
    pixel of every frame is the test pattern of its number, upright, whether
    the server hands putframe its rows top first or bottom first (--flip)."""
    w, h = 640, 360
    cmd = [PUBLISH, "--ensight", "--copy", "--size", "%dx%d" % (w, h), "--rate", "120",
           "--seconds", "30", "--quiet", zero_file]
    if flip:
        cmd.insert(3, "--flip")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_server(zero_file)
        assert os.path.getsize(zero_file) == 25 << 20  # the server keeps the file
        client = shm.stream_create(zero_file)
        images = poll_like_pyensight(client, 30, 20)
        check_rgb8_frames(images, w, h)
        assert shm.stream_destroy(client) == shm.ERROR_NOERROR
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


@pytest.mark.parametrize("server", ["stream_putframe", "smi-publish"])
def test_pyensight_4k_in_its_25mb_file(zero_file, server):
    """4K RGB (24.9 MB a frame) through pyensight's 25 MiB file: each of the
    EnSight layout's two blocks holds 12.5 MiB, so every frame is split over
    both; pyensight's polling thread gets each one whole, every pixel right,
    and the file keeps its size."""
    if server == "smi-publish" and (not PUBLISH or not os.access(PUBLISH, os.X_OK)):
        pytest.skip("smi-publish not given ($SMI_PUBLISH)")
    if "tsan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("4K frames are too slow under ThreadSanitizer (the plain runs check them)")
    w, h, want = 3840, 2160, 4
    proc = None
    if server == "smi-publish":
        proc = subprocess.Popen([PUBLISH, "--ensight", "--size", "%dx%d" % (w, h), "--rate", "20",
                                 "--seconds", "60", "--quiet", zero_file],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_server(zero_file)
    else:
        sid = shm.stream_create(zero_file, shm.OPTIONS_SERVER)
    try:
        client = shm.stream_create(zero_file)
        sent = [0]

        def publish():  # (EnSight's side, when the server is this process)
            if proc is None:
                sent[0] += 1
                rc = shm.stream_putframe(sid, w, h, sent[0],
                                         pattern(smi.FORMAT_RGB8, w, h, sent[0]).tobytes())
                assert rc in (shm.ERROR_NOERROR, shm.ERROR_NO_BUFFERAVAILABLE,
                              shm.ERROR_UNCONNECTED), rc

        check_rgb8_frames(poll_like_pyensight(client, want, 40, step=publish), w, h)
        assert os.path.getsize(zero_file) == 25 << 20
        assert shm.stream_destroy(client) == shm.ERROR_NOERROR
    finally:
        if proc is not None:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
            assert proc.returncode == 0, err
        else:
            shm.stream_destroy(sid)
