"""Numbers printed for people (s2r_hf.core.numbers): never in scientific notation, thousands separated."""

from __future__ import annotations

import numpy as np
import pytest

from s2r_hf.core.cards import render_body
from s2r_hf.core.numbers import plain_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1080, "1,080"),  # printed 1.08e+03 by the summaries
        (1084.6, "1,084.6"),
        (23456.5, "23,456.5"),  # a median of an even count, printed 2.346e+04 by the cards
        (2_000_000.0, "2,000,000"),
        (np.int64(605), "605"),
        (np.float64(605.123), "605.1"),
        (0.34333, "0.343"),
        (0.75, "0.75"),
        (0.000012, "0.000012"),  # 1.2e-05
        (-0.5, "-0.5"),
        (0, "0"),
        (None, "-"),
        (True, "True"),
        ("n/a", "n/a"),
    ],
)
def test_plain_number(value, text):
    assert plain_number(value) == text


def test_pool_report_prints_long_medians_and_counts_plainly():
    # A real pool in tokens: medians above 10,000 were 2.346e+04 in the card and the report.
    report = {
        "pool": None, "rows": 12345, "length_unit": "tokens", "medians": {"length": 23456.5, "difficulty": 0.5},
        "quadrants": {"long-easy": 3000, "long-hard": 3172, "short-easy": 3173, "short-hard": 3000},
        "subset": None, "spearman": {"length vs difficulty": 0.000012}, "judge_vs_rollout": None, "hygiene": None,
    }  # fmt: skip
    text = render_body("pool_report.md", report=report, prefix="", heading="#")
    assert "12,345 rows. Split at the medians, length 23,456.5 tokens and difficulty 0.5" in text
    assert "| **long** (length > 23,456.5) | 3,000 (24.3%) | 3,172 (25.7%) |" in text
    assert "| length vs difficulty | 0.000012 |" in text
    assert "e+0" not in text and "e-0" not in text
