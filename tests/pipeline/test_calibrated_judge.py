"""The documented path of a judge calibrated on a sample (docs/judge.md), end to end on CPU with the tiny model:
a sampled scored pool of part of the pool, `s2r train-judge` on its pass rates, `s2r score --difficulty judge` of the
whole pool with the trained judge and `--sampled-difficulty`, and the report's held-out comparison, every number
recomputed here from the files the steps wrote."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID, PASS_RATE, SAMPLED_DIFFICULTY
from s2r_hf.core.digests import rows_sha256
from s2r_hf.core.folders import load_dataset_folder, read_card_metadata
from s2r_hf.core.stats import auc, spearman
from s2r_hf.outputs.artifacts import write_scored_pool
from s2r_hf.pipeline.score import ScoreConfig, score_pool
from s2r_hf.signals.judge.judge_folder import EVAL_PREDICTIONS_FILE, METADATA_FILE

HARD_WORDS = ["integral", "eigenvalue", "topology", "manifold"]
EASY_WORDS = ["apples", "sum", "number", "total", "price", "count", "boxes", "friends"]


def pool_rows(count: int, seed: int = 0) -> list[dict]:
    """Questions whose hard words (0 to 4) set how often they are solved: pass rate (4 - hard) / 4."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        hard = i % 5
        words = rng.sample(HARD_WORDS, hard) + rng.sample(EASY_WORDS, 6 - hard)
        rng.shuffle(words)
        rows.append({"q": f"Find the {' '.join(words)} ({i}).", "t": "Think. " * (i + 1), "a": str(i), "hard": hard})
    return rows


def write_sample_with_known_pass_rates(source, folder, share: float, seed: int = 0):
    """Stands in for `s2r score SOURCE -o FOLDER --difficulty sampled --sample SHARE`: a seeded share of the pool's
    rows, each with the pass rate its hard words give, written by the project's writer as the sampled scorer's pool."""
    pool, s2r = score_pool(ScoreConfig(source=str(source), question_column="q", trace_column="t", answer_column="a",
                                       difficulty="column:hard_share"))  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(pool))
    sample = pool.select(sorted(order[: round(share * len(pool))].tolist()))
    rates = [1.0 - share_hard for share_hard in sample[DIFFICULTY]]
    sample = sample.add_column(PASS_RATE, rates)
    s2r = {**s2r, "difficulty": {"scorer": "sampled", "rollouts": 4, "stand_in": "known pass rates"}}
    s2r["rows_sha256"] = rows_sha256(sample)
    write_scored_pool(sample, s2r, folder)


@pytest.mark.slow
def test_a_judge_calibrated_on_a_sample_is_measured_on_its_held_out_rows(tiny_model_dir, tmp_path, capsys):
    rows = [{**row, "hard_share": row["hard"] / 4} for row in pool_rows(60)]
    source = tmp_path / "pool.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    sample, judge, scored = tmp_path / "sample", tmp_path / "my-judge", tmp_path / "scored"

    write_sample_with_known_pass_rates(source, sample, share=0.5)
    train = ["train-judge", str(sample), "-o", str(judge), "--base-model", str(tiny_model_dir)]
    train += ["--pass-rate-column", PASS_RATE, "--eval-fraction", "0.34", "--min-eval-rows", "5"]
    assert main([*train, "--epochs", "2", "--lr", "3e-3", "--batch-size", "8"]) == 0
    score = ["score", str(source), "-o", str(scored), "--question-column", "q", "--trace-column", "t"]
    score += ["--answer-column", "a", "--difficulty", "judge", "--judge", str(judge)]
    assert main([*score, "--sampled-difficulty", str(sample)]) == 0

    # train-judge recorded its held-out rows by s2r_id, and the pool it was trained on.
    training = json.loads((judge / METADATA_FILE).read_text())
    sample_card = read_card_metadata(sample)["s2r"]
    assert training["pool"]["s2r_kind"] == "scored_pool" and training["pool"]["rows"] == 30
    assert training["pool"]["rows_sha256"] == sample_card["rows_sha256"]
    assert training["evaluation"]["predictions_key"] == ID
    card = " ".join((judge / "README.md").read_text(encoding="utf-8").split())
    assert (
        f"- Training pool: `{sample}` (split `train`, 30 rows, rows digest `{sample_card['rows_sha256'][:12]}`)" in card
    )
    held_out = [json.loads(line) for line in (judge / EVAL_PREDICTIONS_FILE).read_text().splitlines()]
    assert len(held_out) == training["rows"]["eval"] == 10

    # The scored pool: the judge's scores, the sampled difficulty on the sampled half, the held-out comparison.
    pool = load_dataset_folder(scored)
    s2r = read_card_metadata(scored)["s2r"]
    position = {key: index for index, key in enumerate(pool[ID])}
    assert sum(value is not None for value in pool[SAMPLED_DIFFICULTY]) == 30
    assert s2r["sampled_difficulty"]["rows_matched"] == 30
    assert s2r["report"]["judge_vs_sampled"]["rows"] == 30
    calibrated = np.array([pool[DIFFICULTY][position[record[ID]]] for record in held_out])
    # the judge scores its held-out rows here as it did when training ended
    assert calibrated == pytest.approx([record["score_after"] for record in held_out], abs=1e-4)
    base = np.array([record["score_before"] for record in held_out])
    targets = np.array([record["target"] for record in held_out])
    never, always = targets == 1.0, targets == 0.0
    block = s2r["judge_held_out"]
    assert block["rows"] == block["held_out_rows"] == 10 and block["absent"] is None
    assert (block["never_solved"], block["always_solved"]) == (int(never.sum()), int(always.sum()))
    for name, scores in (("calibrated", calibrated), ("base", base)):
        assert block[name]["spearman"] == pytest.approx(spearman(scores, targets), abs=5e-5)
        expected_auc = auc(scores[never], scores[always])
        assert block[name]["auc_never_vs_always"] == (None if expected_auc is None else round(expected_auc, 4))
    assert block["spearman_recorded"] == {
        "before": training["evaluation"]["spearman_before"],
        "after": training["evaluation"]["spearman_after"],
    }

    report = (scored / "report" / "report.md").read_text(encoding="utf-8")
    assert "## The calibrated judge on its held-out rows" in report
    assert "## The difficulty against sampled pass rates" in report
    capsys.readouterr()
    assert main(["inspect", str(scored)]) == 0
    printed = capsys.readouterr().out
    assert "calibrated judge ~ held-out target (10 rows)" in printed and "base judge AUC on held-out rows" in printed
