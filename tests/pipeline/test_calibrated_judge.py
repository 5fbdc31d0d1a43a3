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
from s2r_hf.core.folders import load_dataset_folder, read_card_metadata
from s2r_hf.core.stats import auc, spearman
from s2r_hf.signals.judge.judge_folder import EVAL_PREDICTIONS_FILE, METADATA_FILE

WORDS = ["integral", "eigenvalue", "topology", "manifold", "apples", "sum", "number", "total", "price", "boxes"]


def pool_rows(count: int, seed: int = 0) -> list[dict]:
    """A generic pool of varied questions; the gold answers are set once the completions are known."""
    rng = random.Random(seed)
    return [
        {"id": f"p{i:02d}", "q": f"Find the {' '.join(rng.sample(WORDS, 6))} ({i}).", "t": "Think. " * (i + 1),
         "a": "never given"}
        for i in range(count)
    ]  # fmt: skip


def check_the_report_against_the_recorded_files(sample, judge, scored, rates, capsys) -> dict:
    """The three steps' files agree: what train-judge recorded, the joined sampled difficulty, and the report's
    held-out numbers, recomputed here. Returns the card's judge_held_out block."""
    # train-judge recorded its held-out rows by s2r_id, and the pool it was trained on.
    training = json.loads((judge / METADATA_FILE).read_text())
    sample_card = read_card_metadata(sample)["s2r"]
    assert training["pool"]["s2r_kind"] == "scored_pool" and training["pool"]["rows"] == len(rates)
    assert training["pool"]["rows_sha256"] == sample_card["rows_sha256"]
    assert training["evaluation"]["predictions_key"] == ID
    card = " ".join((judge / "README.md").read_text(encoding="utf-8").split())
    digest = sample_card["rows_sha256"][:12]
    assert f"- Training pool: `{sample}` (split `train`, {len(rates)} rows, rows digest `{digest}`)" in card
    held_out = [json.loads(line) for line in (judge / EVAL_PREDICTIONS_FILE).read_text().splitlines()]
    assert len(held_out) == training["rows"]["eval"] == round(0.34 * len(rates))
    assert all(record["target"] == 1.0 - rates[record[ID]] for record in held_out)

    # The scored pool: the judge's scores, the sampled difficulty on the sampled rows, the held-out comparison.
    pool = load_dataset_folder(scored)
    s2r = read_card_metadata(scored)["s2r"]
    position = {key: index for index, key in enumerate(pool[ID])}
    expected = [None if key not in rates else 1.0 - rates[key] for key in pool[ID]]
    assert pool[SAMPLED_DIFFICULTY] == expected
    assert s2r["sampled_difficulty"]["rows_matched"] == len(rates) == s2r["report"]["judge_vs_sampled"]["rows"]
    calibrated = np.array([pool[DIFFICULTY][position[record[ID]]] for record in held_out])
    # the judge scores its held-out rows here as it did when training ended
    assert calibrated == pytest.approx([record["score_after"] for record in held_out], abs=1e-4)
    base = np.array([record["score_before"] for record in held_out])
    targets = np.array([record["target"] for record in held_out])
    never, always = targets == 1.0, targets == 0.0
    block = s2r["judge_held_out"]
    assert block["rows"] == block["held_out_rows"] == len(held_out) and block["absent"] is None
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
    assert f"calibrated judge ~ held-out target ({len(held_out)} rows)" in printed
    assert "base judge AUC on held-out rows" in printed
    return block


def stopping_model(tiny_model_dir, folder):
    """The tiny model, stopping at its end token or at any token id ending in 3: its completions end in about ten
    tokens, so that most of them have a last "answer" for the grader to extract."""
    import shutil

    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    stops = [config["eos_token_id"], *range(3, config["vocab_size"], 10)]
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": stops, "pad_token_id": 0}))
    return folder


def golds_from_kept_rollouts(folder) -> dict[str, str]:
    """For each sampled row, a number one of its finished completions answered (pass rate 1/4 or more), or, for every
    third row and rows whose completions answered no number, an answer nobody gave (pass rate 0)."""
    from collections import Counter

    from datasets import load_dataset

    answers: dict[str, Counter] = {}
    for row in load_dataset(str(folder), "rollouts", split="train"):
        counts = answers.setdefault(row[ID], Counter())
        if row["answer"] is not None and row["answer"].isascii() and row["answer"].isdigit() and not row["capped"]:
            counts[row["answer"]] += 1
    return {
        key: counts.most_common(1)[0][0] if counts and position % 3 else "never given"
        for position, (key, counts) in enumerate(sorted(answers.items()))
    }


SAMPLING = ["--rollouts", "4", "--rollout-max-new-tokens", "16", "--rollout-seed", "5", "--rollout-device", "cpu"]


@pytest.mark.slow
def test_the_documented_path_with_sampled_rollouts(tiny_model_dir, tmp_path, capsys):
    """docs/judge.md's three commands, the first with the real `--difficulty sampled` on the tiny model. A first run
    (kept completions) picks gold answers that some completions give, so that pass rates vary; the documented run then
    finds those completions in the resume folder instead of generating them again."""
    model = stopping_model(tiny_model_dir, tmp_path / "stopping")
    work = tmp_path / "rollout-work"
    generic = ["--adapter", "generic", "--question-column", "q", "--trace-column", "t", "--answer-column", "a",
               "--id-column", "id"]  # fmt: skip
    sampled = ["--difficulty", "sampled", "--rollout-model", str(model), *SAMPLING, "--rollout-work-dir", str(work)]
    rows = pool_rows(60)
    source = tmp_path / "pool.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    probe = tmp_path / "probe"
    assert main(["score", str(source), "-o", str(probe), *generic, *sampled, "--keep-rollouts", "--sample", "0.5"]) == 0
    kept = sorted(work.glob("*/part-*.parquet"))
    golds = golds_from_kept_rollouts(probe)
    rows = [{**row, "a": golds.get(row["id"], row["a"])} for row in rows]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    sample, judge, scored = tmp_path / "sample", tmp_path / "my-judge", tmp_path / "scored"
    assert main(["score", str(source), "-o", str(sample), *generic, *sampled, "--sample", "0.5"]) == 0
    assert kept and sorted(work.glob("*/part-*.parquet")) == kept  # served from the resume folder, not generated
    train = ["train-judge", str(sample), "-o", str(judge), "--base-model", str(tiny_model_dir)]
    train += ["--pass-rate-column", PASS_RATE, "--eval-fraction", "0.34", "--min-eval-rows", "5"]
    assert main([*train, "--epochs", "2", "--lr", "3e-3", "--batch-size", "8"]) == 0
    score = ["score", str(source), "-o", str(scored), *generic, "--difficulty", "judge", "--judge", str(judge)]
    assert main([*score, "--sampled-difficulty", str(sample)]) == 0

    sample_pool = load_dataset_folder(sample)
    rates = dict(zip(sample_pool[ID], sample_pool[PASS_RATE], strict=True))
    assert len(rates) == 30 and len(set(rates.values())) > 1
    block = check_the_report_against_the_recorded_files(sample, judge, scored, rates, capsys)
    # A tiny random model never has all four completions agree: no always-solved question, so the AUC is n/a, said why.
    assert block["never_solved"] and not block["always_solved"]
    assert block["auc_missing"] == "no always-solved (target 0) question among these rows"
    report = " ".join((scored / "report" / "report.md").read_text(encoding="utf-8").split())
    assert "The AUC is n/a: no always-solved (target 0) question among these rows." in report
