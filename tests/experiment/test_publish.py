"""s2r_hf.experiment.publish against the loopback Hub, on an experiment folder made by hand per the contract (a real
subset folder, a finished model folder, a results.json like `s2r evaluate` writes, a report.json), read back with
the real huggingface_hub and datasets clients."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from s2r_hf.core.errors import InputError
from s2r_hf.experiment.publish import publish_experiment

SETTINGS = {
    "full": {"strategy": "full", "ratio": None, "k": None, "weight": None},
    "random": {"strategy": "random", "ratio": 0.1, "k": None, "weight": None},
    "joint": {"strategy": "joint", "ratio": 0.1, "k": None, "weight": 0.25},
}


def results_json(label: str, pass1: float, stderr: float) -> dict:
    """What `s2r evaluate` writes (s2r_hf.evaluation.runner.tidy_results), for one benchmark of 2 problems."""
    settings = {"num_samples": 1, "max_new_tokens": 8, "temperature": 0.6, "top_p": 0.95}
    return {
        "format": "s2r-evaluation/1",
        "label": label,
        "model": {"name": label, "trained_tokens": 1000, "data_tokens": 800},
        "protocol": {"preset": "quick", "partial": True, "max_samples": 2, "seed": 0},
        "tasks": {
            "math500": {"settings": settings, "problems": 2, "generations": 2, "mean_generated_tokens": 7.5},
        },
        "results": {"math500": {"pass@1": pass1}},
        "table": [
            {
                "task": "math500",
                "metric": "pass@1",
                "value": pass1,
                "stderr": stderr,
                "problems": 2,
                "samples": 1,
                "settings": "n=1",
            }
        ],
    }


def report_arm(name: str, accuracy: float | None, rows: int | None, tokens: int) -> dict:
    scores = {"math500": {"pass@1": {"value": accuracy, "stderr": 0.5, "problems": 2, "samples": 1}}}
    return {
        "name": name,
        **SETTINGS[name],
        "status": "evaluated" if accuracy is not None else "trained, not evaluated",
        "rows": rows,
        "data_tokens": tokens,
        "trained_tokens": 2 * tokens,
        "token_share": tokens / 10_000,
        "wall_seconds": 3.5,
        "steps": 2,
        "results": scores if accuracy is not None else {},
        "mean_generated_tokens": {"math500": 7.5},
        "mean_answer_tokens": 7.5,
        "accuracy": accuracy,
    }


@pytest.fixture
def experiment(tmp_path, write_subset_folder, write_model_folder) -> Path:
    """tiny: `full` and `joint` evaluated, `random` trained but not evaluated."""
    out = tmp_path / "tiny-run"
    out.mkdir()
    (out / "experiment.json").write_text(
        json.dumps(
            {
                "format": "s2r-experiment/1",
                "name": "tiny",
                "arms": ["full", "random", "joint"],
                "arm_settings": SETTINGS,
            }
        )
    )
    for arm, tokens in (("full", 10_000), ("random", 900), ("joint", 2_000)):
        (out / arm).mkdir()
        write_model_folder("model", tokens=tokens, root=out / arm)
        if arm != "full":
            write_subset_folder("subset", 0.1, root=out / arm)
    for arm, pass1 in (("full", 0.5), ("joint", 1.0)):
        (out / arm / "eval").mkdir()
        (out / arm / "eval" / "results.json").write_text(json.dumps(results_json(arm, pass1, 0.5)))
    report = {
        "format": "s2r-experiment-report/1",
        "experiment": "tiny",
        "columns": [["math500", "pass@1"]],
        "arms": [
            report_arm("full", 0.5, 50, 10_000),
            report_arm("random", None, 5, 900),
            report_arm("joint", 1.0, 5, 2_000),
        ],
        "partial": True,
        "comparable": True,
    }
    (out / "report.json").write_text(json.dumps(report))
    (out / "report.md").write_text("| arm | math500 pass@1 |\n| --- | ---: |\n| full | 50.0 |\n| joint | 100.0 |\n")
    (out / "accuracy_vs_tokens.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a chart")
    return out


def test_an_experiment_is_published_and_gathered_in_a_collection(hub, experiment):
    from datasets import load_dataset
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    published = publish_experiment(experiment, namespace="s2r")
    assert set(published.arms) == {"full", "joint"} and set(published.skipped) == {"random"}
    assert "not evaluated" in published.skipped["random"]
    assert published.arms["full"].subset is None

    assert api.repo_exists("s2r/tiny-joint", repo_type="dataset") and api.repo_exists("s2r/tiny-joint")
    assert api.repo_exists("s2r/tiny-full") and not api.repo_exists("s2r/tiny-full", repo_type="dataset")
    assert not api.repo_exists("s2r/tiny-random") and not api.repo_exists("s2r/tiny-random", repo_type="dataset")
    subset = load_dataset("s2r/tiny-joint", split="train")
    local = load_dataset(
        "parquet", data_files=str(experiment / "joint" / "subset" / "data" / "*.parquet"), split="train"
    )
    assert subset.num_rows == local.num_rows and subset.column_names == local.column_names

    results = hub.files("s2r/tiny-results")
    assert {"full/results.json", "joint/results.json"} <= set(results)
    report = Path(hf_hub_download("s2r/tiny-results", "experiment/report.md", repo_type="dataset")).read_text()
    assert report == (experiment / "report.md").read_text()
    assert {"experiment/report.json", "experiment/accuracy_vs_tokens.png"} <= set(results)
    assert load_dataset("s2r/tiny-results", "joint", split="train")[0]["value"] == 1.0

    collection = api.get_collection(published.collection.slug)
    assert collection.title == "tiny"
    assert collection.description == "Select2Reason arms, mean pass@1 (partial evaluation): full 50.0, joint 100.0"
    notes = {(item.item_id, item.item_type): item.note for item in collection.items}
    assert list(notes) == [
        ("s2r/tiny-full", "model"),
        ("s2r/tiny-joint", "dataset"),
        ("s2r/tiny-joint", "model"),
        ("s2r/tiny-results", "dataset"),
    ]
    assert notes[("s2r/tiny-joint", "model")] == (
        "joint: joint 10%, weight 0.25; 5 rows, 2,000 data tokens (20.0% of the pool). "
        "math500 pass@1 100.0 ± 50.0 (n=2)."
    )
    assert notes[("s2r/tiny-full", "model")].startswith("full: the full pool; 50 rows, 10,000 data tokens")
    # the model card carries the evaluation as a model-index
    card = Path(hf_hub_download("s2r/tiny-joint", "README.md")).read_text()
    assert "model-index" in card

    again = publish_experiment(experiment, namespace="s2r")
    assert not again.changed and again.collection.slug == published.collection.slug

    # joint evaluated again, the report re-made: its results, notes and the description follow; nothing else moves
    (experiment / "joint" / "eval" / "results.json").write_text(json.dumps(results_json("joint", 0.5, 0.5)))
    report = json.loads((experiment / "report.json").read_text())
    report["arms"][2] = report_arm("joint", 0.5, 5, 2_000)
    (experiment / "report.json").write_text(json.dumps(report))
    third = publish_experiment(experiment, namespace="s2r", collection="tiny")
    assert not third.arms["full"].changed and not third.arms["joint"].model.changed
    assert third.arms["joint"].results["results"].changed and third.report.updated == ("experiment/report.json",)
    assert third.collection.added == () and third.collection.updated == ("s2r/tiny-joint", "s2r/tiny-joint")
    collection = api.get_collection(published.collection.slug)
    assert collection.description.endswith("full 50.0, joint 50.0")
    # Both items of the joint arm (its model and its results), each note updated (an empty list would pass an all()).
    notes = [item.note for item in collection.items if item.item_id == "s2r/tiny-joint"]
    assert len(notes) == 2 and all("math500 pass@1 50.0" in note for note in notes)


def test_a_folder_without_its_report_or_with_bad_names_is_refused_before_any_push(hub, experiment):
    (experiment / "report.json").rename(experiment / "report.json.bak")
    with pytest.raises(InputError, match="s2r experiment report"):
        publish_experiment(experiment, namespace="s2r")
    (experiment / "report.json.bak").rename(experiment / "report.json")

    record = json.loads((experiment / "experiment.json").read_text())
    report = json.loads((experiment / "report.json").read_text())
    (experiment / "experiment.json").write_text(json.dumps({**record, "name": "x" * 95}))
    with pytest.raises(InputError, match="reports the experiment 'tiny'"):
        publish_experiment(experiment, namespace="s2r")
    (experiment / "report.json").write_text(json.dumps({**report, "experiment": "x" * 95}))
    with pytest.raises(InputError, match="not a valid Hub repo id"):
        publish_experiment(experiment, namespace="s2r")
    (experiment / "report.json").write_text(json.dumps(report))
    (experiment / "experiment.json").write_text(json.dumps({**record, "arms": [*record["arms"], "results"]}))
    with pytest.raises(InputError, match="'results' collides with the results repo"):
        publish_experiment(experiment, namespace="s2r")
    with pytest.raises(InputError, match="namespace"):
        publish_experiment(experiment, namespace="not/a-namespace")
    with pytest.raises(InputError, match="experiment run"):
        publish_experiment(experiment / "joint", namespace="s2r")
    (experiment / "experiment.json").write_text('{"name": "tiny", "arms": [')  # a run killed while writing it
    with pytest.raises(InputError, match="is not JSON"):
        publish_experiment(experiment, namespace="s2r")
    (experiment / "experiment.json").write_text(json.dumps({**record, "arms": ["joint", "full", "joint"]}))
    with pytest.raises(InputError, match="names an arm twice"):
        publish_experiment(experiment, namespace="s2r")
    assert not [request for request in hub.requests if request.method != "GET"]
    assert not hub.state.repos

    (experiment / "experiment.json").write_text(json.dumps(record))
    hub.seed_repo("s2r/tiny-results", owner="s2r-tester", files={"README.md": b"# someone's data\n"})
    with pytest.raises(InputError, match="not a results repo s2r wrote"):
        publish_experiment(experiment, namespace="s2r")
    assert len(hub.state.repos) == 1  # nothing else was pushed


def test_an_arm_of_several_seeds_publishes_its_first_seeds_model_and_results(hub, experiment):
    # joint trained with seeds [3, 4]: its model and eval live in joint/seed3 and joint/seed4; only full stays as is.
    for seed in (3, 4):
        shutil.copytree(experiment / "joint" / "model", experiment / "joint" / f"seed{seed}" / "model")
        (experiment / "joint" / f"seed{seed}" / "eval").mkdir()
        pass1 = 1.0 if seed == 3 else 0.0
        (experiment / "joint" / f"seed{seed}" / "eval" / "results.json").write_text(
            json.dumps(results_json("joint", pass1, 0.5))
        )
    shutil.rmtree(experiment / "joint" / "model")
    shutil.rmtree(experiment / "joint" / "eval")
    record = json.loads((experiment / "experiment.json").read_text())
    record["seeds"] = {"full": None, "random": None, "joint": [3, 4]}
    record["name"] = "seeded"  # repos of their own: the other tests' may still be on the loopback Hub
    (experiment / "experiment.json").write_text(json.dumps(record))
    report = json.loads((experiment / "report.json").read_text())
    (experiment / "report.json").write_text(json.dumps({**report, "experiment": "seeded"}))
    published = publish_experiment(experiment, namespace="s2r")
    assert set(published.arms) == {"full", "joint"}
    from huggingface_hub import hf_hub_download

    results = json.loads(
        Path(hf_hub_download("s2r/seeded-results", "joint/results.json", repo_type="dataset")).read_text()
    )
    assert results["results"]["math500"]["pass@1"] == 1.0  # seed 3's, not seed 4's
