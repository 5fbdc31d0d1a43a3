"""The callbacks one by one, driven through transformers' own TrainingArguments/TrainerState/TrainerControl."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from transformers import TrainerControl, TrainerState, TrainingArguments

from s2r_hf import CALLBACKS, EvaluateCallback, PushToHubRevisionCallback
from s2r_hf.core.errors import InputError
from s2r_hf.training.callbacks import require_callback_names

REPO = "s2r/tiny-sft"
CHECKPOINT_FILES = {
    "config.json": b'{"model_type": "qwen2"}',
    "model.safetensors": b"weights at step 5",
    "tokenizer.json": b"{}",
    "trainer_state.json": b'{"global_step": 5}',
    "README.md": b"# card",
    # resuming state: never pushed
    "optimizer.pt": b"adam moments",
    "scheduler.pt": b"cosine",
    "rng_state.pth": b"rng",
    "rng_state_1.pth": b"rng of rank 1",
    "scaler.pt": b"scaler",
    "global_step5/zero_pp_rank_0_mp_rank_00_optim_states.pt": b"zero shards",
    "latest": b"global_step5",
    # evaluation leftovers: never pushed
    ".cache/lighteval/details.parquet": b"cached generations",
    "lighteval_cache/x.json": b"{}",
}
PUSHED = ["README.md", "config.json", "model.safetensors", "tokenizer.json", "trainer_state.json"]


def make_checkpoint(output_dir, step):
    folder = output_dir / f"checkpoint-{step}"
    for name, content in CHECKPOINT_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def trainer_objects(output_dir, step):
    args = TrainingArguments(output_dir=str(output_dir), use_cpu=True, report_to="none")
    state = TrainerState()
    state.global_step, state.max_steps = step, 10
    return args, state, TrainerControl()


def test_the_registry_lists_its_names_on_a_typo():
    assert list(CALLBACKS) == ["selection_report", "push_to_hub_revision", "evaluate"]
    assert require_callback_names("selection_report, evaluate") == ["selection_report", "evaluate"]
    with pytest.raises(InputError, match=r"unknown callback 'push_to_hub'; known: selection_report, push_to_hub_rev"):
        require_callback_names(["push_to_hub"])


def test_each_checkpoint_goes_to_its_own_branch_without_resume_state_or_caches(hub, tmp_path):
    callback = PushToHubRevisionCallback(REPO)
    for step in (5, 10):
        make_checkpoint(tmp_path, step)
        callback.on_save(*trainer_objects(tmp_path, step))
    # A checkpoint rotated away (save_total_limit) while its push runs is still pushed whole.
    shutil.rmtree(tmp_path / "checkpoint-10")
    outcomes = callback.wait()

    assert sorted(outcomes) == ["step-000000005", "step-000000010"]
    for branch in outcomes:
        files = hub.files(REPO, revision=branch, repo_type="model")
        assert sorted(files) == [".gitattributes", *PUSHED]
        assert files["model.safetensors"] == b"weights at step 5"
    assert sorted(hub.files(REPO, repo_type="model")) == [".gitattributes"]  # main is left alone
    assert not (tmp_path / ".s2r-push").exists()


def test_the_hub_revision_prefixes_the_branches_and_other_ranks_push_nothing(hub, tmp_path):
    callback = PushToHubRevisionCallback(REPO, prefix="v1")
    make_checkpoint(tmp_path, 5)
    args, state, control = trainer_objects(tmp_path, 5)
    state.is_world_process_zero = False
    callback.on_save(args, state, control)
    assert callback.wait() == {}
    state.is_world_process_zero = True
    callback.on_save(args, state, control)
    assert list(callback.wait()) == ["v1-step-000000005"]


def evaluate_with(tmp_path, program: str) -> dict:
    script = tmp_path / "evaluate.py"
    script.write_text(program, encoding="utf-8")
    callback = EvaluateCallback(["math500"], command=f"{{python}} {script} {{checkpoint}} {{output}}")
    (tmp_path / "model").mkdir()
    callback.evaluate(tmp_path / "model", 7, tmp_path)
    return callback.wait()[7]


def test_the_command_gets_the_checkpoint_and_the_results_file(tmp_path):
    program = (
        "import json, sys; json.dump({'results': {'math500': {'pass@1': 0.5, 'argv': len(sys.argv)}}}, "
        "open(sys.argv[2], 'w'))"
    )
    outcome = evaluate_with(tmp_path, program)
    assert outcome == {
        "step": 7,
        "checkpoint": str(tmp_path / "model"),
        "results": {"math500": {"pass@1": 0.5, "argv": 3}},
        "error": None,
    }
    assert json.loads((tmp_path / "s2r_eval" / "step-7" / "results").read_text())["results"]["math500"]


@pytest.mark.parametrize(
    ("program", "error"),
    [
        ("import sys; print('CUDA out of memory'); sys.exit(3)", "exit code 3: CUDA out of memory"),
        ("pass", "the evaluation command exited 0 but wrote no results file"),
        (
            "import json, sys; json.dump({'math500': 0.5}, open(sys.argv[2], 'w'))",
            'must hold {"results": {benchmark: {metric: number}}}, got {"math500": 0.5}',
        ),
    ],
)
def test_a_failed_evaluation_is_reported_not_raised(tmp_path, program, error):
    assert error in evaluate_with(tmp_path, program)["error"]


def test_a_command_that_cannot_start(tmp_path):
    callback = EvaluateCallback(["math500"], command="/no/such/evaluator {checkpoint} {output}")
    callback.evaluate(tmp_path, 1, tmp_path)
    assert "could not start '/no/such/evaluator'" in callback.wait()[1]["error"]


def test_the_command_template_is_checked_up_front():
    with pytest.raises(InputError, match=r"eval_command must contain \{output\}"):
        EvaluateCallback(["math500"], command=f"{sys.executable} eval.py {{checkpoint}}")


def test_the_default_evaluation_command_is_a_valid_s2r_evaluate_call(tmp_path):
    """The default template must stay in step with `s2r evaluate`'s own flags (an unknown flag would only show at the
    end of a long training run)."""
    from s2r_hf.cli import build_parser

    callback = EvaluateCallback(["math500", "aime24"])
    output = tmp_path / "s2r_eval" / "step-3" / "results"
    argv = callback.command_for(tmp_path / "checkpoint-3", output)
    assert argv[:3] == [sys.executable, "-m", "s2r_hf.cli"]
    args = build_parser().parse_args(argv[3:])
    assert (args.command, args.model, args.tasks, args.output_dir) == (
        "evaluate",
        str(tmp_path / "checkpoint-3"),
        "math500,aime24",
        str(output),
    )


def test_the_default_evaluation_command_forces_no_backend_batch_or_device(tmp_path):
    """On a CPU-only machine the callback's evaluation must run as `s2r evaluate` runs there: the command sets the
    benchmarks alone, so the backend (transformers), the dtype and the batch size are `s2r evaluate`'s own defaults."""
    from s2r_hf.cli import build_parser
    from s2r_hf.commands.evaluate import evaluation_options
    from s2r_hf.core.options import given

    argv = EvaluateCallback(["math500"]).command_for(tmp_path / "checkpoint-3", tmp_path / "results")
    args = build_parser().parse_args(argv[3:])
    assert given(args, evaluation_options()) == {"tasks": "math500"}


def test_results_are_read_from_a_folder_as_s2r_evaluate_writes_them(tmp_path):
    from s2r_hf.training.callbacks import read_results

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.json").write_text(json.dumps({"results": {"aime24": {"maj@16": 0.25}}}))
    assert read_results(tmp_path / "results") == {"aime24": {"maj@16": 0.25}}


def test_selection_report_is_always_on(tmp_path):
    """A run never lacks its provenance, even when --callbacks names only other callbacks."""
    from s2r_hf import S2RSFTConfig

    config = S2RSFTConfig(
        output_dir=str(tmp_path / "out"), callbacks=["evaluate"], benchmarks=["math500"], use_cpu=True, report_to="none"
    )
    assert config.callbacks == ["selection_report", "evaluate"]


# A trainer, reduced to the evaluate callback's launch code: it starts the evaluation of a checkpoint (a sleeper in
# place of `s2r evaluate`) and, as a control, a plain child, prints the control's pid, and waits to be killed.
TRAINER = """
import subprocess, sys, time
from s2r_hf import EvaluateCallback

checkpoint, output_dir = sys.argv[1], sys.argv[2]
sleeper = "import sys, time; time.sleep(600)"
callback = EvaluateCallback(["math500"], command=f"{{python}} -c '{sleeper}' {{checkpoint}} {{output}}")
callback.evaluate(checkpoint, 1, output_dir)
plain = subprocess.Popen([sys.executable, "-c", sleeper])
print(plain.pid, flush=True)
time.sleep(600)
"""


def test_the_evaluation_dies_with_a_sigkilled_trainer(tmp_path):
    """A killed trainer leaves no evaluation behind, writing into the folder a resumed run will use."""
    import os
    import signal
    import subprocess

    import psutil

    checkpoint = make_checkpoint(tmp_path / "out", 1)
    trainer = subprocess.Popen(
        [sys.executable, "-c", TRAINER, str(checkpoint), str(tmp_path / "out")], stdout=subprocess.PIPE, text=True
    )
    evaluation = plain = None
    try:
        plain = psutil.Process(int(trainer.stdout.readline()))
        children = psutil.Process(trainer.pid).children()
        (evaluation,) = [child for child in children if str(checkpoint) in " ".join(child.cmdline())]
        os.kill(trainer.pid, signal.SIGKILL)
        trainer.wait(timeout=30)
        gone, alive = psutil.wait_procs([evaluation], timeout=5)
        assert gone and not alive, "the evaluation outlived its trainer"
        # The control: SIGKILL reaches the trainer alone, so a child started without being tied lives on.
        assert plain.is_running() and plain.status() != psutil.STATUS_ZOMBIE
    finally:
        trainer.kill()
        for process in (evaluation, plain):
            if process is not None and process.is_running():
                process.kill()
