# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark of the ParaView plugin (not a test): prints figures, checks nothing.

Run with pvpython, under an X server (xvfb-run) for part 2:

  pvpython Testing/Plugin/Publisher/bench_plugin.py --plugin BUILD/lib/paraview-5.11/plugins/SharedMemoryImage/SharedMemoryImage.so \\
      --python-dir BUILD/python --publisher-exe BUILD/Testing/Plugin/Publisher/TestSharedMemoryRenderWindowPublisher

1. SharedMemoryImageSource update rate at 1080p and 4K, as a ratio to one
   memcpy of the frame (a numpy copy of a just-published frame out of the
   mapping through the shared_memory_image client; 1.0 = as fast as one copy,
   the target is at least 0.8; a hot copy between private arrays is printed
   too). Frames are published by the
   shared_memory_image module in this process between updates (not timed).
   "vtk": the VTK algorithm's Update() (lock, one copy with the flip, unlock);
   "proxy": what a pvpython script does (Refresh + UpdatePipeline, which also
   gathers data information for the client).
2. Render-window publishing overhead per frame over the bare pixel read-back:
   vtkSharedMemoryRenderWindowPublisher::Publish() (acquire, read-back into
   the shared buffer, publish) against vtkRenderWindow::GetPixelData() into a
   private array, same window, no rendering (target under 10 percent); with
   GL_MESA_pack_invert (rows read top first) and with the portable in-place
   row reversal.
"""
import argparse
import os
import subprocess
import sys
import time


def best_ms(call, frames, rounds=3):
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(frames):
            call()
        ms = (time.perf_counter() - start) * 1000.0 / frames
        best = ms if best is None else min(best, ms)
    return best


def bench_source(args, simple, plugin, np, smi, width, height):
    path = "/dev/shm/smi-bench-source-%d.smi" % os.getpid()
    smi.create_file(path, width, height)
    frame = np.random.default_rng(1).integers(0, 255, (height, width, 3), dtype=np.uint8)
    copy = np.empty_like(frame)
    try:
        with smi.Server(path) as server:
            source = plugin["SharedMemoryImageStream"](FileName=path)
            algorithm = source.GetClientSideObject()
            server.send(frame)
            source.UpdatePipeline()

            def vtk_update():
                server.send(frame)  # publish (a copy, counted below and taken out)
                algorithm.Modified()
                algorithm.Update()

            def proxy_update():
                server.send(frame)
                source.SMProxy.InvokeCommand("Refresh")
                source.UpdatePipeline()

            send = best_ms(lambda: server.send(frame), args.frames)
            # One memcpy of a just-published frame out of the mapping, as the
            # source does (a hot copy between two private arrays is faster).
            with smi.Client(path) as client:
                def client_copy():
                    server.send(frame)
                    client.wait(timeout=1.0)
                    locked = client.lock()
                    with locked:
                        view = np.asarray(locked)
                        np.copyto(copy, view)
                        del view
                memcpy = best_ms(client_copy, args.frames) - send
            hot = best_ms(lambda: np.copyto(copy, frame), args.frames)
            vtk = best_ms(vtk_update, args.frames) - send
            proxy = best_ms(proxy_update, args.frames) - send
            out = algorithm.GetOutput()
            dims = out.GetDimensions()
            assert (dims[0], dims[1]) == (width, height), dims
            simple.Delete(source)
    finally:
        os.unlink(path)
    print("source %4dx%-4d  hot memcpy %5.2f ms, memcpy from the stream %6.2f ms (%5.0f/s)  vtk update %6.2f ms (%5.0f/s, ratio %.2f)"
          "  proxy update %6.2f ms (%5.0f/s, ratio %.2f)"
          % (width, height, hot, memcpy, 1000 / memcpy, vtk, 1000 / vtk, memcpy / vtk,
             proxy, 1000 / proxy, memcpy / proxy), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin", required=True, help="SharedMemoryImage.so")
    parser.add_argument("--python-dir", help="folder of the shared_memory_image module")
    parser.add_argument("--publisher-exe", help="TestSharedMemoryRenderWindowPublisher (part 2)")
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    if args.python_dir:
        sys.path.insert(0, args.python_dir)
    import numpy as np
    import shared_memory_image as smi
    from paraview import simple

    plugin = {"__doc__": None}  # LoadPlugin treats an empty dict as "no namespace"
    simple.LoadPlugin(args.plugin, remote=False, ns=plugin)
    print("1. SharedMemoryImageSource update vs one memcpy of the frame (ratio = memcpy/update)")
    for width, height in ((1920, 1080), (3840, 2160)):
        bench_source(args, simple, plugin, np, smi, width, height)

    if args.publisher_exe:
        print("2. Render-window publishing vs bare pixel read-back (no rendering)")
        for size in ("1920x1080", "3840x2160"):
            for env, label in (({}, "pack_invert"), ({"SMI_PUBLISHER_NO_PACK_INVERT": "1"}, "row swap")):
                out = subprocess.run([args.publisher_exe, "--bench", size, str(args.frames)],
                                     env=dict(os.environ, **env), capture_output=True, text=True,
                                     timeout=120)
                line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
                print("   %-11s %s" % (label, line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
