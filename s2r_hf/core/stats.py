"""Fractional ranks: the one ranking rule of s2r-hf, used by the selection and by the judge trainer's Spearman.

Tied values share the mean of the 1-based positions they occupy (two values tied for first both rank 1.5), so a tie
never favours one row over another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def average_ranks(values: np.ndarray, descending: bool = True) -> np.ndarray:
    """1-based ranks; tied values share the mean of their positions. `descending`: the largest value ranks 1."""
    import numpy as np

    values = np.asarray(values)
    keys = -values if descending else values
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    last_position = np.cumsum(counts)  # 1-based position of each distinct value's last copy
    return (last_position - (counts - 1) / 2.0)[inverse]
