# SPDX-License-Identifier: BSD-3-Clause
"""pytest fixtures for the shared_memory_image tests."""
import glob
import os
import re
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smi_testutil  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def sweep_stale_files():
    """Remove the stream files of earlier test processes that are gone (a
    run ended by a sanitizer or a kill leaves its files behind)."""
    for path in glob.glob(os.path.join(smi_testutil.stream_dir(), "smi-pytest-*.smi")):
        m = re.match(r"smi-pytest-(\d+)-", os.path.basename(path))
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            try:
                os.unlink(path)
            except OSError:
                pass
        except PermissionError:
            pass  # alive, another user's
    yield


@pytest.fixture
def stream_path():
    """A fresh stream file name (not created), removed afterwards."""
    path = os.path.join(smi_testutil.stream_dir(), "smi-pytest-%d-%s.smi"
                        % (os.getpid(), uuid.uuid4().hex[:8]))
    yield path
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
