"""Output-folder locks: a second writer is refused at once, and a killed holder leaves no stale lock."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from s2r_hf.core.errors import OutputError
from s2r_hf.core.locks import FileLock, lock_path_for, locked_output


def test_second_writer_is_refused_and_lock_file_removed(tmp_path):
    out = tmp_path / "run"
    with locked_output(out, "s2r train"):
        assert lock_path_for(out).is_file()
        with pytest.raises(OutputError, match="another `s2r train` is writing"), locked_output(out, "s2r train"):
            pass
    assert not lock_path_for(out).exists()
    with locked_output(out, "s2r train"):  # free again
        pass


def test_missing_parent_is_one_line(tmp_path):
    with pytest.raises(OutputError, match="does not exist"), locked_output(tmp_path / "no" / "run", "s2r evaluate"):
        pass


def test_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / ".x.s2r-lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "from s2r_hf.core.locks import FileLock; "
         f"lock = FileLock({str(path)!r}, 'busy').acquire(); "
         "print('held', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError, match="busy"):
            FileLock(path, "busy").acquire()
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    lock = FileLock(path, "busy")
    while not lock.held and time.monotonic() < deadline:
        lock.acquire()
    assert lock.held
    lock.release()
