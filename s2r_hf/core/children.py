"""Child processes that die with the process that started them, so a killed `s2r` (SIGKILL included) leaves no
trainer or lighteval process behind, still writing into a folder that the next run resumes.

On Linux the child asks the kernel, just before it starts, to be sent SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG). Elsewhere, or without glibc, a child outlives a killed parent, as any child would.

The child also runs in its own process group, so the terminal's Ctrl-C (SIGINT to the foreground process group) reaches
the s2r process alone: it stops its child itself and says so in one line, where the child would print its own
traceback (a trainer's is 46 lines).

A process started by someone else's launcher (the workers of `torchrun` or `accelerate launch`) ties itself to that
launcher with `tie_to_parent()`: the launcher, killed, cannot forward anything to its workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1


def run_tied(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """`subprocess.run(command, **kwargs)`, the child tied to this process's life."""
    # preexec_fn is unsafe only while other threads hold locks the forked child needs; it calls prctl and nothing else.
    return subprocess.run(list(command), preexec_fn=_preexec(), **kwargs)


def popen_tied(command: Sequence[str], **kwargs: Any) -> subprocess.Popen:
    """`subprocess.Popen(command, **kwargs)`, the child tied to this process's life (a background evaluation)."""
    return subprocess.Popen(list(command), preexec_fn=_preexec(), **kwargs)


def tie_to_parent() -> bool:
    """Ask the kernel to kill this process when its parent dies; returns False where that cannot be asked.

    If the parent is already gone (this process was re-parented before it could ask), it exits at once.
    """
    if sys.platform != "linux":
        return False
    parent = os.getppid()
    if not _set_pdeathsig():
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    return True


def _preexec():
    if sys.platform == "linux":
        return _die_with_parent
    return _own_process_group if hasattr(os, "setpgid") else None


def _die_with_parent() -> None:
    """Runs in the child between fork and exec."""
    _own_process_group()
    _set_pdeathsig()


def _own_process_group() -> None:
    os.setpgid(0, 0)


def _set_pdeathsig() -> bool:
    import ctypes

    with contextlib.suppress(OSError):
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    return False
