# SPDX-License-Identifier: BSD-3-Clause
"""Render a ParaView scene and publish its view into a shared-memory image stream.

Run with pvpython or pvbatch (needs an X display; use xvfb-run without one):

  pvpython Scripts/demo_publish.py --plugin PATH/SharedMemoryImage.so \\
      --file /dev/shm/view.smi --seconds 10 --rate 30 --size 960x540

The scene is a wavelet cut by two contour surfaces, colored by its values,
with a slowly orbiting camera. The SharedMemoryViewPublisher proxy publishes
the view after every render (at most --rate frames per second); another
process reads the stream, for instance Scripts/demo_read.py. Publishing a
view takes two lines once the plugin is loaded:

  publisher = servermanager.misc.SharedMemoryViewPublisher(
      View=view, FileName="/dev/shm/view.smi", MaximumRate=30)
"""
import argparse
import sys
import time

from demo_common import find_plugin  # this script's folder is on sys.path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", default=find_plugin(), help="path of SharedMemoryImage.so")
    parser.add_argument("--file", default="/dev/shm/smi-view.smi", help="stream file")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to publish")
    parser.add_argument("--rate", type=float, default=30.0, help="renders (and frames) per second")
    parser.add_argument("--size", default="960x540", help="view size WxH")
    parser.add_argument("--ensight", action="store_true", help="serve EnSight's layout")
    args = parser.parse_args()
    if not args.plugin:
        parser.error("no plugin found: pass --plugin or set SMI_PLUGIN")
    width, height = (int(v) for v in args.size.lower().split("x"))

    from paraview import simple, servermanager
    simple.LoadPlugin(args.plugin, remote=False)

    wavelet = simple.Wavelet(WholeExtent=[-20, 20, -20, 20, -20, 20])
    contour = simple.Contour(Input=wavelet, ContourBy=["POINTS", "RTData"],
                             Isosurfaces=[130.0, 200.0], ComputeScalars=1)
    view = simple.CreateView("RenderView")
    view.ViewSize = [width, height]
    view.Background = [0.1, 0.1, 0.15]
    try:  # 5.11 uses a palette unless told otherwise
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    display = simple.Show(contour, view)
    simple.ColorBy(display, ("POINTS", "RTData"))
    display.RescaleTransferFunctionToDataRange(True)
    label = simple.Text(Text="SharedMemoryImage: published from ParaView")
    label_display = simple.Show(label, view)
    label_display.WindowLocation = "Upper Left Corner"
    simple.ResetCamera(view)
    camera = view.GetActiveCamera()
    camera.Elevation(25)

    publisher = servermanager.misc.SharedMemoryViewPublisher(
        View=view, FileName=args.file, MaximumRate=args.rate, EnSightLayout=int(args.ensight))
    print("demo_publish: publishing a %dx%d view into %s at up to %g frames/s for %g s"
          % (width, height, args.file, args.rate, args.seconds), flush=True)

    period = 1.0 / args.rate if args.rate > 0 else 0.0
    start = time.monotonic()
    next_render = start
    renders = 0
    while time.monotonic() - start < args.seconds:
        camera.Azimuth(2.0)
        simple.Render(view)
        renders += 1
        if period:
            next_render += period
            delay = next_render - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_render = time.monotonic()
    elapsed = time.monotonic() - start
    publisher.UpdatePropertyInformation()
    published = publisher.GetPropertyValue("NumberOfPublishedFrames")
    skipped = publisher.GetPropertyValue("NumberOfSkippedFrames")
    print("demo_publish: %d renders in %.1f s (%.1f/s), %d frames published, %d not published"
          % (renders, elapsed, renders / elapsed, published, skipped), flush=True)
    publisher.View = None  # stops publishing, closes the stream (the file stays)
    del publisher
    simple.Delete(view)  # a render view left to interpreter exit ends in an X error
    return 0 if published > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
