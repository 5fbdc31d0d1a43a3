"""Child processes that die with the process that started them, so a killed `s2r` (SIGKILL included) leaves no
trainer or lighteval process behind, still writing into a folder that the next run resumes.

On Linux the child asks the kernel, just before it starts, to be sent SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG). Elsewhere, or without glibc, a child outlives a killed parent, as any child would.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1


def run_tied(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """`subprocess.run(command, **kwargs)`, the child tied to this process's life."""
    tie = _die_with_parent if sys.platform == "linux" else None
    # preexec_fn is unsafe only while other threads hold locks the forked child needs; it calls prctl and nothing else.
    return subprocess.run(list(command), preexec_fn=tie, **kwargs)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec."""
    import ctypes

    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
