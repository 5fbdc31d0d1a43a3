"""`s2r train` with the tiny recipe on a subset of the real pool: one shared run (fixtures/training.py), many checks."""

from __future__ import annotations

import json
import shutil
import stat

import pytest
import torch
from fixtures.training import TRAIN_MAX_LENGTH, TRAIN_STEPS, train_argv
from transformers import AutoModelForCausalLM, AutoTokenizer

from s2r_hf.cli import main
from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.folders import load_dataset_folder
from s2r_hf.training.provenance import PROVENANCE_FILE

# One real training run shared by the module (tens of seconds on 2 cores).
pytestmark = pytest.mark.slow


def record_of(folder):
    return json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))


def trainer_log(folder):
    return json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))["log_history"]


def weights(folder):
    return AutoModelForCausalLM.from_pretrained(folder).state_dict()


def independent_lengths(tokenizer, rows):
    """Each example's length in trainer tokens, computed one by one: the template rendered to text, then encoded."""
    return [
        len(tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False).input_ids)
        for messages in rows
    ]


@pytest.fixture(scope="module")
def run(trained_run):
    assert trained_run.exit_code == 0, "the shared `s2r train` run failed; see its log above"
    return trained_run


def test_the_run_finished_and_saved_a_model_that_reloads(run):
    out = run.output_dir
    assert record_of(out)["status"] == "finished"
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    messages = [{"role": "user", "content": "1+1?"}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert torch.isfinite(logits).all()
    assert sorted(path.name for path in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]


def test_the_saved_weights_follow_the_umask_as_every_other_file(run):
    # safetensors writes model.safetensors owner-only whatever the umask; s2r train gives it the umask's mode.
    from s2r_hf.core.folders import current_umask

    expected = 0o666 & ~current_umask()  # the session's umask, under which the shared run was made
    for folder in (run.output_dir, run.output_dir / "checkpoint-2", run.output_dir / "checkpoint-3"):
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.glob("*.*") if path.is_file()}
        assert modes["model.safetensors"] == modes["config.json"] == expected, (folder, modes)


def test_real_optimizer_steps_changed_the_parameters_and_the_loss_was_logged(run):
    before, after = weights(run.model_dir), weights(run.output_dir)
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    assert len(changed) == len(before)  # every tensor moved: nothing frozen, the optimizer stepped
    losses = [entry["loss"] for entry in trainer_log(run.output_dir) if "loss" in entry]
    assert len(losses) == TRAIN_STEPS and all(loss > 0 for loss in losses)


def test_the_over_long_filter_removed_exactly_the_examples_that_are_too_long(run):
    tokenizer = AutoTokenizer.from_pretrained(run.model_dir)
    subset = load_dataset_folder(run.subset_dir)
    lengths = independent_lengths(tokenizer, subset[MESSAGES])
    kept = [length for length in lengths if length <= TRAIN_MAX_LENGTH]
    sft = record_of(run.output_dir)["data"]["sft"]
    assert sft == {
        "max_length": TRAIN_MAX_LENGTH,
        "rows_in": 29,
        "rows_kept": len(kept),
        "rows_removed": 29 - len(kept),
        "tokens_in": sum(lengths),
        "tokens_kept": sum(kept),
        "tokens_removed": sum(lengths) - sum(kept),
        "longest_kept": max(kept),
        "longest_removed": max(lengths),
    }
    assert 0 < len(kept) < 29
    # Batch 1 and as many steps as examples: one epoch, every kept token trained once, none cut by TRL.
    assert len(kept) == TRAIN_STEPS
    assert record_of(run.output_dir)["training"]["trained_tokens"] == sum(kept)
    assert record_of(run.output_dir)["data"]["data_tokens"] == sum(kept)


def test_the_provenance_names_the_subset_and_its_selection(run):
    record = record_of(run.output_dir)
    data = record["data"]
    assert (data["source"], data["kind"]) == (str(run.subset_dir), "folder")
    selection = data["selection"]
    assert (selection["strategy"], selection["rows"], selection["pool_rows"], selection["ratio"]) == (
        "hardest",
        29,
        291,
        0.1,
    )
    assert record["base_model"] == str(run.model_dir)
    assert record["recipe"]["recipe"] == "tiny-cpu" and record["recipe"]["max_steps"] == TRAIN_STEPS
    assert record["training"]["steps"] == TRAIN_STEPS and record["training"]["tokens_per_second"] > 0
    assert record["command"].startswith("s2r train --config tiny-cpu ")


def test_the_evaluate_callback_ran_its_subprocess_and_the_scores_reached_the_logs(run):
    logged = [
        {key: value for key, value in entry.items() if key.startswith("eval/") or key == "step"}
        for entry in trainer_log(run.output_dir)
        if any(key.startswith("eval/") for key in entry)
    ]
    assert logged == [
        {
            "eval/math500/pass@1": 0.25,
            "eval/math500/saved_weights": 1.0,
            "eval/aime24/pass@1": 0.25,
            "eval/aime24/saved_weights": 1.0,
            "step": TRAIN_STEPS,
        }
    ]
    (evaluation,) = record_of(run.output_dir)["evaluations"]
    assert evaluation["step"] == TRAIN_STEPS and evaluation["error"] is None
    assert evaluation["checkpoint"] == str(run.output_dir / f"checkpoint-{TRAIN_STEPS}")
    assert (run.output_dir / "s2r_eval" / f"step-{TRAIN_STEPS}" / "results").is_file()


def test_the_model_card_states_model_data_recipe_cost_and_results(run):
    card = (run.output_dir / "README.md").read_text(encoding="utf-8")
    record = record_of(run.output_dir)
    assert f"Fine-tuned from `{run.model_dir}`" in card
    assert f"Source: `{run.subset_dir}` (folder)" in card
    assert "strategy `hardest`, weight 1.0, ratio 0.1: 29 of 291 pool rows" in card
    assert "| learning_rate | 0.001 |" in card
    tokens = record["training"]["trained_tokens"]
    assert f"| {TRAIN_STEPS} | " in card and f"{tokens:,}" in card
    assert f"| {TRAIN_STEPS} | math500 | pass@1 | 0.25 |" in card
    assert "status" not in card.split("---", 2)[2].split("## Data")[0]  # a finished run has no status banner


def test_a_finished_output_dir_is_refused_and_left_alone(run, capsys):
    before = {path: path.stat().st_mtime_ns for path in run.output_dir.rglob("*")}
    assert main(run.argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("s2r train: error: output_dir") and "holds a finished run" in err[-1]
    assert "--overwrite_output_dir" in err[-1]
    assert {path: path.stat().st_mtime_ns for path in run.output_dir.rglob("*")} == before


def test_a_killed_run_resumes_from_its_checkpoint_and_ends_where_the_full_run_did(run, tmp_path):
    # What a run killed after its step-2 checkpoint leaves behind: the checkpoint and the provenance of a running run.
    killed = tmp_path / "out"
    killed.mkdir()
    shutil.copytree(run.output_dir / "checkpoint-2", killed / "checkpoint-2")
    record = record_of(run.output_dir)
    record.update(status="running", training=None, evaluations=[])
    (killed / PROVENANCE_FILE).write_text(json.dumps(record), encoding="utf-8")

    assert main(train_argv(run.model_dir, run.subset_dir, killed)) == 0

    resumed = record_of(killed)
    assert resumed["status"] == "finished" and resumed["training"]["resumed_from_step"] == 2
    # The whole run's cost, not the last session's: the trainer's token count goes on from the checkpoint's, and the
    # training time up to the checkpoint travels in its trainer state (the selection_report callback's saved state).
    whole = record_of(run.output_dir)["training"]
    assert resumed["training"]["trained_tokens"] == whole["trained_tokens"] > 0
    state = json.loads((killed / "checkpoint-2" / "trainer_state.json").read_text(encoding="utf-8"))
    carried = state["stateful_callbacks"]["SelectionReportCallback"]["attributes"]["training_seconds"]
    assert 0 < carried < whole["wall_seconds"]
    assert resumed["training"]["wall_seconds"] > carried
    assert resumed["training"]["tokens_per_second"] == pytest.approx(
        whole["trained_tokens"] / resumed["training"]["wall_seconds"], rel=1e-3
    )
    assert "the tokens and the wall time are the whole run's" in (killed / "README.md").read_text(encoding="utf-8")
    assert [entry["step"] for entry in trainer_log(killed) if "loss" in entry] == [1, 2, 3]
    full, again = weights(run.output_dir), weights(killed)
    assert all(torch.allclose(full[name], again[name], atol=1e-6) for name in full)


def test_overwrite_trains_again_and_keeps_what_s2r_did_not_write(run, tmp_path):
    again = tmp_path / "out"
    shutil.copytree(run.output_dir, again)
    (again / "my-notes.txt").write_text("mine", encoding="utf-8")
    argv = train_argv(run.model_dir, run.subset_dir, again, "--max_steps", "1", "--overwrite_output_dir")

    assert main(argv) == 0

    assert sorted(path.name for path in again.glob("checkpoint-*")) == ["checkpoint-1"]
    assert not (again / "s2r_eval").exists()  # the old run's evaluations went with its checkpoints
    assert (again / "my-notes.txt").read_text(encoding="utf-8") == "mine"
    record = record_of(again)
    assert record["status"] == "finished" and record["training"]["steps"] == 1 and record["evaluations"] == []
