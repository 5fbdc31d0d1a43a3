"""s2r_hf.core.stats: fractional ranks, Spearman and the AUC, against values computed by hand; and that they are the
package's only definitions of these statistics."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import s2r_hf
from s2r_hf.core.errors import InputError
from s2r_hf.core.stats import agreement_with_pass_rates, auc, average_ranks, spearman


def test_average_ranks_share_the_mean_position_of_ties():
    assert average_ranks(np.array([0.9, 0.5, 0.5, 0.1, 0.9, 0.3])).tolist() == [1.5, 3.5, 3.5, 6, 1.5, 5]
    assert average_ranks(np.array([3, 1, 2, 2]), descending=False).tolist() == [4, 1, 2.5, 2.5]


def test_spearman_hand_computed():
    # no ties: d = (0, 1, 1, 0), 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8, abs=1e-12)
    # ties share their mean rank: x ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4) -> 4.5 / sqrt(4.5 * 5)
    assert spearman([10, 20, 20, 30], [1, 2, 3, 4]) == pytest.approx(4.5 / math.sqrt(22.5), abs=1e-12)
    assert spearman([3, 2, 1], [0.1, 0.5, 0.7]) == pytest.approx(-1.0, abs=1e-12)
    assert spearman([0.5, 0.5, 0.5], [1, 2, 3]) is None


def test_spearman_refuses_sequences_of_different_lengths():
    with pytest.raises(InputError, match="one length; got 3 and 2"):
        spearman([1, 2, 3], [1, 2])


def test_auc_counts_ties_half_and_needs_both_sides():
    assert auc([0.5], [0.5]) == 0.5
    assert auc([0.9, 0.8], [0.1]) == 1.0
    assert auc([], [0.1]) is None
    assert auc([0.1], []) is None
    # pairs won: 0.9 beats all three (3), 0.4 beats 0.1 (1) and ties 0.4 (0.5), loses to 0.5: 4.5 of 6
    assert auc([0.9, 0.4], [0.5, 0.1, 0.4]) == 0.75
    assert auc([0.1, 0.2], [0.3, 0.4]) == 0.0


def test_agreement_with_pass_rates_is_spearman_and_the_never_vs_always_auc():
    # never solved: 0.9 and 0.3; always solved: 0.4 and 0.1. Pairs won: 0.9 beats both (2), 0.3 beats 0.1 (1): 3 of 4.
    # Score ranks 4, 2, 3, 1 against reference ranks 3.5, 3.5, 1.5, 1.5: (1.5 - 0.5 - 0.5 + 1.5) / sqrt(5 * 4)
    agreement = agreement_with_pass_rates([0.9, 0.3, 0.4, 0.1], [1.0, 1.0, 0.0, 0.0])
    assert agreement["rows"] == 4 and (agreement["never_solved"], agreement["always_solved"]) == (2, 2)
    assert agreement["auc_never_vs_always"] == 0.75
    assert agreement["spearman"] == pytest.approx(2 / math.sqrt(20), abs=1e-12)
    # a kind of question missing: no AUC; no rows: nothing at all
    assert agreement_with_pass_rates([0.2, 0.8], [0.5, 1.0])["auc_never_vs_always"] is None
    assert agreement_with_pass_rates([], [])["spearman"] is None
    with pytest.raises(InputError, match="one length; got 2 and 1"):
        agreement_with_pass_rates([0.2, 0.8], [0.5])


def test_rank_statistics_have_one_home():
    package = Path(s2r_hf.__file__).parent
    homes = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in ("average_ranks", "spearman", "auc"):
                homes.setdefault(node.name, []).append(str(path.relative_to(package)))
    assert homes == {name: ["core/stats.py"] for name in ("average_ranks", "spearman", "auc")}
