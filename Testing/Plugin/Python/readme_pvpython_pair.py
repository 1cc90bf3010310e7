# SPDX-License-Identifier: BSD-3-Clause
"""The README's two pvpython scripts (publish_view.py, read_view.py), taken
from the README's own text and run as written in two processes, on a stream
file of this test's: the reader must see 30 frames and print their size.

    readme_pvpython_pair.py README.md PVPYTHON
"""
import os
import re
import subprocess
import sys
import tempfile


def script(readme, name):
    """The ```python block of README.md whose first line names `name`."""
    blocks = re.findall(r"```python\n(# %s:.*?)```" % re.escape(name), readme, re.S)
    if len(blocks) != 1:
        sys.exit("FAILED: README.md has %d '%s' scripts, not 1" % (len(blocks), name))
    return blocks[0]


def main():
    readme = open(sys.argv[1]).read()
    pvpython = sys.argv[2]
    stream = "/dev/shm/smi-readme-pair-%d.smi" % os.getpid()
    with tempfile.TemporaryDirectory() as work:
        paths = {}
        for name in ("publish_view.py", "read_view.py"):
            paths[name] = os.path.join(work, name)
            with open(paths[name], "w") as f:
                f.write(script(readme, name).replace("/dev/shm/view.smi", stream))
        # The reader first: the README says either order works.
        reader = subprocess.Popen([pvpython, paths["read_view.py"]], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        publisher = subprocess.Popen([pvpython, paths["publish_view.py"]],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            out, _ = reader.communicate(timeout=120)
        finally:
            publisher.kill()
            publisher.wait()
            if os.path.exists(stream):
                os.unlink(stream)
        print(out)
        if reader.returncode != 0 or not re.search(r"^30 frames, the last \(\d+, \d+, 1\)$", out,
                                                   re.M):
            sys.exit("FAILED: read_view.py exited %d without reading 30 frames"
                     % reader.returncode)
    print("PASS")


if __name__ == "__main__":
    main()
