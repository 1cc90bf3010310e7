# SPDX-License-Identifier: BSD-3-Clause
"""pytest fixtures for the shared_memory_image tests."""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smi_testutil  # noqa: E402


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
