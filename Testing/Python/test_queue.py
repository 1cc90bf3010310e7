# SPDX-License-Identifier: BSD-3-Clause
"""Queue reading from Python: Client(queue=True).next() gets every frame in
order, or counts exactly what it lost, in another process; a reliable client
is never overrun (Server.set_acquire_timeout() waits for it); wait(spin=...)
spins before it sleeps."""
import os
import threading
import time

import pytest

import shared_memory_image as smi
from smi_testutil import pattern, run_python

HERE = os.path.dirname(os.path.abspath(__file__))
READER = os.path.join(HERE, "smi_child_queue.py")
W, H = 64, 48


def start_reader(path, mode, delay, last):
    proc = run_python(READER, path, mode, delay, last)
    line = proc.stdout.readline().strip()
    if line != "ready":
        out, err = proc.communicate(timeout=10)
        pytest.fail("reader did not start: %r %s %s" % (line, out, err))
    return proc


def finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.startswith("ok "), (out, err)
    return [int(v) for v in out.split()[1:3]]


def test_slow_queue_reader_counts_exactly_what_it_lost(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")
    with smi.Server(stream_path) as server:
        server.set_buffers(4, 4)
        proc = start_reader(stream_path, "queue", 0.005, 150)
        for n in range(1, 151):
            server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n)
            if n % 25 == 0:
                time.sleep(0.01)  # bursts of 25
        got, lost = finish(proc)
    assert got + lost == 150 and lost > 0


def test_reliable_reader_is_never_overrun(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")
    with smi.Server(stream_path) as server:
        server.set_buffers(3, 3)
        server.set_acquire_timeout(10.0)
        proc = start_reader(stream_path, "reliable", 0.002, 60)
        for n in range(1, 61):
            assert server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n) == \
                smi.IMAGESTREAM_NOERROR
        got, lost = finish(proc)
    assert (got, lost) == (60, 0)


def test_history_and_errors(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")
    with smi.Server(stream_path) as server:
        server.set_buffers(8, 8)
        for n in range(1, 4):
            server.send(pattern(smi.FORMAT_RGB8, W, H, n), frame_number=n)
        with smi.Client(stream_path, queue=True) as q, smi.Client(stream_path) as plain:
            numbers = []
            while (frame := q.next(timeout=0)) is not None:
                with frame:
                    numbers.append((frame.number, frame.lost))
            assert numbers == [(1, 0), (2, 0), (3, 0)] and q.lost == 0
            with pytest.raises(smi.Error) as e:
                plain.next(timeout=0)
            assert e.value.code == smi.IMAGESTREAM_BAD_ARGS


def test_spin_wait(stream_path):
    smi.create_file(stream_path, W, H, layout="extended")
    with smi.Server(stream_path) as server, smi.Client(stream_path) as client:
        t0 = time.monotonic()
        assert client.wait(timeout=0.1, spin=0.02) is False
        assert 0.09 <= time.monotonic() - t0 < 2.0
        sender = threading.Timer(0.05, server.send, (pattern(smi.FORMAT_RGB8, W, H, 1),))
        sender.start()
        try:
            assert client.wait(timeout=5.0, spin=0.2) is True  # seen while spinning
        finally:
            sender.join()
        with pytest.raises(ValueError):
            client.wait(timeout=1.0, spin=-1)
