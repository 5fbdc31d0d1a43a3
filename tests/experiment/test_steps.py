"""Which steps a change re-runs: each step's fingerprint covers what its output depends on, and nothing else."""

from __future__ import annotations

import json
import os

import pytest

from s2r_hf.errors import InputError
from s2r_hf.experiment.config import ArmConfig, ExperimentConfig, PoolConfig, TrainConfig, apply_override
from s2r_hf.experiment.plan import plan_experiment, render_plan
from s2r_hf.experiment.steps import describe_changes, experiment_steps

BASE = {
    "name": "sweep",
    "pool": {"source": "demo"},
    "arms": [
        {"name": "full", "strategy": "full"},
        {"name": "random", "strategy": "random", "ratio": 0.1},
        {"name": "joint", "strategy": "joint", "ratio": 0.1, "weight": 0.25},
    ],
    "train": {"recipe": "tiny-cpu", "model": "some/model", "overrides": {"max_steps": 2}},
    "evaluate": {"tasks": "math500", "max_samples": 2},
}


def fingerprints(*overrides: str, output=None) -> dict[str, str]:
    data = dict(BASE)
    for override in overrides:
        data = apply_override(data, override)
    if output is not None:
        data = {**data, "output": str(output)}
    return {step.id: step.fingerprint for step in experiment_steps(ExperimentConfig.from_dict(data))}


def changed(*overrides: str) -> set[str]:
    before, after = fingerprints(), fingerprints(*overrides)
    assert before.keys() == after.keys()
    return {step for step in before if before[step] != after[step]}


def test_the_steps_and_what_each_needs():
    steps = experiment_steps(ExperimentConfig.from_dict(BASE))
    assert [(step.id, step.needs) for step in steps] == [
        ("pool", []),
        ("full/train", ["pool"]),
        ("full/evaluate", ["full/train"]),
        ("random/select", ["pool"]),
        ("random/train", ["random/select"]),
        ("random/evaluate", ["random/train"]),
        ("joint/select", ["pool"]),
        ("joint/train", ["joint/select"]),
        ("joint/evaluate", ["joint/train"]),
    ]


def test_a_weight_change_touches_only_its_arm():
    assert changed("arms.joint.weight=0.5") == {"joint/select", "joint/train", "joint/evaluate"}


def test_a_training_change_retrains_every_arm_but_selects_nothing_again():
    assert changed("train.overrides.learning_rate=1e-4") == {
        f"{arm}/{step}" for arm in ("full", "random", "joint") for step in ("train", "evaluate")
    }


def test_an_evaluation_change_only_re_evaluates():
    assert changed("evaluate.max_samples=3") == {"full/evaluate", "random/evaluate", "joint/evaluate"}


def test_a_scoring_change_redoes_everything():
    assert changed("pool.score.discount_repeated_steps=true") == set(fingerprints())


@pytest.mark.parametrize(
    "how",
    [
        "evaluate.python=/opt/other-env/bin/python",
        "train.launcher=accelerate launch --num_processes 8",
        "pool.score.num_proc=4",
    ],
)
def test_how_a_step_runs_is_not_what_it_makes(how):
    assert changed(how) == set()


def test_the_output_folder_is_not_a_setting(tmp_path):
    assert fingerprints(output=tmp_path / "a") == fingerprints(output=tmp_path / "b")


def test_a_rescored_pool_folder_reselects(tmp_path, demo_output):
    import shutil

    from s2r_hf.folders import shard_files

    scored = shutil.copytree(demo_output / "openr1-synthetic-scored", tmp_path / "scored")
    config = ExperimentConfig.from_dict({**BASE, "pool": {"scored": str(scored)}})
    before = {step.id: step.fingerprint for step in experiment_steps(config)}
    shard = shard_files(scored)[0]
    stat = shard.stat()
    os.utime(shard, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # rewritten by a new `s2r score`
    after = {step.id: step.fingerprint for step in experiment_steps(config)}
    assert {step for step in before if before[step] != after[step]} == set(before)


def test_changes_are_described_by_setting():
    before = {"pool": "aaa", "selection": {"weight": 0.25, "ratio": 0.1}}
    after = {"pool": "aaa", "selection": {"weight": 0.5, "ratio": 0.1}}
    assert describe_changes(before, after) == "selection.weight: 0.25 -> 0.5"
    assert describe_changes({"pool": "a"}, {"pool": "b"}) == "the pool changed"


def test_overrides_address_arms_by_name_and_read_yaml_values():
    data = apply_override(BASE, "arms.joint.weight=0.5")
    data = apply_override(data, "evaluate.data.math500=m.jsonl")
    data = apply_override(data, "train.overrides.packing=true")
    assert data["arms"][2]["weight"] == 0.5
    assert data["evaluate"]["data"] == {"math500": "m.jsonl"}
    assert data["train"]["overrides"]["packing"] is True
    assert BASE["arms"][2]["weight"] == 0.25  # the original is not changed
    with pytest.raises(InputError, match="name a setting of arm 'joint'"):
        apply_override(BASE, "arms.joint=1")


def test_the_python_api_takes_dataclasses():
    config = ExperimentConfig(
        name="api",
        pool=PoolConfig(source="demo"),
        arms=[ArmConfig(name="joint", ratio=0.05), ArmConfig(name="full", strategy="full")],
        train=TrainConfig(recipe="tiny-cpu", model="m"),
        evaluate={"tasks": ["math500", "aime24"]},
    )
    assert config.evaluation_config().task_list == ["math500", "aime24"]
    assert config.arm("joint").describe() == {
        "ratio": 0.05, "k": None, "weight": 0.25, "strategy": "joint", "quadrant": None, "max_per_cluster": None,
    }  # fmt: skip
    assert ExperimentConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()


def test_plan_formats(tmp_path):
    config = ExperimentConfig.from_dict({**BASE, "output": str(tmp_path / "out")})
    planned = plan_experiment(config, "sweep.yaml", ["arms.joint.weight=0.25"])
    by_id = {step.id: step for step in planned}
    assert by_id["joint/train"].command == (
        "s2r experiment run sweep.yaml --set arms.joint.weight=0.25 --only joint --step train"
    )
    out = tmp_path / "out"
    assert by_id["joint/train"].runs.endswith(f"--dataset_name {out}/joint/subset --output_dir {out}/joint/model")
    assert by_id["report"].needs == ["full/evaluate", "random/evaluate", "joint/evaluate"]
    assert all(step.status == "new" for step in planned if step.id != "report")
    assert render_plan(config, planned, "arms") == "full\nrandom\njoint"
    as_json = json.loads(render_plan(config, planned, "json"))
    assert [step["id"] for step in as_json["steps"]][:3] == ["pool", "full/train", "full/evaluate"]


@pytest.mark.parametrize("name", ["tiny-cpu", "paper-7b", "paper-1.5b"])
def test_the_shipped_examples_load(name):
    from s2r_hf.experiment.config import load_experiment

    config = load_experiment(name)
    assert config.arms
    assert len(experiment_steps(config)) >= 1 + 2 * len(config.arms)


def test_the_weight_sweep_example_loads_with_a_scored_pool(demo_output):
    from s2r_hf.experiment.config import load_experiment

    config = load_experiment("weight-sweep", [f"pool.scored={demo_output / 'openr1-synthetic-scored'}"])
    assert [arm.describe()["weight"] for arm in config.arms] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_every_shipped_example_names_its_hardware():
    from s2r_hf.experiment.config import example_names, examples_dir

    assert set(example_names()) == {"tiny-cpu", "paper-7b", "paper-1.5b", "weight-sweep"}
    for name in example_names():
        assert (examples_dir() / f"{name}.yaml").read_text(encoding="utf-8").startswith("# Hardware:")
