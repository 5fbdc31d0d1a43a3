"""Real lighteval runs through the runner: the tiny model on every benchmark, a scripted model whose scores are known,
and retrained weights at the same path. The runs are session fixtures (tests/fixtures/evaluation.py), read by many
tests here and in tests/hub/test_results.py."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.evaluation import s2r

from s2r_hf.evaluation.results import read_results
from s2r_hf.pool.benchmarks import load_benchmark

pytestmark = pytest.mark.slow

BENCHMARK_ROWS = {"math500": 500, "aime24": 30, "aime25": 30, "amc23": 40, "minerva": 272, "olympiadbench": 675}


def weights_sha256(folder: Path) -> str:
    """s2r_hf.core.weights' rule by hand: sha256 over each weight file's name and the sha256 of its bytes."""
    content = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    return hashlib.sha256(f"model.safetensors\0{content}\n".encode()).hexdigest()


def details_texts(path: Path) -> list[list[str]]:
    """The generated samples of each problem in a lighteval details parquet, in file order."""
    return [row["model_response"]["text"] for row in pq.read_table(path).to_pylist()]


# -- the tiny model on every benchmark --------------------------------------------------------------------------------


def test_the_run_prints_its_table_and_shows_progress(tiny_eval_run):
    out, done, _ = tiny_eval_run
    assert "| math500 | pass@1 |" in done.stdout
    assert "| aime24 | maj@16 |" in done.stdout
    assert f"results written to {out}" in done.stdout
    assert "Greedy generation" in done.stderr  # lighteval's progress bars reach the terminal
    import torch

    if not torch.cuda.is_available():  # issue 18: never lighteval's batch-size detection, which never ends on a CPU
        assert "no CUDA device: generating with batch size 1 on the CPU" in done.stderr
        assert "Detecting largest batch size" not in done.stderr


def test_every_real_benchmark_file_loads_through_its_task(tiny_eval_run, benchmark_paths):
    out, _, _ = tiny_eval_run
    data = read_results(out)
    assert list(data["results"]) == list(BENCHMARK_ROWS)
    for name, rows in BENCHMARK_ROWS.items():
        assert data["tasks"][name]["problems"] == 2
        assert data["tasks"][name]["data"]["rows"] == rows  # the whole benchmark was read, every row normalised
        assert len(load_benchmark(name, benchmark_paths[name])) == rows


def test_the_benchmark_copy_holds_exactly_the_problems_evaluated_in_the_benchmarks_order(
    tiny_eval_run, benchmark_paths
):
    """benchmarks/<name>/test.parquet, documented as the problems evaluated, held the whole benchmark (issue 18)."""
    out, _, _ = tiny_eval_run
    for name in BENCHMARK_ROWS:
        evaluated = pq.read_table(out / "benchmarks" / name / "test.parquet").to_pylist()
        details = pq.read_table(out / "details" / f"{name}.parquet").to_pylist()
        assert len(evaluated) == 2 and list(evaluated[0]) == ["id", "problem", "answer"]
        # The very problems of the details (lighteval's draw), as the benchmark file orders them.
        assert sorted(row["id"] for row in evaluated) == sorted(row["doc"]["specific"]["id"] for row in details)
        assert {row["problem"] for row in evaluated} == {row["doc"]["query"] for row in details}
        full = load_benchmark(name, benchmark_paths[name]).to_list()
        positions = [full.index(row) for row in evaluated]
        assert positions == sorted(positions)


def test_no_empty_folders_mirror_the_models_path_in_the_output(tiny_eval_run, eval_model_dir):
    """lighteval names its folders after the model's absolute path: the empty ones it left are gone, and no folder of
    the output is named after the model's path."""
    out, _, _ = tiny_eval_run
    folders = [path for path in out.rglob("*") if path.is_dir()]
    assert [path for path in folders if not any(path.iterdir())] == []
    expected = ["benchmarks", *(f"benchmarks/{name}" for name in BENCHMARK_ROWS), "details", "lighteval"]
    assert sorted(str(path.relative_to(out)) for path in folders) == sorted(expected)
    assert len(list((out / "lighteval").glob("results_*.json"))) == 2  # lighteval's raw results, one per settings group


def test_results_record_the_protocol(tiny_eval_run, eval_model_dir):
    out, _, _ = tiny_eval_run
    data = json.loads((out / "results.json").read_text())
    assert data["format"] == "s2r-evaluation/1"
    assert data["label"] == "tiny 10%"
    assert data["protocol"]["preset"] == "paper"
    assert data["protocol"]["seed"] == 1234
    assert data["protocol"]["lighteval_version"] == "0.13.0"
    assert data["protocol"]["partial"] is True
    assert data["protocol"]["system_prompt"].startswith("Please reason step by step")
    assert data["model"]["weights_sha256"] == weights_sha256(eval_model_dir)
    assert data["model"]["trained_tokens"] == 123456 and data["model"]["data_tokens"] is None
    aime = data["tasks"]["aime24"]["settings"]
    assert (aime["temperature"], aime["top_p"], aime["num_samples"], aime["max_new_tokens"]) == (0.6, 0.95, 16, 8)
    assert data["tasks"]["math500"]["settings"]["temperature"] == 0.0
    assert data["tasks"]["aime24"]["generations"] == 2 * 16
    for name in BENCHMARK_ROWS:
        assert 1 <= data["tasks"][name]["mean_generated_tokens"] <= 8
        assert data["tasks"][name]["mean_rethinks"] >= 0


def test_results_table_is_tidy_json_and_markdown(tiny_eval_run):
    out, _, _ = tiny_eval_run
    data = read_results(out)
    rows = {(row["task"], row["metric"]): row for row in data["table"]}
    assert set(rows) == {(name, "pass@1") for name in BENCHMARK_ROWS} | {
        (name, "maj@16") for name in ("aime24", "aime25", "amc23")
    }
    row = rows[("amc23", "maj@16")]
    assert set(row) == {"task", "metric", "value", "stderr", "problems", "samples", "settings"}
    assert (row["samples"], row["settings"]) == (16, "T=0.6 top_p=0.95 n=16 max_new=8")
    for (task, metric), row in rows.items():
        assert data["results"][task][metric] == row["value"]
        assert 0.0 <= row["value"] <= 1.0
    markdown = (out / "results.md").read_text()
    assert "| task | metric | value | stderr | problems | samples | settings |" in markdown
    assert "Partial run" in markdown


def test_details_are_kept_per_benchmark(tiny_eval_run):
    out, _, _ = tiny_eval_run
    for name in BENCHMARK_ROWS:
        texts = details_texts(out / "details" / f"{name}.parquet")
        assert len(texts) == 2
        assert all(len(samples) == (16 if name in ("aime24", "aime25", "amc23") else 1) for samples in texts)
    # Sampling is really on: lighteval's transformers backend leaves do_sample to generation_config.json.
    aime = details_texts(out / "details" / "aime24.parquet")
    assert len(set(aime[0])) > 1


def test_no_cache_is_written_inside_the_model_folder(tiny_eval_run, eval_model_dir):
    _, _, before = tiny_eval_run
    assert sorted(p.name for p in eval_model_dir.iterdir()) == before
    assert not (Path(os.environ["HF_HOME"]) / "lighteval").exists()
    assert not (Path("~/.cache/huggingface/lighteval").expanduser() / str(eval_model_dir).lstrip("/")).exists()


def test_an_existing_results_folder_is_not_overwritten(tiny_eval_run, eval_model_dir):
    out, _, _ = tiny_eval_run
    done = s2r("evaluate", str(eval_model_dir), "--tasks", "math500", "-o", str(out))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"s2r evaluate: error: output folder {str(out)!r} already exists; choose another, or pass --overwrite"
    ]


# -- a model whose answers are known ----------------------------------------------------------------------------------


def test_an_oracle_scores_one_and_a_wrong_model_zero(scripted_eval_run):
    results = scripted_eval_run.results
    assert results["math500"] == {"pass@1": 1.0}
    assert results["olympiadbench"] == {"pass@1": 1.0}
    assert results["aime24"] == {"pass@1": 1.0, "maj@16": 1.0}
    assert results["aime25"] == {"pass@1": 0.0, "maj@16": 0.0}
    assert results["minerva"] == {"pass@1": 0.0}


def test_pass_at_1_and_maj_at_16_of_the_hand_made_case(scripted_eval_run):
    # 16 samples of one problem (gold 27.0): 7 right in three spellings, 6 say 5, 3 say 3.
    assert scripted_eval_run.results["amc23"] == {"pass@1": pytest.approx(7 / 16, abs=1e-12), "maj@16": 1.0}


def test_generation_statistics_come_from_the_samples(scripted_eval_run):
    tasks = scripted_eval_run.data["tasks"]
    assert tasks["math500"]["mean_rethinks"] == 1.0  # the oracle says "Wait" once per answer
    assert tasks["aime25"]["mean_rethinks"] == 0.0
    assert tasks["aime25"]["mean_generated_tokens"] == 4.0  # "The answer is \boxed{-987654321}": 4 words
    assert tasks["amc23"]["problems"] == 1
    assert tasks["amc23"]["generations"] == 16


def test_results_json_top_level_results_is_task_metric_value(scripted_eval_run):
    """The shape a training callback reads: {"results": {benchmark: {metric: float}}}."""
    data = json.loads((scripted_eval_run.output_dir / "results.json").read_text())
    assert all(isinstance(value, float) for metrics in data["results"].values() for value in metrics.values())
    assert data["results"]["amc23"]["maj@16"] == 1.0


# -- retrained weights at the same path -------------------------------------------------------------------------------


def retrain(folder: Path) -> None:
    """A few real optimizer steps on one text, saved over the weights in `folder` (same path, new weights)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = tokenizer("So the answer is \\boxed{7}. " * 4, return_tensors="pt").input_ids
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(folder)


def test_retrained_weights_at_the_same_path_are_evaluated_afresh(tiny_eval_run, eval_model_dir, session_tmp):
    first_out, _, _ = tiny_eval_run
    first = read_results(first_out)
    retrain(eval_model_dir)
    out = session_tmp / "eval-tiny-retrained"
    done = s2r(
        "evaluate",
        str(eval_model_dir),
        "--tasks",
        "math500",
        "--max-samples",
        "2",
        "--max-new-tokens",
        "8",
        "--data",
        f"math500={first['tasks']['math500']['data']['source']}",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    second = read_results(out)
    assert second["model"]["weights_sha256"] == weights_sha256(eval_model_dir)
    assert second["model"]["weights_sha256"] != first["model"]["weights_sha256"]
    # Same problems, same greedy settings, new weights: a cache keyed on the config would return the old answers.
    before = details_texts(first_out / "details" / "math500.parquet")
    after = details_texts(out / "details" / "math500.parquet")
    assert len(before) == len(after) == 2
    assert before != after
