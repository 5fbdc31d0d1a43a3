"""Training seeds end to end, on the tiny model: an arm trained with seeds [0], then [0, 1], runs only seed 1's steps
the second time, and each seed reaches the trainer (TRL's `seed`) and its records.

One module fixture trains twice (one optimizer step each, the train steps only: the evaluate steps add a lighteval
run per seed and prove nothing more about seeds; the report's statistics are tests/experiment/test_report.py's).
"""

from __future__ import annotations

import json

import pytest

from s2r_hf.experiment.config import ExperimentConfig
from s2r_hf.experiment.plan import plan_experiment
from s2r_hf.experiment.runner import run_experiment

pytestmark = pytest.mark.slow


def seeded(output, model, pool, seeds) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "name": "seeds",
            "output": str(output),
            "pool": {"scored": str(pool)},
            "arms": [{"name": "full", "strategy": "full"}],
            "seeds": seeds,
            "train": {
                "recipe": "tiny-cpu",
                "model": str(model),
                "overrides": {"max_steps": 1, "save_steps": 1, "max_length": 1024},
            },
            "evaluate": {"tasks": "math500", "max_samples": 2, "max_new_tokens": 8},
        }
    )


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, tiny_model_dir, demo_output):
    output = tmp_path_factory.mktemp("seeds") / "out"
    pool = demo_output / "openr1-synthetic-scored"
    first = run_experiment(seeded(output, tiny_model_dir, pool, [0]), step="train")
    config = seeded(output, tiny_model_dir, pool, [0, 1])
    planned = {step.id: step.status for step in plan_experiment(config, "seeds.yaml")}
    second = run_experiment(config, step="train")
    return output, first, planned, second


def test_adding_a_seed_runs_only_that_seed(two_runs):
    _, first, planned, second = two_runs
    assert first.ran == ["full/seed0/train"]
    assert planned["full/seed0/train"] == "done" and planned["full/seed1/train"] == "new"
    assert (second.ran, second.skipped) == (["full/seed1/train"], ["full/seed0/train"])


def test_each_seed_reaches_the_trainer_and_is_recorded(two_runs):
    output = two_runs[0]
    for seed in (0, 1):
        folder = output / "full" / f"seed{seed}"
        training = json.loads((folder / "model" / "s2r_training.json").read_text(encoding="utf-8"))
        assert training["recipe"]["seed"] == seed  # what TRL's TrainingArguments held
        state = json.loads((folder / "model" / "checkpoint-1" / "trainer_state.json").read_text(encoding="utf-8"))
        assert state["global_step"] == 1
        step = json.loads((folder / "steps" / "train.json").read_text(encoding="utf-8"))
        assert (step["seed"], step["settings"]["seed"], step["status"]) == (seed, seed, "finished")
    experiment = json.loads((output / "experiment.json").read_text(encoding="utf-8"))
    assert (experiment["seeds"], experiment["reference"]) == ({"full": [0, 1]}, "full")
    assert not (output / "full" / "model").exists()  # seeded arms keep nothing in the arm's own model folder
