"""A child started with `run_tied` dies with its parent, even when the parent is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from fixtures.evaluation import REPO_ROOT


@pytest.mark.skipif(sys.platform != "linux", reason="the tie is Linux's prctl(PR_SET_PDEATHSIG)")
def test_a_tied_child_dies_with_its_killed_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", "from s2r_hf.core.children import run_tied; run_tied(['sleep', '120'])"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        children = []
        while not children and time.monotonic() < deadline:
            children = psutil.Process(parent.pid).children()
            time.sleep(0.1)
        assert children, "the parent started no child"
        (child,) = children
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        _, alive = psutil.wait_procs([child], timeout=10)
        assert not alive, "the child outlived its killed parent"
    finally:
        for process in psutil.Process().children(recursive=True):
            process.kill()
