"""Rank statistics, in one place: fractional ranks (the one ranking rule of s2r-hf), Spearman's rank correlation and
the AUC (Mann-Whitney U). The selection ranks with them, the judge trainer scores its held-out rows with Spearman, and
the pool report compares signals with both.

Tied values share the mean of the 1-based positions they occupy (two values tied for first both rank 1.5), so a tie
never favours one row over another; Spearman and the AUC inherit that rule (a tie counts half in the AUC).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from s2r_hf.core.errors import InputError

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


def spearman(x, y) -> float | None:
    """Spearman rank correlation (tied values share their mean rank); None when either side is constant."""
    import numpy as np

    x_ranks = average_ranks(np.asarray(x, dtype=np.float64), descending=False)
    y_ranks = average_ranks(np.asarray(y, dtype=np.float64), descending=False)
    if len(x_ranks) != len(y_ranks):
        raise InputError(f"spearman needs two sequences of one length; got {len(x_ranks)} and {len(y_ranks)}")
    x_centred, y_centred = x_ranks - x_ranks.mean(), y_ranks - y_ranks.mean()
    denominator = math.sqrt(float(x_centred @ x_centred) * float(y_centred @ y_centred))
    if denominator == 0:
        return None
    return float(x_centred @ y_centred) / denominator


def auc(positive, negative) -> float | None:
    """P(a positive scores above a negative), a tie counting half: the Mann-Whitney U over n_pos * n_neg. None when
    either side is empty."""
    import numpy as np

    if len(positive) == 0 or len(negative) == 0:
        return None
    ranks = average_ranks(np.concatenate([positive, negative]).astype(np.float64), descending=False)
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def agreement_with_pass_rates(scores, reference) -> dict[str, float | int | None]:
    """How well `scores` (a difficulty, 1 = hardest) agree with a reference difficulty taken from pass rates
    (1 - pass rate: 1 = never solved, 0 = always solved), row for row: the rows compared, their Spearman
    correlation, and the AUC of the scores for telling the never-solved questions from the always-solved ones
    (None when either kind is missing). The pool report checks a judge against rollout flags and against sampled
    pass rates with it, and the calibrated judge's held-out rows are measured with it."""
    import numpy as np

    scores, reference = np.asarray(scores, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if scores.shape != reference.shape:
        raise InputError(f"scores and reference must have one length; got {len(scores)} and {len(reference)}")
    never, always = reference == 1.0, reference == 0.0
    return {
        "rows": len(scores),
        "spearman": spearman(scores, reference) if len(scores) else None,
        "auc_never_vs_always": auc(scores[never], scores[always]),
        "never_solved": int(never.sum()),
        "always_solved": int(always.sum()),
    }
