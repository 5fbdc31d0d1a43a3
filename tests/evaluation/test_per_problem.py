"""The one reader of per-problem scores, on the shared lighteval run (what lighteval 0.13 writes in its details) and
on hand-made folders."""

from __future__ import annotations

import json
import shutil

import pytest
from fixtures.per_problem import write_details

from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.intervals import NO_DIFFERENCE, arm_statistics, difference_text, interval_text
from s2r_hf.evaluation.per_problem import read_problem_scores


def test_the_details_of_a_real_run_give_each_problems_pass_at_1(scripted_eval_run):
    scores = read_problem_scores(scripted_eval_run.output_dir)
    assert set(scores) == set(scripted_eval_run.results)
    handmade = scores["amc23"]  # one problem, 7 of its 16 samples right
    assert (handmade.ids, handmade.scores.tolist(), handmade.samples) == (("0",), [pytest.approx(7 / 16)], 16)
    oracle, wrong = scores["aime24"], scores["aime25"]
    assert len(oracle.ids) == 2 and oracle.scores.tolist() == [1.0, 1.0] and oracle.samples == 16
    assert wrong.scores.tolist() == [0.0, 0.0]
    # The ids are the problems' rows in the benchmark (lighteval numbers them from 0), in numeric order.
    assert list(oracle.ids) == sorted(oracle.ids, key=int)
    assert scores["math500"].samples == 1
    # The same scores as the results' means, benchmark by benchmark.
    for name, found in scores.items():
        assert found.scores.mean() == pytest.approx(scripted_eval_run.results[name]["pass@1"])


def results_folder(folder, benchmarks: dict, *, num_samples=4):
    folder.mkdir(parents=True)
    data = {
        "format": "s2r-evaluation/1",
        "label": folder.name,
        "model": {"name": folder.name},
        "protocol": {"preset": "paper"},
        "tasks": {name: {"settings": {"num_samples": num_samples}} for name in benchmarks},
        "results": {name: {"pass@1": sum(values) / len(values)} for name, values in benchmarks.items()},
    }
    (folder / "results.json").write_text(json.dumps(data))
    for name, values in benchmarks.items():
        write_details(folder, name, values)
    return folder


def test_a_folder_without_details_or_a_file_under_another_name_has_no_per_problem_scores(tmp_path):
    folder = results_folder(tmp_path / "run", {"aime24": [1.0, 0.0]})
    assert read_problem_scores(folder)["aime24"].scores.tolist() == [1.0, 0.0]
    assert read_problem_scores(folder / "results.json")["aime24"].ids == ("0", "1")
    copy = tmp_path / "elsewhere.json"
    shutil.copy(folder / "results.json", copy)
    assert read_problem_scores(copy) == {}  # details/ is results.json's, not this file's
    shutil.rmtree(folder / "details")
    assert read_problem_scores(folder) == {}


def test_a_damaged_details_file_is_one_line(tmp_path):
    folder = results_folder(tmp_path / "run", {"aime24": [1.0, 0.0]})
    (folder / "details" / "aime24.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="is not a details file of s2r evaluate"):
        read_problem_scores(folder)
    write_details(folder, "aime24", [1.0, 0.0], ids=[3, 3])
    with pytest.raises(InputError, match="1 repeated ids"):
        read_problem_scores(folder)


def test_arms_are_aligned_on_the_problems_they_share(tmp_path):
    # Seed 0 answered problems 0-3, seed 1 problems 1-4: the arm's interval stands on problems 1-3 only.
    seed0 = results_folder(tmp_path / "a0", {"aime24": [1.0, 1.0, 0.0, 0.0]})
    seed1 = tmp_path / "a1"
    results_folder(seed1, {"aime24": [1.0, 0.5, 0.0, 1.0]})
    write_details(seed1, "aime24", [1.0, 0.5, 0.0, 1.0], ids=[1, 2, 3, 4])
    reference = results_folder(tmp_path / "r", {"aime24": [0.0, 0.0, 0.0, 0.0, 0.0]})
    arms = {"a": [read_problem_scores(seed0), read_problem_scores(seed1)], "r": [read_problem_scores(reference)]}
    statistics = arm_statistics(arms, "r", resamples=1000)
    entry = statistics["arms"]["a"]["benchmarks"]["aime24"]
    # problems 1, 2, 3: seed 0 scored 1, 0, 0 and seed 1 scored 1, 0.5, 0: the mean of the six is 2.5 / 6
    assert (entry["mean"], entry["seeds"], entry["problems"], entry["samples"]) == (pytest.approx(2.5 / 6), 2, 3, 4)
    difference = statistics["differences"]["a"]["aime24"]
    assert difference["mean"] == pytest.approx(2.5 / 6) and difference["problems"] == 3
    assert interval_text(entry).endswith("(2 seeds × 3 × 4)")
    with pytest.raises(InputError, match="the reference arm 'nope' is not among the arms compared"):
        arm_statistics(arms, "nope")


def test_the_words_of_a_difference():
    clear = {"mean": 0.08, "low": 0.021, "high": 0.139, "detectable": True}
    unclear = {"mean": 0.01, "low": -0.03, "high": 0.05, "detectable": False}
    assert difference_text(clear) == "+8.0 [+2.1, +13.9]"
    assert difference_text(unclear) == f"+1.0 [-3.0, +5.0]: {NO_DIFFERENCE}"
    assert difference_text(None) == interval_text(None) == "-"
