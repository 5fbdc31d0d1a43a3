"""The pool report's numbers (hand-computed), its files and its rendering."""

import json

import pytest
from datasets import Dataset

from s2r_hf.core.columns import DIFFICULTY, ID, RETHINK_COUNT, ROLLOUT_DIFFICULTY, SAMPLED_DIFFICULTY, TRACE_LENGTH
from s2r_hf.outputs.pool_report import describe_pool, render_report, report_files

# Medians: length 30, difficulty 0.4 (rows 1 and 3 sit on it: easy). Quadrants: row 0 short-hard, rows 1-2 short-easy,
# rows 3-4 long-easy. Difficulty ranks (ascending) 5, 3.5, 2, 3.5, 1 against length ranks 1..5: Spearman
# -8 / sqrt(9.5 * 10) = -0.8208; rethinks fall as length grows: -1. Rollout ranks 4.5, 4.5, 2, 2, 2: Spearman with the
# judge 6.25 / sqrt(9.5 * 7.5) = 0.7404. AUC: never solved (0.9, 0.4) against always solved (0.2, 0.4, 0.1): 3 + 2.5
# of 6 pairs = 0.9167.
POOL = Dataset.from_dict(
    {
        ID: list("abcde"),
        TRACE_LENGTH: [10, 20, 30, 40, 50],
        DIFFICULTY: [0.9, 0.4, 0.2, 0.4, 0.1],
        RETHINK_COUNT: [5, 4, 3, 2, 1],
        ROLLOUT_DIFFICULTY: [1.0, 1.0, 0.0, 0.0, 0.0],
    }
)
S2R = {"name": "p", "length": {"unit": "tokens"}, "difficulty": {"scorer": "judge"}}


def test_numbers_of_the_report():
    report = describe_pool(POOL, S2R)
    assert report["medians"] == {"length": 30.0, "difficulty": 0.4}
    assert report["quadrants"] == {"long-hard": 0, "long-easy": 2, "short-hard": 1, "short-easy": 2}
    assert report["spearman"] == {
        "difficulty ~ length": -0.8208,
        "difficulty ~ rethink count": 0.8208,
        "length ~ rethink count": -1.0,
    }
    assert report["judge_vs_rollout"] == {
        "rows": 5,
        "spearman": 0.7404,
        "auc_never_vs_always": 0.9167,
        "never_solved": 2,
        "always_solved": 3,
    }
    assert report["hygiene"] is None and report["subset"] is None


def test_a_subset_is_counted_by_the_pools_quadrants():
    report = describe_pool(POOL, S2R, POOL.select([0, 3]), {"name": "s", "strategy": "joint"})
    assert report["subset"] == {
        "name": "s",
        "strategy": "joint",
        "quadrant": None,
        "rows": 2,
        "quadrants": {"long-hard": 0, "long-easy": 1, "short-hard": 1, "short-easy": 0},
    }


def test_a_rollout_scored_pool_has_no_judge_section_and_constant_columns_are_undefined():
    pool = POOL.remove_columns(ROLLOUT_DIFFICULTY).map(lambda row: {RETHINK_COUNT: 0})
    report = describe_pool(pool, {**S2R, "difficulty": {"scorer": "rollout"}})
    assert report["judge_vs_rollout"] is None
    assert report["spearman"]["length ~ rethink count"] is None
    assert "| length ~ rethink count | undefined |" in render_report(report)


def test_files_and_hygiene_counts_when_the_card_has_them():
    # the shape s2r_hf.hygiene writes into a scored pool's card
    hygiene = {
        "decontamination": {
            "rows_in": 14, "rows_dropped": 4, "ngram": 8, "pairs": 5, "pairs_file": "decontamination.jsonl",
            "benchmarks": {
                "math500": {"problems": 500, "rows_dropped": 3},
                "aime24": {"problems": 30, "rows_dropped": 1},
            },
        },
        "near_duplicates": {
            "mode": "cluster", "threshold": 0.8, "clusters": 7, "rows_in_clusters": 9, "rows": 10, "largest_cluster": 3,
        },
    }  # fmt: skip
    report = describe_pool(POOL, {**S2R, "hygiene": hygiene})
    files = report_files(POOL, report)
    assert sorted(files) == ["judge_vs_rollout.png", "quadrants.png", "report.json", "report.md"]
    assert json.loads(files["report.json"])["hygiene"] == hygiene
    text = files["report.md"].decode()
    assert "| math500 | 500 | 3 |" in text and "## Hygiene" in text
    assert "4 of 14 rows dropped before scoring" in text and "7\nclusters hold 9 of 10 rows" in text
    assert "![difficulty against trace length, with the quadrants at the medians](quadrants.png)" in text
    assert "| **long** (length > 30) | 2 (40.0%) | 0 (0.0%) |" in text
    assert files["quadrants.png"].startswith(b"\x89PNG")
    # the same input gives the same bytes
    assert report_files(POOL, report) == files


def test_the_coverage_rule_and_its_settings_are_stated_in_the_hygiene_section():
    decontamination = {
        "rows_in": 291, "rows_dropped": 3, "ngram": 5, "pairs": 3, "pairs_file": "decontamination.jsonl",
        "rule": "coverage", "threshold": 0.6, "boilerplate": 4, "numbers": "masked",
        "benchmarks": {"math500": {"problems": 500, "rows_dropped": 1}},
    }  # fmt: skip
    text = render_report(describe_pool(POOL, {**S2R, "hygiene": {"decontamination": decontamination}}))
    assert "Decontamination (rule `coverage`): 3 of 291 rows dropped before scoring" in text
    assert "covering at least 0.6 of a benchmark problem's words with shared runs of 5 words" in text
    assert "numbers masked" in text and "found in 4 or more benchmark problems is a template phrase" in text
    assert "(pool id,\nbenchmark, benchmark id, coverage, shared words) are in `decontamination.jsonl`" in text


@pytest.mark.parametrize("hygiene", [None, {}])
def test_no_hygiene_section_without_counts(hygiene):
    assert "Hygiene" not in render_report(describe_pool(POOL, {**S2R, "hygiene": hygiene}))


# Sampled for rows a, c, d, e (b was not sampled: null). Judge ranks over them 4, 2, 3, 1 (a, c, d, e) against sampled
# ranks 4, 1.5, 3, 1.5: 4.5 / sqrt(5 * 4.5) = 0.9487. Never solved: a (0.9); always solved: c (0.2), e (0.1): AUC 1.
SAMPLED = POOL.add_column(SAMPLED_DIFFICULTY, [1.0, None, 0.0, 0.5, 0.0])


def test_the_judge_against_sampled_pass_rates_counts_only_the_sampled_rows():
    report = describe_pool(SAMPLED, {**S2R, "sampled_difficulty": {"source": "my-sample", "rows_matched": 4}})
    assert report["judge_vs_sampled"] == {
        "rows": 4,
        "spearman": 0.9487,
        "auc_never_vs_always": 1.0,
        "never_solved": 1,
        "always_solved": 2,
        "source": "my-sample",
    }
    # the flags' comparison is computed by the same code, over every row
    assert report["judge_vs_rollout"]["rows"] == 5
    files = report_files(SAMPLED, report)
    plots = ["judge_vs_rollout.png", "judge_vs_sampled.png", "quadrants.png"]
    assert sorted(files) == [*plots, "report.json", "report.md"]
    assert json.loads(files["report.json"])["judge_vs_sampled"]["spearman"] == 0.9487
    text = files["report.md"].decode()
    assert "## The difficulty against sampled pass rates" in text and "(judge_vs_sampled.png)" in text
    assert "sampled for 4 of its 5 rows" in text and "joined by `s2r_id` from `my-sample`" in text
    assert "| Spearman (difficulty, sampled difficulty) over 4 rows | 0.949 |" in text
    assert "| AUC of the difficulty score, never solved (1) against always solved (2) | 1 |" in text
    assert (
        files["judge_vs_sampled.png"].startswith(b"\x89PNG")
        and files["judge_vs_sampled.png"] != files["judge_vs_rollout.png"]
    )


def test_a_sampled_pool_is_not_checked_against_itself_nor_an_unsampled_column():
    assert describe_pool(SAMPLED, {**S2R, "difficulty": {"scorer": "sampled"}})["judge_vs_sampled"] is None
    nothing_sampled = POOL.add_column(SAMPLED_DIFFICULTY, [None] * 5)
    report = describe_pool(nothing_sampled, S2R)
    assert report["judge_vs_sampled"] is None and "sampled pass rates" not in render_report(report)
