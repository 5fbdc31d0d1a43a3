"""`s2r score --difficulty sampled` end to end: a run killed after its first chunk resumes without generating what it
kept and equals an uninterrupted run; the kept completions, `--sample` and the card; every bad input as one line
(exit 2) before any model is loaded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.env import REPO_ROOT

from s2r_hf.cli import main
from s2r_hf.core.columns import ANSWER, ID, MESSAGES, PASS_RATE, ROLLOUTS_CAPPED
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.core.prompts import REASONING_SYSTEM_PROMPT
from s2r_hf.signals.judge.store import question_key
from s2r_hf.signals.sampled.config import SampledConfig, vllm_installed
from s2r_hf.signals.sampled.generate import TransformersSampler
from s2r_hf.signals.sampled.scorer import ROLLOUTS_FIELD, sampled_difficulty_batch

ROWS = [
    {
        "id": f"p{i:02d}",
        "question": f"Problem {i}: what is {i} + {2 * i}?",
        "trace": f"So {3 * i}.",
        "answer": str(i % 4),
    }
    for i in range(8)
]
GENERIC = ["--adapter", "generic", "--question-column", "question", "--trace-column", "trace", "--id-column", "id"]


@pytest.fixture(scope="module")
def stopping_model(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model, stopping at any token id ending in 3 as well (see test_sampled_difficulty.py)."""
    folder = tmp_path_factory.mktemp("sampled_cli") / "stopping_qwen2"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    stops = [config["eos_token_id"], *range(3, config["vocab_size"], 10)]
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": stops, "pad_token_id": 0}))
    return folder


def write_pool(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def sampled_flags(model: Path, work: Path) -> list[str]:
    return ["--difficulty", "sampled", "--rollout-model", str(model), "--rollouts", "4", "--rollout-max-new-tokens",
            "16", "--rollout-seed", "5", "--rollout-device", "cpu", "--rollout-chunk-rows", "2", "--rollout-work-dir",
            str(work), "--keep-rollouts", "--sample", "0.75"]  # fmt: skip


def store_parts(work: Path) -> list[Path]:
    return list(work.glob("sampled-*/part-*.parquet"))


def store_keys(work: Path) -> dict[Path, set[str]]:
    import pyarrow.parquet as pq

    return {part: set(pq.read_table(part)["key"].to_pylist()) for part in work.glob("sampled-*/part-*.parquet")}


def test_a_killed_run_resumes_without_regenerating_and_equals_an_uninterrupted_run(stopping_model, tmp_path, capsys):
    pool = write_pool(tmp_path / "pool.jsonl", ROWS)
    work, out = tmp_path / "work", tmp_path / "scored"
    argv = [
        "score",
        str(pool),
        "-o",
        str(out),
        *GENERIC,
        "--answer-column",
        "answer",
        *sampled_flags(stopping_model, work),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "s2r_hf.cli", *argv], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not store_parts(work) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = store_keys(work)
    assert process.returncode == -signal.SIGKILL and not out.exists(), process.stderr.read().decode()[-2000:]
    kept_keys = set().union(*kept.values())
    assert 2 <= len(kept_keys) < 6  # at least the first chunk of 2 questions, not all 6 sampled rows

    assert main(argv) == 0
    printed = capsys.readouterr().out
    new_parts = {part: keys for part, keys in store_keys(work).items() if part not in kept}
    new_keys = set().union(*new_parts.values())
    assert not new_keys & kept_keys  # nothing kept was generated again
    from s2r_hf.core.folders import load_dataset_folder

    scored = load_dataset_folder(out)
    questions = {row[ID]: row[MESSAGES][0]["content"] for row in scored}
    assert new_keys | kept_keys == {question_key(q) for q in questions.values()}

    # An uninterrupted run of the same rows, in one batch and without a store, gives the same completions and scores.
    config = SampledConfig(model=str(stopping_model), rollouts=4, max_new_tokens=16, seed=5, device="cpu",
                           keep_rollouts=True)  # fmt: skip
    batch = {name: list(scored[name]) for name in (ID, MESSAGES, ANSWER)}
    reference = sampled_difficulty_batch(batch, config=config)
    assert list(scored[PASS_RATE]) == reference[PASS_RATE]
    assert list(scored[ROLLOUTS_CAPPED]) == reference[ROLLOUTS_CAPPED]

    # --keep-rollouts: a second config of the folder, one row per completion; the default config is the pool alone.
    from datasets import load_dataset

    rollouts = load_dataset(str(out), "rollouts", split="train")
    expected = [
        {ID: row_id, **completion}
        for row_id, row in zip(batch[ID], reference[ROLLOUTS_FIELD], strict=True)
        for completion in row
    ]
    assert rollouts.column_names == [ID, "sample", "completion", "answer", "correct", "capped", "new_tokens"]
    assert rollouts.to_list() == [{name: row[name] for name in rollouts.column_names} for row in expected]
    default = load_dataset(str(out), split="train")
    assert default.num_rows == 6 and "completion" not in default.column_names

    card = read_card_metadata(out)["s2r"]
    assert card["sample"] == {"share": 0.75, "seed": 0, "rows_before": 8, "rows": 6}
    assert (card["rows_in"], card["rows"], card["dropped"]) == (8, 6, {"outside the --sample share 0.75": 2})
    body = (out / "README.md").read_text()
    assert "- Sample: a seeded share of 0.75 (6 of the 8 rows left after adaptation and hygiene, seed 0)" in body
    assert "| `s2r_rollouts_capped` | completions cut at 16 new tokens, each counted wrong |" in body
    assert "the config `rollouts` of this dataset (`rollouts/train-00000-of-00001.parquet`, 24 rows" in body
    difficulty = card["difficulty"]
    capped = sum(reference[ROLLOUTS_CAPPED])
    mean = sum(reference[PASS_RATE]) / 6
    assert {key: difficulty[key] for key in ("scorer", "model", "revision", "rollouts", "temperature", "top_p",
                                            "max_new_tokens", "seed", "backend", "system_prompt")} == {
        "scorer": "sampled", "model": str(stopping_model), "revision": None, "rollouts": 4, "temperature": 0.6,
        "top_p": 0.95, "max_new_tokens": 16, "seed": 5, "backend": "transformers",
        "system_prompt": REASONING_SYSTEM_PROMPT,
    }  # fmt: skip
    assert difficulty["resolved"].startswith("local:weights-sha256:")
    assert difficulty["grader"].startswith("s2r_hf.answers.grade")
    assert (difficulty["rows_scored"], difficulty["completions"], difficulty["capped_completions"]) == (6, 24, capped)
    assert difficulty["mean_pass_rate"] == round(mean, 6)
    assert difficulty["rollouts_file"] == "rollouts/train-00000-of-00001.parquet" and difficulty["rollouts_rows"] == 24
    assert f"capped at 16 new tokens: {capped} of 24 completions" in printed


@pytest.fixture
def no_model_loads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the bad input was refused")

    monkeypatch.setattr(TransformersSampler, "load", refuse)


def without_chat_template(model: Path, folder: Path) -> Path:
    shutil.copytree(model, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "case",
    ["rollouts-0", "no-chat-template", "no-answer-column", "some-null-answers", "sample-1.5", "sample-0", "vllm-absent",
     "no-model"],
)  # fmt: skip
def test_bad_input_is_one_line_before_any_model_loads(case, stopping_model, tmp_path, capsys, no_model_loads):
    rows = [
        dict(row, answer=None) if case == "some-null-answers" and i in (3, 7) else row for i, row in enumerate(ROWS)
    ]
    pool = write_pool(tmp_path / "pool.jsonl", rows)
    model = without_chat_template(stopping_model, tmp_path / "plain") if case == "no-chat-template" else stopping_model
    flags = ["--difficulty", "sampled", "--rollout-model", str(model), "--rollout-max-new-tokens", "4"]
    answer = [] if case == "no-answer-column" else ["--answer-column", "answer"]
    extra, expected = {
        "rollouts-0": (["--rollouts", "0"], "rollouts (--rollouts) must be a positive integer, got 0"),
        "no-chat-template": ([], "has no chat template"),
        "no-answer-column": ([], "this pool has none; read the source with --adapter generic --answer-column NAME"),
        "some-null-answers": ([], "2 of 8 rows have no gold answer in 's2r_answer'"),
        "sample-1.5": (["--sample", "1.5"], "sample (--sample) is the share of rows to score, in (0, 1]; got 1.5"),
        "sample-0": (["--sample", "0"], "in (0, 1]; got 0.0"),
        "vllm-absent": (["--rollout-backend", "vllm"], "vLLM is not installed here; `pip install vllm`"),
        "no-model": ([], "--difficulty sampled needs the model that answers: --rollout-model MODEL"),
    }[case]
    if case == "no-model":
        flags = ["--difficulty", "sampled"]
    if case == "vllm-absent" and vllm_installed():
        pytest.skip("vLLM is installed here")
    code = main(["score", str(pool), "-o", str(tmp_path / "out"), *GENERIC, *answer, *flags, *extra])
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.startswith("s2r score: error: ")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "out").exists()


def test_sample_applies_to_any_scorer_and_is_the_same_share_on_a_rerun(tmp_path, capsys):
    pool = write_pool(tmp_path / "pool.jsonl", [dict(row, hard=i / 10) for i, row in enumerate(ROWS)])
    argv = ["score", str(pool), *GENERIC, "--difficulty", "column:hard", "--sample", "0.5", "--sample-seed", "3"]
    assert main([*argv, "-o", str(tmp_path / "a")]) == 0
    assert main([*argv, "-o", str(tmp_path / "b")]) == 0
    assert "dropped: outside the --sample share 0.5  4" in capsys.readouterr().out
    from s2r_hf.core.folders import load_dataset_folder

    first, second = load_dataset_folder(tmp_path / "a"), load_dataset_folder(tmp_path / "b")
    assert list(first[ID]) == list(second[ID]) and len(first) == 4
    assert read_card_metadata(tmp_path / "a")["s2r"]["sample"] == {"share": 0.5, "seed": 3, "rows_before": 8, "rows": 4}
