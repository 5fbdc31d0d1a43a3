"""s2r_hf.evaluation.publish against the loopback Hub: a run's results in a results repo (one config per run), in the
model
card's model-index and in the subset card, read back with the real clients; and a later `s2r publish` of the subset
keeps them. The run is the session's real tiny-model run (tests/fixtures/evaluation.py)."""

from __future__ import annotations

import json

import pytest

from s2r_hf.core.cards import split_card
from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.publish import push_results
from s2r_hf.hub.commit import commit_files
from s2r_hf.hub.subsets import publish_subset

pytestmark = pytest.mark.slow

RESULTS_REPO = "s2r/select2reason-results"
MODEL_REPO = "s2r/qwen-select10"
SUBSET_REPO = "s2r/openr1-select10"


def remote_card(repo_id: str, repo_type: str = "dataset") -> tuple[dict, str]:
    from huggingface_hub import hf_hub_download

    path = hf_hub_download(repo_id, "README.md", repo_type=repo_type)
    with open(path, encoding="utf-8") as handle:
        return split_card(handle.read())


@pytest.fixture
def published_subset(hub, write_subset_folder):
    folder = write_subset_folder("openr1-select10", 0.1)
    publish_subset(folder, SUBSET_REPO)
    return folder


@pytest.fixture
def model_repo(hub):
    card = "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2.5-7B-Instruct\n---\n\n# qwen-select10\n\nFine-tuned.\n"
    commit_files(MODEL_REPO, {"README.md": card.encode(), "config.json": b"{}"}, repo_type="model")


def test_results_reach_the_three_targets_and_read_back(hub, tiny_eval_run, published_subset, model_repo):
    from datasets import load_dataset

    out, _, _ = tiny_eval_run
    data = json.loads((out / "results.json").read_text())
    pushed = push_results(out, results_repo=RESULTS_REPO, model_repo=MODEL_REPO, subset_repo=SUBSET_REPO)
    assert set(pushed) == {"results", "model", "subset"} and all(result.changed for result in pushed.values())

    # The results repo: one config per run, named after its label, loadable by name.
    table = load_dataset(RESULTS_REPO, "tiny-10", split="train")
    assert len(table) == len(data["table"])
    row = next(row for row in table if (row["task"], row["metric"]) == ("aime24", "maj@16"))
    assert row["value"] == data["results"]["aime24"]["maj@16"]
    assert (row["label"], row["preset"], row["samples"]) == ("tiny 10%", "paper", 16)
    files = hub.files(RESULTS_REPO)
    assert "tiny-10/results.json" in files
    assert {f"tiny-10/details/{name}.parquet" for name in data["results"]} <= set(files)
    metadata, body = remote_card(RESULTS_REPO)
    assert metadata["s2r"]["runs"][0]["results"] == data["results"]
    assert "| `tiny-10` (partial) | eval-model | paper | - | 123,456 |" in body  # data tokens, trained tokens

    # The model card: a model-index entry per benchmark; the card's own metadata and body are kept.
    metadata, body = remote_card(MODEL_REPO, "model")
    assert metadata["license"] == "apache-2.0" and "Fine-tuned." in body
    index = metadata["model-index"][0]
    by_dataset = {entry["dataset"]["type"]: entry for entry in index["results"]}
    assert set(by_dataset) == {
        "HuggingFaceH4/MATH-500",
        "HuggingFaceH4/aime_2024",
        "yentinglin/aime_2025",
        "math-ai/amc23",
        "math-ai/minervamath",
        "Hothan/OlympiadBench",
    }
    metrics = {metric["type"]: metric for metric in by_dataset["HuggingFaceH4/aime_2024"]["metrics"]}
    assert metrics["maj@16"]["value"] == round(100 * data["results"]["aime24"]["maj@16"], 2)
    assert metrics["pass@1"]["name"] == "pass@1 (paper, n=16, max_new_tokens=8)"

    # The subset card: its results table filled from the run.
    metadata, body = remote_card(SUBSET_REPO)
    assert metadata["s2r"]["results"] == data["results"]
    assert "| aime24 | maj@16 |" in body and "No evaluation results yet" not in body
    assert "results/tiny-10.json" in hub.files(SUBSET_REPO)


def test_pushing_the_same_run_again_changes_nothing(hub, tiny_eval_run, published_subset, model_repo):
    out, _, _ = tiny_eval_run
    targets = {"results_repo": RESULTS_REPO, "model_repo": MODEL_REPO, "subset_repo": SUBSET_REPO}
    repos = {"results": (RESULTS_REPO, "dataset"), "model": (MODEL_REPO, "model"), "subset": (SUBSET_REPO, "dataset")}

    def history() -> dict[str, list[str]]:
        """Each target's commits on main, newest first ([] for a repo that does not exist yet), read on the Hub."""
        found = {}
        for target, (repo_id, repo_type) in repos.items():
            try:
                found[target] = [commit.oid for commit in hub.commits(repo_id, repo_type=repo_type)]
            except KeyError:
                found[target] = []
        return found

    before = history()
    assert before["results"] == [] and before["model"] and before["subset"]
    first = push_results(out, **targets)
    assert set(first) == set(repos) and all(result.changed for result in first.values())
    after_first = history()
    # One commit each: the results repo is created (its initial commit, then ours), the other two get one more.
    assert [len(after_first[target]) - len(before[target]) for target in repos] == [2, 1, 1]
    assert {target: result.commit for target, result in first.items()} == {t: c[0] for t, c in after_first.items()}

    again = push_results(out, **targets)
    assert set(again) == set(repos) and not any(result.changed for result in again.values())
    assert history() == after_first  # no new commit on any of the three


def test_a_later_publish_of_the_subset_keeps_the_results(hub, tiny_eval_run, published_subset):
    out, _, _ = tiny_eval_run
    data = json.loads((out / "results.json").read_text())
    push_results(out, subset_repo=SUBSET_REPO)
    result = publish_subset(published_subset, SUBSET_REPO)  # the local card has no results
    assert not result.deleted
    assert "results/tiny-10.json" in hub.files(SUBSET_REPO)
    metadata, body = remote_card(SUBSET_REPO)
    assert metadata["s2r"]["results"] == data["results"]
    assert "| math500 | pass@1 |" in body


def test_a_second_run_is_a_second_config(hub, tiny_eval_run):
    out, _, _ = tiny_eval_run
    data = json.loads((out / "results.json").read_text())
    push_results(out, results_repo=RESULTS_REPO)
    push_results({**data, "label": "random 10%"}, results_repo=RESULTS_REPO)
    metadata, _ = remote_card(RESULTS_REPO)
    assert [run["config"] for run in metadata["s2r"]["runs"]] == ["tiny-10", "random-10"]
    assert [config["config_name"] for config in metadata["configs"]] == ["tiny-10", "random-10"]


def test_a_repo_that_is_not_a_subset_is_refused(hub, tiny_eval_run):
    out, _, _ = tiny_eval_run
    commit_files("s2r-tester/data", {"README.md": b"# a dataset\n", "data.csv": b"a\n1\n"})
    with pytest.raises(InputError, match="not a subset repo published by `s2r publish`"):
        push_results(out, subset_repo="s2r-tester/data")
    with pytest.raises(InputError, match="did not write as a results repo"):
        push_results(out, results_repo="s2r-tester/data")
