# SPDX-License-Identifier: BSD-3-Clause
"""Client/server: the plugin on a pvserver, a stream published on its host.

Run with pvpython: PublisherClientServer.py --plugin SharedMemoryImage.so --pvserver PVSERVER
--smi-publish SMI_PUBLISH. It starts pvserver on a free localhost port and
smi-publish (the test pattern, 320x240 at 30 Hz) on that host, connects to
the server, loads the plugin there, and

  1. creates SharedMemoryImageSource on the server, fetches its frames to this
     client and checks them: size, every pixel against the test pattern of
     the frame's number, right side up, frame numbers increasing;
  2. creates a render view rendered on the server (RemoteRenderThreshold 0)
     and a SharedMemoryViewPublisher for it, which therefore runs on the
     server, and reads that second stream with another source on the server.

Every wait is bounded; the server and the publisher are killed at the end.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

# The test pattern, one Python copy of Core/Tools/smi_pattern.h's formula.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                                "Tools"))
import smi_pattern  # noqa: E402

WIDTH, HEIGHT = 320, 240


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_pvserver(exe, log_path):
    """pvserver on a free port; returns (process, port) once it accepts connections."""
    for _ in range(3):
        port = free_port()
        with open(log_path, "w") as log:  # a file: a pipe nobody drains could block it
            proc = subprocess.Popen([exe, "--server-port=%d" % port], stdout=log,
                                    stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline and proc.poll() is None:
            with open(log_path) as log:
                if "Accepting connection" in log.read():
                    return proc, port
            time.sleep(0.1)
        stop(proc)
    raise RuntimeError("pvserver did not accept connections")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pattern_top_first(n):
    """The tools' RGB8 test pattern of frame n (smi_pattern.h), top row first."""
    return smi_pattern.pattern_array("rgb8", WIDTH, HEIGHT, n)


def fetch_frame(servermanager, np, source):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    source.SMProxy.InvokeCommand("Refresh")  # nothing polls a live source in pvpython
    source.UpdatePipeline()
    image = servermanager.Fetch(source)
    dims = image.GetDimensions()
    scalars = image.GetPointData().GetScalars()
    number = image.GetFieldData().GetArray("FrameNumber")
    if scalars is None or number is None or dims[0] * dims[1] == 0:
        return None, None
    pixels = vtk_to_numpy(scalars).reshape(dims[1], dims[0], -1)
    return int(number.GetTuple1(0)), pixels


def check(args, stream, view_stream):
    from paraview import simple, servermanager
    import numpy as np

    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=True, ns=plugin)
    source = plugin["SharedMemoryImageStream"](FileName=stream)
    if not source.SMProxy.GetLocation() & 0x01:  # vtkPVSession::DATA_SERVER
        print("FAIL: the source does not live on the server (location %#x)"
              % source.SMProxy.GetLocation())
        return 1

    # 1. The stream of smi-publish, read on the server, fetched here.
    numbers = []
    deadline = time.time() + 15
    while time.time() < deadline and len(numbers) < 3:
        number, pixels = fetch_frame(servermanager, np, source)
        if number is None or (numbers and number <= numbers[-1]):
            time.sleep(0.1)
            continue
        if pixels.shape != (HEIGHT, WIDTH, 3):
            print("FAIL: frame %d is %s, expected (%d, %d, 3)" % (number, pixels.shape, HEIGHT, WIDTH))
            return 1
        expected = pattern_top_first(number)[::-1]  # VTK images: bottom row first
        if not np.array_equal(pixels, expected):
            upside_down = np.array_equal(pixels[::-1], expected)
            print("FAIL: frame %d differs from the test pattern%s"
                  % (number, " (upside down)" if upside_down else ""))
            return 1
        numbers.append(number)
        time.sleep(0.1)
    if len(numbers) < 3:
        print("FAIL: got %d checked frames in 15 s: %s" % (len(numbers), numbers))
        return 1
    print("source on the server: frames %s match the test pattern" % numbers)

    # 2. A view rendered on the server, published there.
    simple.GetSettingsProxy("RenderViewSettings").RemoteRenderThreshold = 0
    view = simple.CreateView("RenderView")
    view.ViewSize = [WIDTH, HEIGHT]
    simple.Show(simple.Sphere(), view)
    publisher = servermanager.misc.SharedMemoryViewPublisher(View=view, FileName=view_stream)
    for azimuth in range(5):
        view.GetActiveCamera().Azimuth(10)
        simple.Render(view)
    publisher.UpdatePropertyInformation()
    published = publisher.GetPropertyValue("NumberOfPublishedFrames")
    view_source = plugin["SharedMemoryImageStream"](FileName=view_stream)
    number, pixels = fetch_frame(servermanager, np, view_source)
    publisher.View = None
    del publisher
    simple.Delete(view)  # before exit: a render view left to sys.exit() ends in an X error
    if published < 5 or number is None or pixels.shape != (HEIGHT, WIDTH, 3) or \
            len(np.unique(pixels.reshape(-1, 3), axis=0)) < 10:
        print("FAIL: view publisher on the server: %s frames published, frame %s, %s"
              % (published, number, None if pixels is None else pixels.shape))
        return 1
    print("view publisher on the server: %d frames published, frame %d is %dx%d"
          % (published, number, pixels.shape[1], pixels.shape[0]))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--pvserver", required=True)
    parser.add_argument("--smi-publish", required=True)
    args = parser.parse_args()

    stream_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    stream = os.path.join(stream_dir, "smi-cs-%d.smi" % os.getpid())
    view_stream = os.path.join(stream_dir, "smi-cs-view-%d.smi" % os.getpid())
    # mkstemp: a new file with an unpredictable name (O_EXCL, mode 0600), not
    # a fixed name in /tmp that another user's symbolic link could take first.
    log_fd, server_log = tempfile.mkstemp(prefix="smi-cs-pvserver-", suffix=".log")
    os.close(log_fd)
    server = publisher = None
    rc = 1
    try:
        server, port = start_pvserver(args.pvserver, server_log)
        publisher = subprocess.Popen([args.smi_publish, stream, "--size", "%dx%d" % (WIDTH, HEIGHT),
                                      "--rate", "30", "--seconds", "40", "--quiet"])
        from paraview import simple
        simple.Connect("localhost", port)
        rc = check(args, stream, view_stream)
        simple.Disconnect()
    except Exception as e:  # report, then clean up
        print("FAIL: %s: %s" % (type(e).__name__, e))
        rc = 1
    finally:
        stop(publisher)
        stop(server)
        if rc and os.path.exists(server_log):
            with open(server_log) as log:
                print("pvserver said:\n" + log.read())
        for path in (stream, view_stream, server_log):
            try:
                os.unlink(path)
            except OSError:
                pass
    print("PublisherClientServer:", "passed" if rc == 0 else "FAILED")
    return rc


if __name__ == "__main__":
    sys.exit(main())
