"""A user's own TRL script: prepare_sft_dataset and our callbacks handed to SFTTrainer directly."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from s2r_hf import EvaluateCallback, SelectionReportCallback, prepare_sft_dataset, select
from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES, TRACE_LENGTH
from s2r_hf.training.provenance import PROVENANCE_FILE

# One real training run shared by the module (tens of seconds on 2 cores).
pytestmark = pytest.mark.slow

MAX_LENGTH = 256
STEPS = 24
EVALUATE = "import json, sys; json.dump({'results': {'math500': {'pass@1': 1.0}}}, open(sys.argv[2], 'w'))"


@pytest.fixture(scope="module")
def user_run(tmp_path_factory, tiny_model_dir, real_pool_rows):
    """The script a user writes: select, prepare, train with our callbacks. Run once; the tests read it."""
    tmp = tmp_path_factory.mktemp("user-script")
    # Four short real examples, repeated so that the same batches come back, plus two far too long to keep.
    short = [(row["question"][:120], row["solution"][:160]) for row in real_pool_rows[:4]]
    long = [(row["question"], row["solution"][:3000]) for row in real_pool_rows[4:6]]
    examples = short * 8 + long
    pool = Dataset.from_dict(
        {
            MESSAGES: [[{"role": "user", "content": q}, {"role": "assistant", "content": a}] for q, a in examples],
            ID: [f"row-{index:02d}" for index in range(len(examples))],
            DIFFICULTY: [0.5] * len(examples),
            TRACE_LENGTH: [len(a) for _, a in examples],
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    train, report = prepare_sft_dataset(select(pool, k=len(examples)), tokenizer, MAX_LENGTH)

    (tmp / "evaluate.py").write_text(EVALUATE, encoding="utf-8")
    evaluate = EvaluateCallback(["math500"], command=f"{{python}} {tmp / 'evaluate.py'} {{checkpoint}} {{output}}")
    callbacks = [SelectionReportCallback.from_reports(report, source="my pool", pool_tokens=10 * report.tokens_in)]
    args = SFTConfig(
        output_dir=str(tmp / "out"),
        max_length=MAX_LENGTH,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        max_steps=STEPS,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        lr_scheduler_type="constant",
        logging_steps=1,
        save_strategy="steps",
        save_steps=STEPS,
        seed=0,
    )
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=train, processing_class=tokenizer, callbacks=[*callbacks, evaluate]
    )
    trainer.train()
    return {"trainer": trainer, "report": report, "tokenizer": tokenizer, "train": train, "out": tmp / "out"}


def test_the_trainer_sees_exactly_the_measured_tokens_and_nothing_is_truncated(user_run):
    report, tokenizer = user_run["report"], user_run["tokenizer"]
    assert (report.rows_in, report.rows_removed) == (34, 2)
    trained = user_run["trainer"].train_dataset["input_ids"]
    expected = [
        len(tokenizer.apply_chat_template(list(m), tokenize=True, return_dict=True)["input_ids"])
        for m in user_run["train"][MESSAGES]
    ]
    assert [len(ids) for ids in trained] == expected
    assert sum(expected) == report.tokens_kept and max(expected) <= MAX_LENGTH


def test_the_loss_decreases_over_repeated_batches(user_run):
    losses = [entry["loss"] for entry in user_run["trainer"].state.log_history if "loss" in entry]
    assert len(losses) == STEPS
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4


def test_the_callbacks_wrote_the_provenance_and_logged_the_scores(user_run):
    record = json.loads((user_run["out"] / PROVENANCE_FILE).read_text(encoding="utf-8"))
    assert record["status"] == "trained" and record["training"]["steps"] == STEPS
    assert record["data"]["source"] == "my pool" and record["data"]["token_share"] == pytest.approx(
        user_run["report"].tokens_kept / (10 * user_run["report"].tokens_in)
    )
    assert record["evaluations"][0]["results"] == {"math500": {"pass@1": 1.0}}
    logged = [entry for entry in user_run["trainer"].state.log_history if "eval/math500/pass@1" in entry]
    assert logged == [{"eval/math500/pass@1": 1.0, "step": STEPS}]
    card = (user_run["out"] / "README.md").read_text(encoding="utf-8")
    assert "| 24 | math500 | pass@1 | 1.0 |" in card and "Training status: **trained**" in card
