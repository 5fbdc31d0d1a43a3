"""`s2r train` under hostile input and faults (issue 16): nothing of the user's lost, no stale result, no orphan, no
traceback. Each error is one line, exit code 2, before the model loads and before anything in the output is written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from fixtures.env import REPO_ROOT
from fixtures.training import train_argv

from s2r_hf.cli import main
from s2r_hf.training.output import INTERRUPTED
from s2r_hf.training.provenance import PROVENANCE_FILE


def run_train(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("s2r train: error: ")]
    assert len(errors) == (code == 2), err  # one line, not the usage nor a traceback (progress bars aside)
    return code, errors[0] if errors else ""


def record_of(folder: Path) -> dict:
    return json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict:
    """Every file under `folder` with its content: what a refused run must leave exactly as it was."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def run(trained_run):
    assert trained_run.exit_code == 0, "the shared `s2r train` run failed; see its log above"
    return trained_run


def killed_copy(run, folder: Path, checkpoints=("checkpoint-2",)) -> Path:
    """What a run killed after its step-2 checkpoint leaves: the checkpoint and the record of a running run."""
    folder.mkdir()
    for name in checkpoints:
        shutil.copytree(run.output_dir / name, folder / name)
    record = record_of(run.output_dir)
    record.update(status="running", training=None, evaluations=[])
    (folder / PROVENANCE_FILE).write_text(json.dumps(record), encoding="utf-8")
    return folder


# -- options that would fail only once the model is loaded, or train nothing ------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--per_device_train_batch_size", "0"], "per_device_train_batch_size must be a whole number of at least 1"),
        (["--gradient_accumulation_steps", "-2"], "gradient_accumulation_steps must be a whole number of at least 1"),
        (["--max_steps", "-1", "--num_train_epochs", "0"], "num_train_epochs is 0 and max_steps is -1: nothing"),
        (["--max_steps", "0", "--num_train_epochs", "0"], "num_train_epochs is 0 and max_steps is 0: nothing"),
        (["--num_train_epochs", "nan"], "num_train_epochs must be a finite number, got nan"),
        (["--num_train_epochs", "-1"], "num_train_epochs must be a finite number of epochs, at least 0; got -1"),
        (["--max_steps", "-5"], "max_steps must be a positive number of steps, or -1"),
        (["--learning_rate", "nan"], "learning_rate must be a finite number, got nan"),
        (["--learning_rate", "-0.1"], "learning_rate must be a positive finite number, got -0.1"),
        (["--seed", "-1"], "seed must be a whole number from 0 to 2**32 - 1, got -1"),
    ],
)
def test_settings_that_train_nothing_or_fail_late_are_refused_up_front(
    extra, message, tiny_model_dir, tmp_path, capsys
):
    code, line = run_train(train_argv(tiny_model_dir, tmp_path / "data", tmp_path / "out", *extra), capsys)
    assert code == 2 and line.startswith("s2r train: error: ") and message in line
    assert not (tmp_path / "out").exists()


def test_a_missing_resume_checkpoint_is_one_line_before_the_model_loads(run, tmp_path, capsys):
    missing = tmp_path / "missing" / "checkpoint-9"
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--resume_from_checkpoint", str(missing))
    code, line = run_train(argv, capsys)
    assert code == 2 and f"--resume_from_checkpoint {str(missing)!r} does not exist" in line
    assert not (tmp_path / "out").exists()


def test_a_resume_checkpoint_that_was_not_saved_whole_is_one_line(run, tmp_path, capsys):
    broken = Path(shutil.copytree(run.output_dir / "checkpoint-2", tmp_path / "other" / "checkpoint-2"))
    (broken / "trainer_state.json").unlink()
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--resume_from_checkpoint", str(broken))
    code, line = run_train(argv, capsys)
    assert code == 2 and "has no trainer_state.json (it was not saved whole)" in line
    assert not (tmp_path / "out").exists()


# -- case 4: the output folder rules hold whatever resume option is given ---------------------------------------------


def test_a_foreign_output_folder_is_refused_even_with_a_resume_checkpoint(run, tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "config.json").write_text('{"mine": true}', encoding="utf-8")
    other = Path(shutil.copytree(run.output_dir / "checkpoint-2", tmp_path / "other" / "checkpoint-1"))
    argv = train_argv(run.model_dir, run.subset_dir, foreign, "--resume_from_checkpoint", str(other))
    code, line = run_train(argv, capsys)
    assert code == 2 and "exists and was not written by s2r train" in line
    assert snapshot(foreign) == {foreign / "config.json": b'{"mine": true}'}


# -- case 5: every check passes before --overwrite_output_dir removes anything ---------------------------------------


def test_overwrite_with_a_missing_dataset_leaves_the_finished_run_whole(run, tmp_path, capsys):
    finished = Path(shutil.copytree(run.output_dir, tmp_path / "finished_run"))
    before = snapshot(finished)
    argv = train_argv(run.model_dir, tmp_path / "missing", finished, "--overwrite_output_dir", "true")
    code, line = run_train(argv, capsys)
    # The dataset's own message (any line naming the missing folder would have passed an `in line` check).
    missing = str(tmp_path / "missing")
    assert (code, line) == (
        2, f"s2r train: error: input {missing!r} does not exist (and is not a Hub dataset id of the form org/name)"
    )  # fmt: skip
    assert snapshot(finished) == before
    assert record_of(finished)["status"] == "finished"


# -- case 10: a resume with other data or settings is refused, saying what differs -----------------------------------


def test_a_resume_with_other_data_and_learning_rate_is_refused_naming_both(run, tmp_path, capsys):
    killed = killed_copy(run, tmp_path / "out")
    before = snapshot(killed)
    other_data = Path(shutil.copytree(run.subset_dir, tmp_path / "other-subset"))
    argv = train_argv(run.model_dir, other_data, killed, "--learning_rate", "0.002")
    code, line = run_train(argv, capsys)
    assert code == 2 and "holds an unfinished run started with other data or settings" in line
    assert f"data.source: {str(run.subset_dir)!r} -> {str(other_data)!r}" in line
    assert "learning_rate: 0.001 -> 0.002" in line
    assert "--overwrite_output_dir to start again" in line
    assert snapshot(killed) == before
    # The fix the message gives: start again with the new data and rate.
    assert main([*argv, "--overwrite_output_dir", "true", "--max_steps", "1"]) == 0
    record = record_of(killed)
    assert record["data"]["source"] == str(other_data) and record["recipe"]["learning_rate"] == 0.002
    assert record["training"]["resumed_from_step"] is None and record["training"]["steps"] == 1


# -- the data: the rule `s2r score` applies ---------------------------------------------------------------------------


def test_rows_with_a_null_content_or_no_assistant_turn_are_refused_by_row(tiny_model_dir, tmp_path, capsys):
    rows = [
        {"messages": [{"role": "user", "content": "1+1?"}, {"role": "assistant", "content": "2"}]},
        {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": None}]},
        {"messages": [{"role": "user", "content": "3+3?"}]},
    ]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    code, line = run_train(train_argv(tiny_model_dir, data, tmp_path / "out"), capsys)
    assert code == 2 and "has 2 unusable rows of 3" in line
    assert "rows [2]: no assistant turn" in line and "rows [1]: a null assistant content" in line
    assert not (tmp_path / "out").exists()


# -- the chat template -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; give a .jinja chat template file"),
        ("{% for m in messages %}{{ m.content }", "is not a valid Jinja template (line 1)"),
    ],
)
def test_a_chat_template_file_that_is_missing_or_does_not_parse(content, message, run, tmp_path, capsys):
    template = tmp_path / "bad.jinja"
    if content is not None:
        template.write_text(content, encoding="utf-8")
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--chat_template_path", str(template))
    code, line = run_train(argv, capsys)
    assert code == 2 and f"--chat_template_path {str(template)!r} {message}" in line
    assert not (tmp_path / "out").exists()


# -- read-only and full disks ----------------------------------------------------------------------------------------


@pytest.fixture
def mount_point(tmpfs):
    """A 320 KiB tmpfs: room for the record and the model, not for a whole checkpoint (its optimizer state)."""
    return tmpfs("disk", size="320k")


def test_a_read_only_output_folder_is_one_line_before_any_work(run, mount_point, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
    for output in (mount_point, mount_point / "out"):
        code, line = run_train(train_argv(run.model_dir, run.subset_dir, output), capsys)
        assert code == 2 and line.startswith("s2r train: error: ") and "read-only" in line.lower()
        assert str(mount_point) in line and "choose an" in line
    assert list(mount_point.iterdir()) == []


# -- case 15 and a disk that fills while training ------------------------------------------------------------------


def test_a_disk_filling_mid_training_stops_in_one_line_and_the_rerun_skips_the_broken_checkpoint(
    run, mount_point, capsys
):
    out = mount_point / "out"
    argv = train_argv(run.model_dir, run.subset_dir, out, "--max_steps", "2", "--save_steps", "1")
    code, line = run_train(argv, capsys)
    assert code == 2 and f"training into {str(out)!r} stopped: " in line
    assert "run the same command again: it resumes from the last whole checkpoint" in line
    assert (out / "checkpoint-1").is_dir() and not (out / "checkpoint-1" / "trainer_state.json").exists()
    assert record_of(out)["status"] == "running"

    subprocess.run(["mount", "-o", "remount,size=8m", str(mount_point)], check=True)  # space freed
    assert main(argv) == 0
    record = record_of(out)
    assert record["status"] == "finished" and record["training"]["steps"] == 2
    assert record["training"]["resumed_from_step"] is None  # the broken checkpoint-1 was not resumed from
    assert (out / "checkpoint-2" / "trainer_state.json").is_file()


def test_the_last_whole_checkpoint_is_resumed_from_and_an_incomplete_later_one_skipped(run, tmp_path):
    killed = killed_copy(run, tmp_path / "out", checkpoints=("checkpoint-2", "checkpoint-3"))
    (killed / "checkpoint-3" / "trainer_state.json").unlink()  # cut short by a full disk
    assert main(train_argv(run.model_dir, run.subset_dir, killed)) == 0
    record = record_of(killed)
    assert record["status"] == "finished" and record["training"]["resumed_from_step"] == 2
    assert record["training"]["steps"] == 3


# -- cases 7, 12 and 13: a run killed while its final evaluation runs -----------------------------------------------

# A stand-in for `s2r evaluate` that waits while the file `block` exists, then `delay` seconds, then checks that the
# checkpoint is still a whole saved model and writes its results.
SLOW_EVALUATE = """
import json, sys, time
from pathlib import Path
checkpoint, output, block, delay = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
while block.exists():
    time.sleep(0.1)
time.sleep(delay)
assert (checkpoint / "config.json").is_file(), f"not a saved model: {checkpoint}"
weights = float(any(checkpoint.glob("*.safetensors")))
output.write_text(json.dumps({"results": {"math500": {"pass@1": 0.5, "saved_weights": weights}}}))
"""


def slow_evaluate_argv(run, folder: Path, out: Path, block: Path, delay: float, *extra: str) -> list[str]:
    script = folder / "slow_evaluate.py"
    script.write_text(SLOW_EVALUATE, encoding="utf-8")
    command = f"{{python}} {script} {{checkpoint}} {{output}} {block} {delay}"
    callbacks = ["--callbacks", "evaluate", "--benchmarks", "math500", "--eval_command", command]
    return train_argv(run.model_dir, run.subset_dir, out, *callbacks, *extra)


@dataclass
class KilledDuringEvaluation:
    out: Path
    argv: list[str]
    block: Path
    second: subprocess.CompletedProcess  # a second `s2r train` into the same folder while the first ran
    status_when_killed: str
    survivors: list  # the processes of the killed run still alive after it was killed


@pytest.fixture(scope="module")
def killed_during_final_evaluation(tmp_path_factory, trained_run):
    """`s2r train --callbacks evaluate` in its own process, SIGKILLed while its final evaluation waits."""
    assert trained_run.exit_code == 0
    folder = tmp_path_factory.mktemp("killed-during-evaluation")
    block, out = folder / "block", folder / "out"
    block.touch()
    argv = slow_evaluate_argv(trained_run, folder, out, block, 0, "--max_steps", "1", "--save_steps", "1")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "s2r_hf.cli", *argv]
    with open(folder / "first.log", "wb") as log:
        first = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    survivors = []
    try:
        evaluation = []
        deadline = time.monotonic() + 300
        while not evaluation and first.poll() is None and time.monotonic() < deadline:
            children = psutil.Process(first.pid).children()
            evaluation = [child for child in children if "slow_evaluate" in str(child.cmdline())]
            time.sleep(0.2)
        assert evaluation, f"the run started no evaluation: {(folder / 'first.log').read_text()[-3000:]}"
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        status = record_of(out)["status"]
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        _, survivors = psutil.wait_procs(evaluation, timeout=10)
    finally:
        for process in psutil.Process(first.pid).children(recursive=True) if first.poll() is None else []:
            process.kill()
        first.kill()
        for process in survivors:
            process.kill()
    return KilledDuringEvaluation(out, argv, block, second, status, survivors)


def test_a_second_run_into_the_same_output_is_refused_at_once(killed_during_final_evaluation):
    second = killed_during_final_evaluation.second
    errors = [line for line in second.stderr.splitlines() if "error" in line.lower()]
    assert second.returncode == 2 and len(errors) == 1, second.stderr[-3000:]
    assert errors[0].startswith("s2r train: error: another `s2r train` is writing")
    assert "Traceback" not in second.stderr


def test_a_killed_run_leaves_no_evaluation_running(killed_during_final_evaluation):
    assert killed_during_final_evaluation.survivors == []


def test_a_run_killed_during_its_final_evaluation_is_completed_by_the_same_command(killed_during_final_evaluation):
    killed = killed_during_final_evaluation
    assert killed.status_when_killed == "trained"  # not "finished": its final evaluation is missing
    killed.block.unlink()
    assert main(killed.argv) == 0
    record = record_of(killed.out)
    assert record["status"] == "finished"
    assert [(item["step"], item["results"], item["error"]) for item in record["evaluations"]] == [
        (1, {"math500": {"pass@1": 0.5, "saved_weights": 1.0}}, None)
    ]


def test_checkpoints_rotated_away_are_still_evaluated_whole(run, tmp_path):
    out = tmp_path / "out"
    extra = ["--eval_every_save", "true", "--save_total_limit", "1", "--save_steps", "1"]
    # Each evaluation reads its checkpoint 3 s after it was saved: by then the next save has rotated it away.
    argv = slow_evaluate_argv(run, tmp_path, out, tmp_path / "no-block", 3, *extra)
    assert main(argv) == 0
    evaluations = record_of(out)["evaluations"]
    assert [(item["step"], item["error"]) for item in evaluations] == [(1, None), (2, None), (3, None)]
    assert all(item["results"]["math500"]["saved_weights"] == 1.0 for item in evaluations)
    assert sorted(path.name for path in out.glob("checkpoint-*")) == ["checkpoint-3"]
    assert not list((out / "s2r_eval").glob("step-*/checkpoint-*"))  # the evaluations' linked copies are gone


# -- found by sweeping `s2r train` as a hostile user -----------------------------------------------------------------


def test_an_output_inside_the_dataset_folder_is_refused(run, tmp_path, capsys):
    subset = Path(shutil.copytree(run.subset_dir, tmp_path / "subset"))
    before = snapshot(subset)
    code, line = run_train(train_argv(run.model_dir, subset, subset / "out"), capsys)
    assert code == 2 and f"output_dir {str(subset / 'out')!r} is inside the --dataset_name folder" in line
    assert snapshot(subset) == before and not (subset / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--eval_python", "/no/such/python"], "--eval_python '/no/such/python' is not an executable interpreter"),
        (
            ["--eval_command", "/no/such/evaluator {checkpoint} {output}"],
            "eval_command starts with '/no/such/evaluator', which is not a program found here",
        ),
    ],
)
def test_an_evaluation_program_that_does_not_exist_is_refused_before_training(
    extra, message, tiny_model_dir, tmp_path, capsys
):
    callbacks = ["--callbacks", "evaluate", "--benchmarks", "math500", *extra]
    code, line = run_train(train_argv(tiny_model_dir, tmp_path / "data", tmp_path / "out", *callbacks), capsys)
    assert code == 2 and message in line
    assert not (tmp_path / "out").exists()


def test_an_output_under_a_file_says_so(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "afile").write_text("mine", encoding="utf-8")
    code, line = run_train(train_argv(tiny_model_dir, tmp_path / "data", tmp_path / "afile" / "out"), capsys)
    assert code == 2 and f"{str(tmp_path / 'afile')!r} is a file, not a folder" in line
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("entry", ["s2r_hf.cli", "s2r_hf.training.sft"])
def test_ctrl_c_is_one_line_and_the_run_stays_resumable(entry, run, tmp_path):
    block, out = tmp_path / "block", tmp_path / "out"
    block.touch()
    argv = slow_evaluate_argv(run, tmp_path, out, block, 0, "--max_steps", "1", "--save_steps", "1")
    if entry == "s2r_hf.training.sft":
        argv = argv[1:]  # the module takes the flags alone
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    trainer = subprocess.Popen([sys.executable, "-m", entry, *argv], env=env, stderr=subprocess.PIPE, text=True)
    evaluation, survivors = [], []
    try:
        deadline = time.monotonic() + 300
        while not evaluation and trainer.poll() is None and time.monotonic() < deadline:
            children = psutil.Process(trainer.pid).children()
            evaluation = [child for child in children if "slow_evaluate" in str(child.cmdline())]
            time.sleep(0.2)
        time.sleep(1)
        trainer.send_signal(signal.SIGINT)  # to the trainer alone, as a supervisor would send it
        _, stderr = trainer.communicate(timeout=120)
        _, survivors = psutil.wait_procs(evaluation, timeout=10)
    finally:
        trainer.kill()
        for process in survivors:
            process.kill()
    assert trainer.returncode == 130 and "Traceback" not in stderr, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == f"s2r train: {INTERRUPTED}"
    assert record_of(out)["status"] in ("running", "trained")
    assert evaluation and survivors == []  # its evaluation ended with it


def test_an_unknown_dataset_config_of_a_folder_is_one_line(run, tmp_path, capsys):
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--dataset_config", "nope")
    code, line = run_train(argv, capsys)
    assert code == 2 and f"{str(run.subset_dir)!r} has no config 'nope'" in line and "Available: ['default']" in line
    assert not (tmp_path / "out").exists()


def test_a_checkpoint_of_a_model_of_another_shape_is_refused_before_the_model_loads(run, tmp_path, capsys):
    from fixtures.tiny_models import build_qwen2
    from transformers import AutoTokenizer

    other = tmp_path / "wider-model"
    build_qwen2(AutoTokenizer.from_pretrained(run.model_dir), other, hidden_size=64)
    checkpoint = Path(shutil.copytree(run.output_dir / "checkpoint-2", tmp_path / "wider" / "checkpoint-2"))
    for name in ("config.json", "model.safetensors"):
        shutil.copy(other / name, checkpoint / name)
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--resume_from_checkpoint", str(checkpoint))
    code, line = run_train(argv, capsys)
    assert code == 2 and f"the checkpoint {str(checkpoint)!r} was not trained from {str(run.model_dir)!r}" in line
    assert "hidden_size: 32 -> 64" in line
    assert not (tmp_path / "out").exists()


def test_a_chat_template_that_fails_on_the_data_is_one_line(run, tmp_path, capsys):
    template = tmp_path / "strict.jinja"
    strict = "{% if messages[0]['role'] != 'system' %}{{ raise_exception('a system turn first') }}{% endif %}"
    template.write_text(strict, encoding="utf-8")
    argv = train_argv(run.model_dir, run.subset_dir, tmp_path / "out", "--chat_template_path", str(template))
    code, line = run_train(argv, capsys)
    assert code == 2 and "the chat template cannot render these messages: a system turn first" in line
    assert not (tmp_path / "out").exists()


def test_ctrl_c_while_trl_is_still_loading_says_the_run_can_be_resumed(tmp_path, capsys, monkeypatch):
    """A Ctrl-C in the seconds TRL and torch take to import is a Ctrl-C of `s2r train` too: not the CLI's generic line
    about folders written whole (a training folder is kept partial on purpose, to resume)."""

    class InterruptedImport:  # what Ctrl-C does to an import: KeyboardInterrupt from inside it
        def find_spec(self, name, path=None, target=None):
            if name == "s2r_hf.training.sft":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "s2r_hf.training.sft", raising=False)
    monkeypatch.setattr(sys, "meta_path", [InterruptedImport(), *sys.meta_path])
    code = main(["train", "--config", "tiny-cpu", "--output_dir", str(tmp_path / "out")])
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"s2r train: {INTERRUPTED}"
    assert "whole or not at all" not in INTERRUPTED and "resume" in INTERRUPTED
