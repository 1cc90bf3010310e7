# SPDX-License-Identifier: BSD-3-Clause
"""Run inside the ParaView GUI (paraview --script=bench_gui_rate.py), by
bench_gui_rate.sh: show the stream SMI_BENCH_STREAM with the plugin's live
source in the active view and count, for SMI_BENCH_SECONDS after the first
frame, the frames the source took (its updates) and the renders of the view
that showed a new frame (displayed). Writes "updates displayed seconds
last_frame_number first_frame_number" to SMI_BENCH_OUT each second, as the
GUI's event loop runs on. The GUI's own live-source polling drives it all: the
script only watches."""
import os
import time

from paraview import simple
from shared_memory_image.simple import OpenStream

stream = OpenStream(os.environ["SMI_BENCH_STREAM"])
view = simple.GetActiveViewOrCreate("RenderView")
simple.Show(stream, view)
simple.Render(view)

algorithm = stream.GetClientSideObject()
window = view.GetRenderWindow()
out_path = os.environ["SMI_BENCH_OUT"]
state = {"start": None, "updates": 0, "displayed": 0, "first": None, "last": None,
         "shown": None, "written": 0.0}


def frame_number():
    numbers = algorithm.GetOutputDataObject(0).GetFieldData().GetArray("FrameNumber")
    return int(numbers.GetTuple1(0)) if numbers is not None else None


def on_update(*_):
    number = frame_number()
    if number is None:
        return
    if state["start"] is None:
        state["start"] = time.monotonic()
        state["first"] = number
        return
    state["updates"] += 1
    state["last"] = number
    write()


def on_render(*_):
    number = state["last"]
    if state["start"] is None or number is None or number == state["shown"]:
        return
    state["shown"] = number
    state["displayed"] += 1
    write()


def write():
    """The counts so far, at most once a second."""
    now = time.monotonic()
    if now - state["written"] >= 1.0:
        state["written"] = now
        with open(out_path, "w") as f:
            f.write("%d %d %.3f %d %d\n" % (state["updates"], state["displayed"],
                                           now - state["start"], state["last"], state["first"]))


algorithm.AddObserver("EndEvent", on_update)
window.AddObserver("EndEvent", on_render)
