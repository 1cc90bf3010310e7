# SPDX-License-Identifier: BSD-3-Clause
"""Client.wait(): timeouts, wake-ups, the GIL released, signals interrupt."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern

W, H = 64, 48


@pytest.fixture(params=["extended", "ensight"])
def stream(request, stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path, ensight_layout=request.param == "ensight") as server, \
            smi.Client(stream_path) as client:
        yield server, client


def test_timeout(stream):
    server, client = stream
    assert client.wait(timeout=0) is False
    t0 = time.monotonic()
    assert client.wait(timeout=0.2) is False
    elapsed = time.monotonic() - t0
    assert 0.19 <= elapsed < 1.0


def test_wakes_when_a_frame_arrives_and_releases_the_gil(stream):
    server, client = stream
    ticks = []
    stop = threading.Event()

    def busy():  # needs the GIL to count
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    def publish_later():
        time.sleep(0.15)
        server.send(pattern(smi.FORMAT_RGB8, W, H, 1))

    counter = threading.Thread(target=busy)
    publisher = threading.Thread(target=publish_later)
    counter.start()
    publisher.start()
    t0 = time.monotonic()
    try:
        assert client.wait(timeout=5.0) is True
    finally:
        elapsed = time.monotonic() - t0
        stop.set()
        counter.join()
        publisher.join()
    assert elapsed < 2.0
    assert len(ticks) > 20  # the other thread ran while we waited
    with client.lock() as frame:
        assert frame.number == 0  # a new stream's first frame


def test_wait_while_holding_a_frame(stream):
    server, client = stream
    server.send(pattern(smi.FORMAT_RGB8, W, H, 1))
    frame = client.lock()
    assert not client.wait(timeout=0.05)
    if server.send(pattern(smi.FORMAT_RGB8, W, H, 2)) == smi.IMAGESTREAM_NOERROR:
        assert client.wait(timeout=1.0)
    frame.unlock()


def _interrupt_soon(sig, delay=0.2):
    timer = threading.Timer(delay, os.kill, (os.getpid(), sig))
    timer.start()
    return timer


def test_ctrl_c_interrupts_wait(stream):
    server, client = stream
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's default handler here")
    timer = _interrupt_soon(signal.SIGINT)
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            client.wait()  # for ever
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 2.0
    assert not client.closed  # still usable
    server.send(pattern(smi.FORMAT_RGB8, W, H, 3))
    assert client.wait(timeout=1.0)


class Stop(Exception):
    pass


def test_any_raising_signal_handler_interrupts_wait(stream):
    _, client = stream

    def handler(signum, frame):
        raise Stop()

    old = signal.signal(signal.SIGUSR1, handler)
    timer = _interrupt_soon(signal.SIGUSR1)
    try:
        with pytest.raises(Stop):
            client.wait(timeout=30.0)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, old)


def test_read_frame_times_out(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path):
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            smi.read_frame(stream_path, timeout=0.2)
        assert time.monotonic() - t0 < 2.0


def test_close_from_another_thread_ends_a_wait(stream_path):
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path):
        client = smi.Client(stream_path)
        closer = threading.Timer(0.2, client.close)
        closer.start()
        try:
            with pytest.raises(ValueError, match="closed"):
                client.wait(timeout=10.0)
        finally:
            closer.join()
        assert client.closed


def test_one_waiter_per_thread(stream_path):
    """Clients in several threads, each waiting: every one wakes."""
    smi.create_file(stream_path, W, H)
    with smi.Server(stream_path) as server:
        clients = [smi.Client(stream_path) for _ in range(4)]
        results = [None] * len(clients)

        def run(i):
            if clients[i].wait(timeout=5.0):
                with clients[i].lock() as f:
                    results[i] = int(np.asarray(f)[0, 0, 0])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        time.sleep(0.1)
        server.send(np.full((H, W, 3), 42, np.uint8))
        for t in threads:
            t.join()
        for c in clients:
            c.close()
        assert results == [42] * len(clients)
