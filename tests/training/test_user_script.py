"""A user's own TRL script: prepare_sft_dataset and our callbacks handed to SFTTrainer directly."""

from __future__ import annotations

import json
import os
import stat

import pytest
from datasets import Dataset
from fixtures.readme import readme_block, substitute
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from s2r_hf import EvaluateCallback, SelectionReportCallback, prepare_sft_dataset, select
from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES, TRACE_LENGTH
from s2r_hf.core.folders import load_dataset_folder
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
    assert record["training"]["steps"] == STEPS
    assert record["data"]["source"] == "my pool" and record["data"]["token_share"] == pytest.approx(
        user_run["report"].tokens_kept / (10 * user_run["report"].tokens_in)
    )
    assert record["evaluations"][0]["results"] == {"math500": {"pass@1": 1.0}}
    logged = [entry for entry in user_run["trainer"].state.log_history if "eval/math500/pass@1" in entry]
    assert logged == [{"eval/math500/pass@1": 1.0, "step": STEPS}]
    card = (user_run["out"] / "README.md").read_text(encoding="utf-8")
    # The end of the loop is the last this callback sees in a script: the card says the run is over.
    assert "| 24 | math500 | pass@1 | 1.0 |" in card and record["status"] == "finished"
    assert "Training status" not in card and "rewritten when the run finishes" not in card


# ---- The README's script, as written (section "Training in your own TRL script") ----------------------------------

# Read from the README itself, so the two cannot drift; the test substitutes only the tiny offline model, the pool
# folder, the length, the output folder, and the sizing of a two-step CPU run (each substitution must match).
README_SECTION = "Training in your own TRL script"
README_MAX_LENGTH = 280  # in the tiny tokenizer's tokens: removes the longest of the 4 selected examples (288)


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory, tiny_model_dir, real_pool_rows):
    """The README's script, run once with the substitutions above, under umask 022."""
    from s2r_hf.cli import main

    root = tmp_path_factory.mktemp("readme-script")
    # `s2r score` of 40 real examples cut to CPU size, the traces 80 to 470 characters long (select picks the longest)
    rows = [
        {"id": index, "question": row["question"][:100], "solution": row["solution"][: 80 + 10 * index]}
        | {"difficulty": (index * 37 % 41) / 40}
        for index, row in enumerate(real_pool_rows[:40])
    ]
    (root / "pool.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    pool_dir, out = root / "openr1-scored", root / "out"
    score = ["score", str(root / "pool.jsonl"), "-o", str(pool_dir), "--question-column", "question"]
    assert main([*score, "--trace-column", "solution", "--id-column", "id", "--difficulty", "column:difficulty"]) == 0
    code = substitute(
        readme_block(README_SECTION, "python").code,
        {
            '"limo-scored"': repr(str(pool_dir)),
            '"Qwen/Qwen2.5-0.5B-Instruct"': repr(str(tiny_model_dir)),
            "16384": str(README_MAX_LENGTH),
            'output_dir="qwen-own-script"': f"output_dir={str(out)!r}",
            "gradient_accumulation_steps=8": "gradient_accumulation_steps=1",
            "bf16=torch.cuda.is_available(),": 'bf16=torch.cuda.is_available(), max_steps=2, report_to="none",',
        },
    )
    previous = os.umask(0o022)
    try:
        namespace: dict = {}
        exec(compile(code, "readme_script.py", "exec"), namespace)
    finally:
        os.umask(previous)
    return {**namespace, "out": out, "pool_dir": pool_dir, "model_dir": tiny_model_dir}


def test_the_readme_script_records_its_selection_model_pool_tokens_and_end(readme_run):
    out, report, tokenizer = readme_run["out"], readme_run["report"], readme_run["tokenizer"]
    record = json.loads((out / PROVENANCE_FILE).read_text(encoding="utf-8"))
    pool = load_dataset_folder(readme_run["pool_dir"])
    pool_tokens = sum(
        len(tokenizer.apply_chat_template(list(m), tokenize=True, return_dict=True)["input_ids"])
        for m in pool[MESSAGES]
    )
    data = record["data"]
    assert (record["name"], record["base_model"]) == ("out", str(readme_run["model_dir"]))
    assert (data["source"], data["kind"], data["selected_by"]) == (
        str(readme_run["pool_dir"]),
        "folder",
        "s2r_hf.select",
    )
    selection = data["selection"]
    assert (selection["strategy"], selection["ratio"], selection["weight"]) == ("joint", 0.1, 0.25)
    assert (selection["rows"], selection["pool_rows"], selection["pool"]) == (
        round(0.1 * len(pool)),
        len(pool),
        str(readme_run["pool_dir"]),
    )
    assert (data["sft"]["rows_in"], data["sft"]["rows_kept"]) == (selection["rows"], report.rows_kept)
    assert data["pool_tokens"] == pool_tokens and data["token_share"] == pytest.approx(report.tokens_kept / pool_tokens)
    # Two steps of one example each: the trainer counted the tokens of two of the kept examples.
    lengths = [
        len(tokenizer.apply_chat_template(list(m), tokenize=True, return_dict=True)["input_ids"])
        for m in readme_run["train"][MESSAGES]
    ]
    pairs = {a + b for i, a in enumerate(lengths) for j, b in enumerate(lengths) if i != j} | {2 * n for n in lengths}
    assert record["status"] == "finished" and record["training"]["steps"] == 2
    assert record["training"]["trained_tokens"] in pairs and record["command"] is None
    assert record["trained_by"] == "a Python script"
    assert f"pool = load_source({str(readme_run['pool_dir'])!r})" in record["python_call"]
    assert (
        f"train, report = prepare_sft_dataset(select(pool, ratio=0.1, weight=0.25), tokenizer, {README_MAX_LENGTH}, "
        "pool=pool)"
    ) in record["python_call"]


def test_the_readme_script_card_speaks_to_a_python_user(readme_run):
    card = (readme_run["out"] / "README.md").read_text(encoding="utf-8")
    body = card.split("\n---\n", 1)[1]
    record = json.loads((readme_run["out"] / PROVENANCE_FILE).read_text(encoding="utf-8"))
    data = record["data"]
    assert body.lstrip().startswith("# out\n")
    assert f"Fine-tuned from `{readme_run['model_dir']}`" in body
    assert (
        f"- Selection (s2r_hf.select): strategy `joint`, weight 0.25, ratio 0.1: {data['selection']['rows']:,} of "
        f"{data['selection']['pool_rows']:,} pool rows." in body
    )
    assert f"The whole pool holds {data['pool_tokens']:,} tokens" in body
    # 2 steps of 1 of the 3 examples; the tokens processed known
    assert f"| 2 | 0.67 | {record['training']['trained_tokens']:,} |" in body
    assert "Trained by a Python script" in body and record["python_call"] in body
    for cli_word in ("s2r train", "--pool_dataset", "--callbacks", "rewritten when the run finishes", "None"):
        assert cli_word not in body, cli_word


def test_the_readme_script_checkpoint_weights_follow_the_umask(readme_run):
    # safetensors writes 0600 whatever the umask; the selection_report callback gives the checkpoint the umask's mode.
    weights = readme_run["out"] / "checkpoint-2" / "model.safetensors"
    config = readme_run["out"] / "checkpoint-2" / "config.json"
    assert stat.S_IMODE(weights.stat().st_mode) == stat.S_IMODE(config.stat().st_mode) == 0o644
