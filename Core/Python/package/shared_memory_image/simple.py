# SPDX-License-Identifier: BSD-3-Clause
"""One-line ParaView helpers, in paraview.simple's style (pvpython, pvbatch).

    from paraview.simple import *
    from shared_memory_image.simple import PublishView, OpenStream, UpdateStream

    publisher = PublishView("/dev/shm/view.smi")   # the active view, every Render()
    ...
    stream = OpenStream("/dev/shm/view.smi")      # a live source (the active source)
    Show(stream)                                  # a slice, in the frame's own colors
    UpdateStream(stream)                          # take the newest frame; its number

Each loads the ParaView plugin SharedMemoryImage first when it is not loaded
yet: from the path in SMI_PLUGIN, else by name among the plugins ParaView
knows (PV_PLUGIN_PATH), else next to this package (a build or install tree of
this project). LoadSharedMemoryImagePlugin() does that alone.
"""

import glob
import os

from paraview import servermanager, simple

__all__ = ["LoadSharedMemoryImagePlugin", "PublishView", "OpenStream", "UpdateStream"]

_PLUGIN = "SharedMemoryImage"


def _plugin_next_to_package():
    """The plugin of the build or install tree this package is part of."""
    here = os.path.dirname(os.path.abspath(__file__))
    patterns = (
        # build tree: BUILD/python/shared_memory_image, BUILD/lib/paraview-X.Y/plugins
        os.path.join(here, "..", "..", "lib", "paraview-*", "plugins", _PLUGIN, _PLUGIN + ".so"),
        # install tree: PREFIX/lib/python3/dist-packages/shared_memory_image, PREFIX/lib/paraview-X.Y
        os.path.join(here, "..", "..", "..", "paraview-*", "plugins", _PLUGIN, _PLUGIN + ".so"),
    )
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return os.path.normpath(found[-1])
    return None


def _known_plugin():
    """The plugin's file among those ParaView knows on this process (PV_PLUGIN_PATH)."""
    info = servermanager.vtkSMProxyManager.GetProxyManager().GetPluginManager().GetLocalInformation()
    for i in range(info.GetNumberOfPlugins()):
        if info.GetPluginName(i) == _PLUGIN:
            return info.GetPluginFileName(i)
    return None


def _loaded():
    pxm = servermanager.ProxyManager()
    return pxm.GetPrototypeProxy("sources", "SharedMemoryImageSource") is not None


def LoadSharedMemoryImagePlugin(path=None):
    """Load the SharedMemoryImage plugin unless it is loaded; returns True when
    it is. `path` (or SMI_PLUGIN) names the plugin's .so; without either it is
    looked for by name (PV_PLUGIN_PATH), then next to this package. Raises
    RuntimeError when it cannot be found."""
    if not servermanager.ActiveConnection:
        servermanager.Connect()
    if _loaded():
        if not hasattr(simple, "SharedMemoryImageStream"):
            # Loaded into another namespace (LoadPlugin(..., ns=globals())):
            # LoadPlugins() with no plugin adds the constructors to simple's.
            simple.LoadPlugins()
        return True
    path = path or os.environ.get("SMI_PLUGIN") or _known_plugin() or _plugin_next_to_package()
    if not path:
        raise RuntimeError("the SharedMemoryImage ParaView plugin was not found: set SMI_PLUGIN "
                           "to its SharedMemoryImage.so, or PV_PLUGIN_PATH to its folder")
    simple.LoadPlugin(path, remote=False)
    if servermanager.ActiveConnection.IsRemote():
        simple.LoadDistributedPlugin(_PLUGIN, remote=True)
    if not _loaded():
        raise RuntimeError("loading %s did not define the SharedMemoryImage proxies" % path)
    return True


def PublishView(FileName, view=None, **properties):
    """Publish `view` (default: the active view) into the stream file FileName
    from now on: each render sends a frame (the file is created or grown to
    fit). Returns the SharedMemoryViewPublisher proxy; `properties` set its
    other properties (MaximumRate, EnSightLayout, Enabled). Setting its View
    to None, or Delete(publisher), stops publishing."""
    LoadSharedMemoryImagePlugin()
    view = view or simple.GetActiveViewOrCreate("RenderView")
    publisher = servermanager.misc.SharedMemoryViewPublisher(View=view, FileName=FileName,
                                                             **properties)
    return publisher


def OpenStream(FileName, **properties):
    """A Shared Memory Image Stream source reading FileName (it need not exist
    yet), registered in the pipeline and made the active source, like the
    functions of paraview.simple. Show() shows it as a slice in the frame's
    own colors (RGB, RGBA) or in gray levels; the GUI refreshes it by itself,
    a script calls UpdateStream()."""
    LoadSharedMemoryImagePlugin()
    source = simple.SharedMemoryImageStream(FileName=FileName, **properties)
    source.UpdatePipeline()
    return source


def UpdateStream(stream=None):
    """Take the newest frame of `stream` (default: the active source), as the
    GUI does by itself, and return its frame number (None before the first
    frame). Views showing it show the new frame at their next Render()."""
    stream = stream or simple.GetActiveSource()
    stream.SMProxy.InvokeCommand("Refresh")
    stream.UpdatePipeline()
    number = stream.GetFieldDataInformation().GetArray("FrameNumber")
    return int(number.GetRange(0)[0]) if number is not None else None
