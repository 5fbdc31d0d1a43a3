"""Exclusive locks on output folders, so two runs never write one folder at once.

Advisory `flock` locks: the kernel releases them when the process ends, SIGKILL included, so a killed run never leaves
a stale lock behind. The lock file of an output folder is its hidden sibling `.<name>.s2r-lock` (the folder itself may
not exist yet, or be replaced whole when the run ends); it is removed when the lock is released. Where flock does not
exist (Windows), nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from s2r_hf.core.errors import OutputError

LOCK_SUFFIX = ".s2r-lock"


def lock_path_for(folder: str | os.PathLike) -> Path:
    """The lock file that guards `folder`: `.<name>.s2r-lock` beside it."""
    folder = Path(folder).expanduser().resolve()
    return folder.parent / f".{folder.name}{LOCK_SUFFIX}"


class FileLock:
    """An exclusive, non-blocking flock on `path`, held from `acquire()` to `release()` (or the process's end).

    `busy` is the message of the `OutputError` raised when another process holds it: say who and what to do.
    `remove` removes the lock file on release (for a lock file beside the user's folders); a lock file inside a folder
    of s2r's own can stay.
    """

    def __init__(self, path: str | os.PathLike, busy: str, *, remove: bool = True):
        self.path = Path(path)
        self.busy = busy
        self.remove = remove
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> FileLock:
        if self._handle is not None:
            return self
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks
            return self
        while True:
            try:
                handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
            except OSError as err:
                raise OutputError(
                    f"cannot create the lock file {str(self.path)!r} ({err.strerror or err}); choose an output "
                    "folder in a place you can write to"
                ) from err
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise OutputError(self.busy) from None
            # The holder before us may have removed the file between our open and our lock: lock the file on disk.
            try:
                same = os.path.samestat(os.fstat(handle.fileno()), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._handle = handle
                return self
            handle.close()

    def release(self) -> None:
        if self._handle is None:
            return
        if self.remove:
            with contextlib.suppress(OSError):
                self.path.unlink()
        self._handle.close()
        self._handle = None

    def __enter__(self) -> FileLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked_output(folder: str | os.PathLike, command: str | None = None) -> Iterator[FileLock]:
    """Hold the lock of output `folder` for the block; another run writing it is refused with one line.

    `command` names what writes it (`s2r train`, `s2r evaluate`), for the message; None for any s2r command.
    """
    folder = Path(folder).expanduser()
    writer = f"`{command}`" if command else "s2r command"
    busy = (
        f"another {writer} is writing {str(folder)!r} right now; wait for it to end (or stop it), or choose "
        "another output folder"
    )
    path = lock_path_for(folder)
    if not path.parent.is_dir():
        raise OutputError(
            f"the folder {str(path.parent)!r} that would hold {str(folder)!r} does not exist; create it first, or "
            "choose another output path"
        )
    with FileLock(path, busy) as lock:
        yield lock
