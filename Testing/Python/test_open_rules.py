# SPDX-License-Identifier: BSD-3-Clause
"""The open rules follow the threat (README, "Careful opening"; Core/LAYOUT.md,
"Opening files"), seen from both Python modules, with real processes and
real files:

- pyensight's whole sequence on a umask-002 account: tempfile.mkdtemp()
  (0700), a 25 MB file of zeros (0664), an EnSight-layout server in another
  process (smi-publish --ensight, or shared_memory_image.Server with
  ensight_layout=True), then ensight_grpc_shmem.stream_create(filename)
  with no options and a thread polling stream_lock; server first and client
  first; shared_memory_image reads the same file with no option too;
- a 0664 file of a foreign group in a shared sticky folder (1777) refused
  (as root), a 0666 file in a 0700 folder accepted, a file in a folder
  others may write (not sticky) refused; the messages name the rule and the
  fix, and the option that opts in (any_file=True, OPTIONS_ANYFILE), which
  then works.
"""
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
import pytest

import ensight_grpc_shmem as shm
import shared_memory_image as smi
from smi_testutil import (check_rgb8_frames, child_env, child_interpreter, pattern,
                          poll_like_pyensight)

PUBLISH = os.environ.get("SMI_PUBLISH")
W, H = 640, 360

# An EnSight-layout server in another process, as EnSight would be: the test
# pattern, frame numbers from 1, until killed.
PY_SERVER = r"""
import signal, sys, time
import numpy as np
import shared_memory_image as smi
from smi_testutil import pattern
stop = []
# (pvpython's own SIGTERM handler would not end the process cleanly)
signal.signal(signal.SIGTERM, lambda *args: stop.append(1))
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with smi.Server(path, ensight_layout=True) as server:
    n = 0
    while not stop:
        n += 1
        server.send(pattern(smi.FORMAT_RGB8, w, h, n), frame_number=n)
        time.sleep(0.01)
"""


@pytest.fixture
def pyensight_file():
    """What pyensight makes, under umask 002: a mkdtemp() folder (0700) and
    a 25 MB file of zeros in it (0664)."""
    old = os.umask(0o002)
    folder = tempfile.mkdtemp(dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    try:
        path = os.path.join(folder, "shm")
        with open(path, "wb") as f:
            f.write(bytes(25 << 20))
        assert os.stat(folder).st_mode & 0o7777 == 0o700
        assert os.stat(path).st_mode & 0o7777 == 0o664
        yield path
    finally:
        os.umask(old)
        shutil.rmtree(folder, ignore_errors=True)


def _start_server(kind, path):
    if kind == "smi-publish":
        if not PUBLISH or not os.access(PUBLISH, os.X_OK):
            pytest.skip("smi-publish not given ($SMI_PUBLISH)")
        cmd = [PUBLISH, "--ensight", "--copy", "--size", "%dx%d" % (W, H), "--rate", "100",
               "--seconds", "60", "--quiet", path]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.Popen([child_interpreter(), "-c", PY_SERVER, path, str(W), str(H)],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _stop(proc):
    proc.terminate()
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        out, err = proc.communicate()
    return err


def _wait_for_server(path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if smi.inspect(path)["server_alive"]:
                return
        except smi.Error:
            pass
        if proc.poll() is not None:
            pytest.fail("the server ended: %s" % proc.communicate()[1])
        time.sleep(0.01)
    pytest.fail("the server did not set up %s" % path)


def _poll(client, count, seconds=20.0):
    """pyensight's polling thread until `count` frames came; every pixel is
    checked."""
    check_rgb8_frames(poll_like_pyensight(client, count, seconds), W, H)


@pytest.mark.parametrize("server", ["smi-publish", "python"])
def test_pyensight_sequence_server_first(pyensight_file, server):
    assert smi.check_file(pyensight_file) is None
    proc = _start_server(server, pyensight_file)
    try:
        _wait_for_server(pyensight_file, proc)
        client = shm.stream_create(pyensight_file)  # no options, as pyensight
        _poll(client, 10)
        assert shm.stream_destroy(client) == shm.ERROR_NOERROR
        # Our own module reads the same file with no option either.
        array = smi.read_frame(pyensight_file, timeout=10)
        assert array.shape == (H, W, 3)
    finally:
        err = _stop(proc)
    assert proc.returncode in (0, -15), err


@pytest.mark.parametrize("server", ["smi-publish", "python"])
def test_pyensight_sequence_client_first(pyensight_file, server):
    client = shm.stream_create(pyensight_file)  # before any server
    assert type(shm.stream_lock(client)) is int
    proc = _start_server(server, pyensight_file)
    try:
        _poll(client, 10, seconds=30.0)
        assert shm.stream_destroy(client) == shm.ERROR_NOERROR
    finally:
        err = _stop(proc)
    assert proc.returncode in (0, -15), err


def _refused_everywhere(path, words):
    """Both modules refuse `path`; each message holds every one of `words`
    and its own way to opt in; opting in works."""
    with pytest.raises(RuntimeError) as e:
        shm.stream_create(path)
    text = str(e.value)
    for word in words + ["OPTIONS_ANYFILE"]:
        assert word in text, text
    for make in (lambda: smi.Client(path), lambda: smi.Server(path, ensight_layout=True),
                 lambda: smi.create_file(path, 64, 48), lambda: smi.read_frame(path, 0.1)):
        with pytest.raises(smi.Error) as e:
            make()
        assert e.value.code == smi.IMAGESTREAM_UNSAFE_FILE
        for word in words + ["any_file=True"]:
            assert word in str(e.value), str(e.value)
    why = smi.check_file(path)
    assert why and all(word in why for word in words), why
    assert smi.check_file(path, any_file=True) is None
    # Opting in: the file as it is.
    smi.create_file(path, 64, 48, any_file=True)
    server = shm.stream_create(path, shm.OPTIONS_SERVER | shm.OPTIONS_ANYFILE)
    with smi.Client(path, any_file=True) as client:
        assert shm.stream_putframe(server, 64, 48, 7, pattern(smi.FORMAT_RGB8, 64, 48, 7)
                                   .tobytes()) == shm.ERROR_NOERROR
        frame = client.lock()
        assert frame is not None and frame.number == 7
        assert np.array_equal(np.asarray(frame), pattern(smi.FORMAT_RGB8, 64, 48, 7))
        frame.unlock()
    shm.stream_destroy(server)


@pytest.fixture
def folder():
    """A folder of this process's own in /dev/shm (or the temporary folder)."""
    old = os.umask(0o022)
    path = tempfile.mkdtemp(dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    try:
        yield path
    finally:
        os.umask(old)
        shutil.rmtree(path, ignore_errors=True)


def _zero_file(path, mode):
    with open(path, "wb") as f:
        f.write(bytes(21 << 20))
    os.chmod(path, mode)


def test_0666_in_a_0700_folder_accepted(folder):
    os.chmod(folder, 0o700)
    path = os.path.join(folder, "shm")
    _zero_file(path, 0o666)
    assert smi.check_file(path) is None
    server = shm.stream_create(path, shm.OPTIONS_SERVER)
    client = shm.stream_create(path)
    assert shm.stream_putframe(server, 64, 48, 3, bytes(64 * 48 * 3)) == shm.ERROR_NOERROR
    img = shm.stream_lock(client)
    assert type(img) is dict and img["framenumber"] == 3
    shm.stream_unlock(client)
    shm.stream_destroy(client)
    shm.stream_destroy(server)


def test_folder_others_may_write_refused(folder):
    shared = os.path.join(folder, "open")
    os.mkdir(shared, 0o755)
    path = os.path.join(shared, "shm")
    _zero_file(path, 0o644)
    os.chmod(shared, 0o777)
    _refused_everywhere(path, ["not sticky", "chmod o-w " + shared])
    os.chmod(shared, 0o1777)  # sticky: no one may rename another's file
    assert smi.check_file(path) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file a group it is not in")
def test_foreign_group_in_a_sticky_folder_refused(folder):
    os.chmod(folder, 0o755)
    shared = os.path.join(folder, "sticky")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    path = os.path.join(shared, "shm")
    _zero_file(path, 0o664)
    os.chown(path, -1, 65534)
    _refused_everywhere(path, ["writable by group", "private group", "chmod g-w " + path])
    os.chmod(path, 0o644)
    assert smi.check_file(path) is None


def test_others_may_write_refused(folder):
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "shm")
    _zero_file(path, 0o666)
    _refused_everywhere(path, ["writable by others", "chmod o-w " + path])


def test_check_file_errors(folder):
    with pytest.raises(smi.Error) as e:
        smi.check_file(os.path.join(folder, "missing"))
    assert e.value.code == smi.IMAGESTREAM_BAD_FILE_SIZE
    link = os.path.join(folder, "link")
    os.symlink("/dev/null", link)
    assert "symbolic link" in smi.check_file(link)
    assert "not a regular file" in smi.check_file(link, any_file=True)
