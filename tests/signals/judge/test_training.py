"""s2r_hf.signals.judge.training and `s2r train-judge`: targets, split, loss, training on the tiny Qwen2, the saved
judge."""

from __future__ import annotations

import json
import math
import os
import random
import stat

import pytest
from datasets import Dataset

from s2r_hf.core.cards import split_card
from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, ModelError, OutputError
from s2r_hf.core.folders import STAGING_MARK
from s2r_hf.core.rows import make_messages
from s2r_hf.core.stats import spearman
from s2r_hf.signals.judge.judge_folder import EVAL_PREDICTIONS_FILE, METADATA_FILE, check_output_dir, render_judge_card
from s2r_hf.signals.judge.prompt import DEFAULT_SYSTEM_PROMPT, judge_messages, verdict_token_ids
from s2r_hf.signals.judge.targets import judge_targets, split_rows
from s2r_hf.signals.judge.training import train_judge
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig
from s2r_hf.signals.judge.training_loop import JudgeCollator, encode_prompts, score_prompts

HARD_WORDS = ["integral", "eigenvalue", "topology", "manifold"]
EASY_WORDS = ["apples", "sum", "number", "total", "price", "count", "boxes", "friends", "coins", "length"]


def difficulty_rows(num_rows: int, seed: int = 0) -> list[dict]:
    """Questions of six words; each hard word among them makes one of four rollouts fail.

    Difficulty is then (hard words) / 4: learnable from the question alone, and graded, so ranks mean something.
    """
    rng = random.Random(seed)
    rows = []
    for i in range(num_rows):
        hard = rng.randint(0, 4)
        words = rng.sample(HARD_WORDS, hard) + rng.sample(EASY_WORDS, 6 - hard)
        rng.shuffle(words)
        flags = [True] * (4 - hard) + [False] * hard
        rng.shuffle(flags)
        question = "Find the " + " ".join(words) + "."
        rows.append(
            {
                MESSAGES: make_messages(question, "A long trace."),
                ID: f"q{i}",
                "question": question,
                "correctness_math_verify": flags,
                "pass_rate": (4 - hard) / 4,
            }
        )
    return rows


def pool_of(rows: list[dict]) -> Dataset:
    return Dataset.from_list(rows)


def full_logit_score(model, tokenizer, question: str) -> float:
    """The reference: one unpadded prompt, full-vocabulary logits, float64 softmax over "0" and "1"."""
    import torch

    zero, one = verdict_token_ids(tokenizer)
    ids = tokenizer.apply_chat_template(judge_messages(question), add_generation_prompt=True, return_dict=True)
    with torch.no_grad():
        logits = model(torch.tensor([ids["input_ids"]])).logits[0, -1].double()
    probs = torch.softmax(logits, dim=-1)
    return float(probs[one] / (probs[zero] + probs[one]))


# ---- Pure parts ----------------------------------------------------------------------------------------------------


def test_targets_from_flags_count_null_as_failure_and_follow_row_order():
    pool = Dataset.from_dict(
        {"correctness_math_verify": [[True, False, False, True], [None, True], [False], [True, True, True]]}
    )
    config = JudgeTrainingConfig(output_dir="unused")
    assert judge_targets(pool, config).tolist() == [0.5, 0.5, 1.0, 0.0]
    # a selected view (an indices mapping) is read in its own order, not the underlying table's
    assert judge_targets(pool.select([3, 0]), config).tolist() == [0.0, 0.5]


def test_targets_from_pass_rate_column():
    pool = Dataset.from_dict({"rate": [0.0, 0.25, 1.0], "solved": [0, 1, 1]})
    assert judge_targets(pool, JudgeTrainingConfig(output_dir="x", pass_rate_column="rate")).tolist() == [1, 0.75, 0]
    assert judge_targets(pool, JudgeTrainingConfig(output_dir="x", pass_rate_column="solved")).tolist() == [1, 0, 0]


def test_split_is_seeded_disjoint_and_sized():
    config = JudgeTrainingConfig(output_dir="x", eval_fraction=0.25, min_eval_rows=5, seed=7)
    train, held_out = split_rows(40, config)
    assert len(held_out) == 10 and len(train) == 30
    assert sorted([*train.tolist(), *held_out.tolist()]) == list(range(40))
    again_train, again_held_out = split_rows(40, config)
    assert again_held_out.tolist() == held_out.tolist() and again_train.tolist() == train.tolist()
    other = split_rows(40, JudgeTrainingConfig(output_dir="x", eval_fraction=0.25, min_eval_rows=5, seed=8))[1]
    assert other.tolist() != held_out.tolist()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"output_dir": ""}, "output_dir is required"),
        ({"eval_fraction": 1.0}, "eval_fraction must be in (0, 1), got 1.0"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0, got 0.0"),
        ({"min_eval_rows": 2}, "min_eval_rows must be at least 3"),
        ({"save_dtype": "int8"}, "save_dtype must be one of"),
        ({"warmup_ratio": 1.0}, "warmup_ratio must be in [0, 1), got 1.0"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        JudgeTrainingConfig(**{"output_dir": "out", **overrides})


# ---- Bad input: every data error is raised before any model is looked up (the base model is on no Hub) ------------


def _config(tmp_path, **overrides) -> JudgeTrainingConfig:
    return JudgeTrainingConfig(
        **{"output_dir": str(tmp_path / "judge"), "base_model": "s2r-tests/never-loaded", **overrides}
    )


def test_missing_flags_column_lists_the_columns(tmp_path):
    pool = pool_of(difficulty_rows(30)).remove_columns(["correctness_math_verify"])
    with pytest.raises(ColumnError, match=r"'correctness_math_verify'.*columns: \['messages', 's2r_id'") as err:
        train_judge(pool, _config(tmp_path))
    assert "--pass-rate-column" in str(err.value)
    assert not (tmp_path / "judge").exists()


def test_missing_pass_rate_column(tmp_path):
    with pytest.raises(ColumnError, match=r"'solve_rate'.*columns: \['messages'"):
        train_judge(pool_of(difficulty_rows(30)), _config(tmp_path, pass_rate_column="solve_rate"))


@pytest.mark.parametrize("bad", [1.5, -0.25, None])
def test_pass_rates_outside_unit_interval(tmp_path, bad):
    rows = difficulty_rows(30)
    rows[4]["pass_rate"] = bad
    with pytest.raises(
        InputError, match=r"must hold numbers in \[0, 1\] with no nulls; 1 rows do not \(first rows \[4\]"
    ):
        train_judge(pool_of(rows), _config(tmp_path, pass_rate_column="pass_rate"))


def test_empty_rollouts(tmp_path):
    rows = difficulty_rows(30)
    rows[2]["correctness_math_verify"] = []
    rows[7]["correctness_math_verify"] = None
    with pytest.raises(InputError, match=r"2 rows have no rollouts in 'correctness_math_verify'.*first rows \[2, 7\]"):
        train_judge(pool_of(rows), _config(tmp_path))


def test_flags_of_the_wrong_type(tmp_path):
    pool = Dataset.from_dict({MESSAGES: [r[MESSAGES] for r in difficulty_rows(30)], "flags": [[1, 0]] * 30})
    with pytest.raises(ColumnTypeError, match="must hold lists of booleans"):
        train_judge(pool, _config(tmp_path, flags_column="flags"))


def test_no_question_to_read(tmp_path):
    pool = pool_of(difficulty_rows(30)).remove_columns([MESSAGES])
    with pytest.raises(ColumnError, match=r"no 'messages' column.*--question-column"):
        train_judge(pool, _config(tmp_path))
    rows = difficulty_rows(30)
    rows[3]["question"] = "  "
    with pytest.raises(InputError, match=r"1 rows have an empty or missing question \(first rows \[3\]\)"):
        train_judge(pool_of(rows), _config(tmp_path, question_column="question"))


def test_too_few_rows_for_the_held_out_split(tmp_path):
    with pytest.raises(InputError, match=r"30 rows with eval_fraction 0.1 give 3 held-out and 27 training rows"):
        train_judge(pool_of(difficulty_rows(30)), _config(tmp_path))


def test_existing_output_is_refused_untouched(tmp_path):
    (tmp_path / "judge").mkdir()
    (tmp_path / "judge" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"already exists.*--overwrite"):
        train_judge(pool_of(difficulty_rows(300)), _config(tmp_path))
    assert (tmp_path / "judge" / "keep.txt").read_text() == "mine"


def test_overwrite_replaces_only_a_judge_s2r_wrote(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    # A folder s2r did not write: OutputError, in the words of every output guard (s2r_hf.core.folders).
    with pytest.raises(OutputError, match=r"exists and was not written by s2r train-judge \(no s2r_judge_training"):
        train_judge(pool_of(difficulty_rows(300)), _config(tmp_path, output_dir=str(mine), overwrite=True))
    assert (mine / "keep.txt").read_text() == "mine"
    # Never the current directory nor a folder above it, whatever it holds.
    monkeypatch.chdir(mine)
    (mine / METADATA_FILE).write_text("{}")
    for output in (".", str(tmp_path), "../mine"):
        with pytest.raises(OutputError, match=r"is (the current folder|a folder above the current one)"):
            check_output_dir(_config(tmp_path, output_dir=output, overwrite=True))
    assert sorted(p.name for p in mine.iterdir()) == ["keep.txt", METADATA_FILE]
    # A judge folder written before is replaceable.
    monkeypatch.chdir(tmp_path)
    assert check_output_dir(_config(tmp_path, output_dir=str(mine), overwrite=True)) == mine


def test_cli_refuses_to_overwrite_the_current_directory(tmp_path, monkeypatch, capsys):
    from s2r_hf.cli import main

    source = tmp_path / "pool.jsonl"
    source.write_text(json.dumps({"question": "What is 1+1?", "pass_rate": 1.0}) + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["train-judge", str(source), "-o", ".", "--overwrite", "--pass-rate-column", "pass_rate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("s2r train-judge: error: output '.' is the current folder") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.jsonl"]


# ---- The card (hub_cards/judge.md) -----------------------------------------------------------------------------


def card_metadata(**changes) -> dict:
    """The metadata train_judge writes, in its shape (the slow test below checks a real one)."""
    metadata = {
        "s2r_hf_version": "9.9",
        "base_model": "Qwen/Qwen2.5-1.5B-Instruct",
        "base_revision": None,
        "base_commit": "0123abc",
        "target": {"source": "pass_rate", "column": "pass_rate", "formula": "1 - pass_rate"},
        "question": "first user turn of messages",
        "system_prompt": DEFAULT_SYSTEM_PROMPT,
        "score": 'P("1") / (P("0") + P("1")) at the last prompt position',
        "verdict_token_ids": {"0": 15, "1": 16},
        "max_question_tokens": 512,
        "truncated_questions": 3,
        "rows": {"total": 100, "train": 80, "eval": 20},
        "mean_target": {"train": 0.5, "eval": 0.25},
        "training": {
            "learning_rate": 2e-5,
            "num_train_epochs": 3.0,
            "per_device_train_batch_size": 4,
            "gradient_accumulation_steps": 2,
            "seed": 7,
            "bf16": False,
            "save_dtype": "bfloat16",
            "steps": 30,
            "train_loss": 0.61,
        },
        "evaluation": {
            "metric": "spearman(score, target) on the held-out rows",
            "eval_rows": 20,
            "spearman_before": None,
            "spearman_after": 0.734567,
            "predictions": EVAL_PREDICTIONS_FILE,
            "predictions_row": "position of the question in the dataset given to train_judge",
        },
    }
    metadata.update(changes)
    return metadata


def test_card_metadata_and_body_state_the_same_facts(tmp_path):
    metadata = card_metadata()
    header, body = split_card(render_judge_card(metadata))
    assert header["base_model"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert header["library_name"] == "transformers"
    assert header["tags"] == ["s2r-hf", "select2reason", "difficulty-judge"]
    assert header["s2r"]["kind"] == "judge"
    assert {k: v for k, v in header["s2r"].items() if k in metadata} == metadata  # every fact, unchanged
    text = " ".join(body.split())  # the template wraps lines; the facts are what matter
    assert "Fine-tuned from `Qwen/Qwen2.5-1.5B-Instruct` by s2r-hf 9.9" in text
    assert f"system turn `{DEFAULT_SYSTEM_PROMPT}`" in text
    assert "Questions longer than 512 tokens are cut (3 were)" in text
    assert "Target: `1 - pass_rate` (source: pass_rate, column `pass_rate`)" in text
    assert "Training: 80 questions, 3 epoch(s), 30 steps, learning rate 2e-05, batch 4 x 2, seed 7;" in text
    assert "Weights saved as bfloat16." in text
    assert "| base model | undefined (constant scores or targets) |" in body
    assert "| this judge | 0.7346 |" in body
    assert f"every setting: `{METADATA_FILE}`" in text
    assert "non-default system prompt" not in text

    # A local base model is no Hub link; a non-default prompt is called out.
    local = card_metadata(base_model=str(tmp_path), system_prompt="Hard? 1 or 0.")
    header, body = split_card(render_judge_card(local))
    assert "base_model" not in header and header["s2r"]["base_model"] == str(tmp_path)
    assert "trained with a non-default system prompt: pass it as `system_prompt`" in " ".join(body.split())
    # A missing fact is an error, never a blank in a published card.
    broken = card_metadata()
    del broken["evaluation"]["spearman_after"]
    with pytest.raises(Exception, match="spearman_after"):
        render_judge_card(broken)


# ---- Model-facing parts on the tiny Qwen2 --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


def test_prompts_are_the_scorers_and_long_questions_are_cut(tiny):
    _, tokenizer = tiny
    config = JudgeTrainingConfig(output_dir="x", max_question_tokens=10)
    short, long = "What is 2+2?", "Compute the integral of x squared from zero to one, then add the eigenvalue."
    assert len(tokenizer.encode(short, add_special_tokens=False)) <= 10 < len(tokenizer.encode(long))
    prompts, truncated = encode_prompts(tokenizer, [short, long], config)
    assert truncated == 1
    reference = tokenizer.apply_chat_template(judge_messages(short), add_generation_prompt=True, return_dict=True)
    assert prompts[0] == reference["input_ids"]
    cut = tokenizer.decode(tokenizer.encode(long, add_special_tokens=False)[:10])
    assert long.startswith(cut) and len(tokenizer.encode(cut, add_special_tokens=False)) == 10
    assert prompts[1] == tokenizer.apply_chat_template(judge_messages(cut), add_generation_prompt=True)["input_ids"]


def test_batched_scores_equal_unpadded_full_logit_scores(tiny):
    model, tokenizer = tiny
    questions = [row["question"] * (1 + i % 4) for i, row in enumerate(difficulty_rows(12, seed=3))]
    prompts, _ = encode_prompts(tokenizer, questions, JudgeTrainingConfig(output_dir="x"))
    assert len({len(p) for p in prompts}) > 3  # varied lengths, so batches carry padding
    scores = score_prompts(model, prompts, verdict_token_ids(tokenizer), tokenizer.pad_token_id, batch_size=5)
    reference = [full_logit_score(model, tokenizer, q) for q in questions]
    assert scores.tolist() == pytest.approx(reference, abs=1e-6)


def test_loss_is_soft_label_cross_entropy_of_the_score(tiny, tmp_path):
    import torch
    from transformers import TrainingArguments

    from s2r_hf.signals.judge.training_loop import TARGET_FIELD, make_trainer

    model, tokenizer = tiny
    rows = difficulty_rows(4, seed=5)
    targets = [0.0, 0.25, 0.75, 1.0]
    prompts, _ = encode_prompts(tokenizer, [r["question"] for r in rows], JudgeTrainingConfig(output_dir="x"))
    batch = JudgeCollator(tokenizer.pad_token_id)(
        [{"input_ids": p, TARGET_FIELD: t} for p, t in zip(prompts, targets, strict=True)]
    )
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", remove_unused_columns=False)
    trainer = make_trainer(verdict_token_ids(tokenizer), model=model, args=args)
    with torch.no_grad():
        loss = float(trainer.compute_loss(model, dict(batch)))
    expected = 0.0
    for row, target in zip(rows, targets, strict=True):
        p = full_logit_score(model, tokenizer, row["question"])
        expected -= (target * math.log(p) + (1 - target) * math.log(1 - p)) / len(rows)
    assert loss == pytest.approx(expected, abs=1e-5)


def test_an_unknown_schedule_is_refused_before_the_model_loads(tiny_model_dir, tmp_path):
    config = JudgeTrainingConfig(
        output_dir=str(tmp_path / "judge"), base_model=str(tiny_model_dir), lr_scheduler_type="no-such-schedule"
    )
    with pytest.raises(InputError, match=r"lr_scheduler_type must be one of .*'cosine'.*, got 'no-such-schedule'"):
        train_judge(pool_of(difficulty_rows(240)), config)
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_run_leaves_nothing(tiny_model_dir, tmp_path, monkeypatch):
    def crash(self, features):
        raise RuntimeError("crash while training (test)")

    monkeypatch.setattr(JudgeCollator, "__call__", crash)  # the first training batch fails, after the staging folder
    config = JudgeTrainingConfig(output_dir=str(tmp_path / "judge"), base_model=str(tiny_model_dir))
    with pytest.raises(RuntimeError, match="crash while training"):
        train_judge(pool_of(difficulty_rows(240)), config)
    assert list(tmp_path.iterdir()) == []  # no output, no staging folder


def test_output_follows_the_umask_and_staging_left_by_a_killed_run_is_removed(tiny_model_dir, tmp_path):
    stale = tmp_path / ".judge.tmp-0123abcd"  # what a run killed mid-training leaves: s2r's marked staging folder
    stale.mkdir()
    (stale / STAGING_MARK).touch()
    users = tmp_path / ".judge.tmp-notours1"  # same prefix, not s2r's pattern: never touched
    users.mkdir()
    config = JudgeTrainingConfig(
        output_dir=str(tmp_path / "judge"),
        base_model=str(tiny_model_dir),
        per_device_train_batch_size=16,
        min_eval_rows=4,
    )
    previous = os.umask(0o027)
    try:
        train_judge(pool_of(difficulty_rows(40)), config)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "judge").stat().st_mode) == 0o750
    # safetensors writes owner-only whatever the umask: the judge's weights get the umask's mode, as its config
    assert stat.S_IMODE((tmp_path / "judge" / "model.safetensors").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "judge" / "config.json").stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == [".judge.tmp-notours1", "judge"]
    assert not (tmp_path / "judge" / STAGING_MARK).exists()


# ---- Training end to end -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_judge(tiny_model_dir, tmp_path_factory):
    rows = difficulty_rows(240)
    out = tmp_path_factory.mktemp("trained") / "judge"
    config = JudgeTrainingConfig(
        output_dir=str(out),
        base_model=str(tiny_model_dir),
        learning_rate=3e-3,
        num_train_epochs=6,
        per_device_train_batch_size=16,
        eval_fraction=0.2,
        logging_steps=20,
    )
    return train_judge(pool_of(rows), config), rows


@pytest.mark.slow
def test_training_ranks_held_out_questions_better(trained_judge):
    result, _ = trained_judge
    assert result.eval_rows == 48 and result.train_rows == 192
    assert result.spearman_before is not None and result.spearman_after is not None
    assert result.spearman_after > 0.8
    assert result.spearman_after > result.spearman_before + 0.3
    metadata = json.loads((result.output_dir / METADATA_FILE).read_text())
    assert metadata["evaluation"]["spearman_before"] == result.spearman_before
    assert metadata["evaluation"]["spearman_after"] == result.spearman_after
    assert metadata["target"]["source"] == "rollout_flags"
    assert metadata["training"]["steps"] == 6 * math.ceil(192 / 16)
    assert metadata["rows"] == {"total": 240, "train": 192, "eval": 48}


@pytest.mark.slow
def test_saved_judge_loads_and_reproduces_reported_scores(trained_judge):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, rows = trained_judge
    out = result.output_dir
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert tokenizer.chat_template
    predictions = [json.loads(line) for line in (out / EVAL_PREDICTIONS_FILE).read_text().splitlines()]
    assert len(predictions) == result.eval_rows
    for record in predictions:
        row = rows[record["row"]]
        assert record[ID] == row[ID]
        assert record["target"] == 1 - row["pass_rate"]
        assert record["score_after"] == pytest.approx(full_logit_score(model, tokenizer, row["question"]), abs=1e-5)
    scores = [r["score_after"] for r in predictions]
    assert spearman(scores, [r["target"] for r in predictions]) == pytest.approx(result.spearman_after, abs=1e-12)
    header, body = split_card((out / "README.md").read_text())
    assert "base_model" not in header  # a local base model is no Hub link
    assert header["s2r"]["evaluation"]["spearman_after"] == result.spearman_after
    assert f"| this judge | {result.spearman_after:.4f} |" in body
    hub_header, _ = split_card(render_judge_card({**result.metadata, "base_model": "Qwen/Qwen2.5-1.5B-Instruct"}))
    assert hub_header["base_model"] == "Qwen/Qwen2.5-1.5B-Instruct"
    # The card's `s2r` block is the metadata file, fact for fact, and the body states them.
    written = json.loads((out / METADATA_FILE).read_text())
    assert {k: v for k, v in header["s2r"].items() if k in written} == written
    assert f"| base model | {result.spearman_before:.4f} |" in body
    text = " ".join(body.split())
    assert f"Training: {result.train_rows} questions, 6 epoch(s), {written['training']['steps']} steps, " in text
    assert "learning rate 0.003, batch 16 x 1, seed 42;" in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["judge"]  # no staging folder left behind


@pytest.mark.slow
def test_the_registered_judge_scorer_loads_the_trained_judge(trained_judge):
    from s2r_hf.core.columns import DIFFICULTY
    from s2r_hf.signals.difficulty import add_difficulty

    result, rows = trained_judge
    predictions = [json.loads(line) for line in (result.output_dir / EVAL_PREDICTIONS_FILE).read_text().splitlines()]
    held_out = pool_of([rows[record["row"]] for record in predictions])
    scored = add_difficulty(held_out, "judge", model=str(result.output_dir), device="cpu", dtype="float32")
    assert scored[DIFFICULTY] == pytest.approx([record["score_after"] for record in predictions], abs=1e-5)


@pytest.mark.slow
def test_bf16_mixed_precision_with_checkpointing_saves_bf16_weights(tiny_model_dir, tmp_path):
    from safetensors import safe_open

    config = JudgeTrainingConfig(
        output_dir=str(tmp_path / "judge"),
        base_model=str(tiny_model_dir),
        bf16=True,
        gradient_checkpointing=True,
        save_dtype="bfloat16",
        learning_rate=3e-3,
        per_device_train_batch_size=16,
        eval_fraction=0.2,
    )
    result = train_judge(pool_of(difficulty_rows(240)), config)
    assert result.metadata["training"]["bf16"] is True
    assert result.metadata["training"]["save_dtype"] == "bfloat16"
    with safe_open(str(tmp_path / "judge" / "model.safetensors"), framework="pt") as weights:
        assert {str(weights.get_tensor(name).dtype) for name in weights.keys()} == {"torch.bfloat16"}  # noqa: SIM118
    assert json.loads((tmp_path / "judge" / "config.json").read_text())["dtype"] == "bfloat16"


# ---- The command ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_trains_from_a_pass_rate_file_and_guards_the_output(tiny_model_dir, tmp_path, capsys):
    from s2r_hf.cli import main

    source = tmp_path / "pool.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for row in difficulty_rows(60, seed=1):
            handle.write(json.dumps({"question": row["question"], "pass_rate": row["pass_rate"]}) + "\n")
    out = tmp_path / "judge"
    argv = ["train-judge", str(source), "-o", str(out), "--base-model", str(tiny_model_dir)]
    argv += ["--pass-rate-column", "pass_rate", "--question-column", "question", "--eval-fraction", "0.34"]
    argv += ["--epochs", "1", "--lr", "1e-3", "--batch-size", "8"]

    assert main([*argv, "--seed", "1"]) == 0
    metadata = json.loads((out / METADATA_FILE).read_text())
    assert metadata["target"] == {"source": "pass_rate", "column": "pass_rate", "formula": "1 - pass_rate"}
    assert metadata["rows"] == {"total": 60, "train": 40, "eval": 20}
    assert metadata["training"]["seed"] == 1 and metadata["training"]["learning_rate"] == 1e-3

    assert main([*argv, "--seed", "2"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert json.loads((out / METADATA_FILE).read_text())["training"]["seed"] == 1

    assert main([*argv, "--seed", "2", "--overwrite"]) == 0
    assert json.loads((out / METADATA_FILE).read_text())["training"]["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["judge", "pool.jsonl"]


def test_cli_reports_a_missing_column_in_one_line(tiny_model_dir, tmp_path, capsys):
    from s2r_hf.cli import main

    source = tmp_path / "pool.jsonl"
    source.write_text(json.dumps({"question": "What is 1+1?", "solved": 1}) + "\n")
    argv = ["train-judge", str(source), "-o", str(tmp_path / "judge"), "--base-model", str(tiny_model_dir)]
    assert main([*argv, "--question-column", "question"]) == 2
    err = capsys.readouterr().err
    assert "'correctness_math_verify'" in err and "columns: ['question', 'solved']" in err


def test_cli_options_map_onto_the_config():
    import argparse
    import shlex

    from s2r_hf.commands.train_judge import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = shlex.split(
        "pool.jsonl -o out --pass-rate-column p --epochs 3 --lr 2e-5 --batch-size 4 --grad-accum 2 "
        "--max-question-tokens 512 --no-bf16 --save-dtype bfloat16 --overwrite"
    )
    args = parser.parse_args(argv)
    config = config_from_args(args)
    assert (config.output_dir, config.pass_rate_column, config.num_train_epochs) == ("out", "p", 3.0)
    assert (config.learning_rate, config.per_device_train_batch_size, config.gradient_accumulation_steps) == (
        2e-5,
        4,
        2,
    )
    assert (config.max_question_tokens, config.bf16, config.save_dtype, config.overwrite) == (
        512,
        False,
        "bfloat16",
        True,
    )
    defaults = config_from_args(parser.parse_args(["pool.jsonl", "-o", "out"]))
    assert defaults == JudgeTrainingConfig(output_dir="out")
    with pytest.raises(SystemExit):
        parser.parse_args(["pool.jsonl", "-o", "out", "--flags-column", "f", "--pass-rate-column", "p"])


@pytest.mark.slow
def test_cli_trains_from_a_hub_pool_and_a_hub_base_model(hub, tiny_model_dir, tmp_path):
    """Both the pool and the base model come through the real Hub clients, from the loopback Hub."""
    from fixtures.hub_server import DEFAULT_USER

    from s2r_hf.cli import main

    files = {p.name: p.read_bytes() for p in tiny_model_dir.iterdir() if p.is_file()}
    hub.seed_repo("s2r/tiny-base", owner=DEFAULT_USER, repo_type="model", files=files)
    pool_of(difficulty_rows(60, seed=2)).push_to_hub("s2r/judge-pool")
    out = tmp_path / "judge"
    argv = ["train-judge", "s2r/judge-pool", "-o", str(out), "--base-model", "s2r/tiny-base"]
    assert main([*argv, "--eval-fraction", "0.34", "--epochs", "1", "--lr", "1e-3"]) == 0

    metadata = json.loads((out / METADATA_FILE).read_text())
    assert metadata["base_model"] == "s2r/tiny-base"
    assert metadata["base_commit"] == hub.commits("s2r/tiny-base", repo_type="model")[0].oid
    assert metadata["rows"] == {"total": 60, "train": 40, "eval": 20}
    header, _ = split_card((out / "README.md").read_text())
    assert header["base_model"] == "s2r/tiny-base"
    assert header["s2r"]["base_commit"] == metadata["base_commit"]


def test_a_base_model_that_is_nowhere(hub, tmp_path):
    with pytest.raises(ModelError, match=r"base model 's2r/no-such-model' is neither a local folder nor a Hub model"):
        train_judge(
            pool_of(difficulty_rows(240)),
            JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model="s2r/no-such-model"),
        )
    # A local path is checked when the settings are made, before any data is read.
    with pytest.raises(ModelError, match=r"the base model folder '/no/such/folder/model' does not exist"):
        JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model="/no/such/folder/model")
    assert list(tmp_path.iterdir()) == []


def test_real_questions_are_cut_and_counted(tiny, real_pool_rows):
    _, tokenizer = tiny
    questions = [row["question"] for row in real_pool_rows]
    lengths = [len(tokenizer.encode(q, add_special_tokens=False)) for q in questions]
    limit = sorted(lengths)[len(lengths) // 2]  # the median: about half the real questions are cut
    full, none_cut = encode_prompts(
        tokenizer, questions, JudgeTrainingConfig(output_dir="x", max_question_tokens=10**6)
    )
    cut, truncated = encode_prompts(
        tokenizer, questions, JudgeTrainingConfig(output_dir="x", max_question_tokens=limit)
    )
    assert none_cut == 0
    assert truncated == sum(length > limit for length in lengths) > 0
    for length, whole, shortened in zip(lengths, full, cut, strict=True):
        if length > limit:
            assert len(shortened) < len(whole)
        else:
            assert shortened == whole
