"""Which steps a change re-runs: each step's fingerprint covers what its output depends on, and nothing else."""

from __future__ import annotations

import json
import os

import pytest

from s2r_hf.core.errors import InputError
from s2r_hf.experiment.config import ArmConfig, ExperimentConfig, PoolConfig, TrainConfig, apply_override
from s2r_hf.experiment.plan import plan_experiment, render_missing, render_plan
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

    from s2r_hf.core.folders import shard_files

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
    assert describe_changes("select", before, after) == "selection.weight: 0.25 -> 0.5"
    assert describe_changes("select", {"pool": "a"}, {"pool": "b"}) == "the pool changed"


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


def test_plan_missing_resubmits_only_the_arms_with_unfinished_steps(tmp_path):
    config = ExperimentConfig.from_dict({**BASE, "output": str(tmp_path / "out")})
    overrides = ["arms.joint.weight=0.25"]

    def missing_after(done: set[str], fmt: str = "text") -> str:
        planned = plan_experiment(config, "sweep.yaml", overrides)
        for step in planned:  # as the step records of a run that stopped there would say
            step.status = "done" if step.id in done else step.status
        return render_missing(config, planned, "sweep.yaml", overrides, fmt)

    # Nothing ran: the pool's job, then every arm's task after it, then the report.
    lines = missing_after(set()).splitlines()
    assert lines[-3].startswith("pool=$(sbatch --parsable --gpus-per-node=8 --wrap 's2r experiment run sweep.yaml")
    assert lines[-2] == (
        "arms=$(sbatch --parsable --dependency=afterok:$pool --array=0,1,2 slurm-arms.sh sweep.yaml --set "
        "arms.joint.weight=0.25)"
    )
    assert lines[-1] == f"sbatch --dependency=afterok:$arms --wrap 's2r experiment report {tmp_path / 'out'}'"
    # The pool and the full arm finished, random stopped after its select: random (1) and joint (2) only.
    done = {"pool", "full/train", "full/evaluate", "random/select"}
    text = missing_after(done)
    listed = [line.split()[0] for line in text.splitlines()[1:] if line and not line.startswith((" ", "#"))]
    assert listed[:5] == ["random/train", "random/evaluate", "joint/select", "joint/train", "joint/evaluate"]
    assert "--array=1,2 slurm-arms.sh" in text and "pool=" not in text and "afterok:$pool" not in text
    as_json = json.loads(missing_after(done, "json"))
    assert (as_json["arms"], as_json["array"], len(as_json["resubmit"])) == (["random", "joint"], [1, 2], 2)
    assert missing_after(done, "arms") == "random\njoint"
    everything = {step.id for step in plan_experiment(config, "sweep.yaml") if step.status != "-"}
    assert missing_after(everything).endswith("all 9 step(s) are done; nothing to resubmit")
    assert json.loads(missing_after(everything, "json"))["resubmit"] == []


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


@pytest.fixture
def local_model(tmp_path, tiny_model_dir):
    import shutil

    return shutil.copytree(tiny_model_dir, tmp_path / "base-model")


def _rewrite_weights_in_place(model_dir) -> None:
    """New weights at the same path, as a user re-exporting a model into its folder would leave them."""
    from safetensors.torch import load_file, save_file

    path = model_dir / "model.safetensors"
    tensors = load_file(path)
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + 1.0
    save_file(tensors, path, metadata={"format": "pt"})


def test_a_local_models_weights_changed_in_place_retrain_every_arm(tmp_path, local_model):
    """Issue 16, case 8: the train step was "up to date" after the base model's weights changed at the same path."""
    from s2r_hf.experiment.steps import step_status, write_record

    data = {**BASE, "train": {**BASE["train"], "model": str(local_model)}, "output": str(tmp_path / "out")}
    config = ExperimentConfig.from_dict(data)
    before = {step.id: step for step in experiment_steps(config)}
    for step in before.values():
        if step.name in ("train", "evaluate"):
            write_record(step, "finished")
    _rewrite_weights_in_place(local_model)
    after = {step.id: step for step in experiment_steps(ExperimentConfig.from_dict(data))}
    assert {step for step in before if before[step].fingerprint != after[step].fingerprint} == {
        f"{arm}/{step}" for arm in ("full", "random", "joint") for step in ("train", "evaluate")
    }
    planned = {step.id: step for step in plan_experiment(ExperimentConfig.from_dict(data), "sweep.yaml")}
    for arm in ("full", "random", "joint"):
        assert planned[f"{arm}/train"].status == "changed"
        assert planned[f"{arm}/train"].why == "settings changed (the base model's weights changed (train.model))"
        assert planned[f"{arm}/evaluate"].why == "settings changed (the model it evaluates was trained again)"
        assert step_status(after[f"{arm}/evaluate"]).state == "changed"


def test_a_local_model_is_its_weights_not_its_path_nor_its_other_files(tmp_path, local_model):
    import shutil

    def train_fingerprint(model) -> str:
        data = {**BASE, "train": {**BASE["train"], "model": str(model)}, "output": str(tmp_path / "out")}
        steps = experiment_steps(ExperimentConfig.from_dict(data))
        return next(step.fingerprint for step in steps if step.id == "joint/train")

    first = train_fingerprint(local_model)
    moved = shutil.copytree(local_model, tmp_path / "elsewhere" / "model")
    assert train_fingerprint(moved) == first  # the same weights under another path: nothing to retrain
    (local_model / "notes.txt").write_text("not the model")
    os.utime(local_model / "model.safetensors")  # touched, not changed
    assert train_fingerprint(local_model) == first
    assert train_fingerprint("some/model") != first  # a Hub id is its name (and revision)


def test_the_weights_digest_is_kept_by_stat_and_read_again_when_a_file_changes(tmp_path, local_model):
    from s2r_hf.core import weights
    from s2r_hf.core.weights import digest_weights, weight_files

    assert [path.name for path in weight_files(local_model)] == ["model.safetensors"]
    first = digest_weights(local_model)
    entry = first.files["model.safetensors"]
    # A stored digest whose stat matches is reused without reading the file (here: a made-up digest shows it).
    weights._HASHED.clear()
    assert digest_weights(local_model, {"model.safetensors": {**entry, "sha256": "0" * 64}}).sha256 != first.sha256
    weights._HASHED.clear()
    _rewrite_weights_in_place(local_model)  # the stat moves: the stored digest is not trusted
    changed = digest_weights(local_model, first.files)
    assert changed.sha256 != first.sha256
    assert changed.files["model.safetensors"]["sha256"] != entry["sha256"]


def test_a_rerun_is_explained_in_words_that_fit_each_step(tmp_path):
    """Issue 20: after a model change the train step said "the model it evaluates was trained again", after a data
    change the evaluate step said "its data (the subset) changed": one phrase per key, whatever the step."""
    from s2r_hf.experiment.steps import step_status, write_record

    math500 = tmp_path / "math500.jsonl"
    math500.write_text('{"problem": "1 + 1?", "answer": "2"}\n', encoding="utf-8")
    weights = tmp_path / "base"
    weights.mkdir()
    (weights / "config.json").write_text("{}", encoding="utf-8")
    (weights / "model.safetensors").write_bytes(b"old weights")

    def steps(*overrides: str) -> dict:
        data = {**BASE, "output": str(tmp_path / "out")}
        for override in overrides:
            data = apply_override(data, override)
        return {step.id: step for step in experiment_steps(ExperimentConfig.from_dict(data))}

    def reasons(before: dict, after: dict) -> dict[str, str]:
        """Each step whose fingerprint changed -> why, as `s2r experiment run` logs it (from the step's record)."""
        found = {}
        for step_id, step in after.items():
            if before[step_id].fingerprint != step.fingerprint:
                write_record(before[step_id], "finished")
                found[step_id] = step_status(step).why
        return found

    assert reasons(steps(), steps("train.model=other/model")) == {
        **{
            f"{arm}/train": "settings changed (the base model changed (train.model: some/model -> other/model))"
            for arm in ("full", "random", "joint")
        },
        **{
            f"{arm}/evaluate": "settings changed (the model it evaluates was trained again)"
            for arm in ("full", "random", "joint")
        },
    }
    local = steps(f"train.model={weights}")
    (weights / "model.safetensors").write_bytes(b"new weights")
    assert reasons(local, steps(f"train.model={weights}"))["joint/train"] == (
        "settings changed (the base model's weights changed (train.model))"
    )
    with_data = steps(f"evaluate.data.math500={math500}")
    assert reasons(steps(), with_data) == {
        f"{arm}/evaluate": "settings changed (the math500 data changed (evaluate.data.math500))"
        for arm in ("full", "random", "joint")
    }
    math500.write_text('{"problem": "2 + 2?", "answer": "4"}\n', encoding="utf-8")
    assert reasons(with_data, steps(f"evaluate.data.math500={math500}"))["full/evaluate"] == (
        "settings changed (the math500 data changed (evaluate.data.math500))"
    )
    selected = reasons(steps(), steps("arms.joint.weight=0.5"))
    assert selected == {
        "joint/select": "settings changed (selection.weight: 0.25 -> 0.5)",
        "joint/train": "settings changed (its data (joint/select) changed)",
        "joint/evaluate": "settings changed (the model it evaluates was trained again)",
    }


def test_seeds_make_a_train_and_evaluate_step_per_seed_and_adding_one_changes_no_other(tmp_path):
    # The experiment's seeds, and the joint arm's own (an arm's seeds replace the experiment's).
    seeded = {**BASE, "seeds": [0], "arms": [*BASE["arms"][:2], {**BASE["arms"][2], "seeds": [5]}]}
    steps = experiment_steps(ExperimentConfig.from_dict(seeded))
    assert [(step.id, step.needs) for step in steps if step.arm in ("full", "joint")] == [
        ("full/seed0/train", ["pool"]),
        ("full/seed0/evaluate", ["full/seed0/train"]),
        ("joint/select", ["pool"]),
        ("joint/seed5/train", ["joint/select"]),
        ("joint/seed5/evaluate", ["joint/seed5/train"]),
    ]
    train = steps[1]
    assert (train.settings["seed"], train.output.parts[-3:], train.record_path.parts[-4:]) == (
        0, ("full", "seed0", "model"), ("full", "seed0", "steps", "train.json")
    )  # fmt: skip
    before = {step.id: step.fingerprint for step in steps}
    after = {
        step.id: step.fingerprint for step in experiment_steps(ExperimentConfig.from_dict({**seeded, "seeds": [0, 1]}))
    }
    assert set(after) - set(before) == {"full/seed1/train", "full/seed1/evaluate", "random/seed1/train",
                                        "random/seed1/evaluate"}  # fmt: skip
    assert all(after[step] == fingerprint for step, fingerprint in before.items())
    # Without seeds, today's layout and step names: an experiment folder written before seeds resumes unchanged.
    assert "full/train" in fingerprints() and fingerprints() == fingerprints("arms.full.seeds=null")


def test_the_seed_reaches_the_trainer_and_the_plan(tmp_path):
    config = ExperimentConfig.from_dict({**BASE, "seeds": [3, 4], "output": str(tmp_path / "out")})
    by_id = {step.id: step for step in plan_experiment(config, "sweep.yaml")}
    assert by_id["full/seed4/train"].runs.endswith(
        f"--seed 4 --dataset_name {tmp_path / 'out'}/pool --output_dir {tmp_path / 'out'}/full/seed4/model"
    )
    # One job per seed: the command runs that seed's step alone (and takes only that seed's lock).
    assert by_id["full/seed4/train"].command.endswith("--only full --seed 4 --step train")
    from s2r_hf.experiment.runner import select_steps

    assert [step.id for step in select_steps(config, only=["full"], step=None, seed=4)] == [
        "pool", "full/seed4/train", "full/seed4/evaluate"
    ]  # fmt: skip
    assert by_id["report"].needs[:2] == ["full/seed3/evaluate", "full/seed4/evaluate"]
    assert "--seed" not in by_id.get("full/train", by_id["full/seed3/train"]).runs.split("--seed 3")[1]
