# SPDX-License-Identifier: BSD-3-Clause
"""Read a shared-memory image stream in ParaView, report its live frame rate, save a screenshot.

Run with pvpython, in a process of its own (needs an X display for the
screenshot; use xvfb-run without one):

  pvpython Scripts/demo_read.py --plugin PATH/SharedMemoryImage.so \\
      --file /dev/shm/view.smi --seconds 8 --png received.png

The SharedMemoryImageSource proxy ("Shared Memory Image Stream") attaches to
the stream; each loop asks it for the newest frame (Refresh + UpdatePipeline,
which the GUI does by itself) and looks at it (in place in a builtin session,
through Fetch() from a remote server). Every second it prints the
frames received, the rate and the frames the publisher numbered in between
(skipped: a reader sees the latest frame, not a queue). At the end it shows
the last frame in a render view, with its own colors, and saves it as a PNG.
"""
import argparse
import sys
import time

from demo_common import find_plugin  # this script's folder is on sys.path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default=find_plugin(), help="path of SharedMemoryImage.so")
    parser.add_argument("--file", default="/dev/shm/smi-view.smi", help="stream file")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long to read")
    parser.add_argument("--wait", type=float, default=20.0,
                        help="seconds to wait for the first frame")
    parser.add_argument("--png", default="smi-paraview-demo.png", help="screenshot to save")
    args = parser.parse_args()
    if not args.plugin:
        parser.error("no plugin found: pass --plugin or set SMI_PLUGIN")

    from paraview import simple, servermanager
    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=False, ns=plugin)
    source = plugin["SharedMemoryImageStream"](FileName=args.file)

    # Builtin session: the source's output is in this process, read it in
    # place; with a remote server, Fetch() brings each frame over.
    remote = servermanager.ActiveConnection.IsRemote()
    algorithm = None if remote else source.GetClientSideObject()

    def newest():
        source.SMProxy.InvokeCommand("Refresh")  # nothing polls a live source in pvpython
        source.UpdatePipeline()
        image = servermanager.Fetch(source) if remote else algorithm.GetOutputDataObject(0)
        number = image.GetFieldData().GetArray("FrameNumber")
        return (int(number.GetTuple1(0)) if number else None), image

    deadline = time.monotonic() + args.wait
    number, image = newest()
    while number is None and time.monotonic() < deadline:
        time.sleep(0.05)
        number, image = newest()
    if number is None:
        print("demo_read: no frame in %s within %g s" % (args.file, args.wait))
        return 1
    dims = image.GetDimensions()
    print("demo_read: attached to %s: %dx%d frames" % (args.file, dims[0], dims[1]), flush=True)

    start = time.monotonic()
    tick = start + 1.0
    last = number
    received = skipped = 0
    window_received = window_skipped = 0
    while time.monotonic() - start < args.seconds:
        number, image = newest()
        if number is not None and number != last:
            received += 1
            window_received += 1
            gap = number - last - 1
            skipped += max(gap, 0)
            window_skipped += max(gap, 0)
            last = number
        else:
            time.sleep(0.002)
        now = time.monotonic()
        if now >= tick:
            print("demo_read: %3d frames/s (last frame %d, %d skipped)"
                  % (window_received, last, window_skipped), flush=True)
            window_received = window_skipped = 0
            tick += 1.0
    elapsed = time.monotonic() - start
    print("demo_read: %d frames in %.1f s: %.1f frames/s, %d skipped"
          % (received, elapsed, received / elapsed, skipped), flush=True)

    # Show the last frame (Show() gives a stream a slice in its own colors)
    # fitted to a view of its size, and save it.
    dims = image.GetDimensions()
    view = simple.CreateView("RenderView")
    view.ViewSize = [dims[0], dims[1]]
    view.OrientationAxesVisibility = 0
    display = simple.Show(source, view)
    print("demo_read: shown as %s, colored by %s, Map Scalars %s, %s interaction"
          % (display.Representation, display.ColorArrayName[1],
             "off" if display.MapScalars == 0 else "on", view.InteractionMode), flush=True)
    simple.ResetCamera(view)
    view.CameraParallelScale = dims[1] / 2.0
    simple.Render(view)
    simple.SaveScreenshot(args.png, view, ImageResolution=[dims[0], dims[1]])
    print("demo_read: saved frame %d as %s" % (last, args.png), flush=True)
    simple.Delete(view)  # a render view left to interpreter exit ends in an X error
    return 0 if received > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
