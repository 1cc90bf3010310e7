# SPDX-License-Identifier: BSD-3-Clause
"""The README's GStreamer recipes that involve ParaView (run with pvpython).

  --recipe mp4: a ParaView render view published by the plugin's
    SharedMemoryViewPublisher (this process) is recorded by
    `smisrc num-buffers=N ! videoconvert ! x264enc ! mp4mux ! filesink` (a
    gst-launch-1.0 process); the MP4 is decoded again by GStreamer and must
    hold exactly N frames of the view's size, each close (PSNR) to the view's
    own pixels (the scene does not move).
  --recipe source: `videotestsrc ! smisink` (a gst-launch-1.0 process) read
    live by the plugin's source (SharedMemoryImageStream, this process):
    each frame read is, byte for byte, the videotestsrc frame of its number,
    as the same videotestsrc wrote it to a file through filesink.

GST_PLUGIN_PATH must name the folder of the smi GStreamer plugin. Every wait
is bounded; the gst-launch-1.0 processes are killed on failure.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

WIDTH, HEIGHT = 320, 240


def fail(message):
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def run(args, timeout=60):
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        fail("%s exited with %d:\n%s%s" % (" ".join(args), result.returncode, result.stdout,
                                            result.stderr))
    if "CRITICAL" in result.stderr:
        fail("%s: %s" % (" ".join(args), result.stderr))
    return result


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def recipe_mp4(args, work):
    from paraview import simple, servermanager
    from vtkmodules.util.numpy_support import vtk_to_numpy

    simple.LoadPlugin(args.plugin, remote=False)
    stream = os.path.join(work, "view.smi")
    mp4 = os.path.join(work, "view.mp4")
    frames = 30
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
    pub = servermanager.misc.SharedMemoryViewPublisher(View=view, FileName=stream,
                                                       MaximumRate=0)
    simple.Render(view)
    image = view.SMProxy.CaptureWindow(1)
    dims = image.GetDimensions()
    if (dims[0], dims[1]) != (WIDTH, HEIGHT):
        fail("the view is %dx%d" % (dims[0], dims[1]))
    expected = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(HEIGHT, WIDTH, -1)
    expected = np.ascontiguousarray(expected[::-1, :, :3])  # top row first, as streams
    if not os.path.exists(stream):
        fail("the publisher made no stream file")

    gst = subprocess.Popen(
        [args.gst_launch, "-q", "smisrc", "location=" + stream, "num-buffers=%d" % frames, "!",
         "videoconvert", "!", "x264enc", "tune=zerolatency", "!", "mp4mux", "!", "filesink",
         "location=" + mp4], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 45
        renders = 0
        while gst.poll() is None:  # the view goes on publishing until smisrc has its frames
            if time.monotonic() > deadline:
                fail("smisrc did not record %d frames within 45 s (%d renders)" % (frames, renders))
            simple.Render(view)
            renders += 1
            time.sleep(0.01)
        out, err = gst.communicate(timeout=10)
    finally:
        if gst.poll() is None:
            gst.kill()
            gst.wait()
    if gst.returncode != 0 or "ERROR" in out + err or "CRITICAL" in err:
        fail("the recording pipeline exited with %d:\n%s%s" % (gst.returncode, out, err))
    pub.UpdatePropertyInformation()
    published = pub.GetPropertyValue("NumberOfPublishedFrames")
    print("recorded %s: %d bytes; the view published %d frames in %d renders"
          % (mp4, os.path.getsize(mp4), published, renders), flush=True)
    pub.View = None
    del pub

    raw = os.path.join(work, "decoded.rgb")
    run([args.gst_launch, "-q", "filesrc", "location=" + mp4, "!", "qtdemux", "!", "avdec_h264",
         "!", "videoconvert", "!", "video/x-raw,format=RGB,width=%d,height=%d" % (WIDTH, HEIGHT),
         "!", "filesink", "location=" + raw])
    data = np.fromfile(raw, dtype=np.uint8)
    frame_bytes = WIDTH * HEIGHT * 3
    if data.size != frames * frame_bytes:
        fail("the MP4 decodes to %d bytes, not %d frames of %dx%d RGB (%d bytes)"
             % (data.size, frames, WIDTH, HEIGHT, frames * frame_bytes))
    decoded = data.reshape(frames, HEIGHT, WIDTH, 3)
    worst = min(psnr(f, expected) for f in decoded)
    if worst < 30.0:
        fail("a decoded frame is only %.1f dB from the view's pixels" % worst)
    print("the MP4 holds %d frames of %dx%d, each within %.1f dB of the view"
          % (frames, WIDTH, HEIGHT, worst), flush=True)
    simple.Delete(view)


def recipe_source(args, work):
    from paraview import simple, servermanager
    from vtkmodules.util.numpy_support import vtk_to_numpy

    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=False, ns=plugin)
    stream = os.path.join(work, "test.smi")
    ref = os.path.join(work, "ref.rgb")
    frames = 150  # 5 s at 30 frames/s
    caps = "video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1" % (WIDTH, HEIGHT)
    src = ["videotestsrc", "pattern=smpte", "horizontal-speed=3", "num-buffers=%d" % frames]
    run([args.gst_launch, "-q"] + src + ["!", caps, "!", "filesink", "location=" + ref])
    reference = np.fromfile(ref, dtype=np.uint8).reshape(frames, HEIGHT, WIDTH, 3)

    gst = subprocess.Popen([args.gst_launch, "-q"] + src + ["!", caps, "!", "smisink",
                                                            "location=" + stream],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(stream):
            if time.monotonic() > deadline or gst.poll() is not None:
                fail("smisink made no stream file")
            time.sleep(0.02)
        source = plugin["SharedMemoryImageStream"](FileName=stream)
        last, checked = -1, 0
        while checked < 3:
            if time.monotonic() > deadline:
                fail("only %d frames within 30 s" % checked)
            source.SMProxy.InvokeCommand("Refresh")
            source.UpdatePipeline()
            image = servermanager.Fetch(source)
            numbers = image.GetFieldData().GetArray("FrameNumber")
            scalars = image.GetPointData().GetScalars()
            if numbers is None or scalars is None or int(numbers.GetValue(0)) <= last:
                time.sleep(0.02)
                continue
            number = int(numbers.GetValue(0))
            dims = image.GetDimensions()
            if dims[:2] != (WIDTH, HEIGHT):
                fail("frame %d is %dx%d" % (number, dims[0], dims[1]))
            got = vtk_to_numpy(scalars).reshape(HEIGHT, WIDTH, -1)[::-1]  # VTK: bottom row first
            if got.shape[2] != 3 or not np.array_equal(got, reference[number]):
                bad = np.argwhere(np.any(got != reference[number], axis=2))
                fail("frame %d differs from videotestsrc's frame %d in %d pixels%s"
                     % (number, number, len(bad),
                        "; upside down" if np.array_equal(got[::-1], reference[number]) else ""))
            print("the source's frame %d equals videotestsrc's frame %d" % (number, number),
                  flush=True)
            last = number
            checked += 1
    finally:
        if gst.poll() is None:
            gst.terminate()
        try:
            gst.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gst.kill()
            gst.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=("mp4", "source"), required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--gst-launch", required=True)
    args = parser.parse_args()
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    work = tempfile.mkdtemp(prefix="smi-gst-pv-%d-" % os.getpid(), dir=base)
    try:
        if args.recipe == "mp4":
            recipe_mp4(args, work)
        else:
            recipe_source(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
