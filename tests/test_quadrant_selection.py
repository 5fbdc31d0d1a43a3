"""The quadrant strategy: median split, best of the quadrant by joint rank, filled from its neighbours in order."""

import pytest
from datasets import Dataset

from s2r_hf.core.columns import DIFFICULTY, ID, TRACE_LENGTH
from s2r_hf.core.errors import InputError
from s2r_hf.selection import QUADRANTS, SelectConfig, quadrant_fill_order, select, select_with_report, split_quadrants

# Length median (40 + 70) / 2 = 55: long = a b c d. Difficulty median (0.3 + 0.7) / 2 = 0.5: hard = a b e f.
# Length ranks a1 b2 c3 d4 h5 g6 f7 e8; difficulty ranks e1 a2 b3 f4 h5 d6 c7 g8.
# Joint rank at w = 0.25: a 1.25, b 2.25, c 4.0, d 4.5, h 5.0, e 6.25, f 6.25, g 6.5.
ROWS = {
    "a": (100, 0.9),
    "b": (90, 0.8),
    "c": (80, 0.1),
    "d": (70, 0.2),
    "e": (10, 0.95),
    "f": (20, 0.7),
    "g": (30, 0.0),
    "h": (40, 0.3),
}


def pool(order=None):
    names = order or list(ROWS)
    return Dataset.from_dict(
        {
            ID: names,
            TRACE_LENGTH: [ROWS[name][0] for name in names],
            DIFFICULTY: [ROWS[name][1] for name in names],
        }
    )


@pytest.mark.parametrize(
    ("quadrant", "k", "expected", "taken"),
    [
        ("long-hard", 2, ["a", "b"], {"long-hard": 2}),
        # long-easy fills first (same length side), then short-hard; e and f tie at 6.25 and e's id sorts first
        ("long-hard", 5, ["a", "b", "c", "d", "e"], {"long-hard": 2, "long-easy": 2, "short-hard": 1}),
        ("short-easy", 3, ["h", "g", "e"], {"short-easy": 2, "short-hard": 1}),
        (
            "short-hard",
            8,
            ["e", "f", "h", "g", "a", "b", "c", "d"],
            dict.fromkeys(quadrant_fill_order("short-hard"), 2),
        ),
        ("long-easy", 1, ["c"], {"long-easy": 1}),
    ],
)
def test_best_of_the_quadrant_then_its_neighbours(quadrant, k, expected, taken):
    subset, report = select_with_report(pool(), SelectConfig(k=k, strategy="quadrant", quadrant=quadrant))
    assert subset[ID] == expected
    assert report.quadrant == {
        "name": quadrant,
        "length_median": 55.0,
        "difficulty_median": 0.5,
        "sizes": dict.fromkeys(QUADRANTS, 2),
        "taken": taken,
    }
    assert report.weight == 0.25
    # the same rows whatever the order of the input
    assert select(pool(list("hgfedcba")), k=k, strategy="quadrant", quadrant=quadrant)[ID] == expected


def test_the_weight_orders_rows_inside_the_quadrant():
    # Long-hard is a (L1, D2) and b (L2, D3): b never beats a. Short-hard: e (L8, D1) and f (L7, D4).
    assert select(pool(), k=1, strategy="quadrant", quadrant="short-hard", weight=1.0)[ID] == ["e"]
    assert select(pool(), k=1, strategy="quadrant", quadrant="short-hard", weight=0.0)[ID] == ["f"]


def test_a_row_at_the_median_is_short_and_easy():
    quadrant, length_median, difficulty_median = split_quadrants([1, 2, 3], [0.0, 0.5, 1.0])
    assert (length_median, difficulty_median) == (2.0, 0.5)
    assert [QUADRANTS[index] for index in quadrant] == ["short-easy", "short-easy", "long-hard"]
    # All equal: every row is at the median, so the whole pool is short-easy.
    quadrant, _, _ = split_quadrants([5, 5], [0.0, 0.0])
    assert [QUADRANTS[index] for index in quadrant] == ["short-easy", "short-easy"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "quadrant", "quadrant": "long-medium"}, "one of long-hard, long-easy, short-hard, short-easy; "
                                                               "got 'long-medium'"),
        ({"strategy": "quadrant"}, "needs --quadrant, one of long-hard, long-easy, short-hard, short-easy; none"),
        ({"quadrant": "long-hard"}, "applies to the quadrant strategy, not 'joint'"),
    ],
)  # fmt: skip
def test_bad_quadrant_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        SelectConfig(**kwargs)
