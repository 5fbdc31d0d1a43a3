"""The record of a trained judge's held-out rows (s2r_id, or the question key without one) and the calibrated judge
measured on them when it scores a pool that holds them (s2r_hf.signals.judge.held_out), against hand-computed values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from datasets import Dataset

from s2r_hf.core.columns import DIFFICULTY, ID
from s2r_hf.core.stats import spearman
from s2r_hf.outputs.pool_report import describe_pool, render_report
from s2r_hf.signals.judge.held_out import compare_held_out
from s2r_hf.signals.judge.judge_folder import EVAL_PREDICTIONS_FILE, METADATA_FILE, write_eval_predictions
from s2r_hf.signals.judge.store import question_key

QUESTIONS = ["What is 1 + 1?", "Prove Fermat.", "Count primes below 10.", "Solve x^2 = 4."]


def test_held_out_rows_are_named_by_id_or_by_question_key(tmp_path):
    with_ids = Dataset.from_dict({ID: ["a", "b", "c", "d"], "q": QUESTIONS})
    without_ids = with_ids.remove_columns(ID)
    rows, targets = np.array([1, 3]), np.array([1.0, 0.25])
    before, after = np.array([0.5, 0.4]), np.array([0.9, 0.2])
    for dataset, name in ((with_ids, "ids.jsonl"), (without_ids, "keys.jsonl")):
        write_eval_predictions(tmp_path / name, dataset, QUESTIONS, rows, targets, before, after)
    by_id = [json.loads(line) for line in (tmp_path / "ids.jsonl").read_text().splitlines()]
    by_key = [json.loads(line) for line in (tmp_path / "keys.jsonl").read_text().splitlines()]
    assert by_id == [
        {"row": 1, "target": 1.0, ID: "b", "score_before": 0.5, "score_after": 0.9},
        {"row": 3, "target": 0.25, ID: "d", "score_before": 0.4, "score_after": 0.2},
    ]
    assert [record["question_key"] for record in by_key] == [question_key(QUESTIONS[1]), question_key(QUESTIONS[3])]
    assert all(ID not in record for record in by_key)


# Held-out rows h1..h5 (h5 is not in the pool). In the pool, the calibrated judge scores h1..h4 0.9, 0.2, 0.6, 0.1;
# the base judge scored them 0.3, 0.5, 0.4, 0.6; targets 1, 0, 0.5, 0 (one never solved, two always solved).
# Calibrated: ranks 4, 2, 3, 1 against target ranks 4, 1.5, 3, 1.5 -> 4.5 / sqrt(5 * 4.5); AUC 0.9 beats 0.2 and 0.1: 1.
# Base: ranks 1, 3, 2, 4 against 4, 1.5, 3, 1.5 -> (-1.5*1.5 + 0.5*-1 + -0.5*0.5 + 1.5*-1) / sqrt(22.5); AUC 0 of 2.
RECORDS = [
    {"row": 0, "target": 1.0, ID: "h1", "score_before": 0.3, "score_after": 0.88},
    {"row": 1, "target": 0.0, ID: "h2", "score_before": 0.5, "score_after": 0.21},
    {"row": 2, "target": 0.5, ID: "h3", "score_before": 0.4, "score_after": 0.61},
    {"row": 3, "target": 0.0, ID: "h4", "score_before": 0.6, "score_after": 0.12},
    {"row": 4, "target": 1.0, ID: "h5", "score_before": 0.7, "score_after": 0.95},
]
POOL = Dataset.from_dict({ID: ["x", "h4", "h1", "h3", "y", "h2"], DIFFICULTY: [0.5, 0.1, 0.9, 0.6, 0.3, 0.2]})


def judge_folder(tmp_path, records, pool=None):
    folder = tmp_path / "judge"
    folder.mkdir()
    evaluation = {"spearman_before": -0.2, "spearman_after": 0.95}
    (folder / METADATA_FILE).write_text(json.dumps({"evaluation": evaluation, "pool": pool}), encoding="utf-8")
    lines = "".join(json.dumps(record) + "\n" for record in records)
    (folder / EVAL_PREDICTIONS_FILE).write_text(lines, encoding="utf-8")
    return folder


def test_the_calibrated_judge_against_the_base_judge_on_the_held_out_rows_in_the_pool(tmp_path):
    block = compare_held_out(POOL, judge_folder(tmp_path, RECORDS, pool={"name": "sample", "rows": 50}))
    assert block["held_out_rows"] == 5 and block["rows"] == 4 and block["key"] == ID
    assert (block["never_solved"], block["always_solved"]) == (1, 2)
    assert block["calibrated"] == {"spearman": round(4.5 / math.sqrt(22.5), 4), "auc_never_vs_always": 1.0}
    assert block["base"] == {"spearman": round(-4.5 / math.sqrt(22.5), 4), "auc_never_vs_always": 0.0}
    assert block["calibrated"]["spearman"] == round(spearman([0.9, 0.2, 0.6, 0.1], [1, 0, 0.5, 0]), 4)
    assert block["auc_missing"] is None and block["absent"] is None
    assert block["training_pool"] == {"name": "sample", "rows": 50}
    assert block["spearman_recorded"] == {"before": -0.2, "after": 0.95}
    text = render_report(describe_pool(POOL.add_column("s2r_trace_length", [1] * 6), {"judge_held_out": block}))
    assert "## The calibrated judge on its held-out rows" in text
    assert "held out 5 rows; 4 of\nthem are in this pool" in text
    assert "| calibrated | 0.949 | 1 |" in text and "| base (untrained) | -0.949 | 0 |" in text


def test_the_auc_is_na_with_its_reason_when_a_kind_of_question_is_missing(tmp_path):
    records = [record for record in RECORDS if record["target"] < 1]  # no never-solved row left
    block = compare_held_out(POOL, judge_folder(tmp_path, records))
    assert block["rows"] == 3 and block["calibrated"]["auc_never_vs_always"] is None
    assert block["auc_missing"] == "no never-solved (target 1) question among these rows"
    text = render_report(describe_pool(POOL.add_column("s2r_trace_length", [1] * 6), {"judge_held_out": block}))
    # h4, h2, h3: calibrated ranks 1, 2, 3 against targets 1.5, 1.5, 3 -> 1.5 / sqrt(2 * 1.5)
    assert f"| calibrated | {1.5 / math.sqrt(3):.3f} | undefined |" in text
    assert "The AUC is n/a: no never-solved (target 1) question among these rows." in text


@pytest.mark.parametrize(
    ("records", "reason"),
    [
        (
            [{k: v for k, v in record.items() if k != ID} | {"question_key": "k"} for record in RECORDS],
            "the judge's held-out rows were recorded without s2r_id (its training pool had none), so they cannot be "
            "found in this pool",
        ),
        ([{**record, ID: "z" + record[ID]} for record in RECORDS], "none of the judge's 5 held-out s2r_ids is in"),
        ([], "the judge's folder has no eval_predictions.jsonl"),
    ],
    ids=["trained-without-ids", "rows-of-another-pool", "no-record"],
)
def test_the_comparison_is_absent_with_the_reason(tmp_path, records, reason):
    block = compare_held_out(POOL, judge_folder(tmp_path, records))
    assert block["rows"] == 0 and reason in block["absent"]
    text = render_report(describe_pool(POOL.add_column("s2r_trace_length", [1] * 6), {"judge_held_out": block}))
    assert "No comparison of the calibrated judge on its held-out rows: " + block["absent"][:40] in " ".join(
        text.split()
    )


def test_a_judge_s2r_did_not_train_says_nothing(tmp_path):
    (tmp_path / "plain").mkdir()
    assert compare_held_out(POOL, tmp_path / "plain") is None
