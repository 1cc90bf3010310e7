# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark of the ParaView plugin (not a test): prints figures, checks nothing.

Run with pvpython, under an X server (xvfb-run) for part 2:

  pvpython Benchmarks/bench_plugin.py --plugin BUILD/lib/paraview-5.11/plugins/SharedMemoryImage/SharedMemoryImage.so \\
      --python-dir BUILD/python --source-exe BUILD/Testing/Plugin/Cxx/TestSharedMemoryImageSource \\
      --publisher-exe BUILD/Testing/Plugin/Publisher/TestSharedMemoryRenderWindowPublisher

Every figure is a median over frames, the compared operations timed frame by
frame in rotating order (see interleaved_medians).

1. SharedMemoryImageSource update rate at 1080p and 4K, as a ratio to one
   memcpy of the frame out of the stream (1.0 = as fast as one copy; target
   at least 0.8 through the proxy with ranges on). In pvpython: a numpy copy
   of a just-published frame out of the mapping through the
   shared_memory_image client, against "vtk": the VTK algorithm's Update(),
   and "proxy": what a pvpython script does (Refresh + UpdatePipeline), with
   the source's ComputeValueRanges on (its default: each frame's ranges are
   computed in one pass, for ParaView's data information) and off; then
   "proxy overhead": the proxy update less the VTK update of the same
   source (ranges off), what ParaView's proxy layer adds per update. Two
   kinds of frames: "bottom-up", stored bottom row first as ParaView's
   publisher and writer store them (the source lends the locked frame to
   VTK: no copy, the range pass is the one read of the frame), and
   "top-down", as EnSight and smi-publish store them (one copy with the
   flip, then the range pass over the copy). Frames are published by the
   shared_memory_image module in this process before each timed call (not
   timed); a hot copy between private arrays is printed too. With
   --source-exe, the same in C++ for bottom-up frames (a plain C client's
   lock + memcpy + unlock against Update(); idle_update_ms: an update that
   finds no newer frame, i.e. the pipeline alone).
2. Render-window publishing overhead per frame over the bare pixel read-back:
   vtkSharedMemoryRenderWindowPublisher::Publish() (acquire, read-back into
   the shared buffer, publish; extended layout: rows stored as OpenGL reads
   them, no flip) against vtkRenderWindow::GetPixelData() into a private
   array, same window, no rendering (target under 10 percent), --rounds
   times (each a median over frames; the spread is the noise of the
   machine).
"""
import argparse
import os
import subprocess
import sys
import time


def interleaved_medians(frames, prepare, calls):
    """Median ms of each call over `frames` frames, `prepare` (untimed) before
    each call, the calls' order rotated every frame: on a shared, noisy machine
    a slow spell then hits every side alike (means of blocks moved 20-40 %)."""
    times = [[] for _ in calls]
    for i in range(-3, frames):
        for k in range(len(calls)):
            j = (k + i) % len(calls)
            prepare()
            start = time.perf_counter()
            calls[j]()
            if i >= 0:
                times[j].append((time.perf_counter() - start) * 1000.0)
    return [sorted(t)[len(t) // 2] for t in times]


def bench_source(args, simple, plugin, np, smi, width, height, bottom_up):
    path = "/dev/shm/smi-bench-source-%d.smi" % os.getpid()
    smi.create_file(path, width, height)
    frame = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    copy = np.empty_like(frame)
    try:
        with smi.Server(path) as server:
            source = plugin["SharedMemoryImageStream"](FileName=path)
            algorithm = source.GetClientSideObject()
            def send():
                server.send(frame, bottom_up=bottom_up)

            send()
            source.UpdatePipeline()

            def vtk_update():
                algorithm.Modified()
                algorithm.Update()

            def proxy_update():
                source.SMProxy.InvokeCommand("Refresh")
                source.UpdatePipeline()

            # The same with ComputeValueRanges off (no range pass per frame).
            bare = plugin["SharedMemoryImageStream"](FileName=path, ComputeValueRanges=0)
            bare.UpdatePipeline()
            bare_algorithm = bare.GetClientSideObject()

            def bare_update():
                bare.SMProxy.InvokeCommand("Refresh")
                bare.UpdatePipeline()

            def bare_vtk_update():
                bare_algorithm.Modified()
                bare_algorithm.Update()

            # One memcpy of a just-published frame out of the mapping, as the
            # source does (a hot copy between two private arrays is faster).
            with smi.Client(path, any_format=True) as client:  # (as stored: one copy)
                def client_copy():
                    locked = client.lock()
                    with locked:
                        view = np.asarray(locked)
                        np.copyto(copy, view)
                        del view

                memcpy, vtk, proxy, no_ranges, vtk_no_ranges = interleaved_medians(
                    args.frames, send,
                    (client_copy, vtk_update, proxy_update, bare_update, bare_vtk_update))
            hot, = interleaved_medians(args.frames, lambda: None, (lambda: np.copyto(copy, frame),))
            out = algorithm.GetOutput()
            dims = out.GetDimensions()
            assert (dims[0], dims[1]) == (width, height), dims
            simple.Delete(bare)
            simple.Delete(source)
    finally:
        os.unlink(path)
    print("source %4dx%-4d %-9s  hot memcpy %5.2f ms, memcpy from the stream %6.2f ms (%5.0f/s)  vtk update %6.2f ms (%5.0f/s, ratio %.2f)"
          "  proxy update, ranges on %6.2f ms (%5.0f/s, ratio %.2f)  ranges off %6.2f ms (ratio %.2f)"
          % (width, height, "bottom-up" if bottom_up else "top-down", hot, memcpy, 1000 / memcpy,
             vtk, 1000 / vtk, memcpy / vtk, proxy, 1000 / proxy, memcpy / proxy, no_ranges,
             memcpy / no_ranges), flush=True)
    # What the proxy adds to the VTK update (ParaView's fixed cost per update:
    # the Refresh command's push, progress, the post filter, the stream of
    # commands), with no range pass on either side.
    print("   proxy overhead (ranges off: proxy update %.2f ms - vtk update %.2f ms) %.2f ms = %.2f x the memcpy"
          % (no_ranges, vtk_no_ranges, no_ranges - vtk_no_ranges, (no_ranges - vtk_no_ranges) / memcpy),
          flush=True)


def run_bench(exe, size, frames, env):
    """The last line of a C++ test's --bench mode (or what went wrong)."""
    out = subprocess.run([exe, "--bench", size, str(frames)], env=dict(os.environ, **env),
                         capture_output=True, text=True, timeout=120)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", required=True, help="SharedMemoryImage.so")
    parser.add_argument("--python-dir", help="folder of the shared_memory_image module")
    parser.add_argument("--source-exe", help="TestSharedMemoryImageSource (part 1, C++ figures)")
    parser.add_argument("--publisher-exe", help="TestSharedMemoryRenderWindowPublisher (part 2)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="publisher runs per size")
    args = parser.parse_args()
    if args.python_dir:
        sys.path.insert(0, args.python_dir)
    import numpy as np
    import shared_memory_image as smi
    from paraview import simple

    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=False, ns=plugin)
    print("load average %.1f %.1f %.1f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),)),
          flush=True)
    print("1. SharedMemoryImageSource update vs one memcpy of the frame (ratio = memcpy/update)")
    for bottom_up in (True, False):
        for width, height in ((1920, 1080), (3840, 2160)):
            bench_source(args, simple, plugin, np, smi, width, height, bottom_up)
    if args.source_exe:
        for size in ("1920x1080", "3840x2160"):
            print("   C++ " + run_bench(args.source_exe, size, args.frames, {}), flush=True)

    if args.publisher_exe:
        print("2. Render-window publishing vs bare pixel read-back (no rendering)")
        for size in ("1920x1080", "3840x2160"):
            for _ in range(args.rounds):
                print("   " + run_bench(args.publisher_exe, size, args.frames, {}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
