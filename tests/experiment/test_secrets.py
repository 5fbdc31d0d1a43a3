"""Issue 16, case 2: `s2r experiment run X --set train.overrides.hub_token=T` never writes T (experiment.json, the
steps' records, the pool's and subset's cards, the model, the results, the report), never puts it on a command line
(recorded, printed by `plan`, visible in `ps`), and no fingerprint depends on it.

The slow test runs the shipped tiny-cpu experiment for one arm (the pool, `random`'s subset, one training step, a
2-problem evaluation), the trainer pushing its checkpoint to the loopback Hub with T: the token must reach the
training child through its environment.
"""

from __future__ import annotations

import json
import os

import pytest
from fixtures.evaluation import s2r
from fixtures.hub_server import DEFAULT_USER

from s2r_hf.core.redaction import REDACTED
from s2r_hf.experiment.config import ExperimentConfig, apply_override
from s2r_hf.experiment.launch import train_command, train_environment
from s2r_hf.experiment.plan import plan_experiment, render_missing, render_plan
from s2r_hf.experiment.steps import experiment_steps

TOKEN = "hf_" + "Xp9" * 11 + "w"  # shaped like a real user token (hf_ + 34)
OTHER = "hf_" + "Yq8" * 11 + "v"
SETTING = f"train.overrides.hub_token={TOKEN}"
BASE = {
    "name": "sweep",
    "pool": {"source": "demo"},
    "arms": [{"name": "full", "strategy": "full"}, {"name": "joint", "strategy": "joint", "ratio": 0.1}],
    "train": {"recipe": "tiny-cpu", "model": "some/model", "overrides": {"max_steps": 2}},
    "evaluate": {"tasks": "math500", "max_samples": 2},
}


def config_with(*overrides: str, output=None) -> ExperimentConfig:
    data = dict(BASE)
    for override in overrides:
        data = apply_override(data, override)
    return ExperimentConfig.from_dict({**data, **({"output": str(output)} if output else {})})


def files_holding(folder, *needles: str) -> list[str]:
    """Every file under `folder` (binary ones included) holding one of `needles`."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                content = handle.read()
            if any(needle.encode() in content for needle in needles):
                found.append(os.path.relpath(path, folder))
    return found


def test_no_fingerprint_depends_on_the_token():
    plain = {step.id: step.fingerprint for step in experiment_steps(config_with())}
    for token in (TOKEN, OTHER):
        assert {
            step.id: step.fingerprint for step in experiment_steps(config_with(f"{SETTING[: -len(TOKEN)]}{token}"))
        } == plain
    assert "hub_token" not in json.dumps([step.settings for step in experiment_steps(config_with(SETTING))])


@pytest.mark.parametrize("setting", [SETTING, SETTING.replace("hub_token", "hub-token")])
def test_the_token_goes_to_the_trainer_through_its_environment_never_its_command_line(tmp_path, setting):
    config = config_with(setting, output=tmp_path / "out")
    command = train_command(config, data="subset", output_dir="model")
    assert TOKEN not in command and not [word for word in command if "hub" in word] and "--max_steps" in command
    assert train_environment(config) == {"HF_TOKEN": TOKEN}
    assert train_environment(config_with()) == {}
    plain = {step.id: step.fingerprint for step in experiment_steps(config_with(output=tmp_path / "out"))}
    assert {step.id: step.fingerprint for step in experiment_steps(config)} == plain


@pytest.mark.parametrize("setting", [SETTING, SETTING.replace("hub_token", "hub-token")])
def test_plan_prints_no_token(tmp_path, setting):
    config = config_with(setting, output=tmp_path / "out")
    planned = plan_experiment(config, "sweep.yaml", [setting, "arms.joint.weight=0.5"])
    for fmt in ("text", "json"):
        text = render_plan(config, planned, fmt)
        assert TOKEN not in text and "hub" not in text and "arms.joint.weight=0.5" in text
        missing = render_missing(config, planned, "sweep.yaml", [setting, "arms.joint.weight=0.5"], fmt)
        assert TOKEN not in missing and "hub" not in missing and "--array=0,1 slurm-arms.sh sweep.yaml" in missing


@pytest.mark.slow
def test_a_run_given_the_token_writes_it_nowhere_and_pushes_with_it(tmp_path, tiny_model_dir, benchmark_paths, hub):
    from s2r_hf.training.publish import publish_model

    output = tmp_path / "experiment"
    settings = [
        f"train.model={tiny_model_dir}",
        f"output={output}",
        "train.overrides.max_steps=1",
        "train.overrides.max_length=1024",
        "train.overrides.callbacks=[selection_report, push_to_hub_revision]",
        "train.overrides.hub_model_id=s2r/exp-secret",
        "evaluate.max_samples=2",
        "evaluate.max_new_tokens=8",
        f"evaluate.data.math500={benchmark_paths['math500']}",
    ]
    flags = [word for setting in settings for word in ("--set", setting)]
    hub.state.tokens[TOKEN] = DEFAULT_USER  # the only token that can push here: HF_TOKEN is emptied for the run
    try:
        run = s2r("experiment", "run", "tiny-cpu", *flags, "--set", SETTING, "--only", "random", env={"HF_TOKEN": ""})
    finally:
        hub.state.tokens.pop(TOKEN, None)
    assert run.returncode == 0, run.stderr[-3000:]

    # The training child pushed its checkpoint with TOKEN, which it could only have had from its environment.
    assert "model.safetensors" in hub.files("s2r/exp-secret", revision="step-000000001", repo_type="model")
    assert TOKEN not in run.stdout + run.stderr and "--hub_token" not in run.stderr  # the logged child command
    # Nothing the run wrote holds the token: records, cards, the pickled training arguments, results, the report.
    assert files_holding(output, TOKEN) == []
    experiment = json.loads((output / "experiment.json").read_text(encoding="utf-8"))
    assert experiment["config"]["train"]["overrides"]["hub_token"] == REDACTED
    assert f"train.overrides.hub_token={REDACTED}" in (output / "pool" / "README.md").read_text(encoding="utf-8")
    assert f"train.overrides.hub_token={REDACTED}" in (output / "random" / "subset" / "README.md").read_text("utf-8")
    train = json.loads((output / "random" / "steps" / "train.json").read_text(encoding="utf-8"))
    assert train["status"] == "finished" and "hub_token" not in train["settings"]["overrides"]
    results = json.loads((output / "random" / "eval" / "results.json").read_text(encoding="utf-8"))
    assert f"train.overrides.hub_token={REDACTED}" in results["protocol"]["command"]

    # Only the token changed: nothing runs again (and the new token is written nowhere either).
    again = s2r("experiment", "run", "tiny-cpu", *flags, "--set", SETTING.replace(TOKEN, OTHER), "--only", "random")
    assert again.returncode == 0, again.stderr[-3000:]
    skipped = {line.split(": ")[1] for line in again.stderr.splitlines() if line.endswith(", skipped")}
    assert skipped == {"pool", "random/select", "random/train", "random/evaluate"}
    assert files_holding(output, TOKEN, OTHER) == []

    # What the experiment publishes carries no token either (the push guard would refuse it if it did).
    publish_model(output / "random" / "model", "s2r/exp-secret-random")
    assert not any(TOKEN.encode() in stored for stored in hub.all_stored_bytes())
