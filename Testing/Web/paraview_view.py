# SPDX-License-Identifier: BSD-3-Clause
"""A ParaView view published for smi-web's test (run with pvpython).

  pvpython paraview_view.py --plugin PLUGIN STREAM EXPECTED.npy

Renders a still scene (a colored contour of the wavelet and a text) in a
320x240 render view, publishes the view into STREAM with the plugin's
SharedMemoryViewPublisher, saves the view's own pixels (top row first, RGB)
into EXPECTED.npy, prints "publishing", then renders again ten times a second
(each render publishes a frame) until it is terminated or 120 s have passed.
It ends by itself, without sys.exit (pvpython under Xvfb fails on exit
after rendering).
"""
import argparse
import signal
import time

import numpy as np

WIDTH, HEIGHT = 320, 240


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin", required=True)
    ap.add_argument("stream")
    ap.add_argument("expected")
    args = ap.parse_args()
    from paraview import simple, servermanager
    from vtkmodules.util.numpy_support import vtk_to_numpy

    simple.LoadPlugin(args.plugin, remote=False)
    wavelet = simple.Wavelet()
    contour = simple.Contour(Input=wavelet, ContourBy=["POINTS", "RTData"],
                             Isosurfaces=[100.0, 200.0], ComputeScalars=1)
    text = simple.Text(Text="smi-web")
    view = simple.CreateView("RenderView")
    view.ViewSize = [WIDTH, HEIGHT]
    view.OrientationAxesVisibility = 0
    display = simple.Show(contour, view)
    simple.ColorBy(display, ("POINTS", "RTData"))
    simple.Show(text, view).WindowLocation = "Upper Left Corner"
    simple.ResetCamera(view)
    publisher = servermanager.misc.SharedMemoryViewPublisher(View=view, FileName=args.stream,
                                                             MaximumRate=0)
    simple.Render(view)
    image = view.SMProxy.CaptureWindow(1)
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(HEIGHT, WIDTH, -1)
    np.save(args.expected, np.ascontiguousarray(pixels[::-1, :, :3]))
    print("publishing", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    end = time.monotonic() + 120
    while not stop and time.monotonic() < end:
        simple.Render(view)
        time.sleep(0.1)
    publisher.View = None
    del publisher


main()
