"""Where the `evaluate` metric module shipped with s2r-hf lives: `evaluate.load(metric_path())` (works offline)."""

from __future__ import annotations

from pathlib import Path

METRIC_NAME = "s2r_math"


def metric_path() -> str:
    """The folder of the `s2r_math` metric module (package data), for `evaluate.load`."""
    return str(Path(__file__).resolve().parent / METRIC_NAME)
