"""Disks that fail writes for real, for the evaluation and compare tests: a full one and a read-only one.

Both are small tmpfs mounts (we run as root, so chmod would not stop a write); skipped where mounting is not permitted.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest


def _mount_tmpfs(tmp_path, name: str):
    folder = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    return folder


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: writing more than that fails with a real ENOSPC."""
    folder = _mount_tmpfs(tmp_path, "tiny")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def read_only_folder(tmp_path):
    """A tmpfs remounted read-only: every write in it fails with EROFS."""
    folder = _mount_tmpfs(tmp_path, "read-only")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
