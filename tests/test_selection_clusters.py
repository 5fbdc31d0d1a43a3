"""select(max_per_cluster=N): rows past the first N of their question cluster are skipped; the subset keeps its size.
drop_near_duplicates: one row per cluster, the best joint rank."""

from collections import Counter

import pytest
from datasets import Dataset

from s2r_hf import drop_near_duplicates, select
from s2r_hf.core.columns import DIFFICULTY, ID, QUESTION_CLUSTER, TRACE_LENGTH
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.selection import SelectConfig, select_with_report

ROWS = [  # id, difficulty, trace length, cluster, topic
    ("a", 0.9, 800, "X", "algebra"),
    ("b", 0.8, 700, "X", "algebra"),
    ("c", 0.7, 600, "X", "geometry"),
    ("d", 0.6, 100, "Y", "geometry"),
    ("e", 0.5, 500, "Z", "algebra"),
    ("f", 0.4, 400, "Z", "geometry"),
    ("g", 0.3, 300, "W", "algebra"),
    ("h", 0.2, 200, "V", "geometry"),
]


@pytest.fixture
def pool():
    ids, difficulty, length, cluster, topic = zip(*ROWS)
    return Dataset.from_dict(
        {
            ID: list(ids),
            DIFFICULTY: list(difficulty),
            TRACE_LENGTH: list(length),
            QUESTION_CLUSTER: list(cluster),
            "topic": list(topic),
        }
    ).shuffle(seed=1)  # the input order must not matter


def test_hardest_fills_to_size_skipping_capped_clusters(pool):
    # Hardest first: a b c d e f g h. One per cluster: a (X), skip b c, d (Y), e (Z), skip f, g (W).
    assert select(pool, k=4, strategy="hardest", max_per_cluster=1)[ID] == ["a", "d", "e", "g"]
    assert select(pool, k=4, strategy="hardest", max_per_cluster=2)[ID] == ["a", "b", "d", "e"]
    assert select(pool, k=4, strategy="hardest")[ID] == ["a", "b", "c", "d"]


def test_joint_rank_order_with_a_cap(pool):
    # Difficulty ranks a1 b2 c3 d4 e5 f6 g7 h8, length ranks a1 b2 c3 e4 f5 g6 h7 d8; at weight 0.5 the joint ranks
    # are a 1, b 2, c 3, e 4.5, f 5.5, d 6, g 6.5, h 7.5. One per cluster: a, e, d, g.
    subset, report = select_with_report(pool, SelectConfig(k=4, weight=0.5, max_per_cluster=1))
    assert subset[ID] == ["a", "e", "d", "g"]
    assert subset["s2r_joint_rank"] == [1.0, 4.5, 6.0, 6.5]  # ranks over the whole pool, not the capped rows
    assert report.max_per_cluster == 1 and report.rows_past_cluster_cap == 3  # b, c and f
    assert select(pool, k=4, weight=0.5)[ID] == ["a", "b", "c", "e"]


def test_random_and_diverse_respect_the_cap(pool):
    subset = select(pool, k=5, strategy="random", seed=4, max_per_cluster=1)
    assert len(subset) == 5 and sorted(subset[QUESTION_CLUSTER]) == ["V", "W", "X", "Y", "Z"]
    subset = select(pool, k=4, strategy="diverse", group_column="topic", max_per_cluster=1)
    assert len(subset) == 4 and max(Counter(subset[QUESTION_CLUSTER]).values()) == 1
    assert Counter(subset["topic"]) == {"algebra": 2, "geometry": 2}


def test_too_few_rows_within_the_cap_and_no_cluster_column(pool):
    with pytest.raises(InputError, match=r"only 5 rows are within 1 per question cluster \(5 clusters\), fewer than"):
        select(pool, k=6, strategy="random", max_per_cluster=1)
    with pytest.raises(InputError, match="max_per_cluster must be a positive integer, got 0"):
        select(pool, k=2, max_per_cluster=0)
    with pytest.raises(ColumnError, match="--near-duplicates cluster"):
        select(pool.remove_columns(QUESTION_CLUSTER), k=2, max_per_cluster=1)
    with pytest.raises(InputError, match="max_per_cluster does not apply to the quadrant strategy"):
        select(pool, k=2, strategy="quadrant", quadrant="long-hard", max_per_cluster=1)


def scored(weight_rows):
    ids, difficulty, length, cluster = zip(*weight_rows)
    return Dataset.from_dict(
        {ID: list(ids), DIFFICULTY: list(difficulty), TRACE_LENGTH: list(length), QUESTION_CLUSTER: list(cluster)}
    )


def test_drop_keeps_the_best_joint_rank_per_cluster():
    pool = scored([("r1", 0.9, 100, "c1"), ("r2", 0.5, 300, "c1"), ("r3", 0.1, 200, "c2"), ("r4", 0.7, 50, "c2")])
    # Difficulty ranks r1 1, r4 2, r2 3, r3 4; length ranks r2 1, r3 2, r1 3, r4 4. At weight 0.25 the joint ranks
    # are r1 2.5, r2 1.5, r3 2.5, r4 3.5: r2 wins c1, r3 wins c2. At weight 1 difficulty alone: r1 and r4.
    kept, dropped = drop_near_duplicates(pool, weight=0.25)
    assert kept[ID] == ["r2", "r3"] and dropped == 2
    assert drop_near_duplicates(pool, weight=1.0)[0][ID] == ["r1", "r4"]


def test_drop_needs_the_cluster_column(pool):
    with pytest.raises(ColumnError, match="column 's2r_question_cluster' not in the dataset"):
        drop_near_duplicates(pool.remove_columns(QUESTION_CLUSTER))
