# SPDX-License-Identifier: BSD-3-Clause
"""Several client processes on one stream, each locking independently, while
this process publishes; and a server in another process."""
import os
import time

import numpy as np
import pytest

import shared_memory_image as smi
from smi_testutil import pattern, run_python

HERE = os.path.dirname(os.path.abspath(__file__))
READER = os.path.join(HERE, "smi_child_reader.py")
W, H = 320, 200


def start_readers(path, count, frames, fmt):
    procs = [run_python(READER, path, frames, fmt) for _ in range(count)]
    for p in procs:
        line = p.stdout.readline().strip()
        if line != "ready":
            out, err = p.communicate(timeout=10)
            pytest.fail("reader did not start: %r %s %s" % (line, out, err))
    return procs


def publish_until_done(server, procs, fmt, width, height, deadline_s=20.0):
    n = 0
    deadline = time.monotonic() + deadline_s
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        n += 1
        server.send(pattern(fmt, width, height, n), frame_number=n)
        time.sleep(0.002)
    results = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=5)
        except Exception:
            p.kill()
            out, err = p.communicate()
        results.append((p.returncode, out.strip(), err.strip()))
    return n, results


@pytest.mark.parametrize("fmt", [smi.FORMAT_RGB8, smi.FORMAT_GRAY16])
def test_three_client_processes(stream_path, fmt):
    smi.create_file(stream_path, W, H, format=fmt)
    with smi.Server(stream_path) as server:
        procs = start_readers(stream_path, 3, 30, fmt)
        assert server.info()["clients"] == 3
        sent, results = publish_until_done(server, procs, fmt, W, H)
    for rc, out, err in results:
        assert rc == 0 and out.startswith("ok 30"), (out, err)
    assert smi.inspect(stream_path)["clients"] == 0


SERVER_SCRIPT = r'''
import sys, time
import shared_memory_image as smi
from smi_testutil import pattern
path, frames = sys.argv[1], int(sys.argv[2])
smi.create_file(path, %d, %d)
with smi.Server(path) as server:
    print("ready", flush=True)
    for n in range(1, frames + 1):
        server.send(pattern(smi.FORMAT_RGB8, %d, %d, n), frame_number=n)
        time.sleep(0.005)
print("done", flush=True)
''' % (W, H, W, H)


def test_server_in_another_process(stream_path, tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SERVER_SCRIPT)
    proc = run_python(str(script), stream_path, 400)
    try:
        assert proc.stdout.readline().strip() == "ready"
        with smi.Client(stream_path) as client:
            got = 0
            while got < 20 and client.wait(timeout=5.0):
                frame = client.lock()
                if frame is None:
                    continue
                with frame:
                    assert np.array_equal(np.asarray(frame),
                                          pattern(smi.FORMAT_RGB8, W, H, frame.number))
                got += 1
            assert got == 20
    finally:
        proc.kill()
        proc.communicate()
