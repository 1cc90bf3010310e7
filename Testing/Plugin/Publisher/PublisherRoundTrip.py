# SPDX-License-Identifier: BSD-3-Clause
"""Pixel-exact round trip of a ParaView view through a shared-memory stream.

Run with pvpython: PublisherRoundTrip.py --plugin SharedMemoryImage.so --pvpython PVPYTHON
[--batch PVBATCH]. The driver starts two separate processes:

  publisher (pvpython, or pvbatch with --batch): renders a scene in a render
    view published by the SharedMemoryViewPublisher proxy, then grabs the
    view's own pixels (CaptureWindow, which renders and so publishes once
    more), saves them, says READY and waits for the driver;
  reader (pvpython): reads the stream with the SharedMemoryImageSource proxy
    and compares the frame with the saved pixels byte for byte (both are
    upright VTK images, bottom row first).

Every wait is bounded; children are killed on failure.
"""
import argparse
import os
import select
import subprocess
import sys
import tempfile
import time

WIDTH, HEIGHT = 320, 240


def publisher(args):
    from paraview import simple, servermanager
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy

    simple.LoadPlugin(args.plugin, remote=False)
    # An asymmetric scene: a contoured wavelet colored by its values, and a
    # text in the upper-left corner.
    wavelet = simple.Wavelet()
    contour = simple.Contour(Input=wavelet, ContourBy=["POINTS", "RTData"],
                             Isosurfaces=[100.0, 200.0], ComputeScalars=1)
    text = simple.Text(Text="TOP LEFT")
    view = simple.CreateView("RenderView")
    view.ViewSize = [WIDTH, HEIGHT]
    view.OrientationAxesVisibility = 0
    display = simple.Show(contour, view)
    simple.ColorBy(display, ("POINTS", "RTData"))
    text_display = simple.Show(text, view)
    text_display.WindowLocation = "Upper Left Corner"
    simple.ResetCamera(view)

    pub = servermanager.misc.SharedMemoryViewPublisher(
        View=view, FileName=args.stream, MaximumRate=0)
    for azimuth in (0, 30, 60):
        view.GetActiveCamera().Azimuth(azimuth)
        simple.Render(view)
    image = view.SMProxy.CaptureWindow(1)  # renders: the last published frame
    dims = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(dims[1], dims[0], -1)
    np.save(os.path.join(args.dir, "expected.npy"), np.ascontiguousarray(pixels[:, :, :3]))
    pub.UpdatePropertyInformation()
    published = pub.GetPropertyValue("NumberOfPublishedFrames")
    print("READY published=%d size=%dx%d" % (published, dims[0], dims[1]), flush=True)
    sys.stdin.readline()  # the driver writes a line (or closes) when the reader is done
    pub.View = None
    del pub
    # pvpython exits with an X error (status 1) when a render view outlives
    # sys.exit(): delete it first.
    simple.Delete(view)
    return 0 if published >= 4 else 1


def reader(args):
    from paraview import simple, servermanager
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy

    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=False, ns=plugin)
    expected = np.load(os.path.join(args.dir, "expected.npy"))
    source = plugin["SharedMemoryImageStream"](FileName=args.stream)
    source.UpdatePipeline()
    image = servermanager.Fetch(source)
    dims = image.GetDimensions()
    if (dims[0], dims[1]) != (expected.shape[1], expected.shape[0]):
        print("FAIL: the source gives %dx%d, the window is %dx%d"
              % (dims[0], dims[1], expected.shape[1], expected.shape[0]))
        return 1
    scalars = image.GetPointData().GetScalars()
    got = vtk_to_numpy(scalars).reshape(dims[1], dims[0], -1)
    if got.shape != expected.shape or got.dtype != expected.dtype:
        print("FAIL: the frame is %s %s, expected %s %s"
              % (got.shape, got.dtype, expected.shape, expected.dtype))
        return 1
    if not np.array_equal(got, expected):
        diff = np.argwhere(np.any(got != expected, axis=2))
        flipped = np.array_equal(got[::-1], expected)
        print("FAIL: %d pixels differ, first at row %d column %d (VTK rows, bottom first)%s"
              % (len(diff), diff[0][0], diff[0][1], "; the frame is upside down" if flipped else ""))
        return 1
    frame = image.GetFieldData().GetArray("FrameNumber")
    print("reader: %dx%d frame %s equals the window's pixels"
          % (dims[0], dims[1], int(frame.GetTuple1(0)) if frame else "?"))
    return 0


def driver(args):
    stream_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    work = tempfile.mkdtemp(prefix="smi-roundtrip-")
    stream = os.path.join(stream_dir, "smi-roundtrip-%d.smi" % os.getpid())
    me = os.path.abspath(__file__)
    common = ["--plugin", args.plugin, "--stream", stream, "--dir", work]
    publisher_exe = args.batch or args.pvpython
    pub = subprocess.Popen([publisher_exe, me, "--role", "publish"] + common,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    rc = 1
    try:
        deadline = time.time() + 25
        line = ""
        while time.time() < deadline:
            ready, _, _ = select.select([pub.stdout], [], [], max(0.0, deadline - time.time()))
            if not ready:
                break
            line = pub.stdout.readline()
            if not line or line.startswith("READY"):
                break
        if not line.startswith("READY"):
            print("FAIL: the publisher did not get ready within 25 s (rc=%s)" % pub.poll())
            return 1
        print("publisher:", line.strip())
        read = subprocess.run([args.pvpython, me, "--role", "read"] + common, timeout=25)
        rc = read.returncode
        pub.stdin.write("done\n")
        pub.stdin.flush()
        if pub.wait(timeout=15) != 0:
            print("FAIL: the publisher exited with %d" % pub.returncode)
            rc = 1
    except subprocess.TimeoutExpired as e:
        print("FAIL: timeout: %s" % e)
        rc = 1
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
        for path in (stream, os.path.join(work, "expected.npy")):
            try:
                os.unlink(path)
            except OSError:
                pass
        os.rmdir(work)
    print("PublisherRoundTrip:", "passed" if rc == 0 else "FAILED")
    return rc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("driver", "publish", "read"), default="driver")
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--pvpython")
    parser.add_argument("--batch", help="run the publisher with this pvbatch")
    parser.add_argument("--stream")
    parser.add_argument("--dir")
    args = parser.parse_args()
    if args.role == "publish":
        return publisher(args)
    if args.role == "read":
        return reader(args)
    if not args.pvpython:
        parser.error("--pvpython is needed")
    return driver(args)


if __name__ == "__main__":
    sys.exit(main())
