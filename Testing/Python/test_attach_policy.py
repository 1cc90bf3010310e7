# SPDX-License-Identifier: BSD-3-Clause
"""Python's Client under the library's one attach policy
(SharedMemoryImageStream_attach/_refresh), against real server processes
(smi-publish from $SMI_PUBLISH): a missing file and then a server, a server
killed with kill -9 (SERVER_GONE) and a new one (NEW_SERVER), the file
replaced (REPLACED, attach anew), a file of notes (NOT_A_STREAM, left as it
was, the same text as smi-read's), a link (UNSAFE) and a file no server has
set up yet (NO_SERVER)."""
import os
import signal
import subprocess
import time

import pytest

import shared_memory_image as smi
from smi_testutil import PUBLISH, READ, need_publish, need_read


S = smi.Situation


def start_publisher(path, *extra, delay=0.0):
    """smi-publish serving `path` (64x48 at 100 Hz) in its own process,
    after `delay` seconds."""
    cmd = [PUBLISH, "-q", "-s", "64x48", "-r", "100"] + list(extra) + [path]
    if delay:
        cmd = ["sh", "-c", 'sleep %g; exec "$@"' % delay, "sh"] + cmd
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(proc, sig=signal.SIGTERM):
    """End a publisher (if it still runs) and reap it."""
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.communicate(timeout=10)


def until(what, seconds=10.0):
    """Call what() every 20 ms until it returns a true value; that value."""
    end = time.monotonic() + seconds
    while True:
        got = what()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.02)


def served(path):
    """True once a live server has set `path` up."""
    try:
        return smi.inspect(path)["server_alive"]
    except smi.Error:
        return False


def test_situations_are_the_library_list():
    """Situation is the library's IMAGESTREAM_SITUATION_* list: the first
    seven worth waiting for, each with the library's description."""
    names = ["SERVING", "MISSING", "SETTING_UP", "NO_SERVER", "SERVER_GONE", "NEW_SERVER",
             "REPLACED", "NOT_A_STREAM", "UNSAFE", "FATAL"]
    assert [s.name for s in S] == names
    for s in S:
        assert s == getattr(smi, "IMAGESTREAM_SITUATION_" + s.name)
        assert s.waits == (s <= S.REPLACED)
        assert s.description
    assert S.SERVING.description == "attached, server alive"


@need_publish
def test_missing_file_then_a_server(stream_path):
    """No file: Error (MISSING, worth waiting for) with the library's text;
    wait= attaches once a server comes, and frames flow."""
    with pytest.raises(smi.Error) as caught:
        smi.Client(stream_path)
    assert caught.value.situation is S.MISSING and caught.value.situation.waits
    assert "does not exist yet: start its server first" in str(caught.value)
    with pytest.raises(TimeoutError) as timeout:
        smi.Client(stream_path, wait=0.2)
    assert timeout.value.__cause__.situation is S.MISSING
    proc = start_publisher(stream_path, delay=0.5)
    try:
        start = time.monotonic()
        with smi.Client(stream_path, wait=20) as client:
            assert time.monotonic() - start >= 0.3  # it waited for the server
            assert client.situation is S.SERVING
            assert client.refresh() is S.SERVING and not client.reattach
            assert client.wait(10)
            with client.lock() as frame:
                assert (frame.width, frame.height) == (64, 48)
    finally:
        stop(proc)


@need_publish
@pytest.mark.parametrize("ensight", [False, True], ids=["extended", "ensight"])
def test_server_killed_then_a_new_one(stream_path, ensight):
    """kill -9 of the server: SERVER_GONE (attached, worth waiting for); a
    new server: NEW_SERVER, attach anew in the EnSight layout only."""
    extra = ["-e"] if ensight else []
    proc = start_publisher(stream_path, *extra)
    try:
        assert until(lambda: served(stream_path))
        client = smi.Client(stream_path, wait=10)
        assert client.situation is S.SERVING
        assert client.wait(10)
        stop(proc, signal.SIGKILL)
        until(lambda: client.refresh() is not S.SERVING)
        assert client.situation is S.SERVER_GONE
        assert client.situation.waits and not client.reattach
        proc = start_publisher(stream_path, *extra)
        until(lambda: client.refresh() is not S.SERVER_GONE)
        assert client.situation is S.NEW_SERVER
        assert client.reattach == ensight
        if client.reattach:
            client.close()
            client = smi.Client(stream_path, wait=10)
            assert client.situation is S.SERVING
        assert client.refresh() is S.SERVING and not client.reattach
        assert client.wait(10)
        with client.lock() as frame:
            assert frame.width == 64
        client.close()
    finally:
        stop(proc)


@need_publish
def test_file_replaced_attach_anew(stream_path):
    """Another file at the path (its server gone, a new one made it):
    REPLACED with reattach; a new Client reads the new stream."""
    proc = start_publisher(stream_path)
    try:
        assert until(lambda: served(stream_path))
        client = smi.Client(stream_path, wait=10, any_format=True)
        stop(proc)
        os.unlink(stream_path)
        assert client.refresh() is S.MISSING and client.reattach
        proc = start_publisher(stream_path, "-f", "gray8")
        assert until(lambda: served(stream_path))
        assert client.refresh() is S.REPLACED and client.reattach
        client.close()
        with smi.Client(stream_path, wait=10, any_format=True) as client:
            assert client.situation is S.SERVING
            assert client.wait(10)
            with client.lock() as frame:
                assert frame.format_name == "gray8"
    finally:
        stop(proc)


def test_file_of_notes_is_not_a_stream(stream_path):
    """A file of other data, not changed for a while: NOT_A_STREAM, not worth
    waiting for (wait= raises at once), and the file is left as it was."""
    notes = b"shopping: milk, eggs, bread\n" * 40000
    with open(stream_path, "wb") as f:
        f.write(notes)
    os.chmod(stream_path, 0o600)
    old = time.time() - 60
    os.utime(stream_path, (old, old))
    for wait in (0.0, 30.0):
        start = time.monotonic()
        with pytest.raises(smi.Error) as caught:
            smi.Client(stream_path, wait=wait)
        assert time.monotonic() - start < 5
        assert caught.value.situation is S.NOT_A_STREAM
        assert not caught.value.situation.waits
    with open(stream_path, "rb") as f:
        assert f.read() == notes
    assert os.stat(stream_path).st_mtime == pytest.approx(old, abs=1)


@need_read
def test_same_text_as_smi_read(stream_path, tmp_path):
    """Python's Error and smi-read's message carry the same library text for
    a file of notes and a missing folder."""
    notes = os.path.join(str(tmp_path), "notes.smi")
    with open(notes, "wb") as f:
        f.write(b"not a stream\n" * 10000)
    old = time.time() - 60
    os.utime(notes, (old, old))
    for path in (notes, os.path.join(str(tmp_path), "no-folder", "x.smi")):
        with pytest.raises(smi.Error) as caught:
            smi.Client(path)
        text = str(caught.value).split(" as a client: ", 1)[1]
        run = subprocess.run([READ, "--frames", "1", "--timeout", "2", path],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode != 0
        assert text in run.stderr, (text, run.stderr)


def test_link_is_unsafe(stream_path):
    """A symbolic link: UNSAFE with the rule, the fix and Python's opt-in,
    raised at once even with wait=."""
    smi.create_file(stream_path, 16, 16)
    link = stream_path + ".link"
    os.symlink(stream_path, link)
    try:
        for wait in (0.0, 30.0):
            with pytest.raises(smi.Error) as caught:
                smi.Client(link, wait=wait)
            assert caught.value.situation is S.UNSAFE
            assert caught.value.code == smi.IMAGESTREAM_UNSAFE_FILE
            assert "any_file=True" in str(caught.value)
    finally:
        os.unlink(link)


@need_publish
def test_file_no_server_set_up(stream_path):
    """A file no server has set up yet: taken as create() takes it without
    wait= (NO_SERVER); with wait= not attached until a server sets it up."""
    smi.create_file(stream_path, 64, 48, layout="ensight")
    with smi.Client(stream_path) as client:
        assert client.situation is S.NO_SERVER
        assert client.refresh() is S.NO_SERVER and not client.reattach
    with pytest.raises(TimeoutError) as timeout:
        smi.Client(stream_path, wait=0.2)
    assert timeout.value.__cause__.situation is S.NO_SERVER
    proc = start_publisher(stream_path, "-e", delay=0.3)
    try:
        with smi.Client(stream_path, wait=20) as client:
            assert client.situation is S.SERVING
            assert client.wait(10)
    finally:
        stop(proc)
