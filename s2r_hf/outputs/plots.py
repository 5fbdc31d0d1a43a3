"""Plots for the subset card: the difficulty and length distributions of the pool against the subset.

`plot_distributions` returns PNG files as bytes (name -> content); `s2r select` writes them next to the parquet
shards and the card shows them. The bytes are a function of the input alone: no software version or date is embedded,
the style is matplotlib's default whatever the user's matplotlibrc says, and nothing touches pyplot's global state
(s2r_hf.core.figures).
Republishing an unchanged subset therefore uploads identical plots, and the Hub sees no change.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence

from s2r_hf.core.errors import InputError
from s2r_hf.core.figures import new_figure, png_bytes

logger = logging.getLogger(__name__)

DIFFICULTY_PLOT = "difficulty.png"
LENGTH_PLOT = "length.png"
PLOT_FILES = (DIFFICULTY_PLOT, LENGTH_PLOT)

_FIGSIZE = (6.4, 4.0)
_DPI = 100
_POOL_COLOR = "#9aa5b1"
_SUBSET_COLOR = "#d9480f"


def _finite(values: Sequence[float] | None, what: str) -> list[float]:
    if values is None:
        raise InputError(f"{what} is None; pass the column's values (a list or array of numbers)")
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InputError(f"{what} must be a list or array of numbers, got {type(values).__name__}")
    out = []
    for value in values:
        if value is None:
            continue
        if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Real):
            raise InputError(f"{what} must hold numbers; got {value!r} ({type(value).__name__})")
        number = float(value)
        if math.isfinite(number):
            out.append(number)
    if not out:
        raise InputError(f"{what} has no finite values (received {len(values)} entries); nothing to plot")
    return out


def _histogram_png(
    pool: list[float],
    subset: list[float],
    *,
    bins,
    xlabel: str,
    title: str,
) -> bytes:
    import numpy as np

    with new_figure(_FIGSIZE, _DPI) as figure:
        axes = figure.subplots()
        edges = np.histogram_bin_edges(np.asarray(pool + subset, dtype=float), bins=bins)
        axes.hist(pool, bins=edges, density=True, color=_POOL_COLOR, alpha=0.75, label=f"pool (n={len(pool):,})")
        axes.hist(
            subset,
            bins=edges,
            density=True,
            histtype="step",
            linewidth=2.0,
            color=_SUBSET_COLOR,
            label=f"subset (n={len(subset):,})",
        )
        axes.axvline(float(np.median(pool)), color=_POOL_COLOR, linestyle="--", linewidth=1.2, label="pool median")
        axes.axvline(
            float(np.median(subset)), color=_SUBSET_COLOR, linestyle="--", linewidth=1.2, label="subset median"
        )
        axes.set_xlabel(xlabel)
        axes.set_ylabel("density (share of rows per unit)")
        axes.set_title(title)
        axes.legend(loc="best", frameon=False)
        figure.tight_layout()
        return png_bytes(figure)


def plot_distributions(
    pool_difficulty: Sequence[float] | None,
    pool_length: Sequence[float] | None,
    subset_difficulty: Sequence[float] | None,
    subset_length: Sequence[float] | None,
    *,
    length_unit: str = "tokens",
) -> dict[str, bytes]:
    """PNG histograms of the pool against the subset: {"difficulty.png": ..., "length.png": ...}.

    Both histograms share bin edges between pool and subset and are normalised to densities, so a 10% subset is
    comparable with its pool. Missing (None/NaN) values are left out. A signal the pool was not scored on (pool and
    subset values both None) gets no plot. The same input always gives the same bytes.
    """
    files: dict[str, bytes] = {}
    if pool_difficulty is not None or subset_difficulty is not None:
        pool_values = _finite(pool_difficulty, "pool_difficulty")
        subset_values = _finite(subset_difficulty, "subset_difficulty")
        bins: int | list[float] = [index / 20 for index in range(21)]  # scores live in [0, 1]
        if min(pool_values + subset_values) < 0 or max(pool_values + subset_values) > 1:
            bins = 20  # not a probability: let the data set the range
        files[DIFFICULTY_PLOT] = _histogram_png(
            pool_values,
            subset_values,
            bins=bins,
            xlabel="question difficulty (1 = hardest)",
            title="Difficulty: pool vs subset",
        )
    if pool_length is not None or subset_length is not None:
        files[LENGTH_PLOT] = _histogram_png(
            _finite(pool_length, "pool_length"),
            _finite(subset_length, "subset_length"),
            bins=30,
            xlabel=f"reasoning trace length ({length_unit})",
            title="Trace length: pool vs subset",
        )
    if not files:
        raise InputError("nothing to plot: difficulty and length values are all None; pass at least one pair")
    logger.debug("plotted %s", ", ".join(f"{name} ({len(data)} bytes)" for name, data in files.items()))
    return files
