# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the demo scripts (demo_publish.py, demo_read.py)."""
import os


def find_plugin():
    """SMI_PLUGIN, or the plugin of a build or install tree next to this script."""
    if os.environ.get("SMI_PLUGIN"):
        return os.environ["SMI_PLUGIN"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for tree in ("build/install", "build"):
        path = os.path.join(root, tree, "lib", "paraview-5.11", "plugins",
                            "SharedMemoryImage", "SharedMemoryImage.so")
        if os.path.exists(path):
            return path
    return None
