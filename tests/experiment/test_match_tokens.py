"""`match_tokens: ARM`: every other selecting arm takes the trainer tokens of ARM's subset as its token budget.

The steps (order, needs, what re-runs), the bad inputs (one line, exit 2, before any step), and a run of the select
steps on the demo pool with the tiny model's tokenizer, checked against an independent count of the tokens.
"""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from s2r_hf.cli import main
from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.experiment.config import ExperimentConfig, apply_override
from s2r_hf.experiment.report import build_report
from s2r_hf.experiment.runner import run_experiment
from s2r_hf.experiment.steps import describe_changes, experiment_steps
from s2r_hf.selection import select

BASE = {
    "name": "matched",
    "pool": {"source": "demo"},
    "arms": [
        {"name": "full", "strategy": "full"},
        {"name": "random", "strategy": "random", "seed": 0},
        {"name": "longest", "strategy": "longest"},
        {"name": "joint", "strategy": "joint", "ratio": 0.1, "weight": 0.25},
    ],
    "match_tokens": "joint",
    "train": {"recipe": "tiny-cpu", "model": "some/model", "overrides": {"max_steps": 2}},
    "evaluate": {"tasks": "math500", "max_samples": 2},
}


def steps_of(*overrides: str, base=BASE):
    data = dict(base)
    for override in overrides:
        data = apply_override(data, override)
    return experiment_steps(ExperimentConfig.from_dict(data))


def test_match_tokens_puts_the_reference_first_and_the_matched_selects_need_its_subset():
    steps = steps_of()
    assert [(step.id, step.needs) for step in steps] == [
        ("pool", []),
        ("joint/select", ["pool"]),
        ("joint/train", ["joint/select"]),
        ("joint/evaluate", ["joint/train"]),
        ("full/train", ["pool"]),
        ("full/evaluate", ["full/train"]),
        ("random/select", ["pool", "joint/select"]),
        ("random/train", ["random/select"]),
        ("random/evaluate", ["random/train"]),
        ("longest/select", ["pool", "joint/select"]),
        ("longest/train", ["longest/select"]),
        ("longest/evaluate", ["longest/train"]),
    ]
    by_id = {step.id: step for step in steps}
    settings = by_id["random/select"].settings
    assert settings["match_tokens"] == {"arm": "joint", "subset": by_id["joint/select"].fingerprint}
    assert settings["selection"]["token_budget"] is None and settings["selection"]["ratio"] is None
    assert settings["tokenizer"] == "some/model"  # the student's tokenizer counts the budget
    assert "match_tokens" not in by_id["joint/select"].settings


def test_match_tokens_a_new_reference_subset_reselects_the_matched_arms():
    before = {step.id: step for step in steps_of()}
    after = {step.id: step for step in steps_of("arms.joint.weight=0.5")}
    changed = {name for name in before if before[name].fingerprint != after[name].fingerprint}
    assert changed == {
        f"{arm}/{step}" for arm in ("joint", "random", "longest") for step in ("select", "train", "evaluate")
    }
    reason = describe_changes("select", before["random/select"].settings, after["random/select"].settings)
    assert reason == "the subset whose tokens are its budget (joint/select) changed"
    student = {step.id: step for step in steps_of("train.model=other/model")}
    assert describe_changes("select", before["random/select"].settings, student["random/select"].settings) == (
        "the tokenizer that counts its token budget changed (train.model)"
    )


def test_match_tokens_the_report_settings_name_the_reference():
    config = ExperimentConfig.from_dict(BASE)
    described = config.arm("random").describe()
    assert (described["strategy"], described["token_budget"], described["match_tokens"]) == ("random", None, "joint")
    assert "match_tokens" not in config.arm("joint").describe()
    assert config.to_dict()["match_tokens"] == "joint"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"match_tokens": "jiont"}, "match_tokens 'jiont' is not an arm of this experiment; arms: full, random"),
        ({"match_tokens": "full"}, "match_tokens 'full' names the full arm, which trains on the whole pool"),
        (
            {"arms.random.ratio": 0.1},
            "arm 'random' gives ratio 0.1, but match_tokens: joint sizes it by the tokens of the subset of arm "
            "'joint'; drop ratio from arm 'random'",
        ),
        ({"arms.longest.token_budget": 5000}, "arm 'longest' gives token_budget 5000, but match_tokens: joint"),
        (
            {"arms.random.strategy": "diverse"},
            "arm 'random' (match_tokens: joint): token_budget does not apply to the diverse strategy",
        ),
    ],
)
def test_match_tokens_bad_settings_are_one_line_before_any_step(tmp_path, capsys, change, expected):
    data = json.loads(json.dumps(BASE))
    for key, value in change.items():
        data = apply_override(data, f"{key}={json.dumps(value)}")
    data["output"] = str(tmp_path / "out")
    path = tmp_path / "experiment.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    assert main(["experiment", "run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("s2r experiment: error:") and expected in err[0], err
    assert not (tmp_path / "out").exists()


def test_an_arm_token_budget_that_is_not_positive_is_refused(tmp_path):
    data = apply_override({**BASE, "match_tokens": None}, "arms.longest.token_budget=0")
    with pytest.raises(InputError, match="arm 'longest': token_budget must be a positive integer number of tokens"):
        ExperimentConfig.from_dict(data)


def independent_tokens(tokenizer, conversations) -> list[int]:
    """The chat template rendered by transformers and the text encoded, one conversation at a time."""
    texts = [tokenizer.apply_chat_template(conversation, tokenize=False) for conversation in conversations]
    return [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]


def test_match_tokens_selects_every_arm_within_the_reference_subset_tokens(demo_output, tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    data = {**BASE, "pool": {"scored": str(demo_output / "openr1-synthetic-scored")}, "output": str(tmp_path / "out")}
    data["train"] = {**BASE["train"], "model": str(tiny_model_dir)}
    config = ExperimentConfig.from_dict(data)
    with pytest.raises(InputError, match=r"random/select needs joint/select, which is not done \(not run yet\)"):
        run_experiment(config, only=["random"])  # before any step runs: nothing of random's is written
    assert not (tmp_path / "out" / "random" / "subset").exists()
    run = run_experiment(config, step="select")
    assert run.ran == ["joint/select", "random/select", "longest/select"]

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    out = tmp_path / "out"
    joint = load_dataset(str(out / "joint" / "subset"), split="train")
    budget = sum(independent_tokens(tokenizer, joint[MESSAGES]))
    pool = load_dataset(str(demo_output / "openr1-synthetic-scored"), split="train")
    largest_row = max(independent_tokens(tokenizer, pool[MESSAGES]))
    for arm in ("random", "longest"):
        s2r = read_card_metadata(out / arm / "subset")["s2r"]
        subset = load_dataset(str(out / arm / "subset"), split="train")
        taken = sum(independent_tokens(tokenizer, subset[MESSAGES]))
        assert s2r["token_budget"] == budget and s2r["tokens_taken"] == taken
        assert budget - largest_row < taken <= budget  # within the budget, less than one row short of it
        steps = json.loads((out / arm / "steps" / "select.json").read_text(encoding="utf-8"))
        assert steps["summary"]["token_budget"] == budget and steps["summary"]["tokens_taken"] == taken
    longest = load_dataset(str(out / "longest" / "subset"), split="train")
    assert longest[ID] == select(pool, k=len(longest), strategy="longest")[ID]  # a prefix of the longest order
    rows = {row["name"]: row for row in build_report(out).data["arms"]}
    assert rows["random"]["token_budget"] == budget and rows["random"]["strategy"] == "random"
    assert rows["joint"]["token_budget"] is None and rows["joint"]["ratio"] == 0.1
    # The same run again: every select is up to date.
    assert run_experiment(config, step="select").ran == []


def test_match_tokens_from_the_command_line_on_a_shipped_example():
    from s2r_hf.experiment.config import load_experiment

    config = load_experiment("tiny-cpu", ["match_tokens=joint", "arms.random.ratio=null"])
    assert [(arm.name, arm.matched_to) for arm in config.arms] == [("full", None), ("random", "joint"), ("joint", None)]
    with pytest.raises(InputError, match=r"arm 'random' gives ratio 0\.1, but match_tokens: joint"):
        load_experiment("tiny-cpu", ["match_tokens=joint"])
