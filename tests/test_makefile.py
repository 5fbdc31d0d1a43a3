"""The Makefile's installs, run by make against a stand-in interpreter that records what it is asked to do: `make demo`
installs the package alone, `make test` its extras, pip's progress is shown, a second run is skipped, and a missing
torch comes from PyTorch's CPU index unless pip is configured with sources of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The stand-in for `python`: it logs every call, has torch once `pip install torch...` ran and this checkout once
# `pip install -e ...` ran, and `pip config list` shows a find-links only when PIP_SOURCES is set.
STAND_IN = r"""#!/bin/sh
state="$(dirname "$0")"
echo "$*" >> "$state/calls"
case "$1 $2" in
  "-c import hashlib"*) echo 0123456789ab ;;
  "-c import torch") [ -e "$state/torch" ] ;;
  "-m pip")
    case "$3 $4" in
      "config list") [ -z "$PIP_SOURCES" ] || echo "global.find-links='/opt/wheels'" ;;
      "install torch"*) touch "$state/torch" ;;
      "install -e") touch "$state/checkout" ;;
    esac ;;
  "-I -c") [ -e "$state/checkout" ] ;;
esac
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def checkout(tmp_path):
    """The Makefile and pyproject.toml in a folder of their own (the stamps go there), and the stand-in."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, folder / name)
    os.utime(folder / "pyproject.toml", (1_600_000_000, 1_600_000_000))  # older than any stamp made now
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text(STAND_IN)
    python.chmod(0o755)
    return folder, python


def make(checkout, target: str, *, pip_sources: bool = False, extra: tuple[str, ...] = ()) -> list[str]:
    folder, python = checkout
    calls = python.parent / "calls"
    calls.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "PIP_"))}
    env["PIP_SOURCES"] = "1" if pip_sources else ""
    result = subprocess.run(
        ["make", "-C", str(folder), target, f"PYTHON={python}", *extra], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in calls.read_text().splitlines() if not line.startswith(("-c import hashlib", "-I -c"))]


def test_make_demo_installs_the_package_alone_with_the_cpu_torch_then_skips_the_install(checkout):
    assert make(checkout, "demo") == [
        "-c import torch",
        "-m pip config list",
        "-m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
        "-m pip install -e .",  # no extras, no --quiet
        "-m s2r_hf.cli demo --output s2r-demo --overwrite",
    ]
    assert make(checkout, "demo") == ["-m s2r_hf.cli demo --output s2r-demo --overwrite"]
    # `make test` needs the extras: installed once (torch is there now), then skipped, and `make demo` with it.
    assert make(checkout, "test") == ["-c import torch", "-m pip install -e .[all]", "-m ruff check .", "-m pytest"]
    assert make(checkout, "test") == ["-m ruff check .", "-m pytest"]
    assert make(checkout, "demo") == ["-m s2r_hf.cli demo --output s2r-demo --overwrite"]
    stamps = sorted(path.name for path in checkout[0].glob(".installed-*"))
    assert stamps == [".installed-0123456789ab-all", ".installed-0123456789ab-base"]


def test_a_pip_configured_with_its_own_sources_gets_torch_from_them(checkout):
    assert make(checkout, "install-base", pip_sources=True)[:3] == [
        "-c import torch",
        "-m pip config list",
        "-m pip install torch==2.13.0",
    ]


def test_an_empty_torch_index_leaves_pip_its_configuration(checkout):
    assert make(checkout, "install", extra=("TORCH_INDEX=",))[:2] == ["-c import torch", "-m pip install torch==2.13.0"]
