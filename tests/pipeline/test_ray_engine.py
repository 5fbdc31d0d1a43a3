"""`s2r score --engine ray` on a local Ray cluster of 2 CPU workers: the scores of `--engine local` row for row, a
worker killed mid-run, a killed job resumed, and the bad inputs (s2r_hf.pipeline.ray_engine)."""

from __future__ import annotations

import json
import os
import socket
import time

import pyarrow.parquet as pq
import pytest
import yaml

import s2r_hf.core.extras
import s2r_hf.pipeline.ray_engine as ray_engine
from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID, QUESTION_CLUSTER, RETHINK_COUNT, TRACE_LENGTH
from s2r_hf.core.errors import ColumnTypeError, InputError, MissingDependencyError
from s2r_hf.pipeline.score import ScoreConfig, score_pool

ROWS = 20
CHUNK = 4  # judge rows per batch: 5 batches, so a killed worker leaves finished ones behind


@pytest.fixture(scope="module")
def ray_pool(tmp_path_factory):
    """A pool file with rethink markers, a question copied from the benchmark, and two near-duplicate questions."""
    folder = tmp_path_factory.mktemp("ray-pool")
    words = ["let", "x", "y", "be", "real", "numbers", "such", "that", "the", "sum", "of", "squares", "equals",
             "find", "all", "integers", "prime", "triangle"]  # fmt: skip
    rows = []
    for i in range(ROWS):
        question = " ".join(words[(i * 7 + k) % len(words)] for k in range(5 + i % 9)) + f" case {i}?"
        trace = ("Wait, " if i % 3 else "") + "step. " * (i % 5 + 1) + ("Maybe it is.\n\nstep. " * (i % 2))
        rows.append({"q": question, "t": trace, "a": str(i), "hardness": i / ROWS})
    rows[7]["q"] = rows[6]["q"] + " again"  # a near duplicate of row 6
    rows[11]["q"] = "What is the area of a circle of radius 3 centred at the origin of the plane?"
    pool = folder / "pool.jsonl"
    pool.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    bench = folder / "math500.jsonl"
    problem = {"problem": rows[11]["q"], "answer": "9 pi", "unique_id": "b0"}
    bench.write_text(json.dumps(problem) + "\n", encoding="utf-8")
    return pool, bench


def score_args(pool, bench, judge, work_dir, output, engine):
    return [
        "score", str(pool), "-o", str(output), "--question-column", "q", "--trace-column", "t", "--answer-column", "a",
        "--difficulty", "judge", "--judge", str(judge), "--judge-chunk-rows", str(CHUNK),
        "--judge-work-dir", str(work_dir), "--decontaminate", "math500", "--benchmark-data", f"math500={bench}",
        "--near-duplicates", "cluster", "--engine", engine,
    ]  # fmt: skip


def read_scored(folder):
    card = (folder / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---")[1])
    rows = [row for part in sorted(folder.rglob("*.parquet")) for row in pq.read_table(part).to_pylist()]
    return front, rows


def stored_keys(work_dir):
    return [key for part in sorted(work_dir.rglob("part-*.parquet")) for key in pq.read_table(part)["key"].to_pylist()]


@pytest.fixture(scope="module")
def local_run(ray_pool, tiny_model_dir, tmp_path_factory):
    """The same scoring with `--engine local`: what the Ray runs must equal."""
    import torch

    folder = tmp_path_factory.mktemp("local-run")
    pool, bench = ray_pool
    # One thread, as each Ray worker computes (Ray sets OMP_NUM_THREADS to a worker's 1 CPU): a matrix product summed
    # in another order can differ in the last bits (1e-9 here), which rows_sha256 would tell.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(score_args(pool, bench, tiny_model_dir, folder / "work", folder / "scored", "local")) == 0
    finally:
        torch.set_num_threads(threads)
    return read_scored(folder / "scored")


def the_s2r_block(front):
    return front.get("s2r", front)


def check_equal_to_local(ray_rows, local_rows):
    assert [row[ID] for row in ray_rows] == [row[ID] for row in local_rows]  # the row order kept
    for ray_row, local_row in zip(ray_rows, local_rows, strict=True):
        assert ray_row[DIFFICULTY] == pytest.approx(local_row[DIFFICULTY], abs=1e-6)
        exact = {key: value for key, value in ray_row.items() if key != DIFFICULTY}
        assert exact == {key: value for key, value in local_row.items() if key != DIFFICULTY}


@pytest.mark.slow  # a local Ray cluster's judge workers start torch: about 20 s each
def test_ray_engine_equals_local_row_for_row_with_a_worker_killed(
    ray_cluster, ray_pool, tiny_model_dir, local_run, tmp_path, monkeypatch
):
    pool, bench = ray_pool
    marker = tmp_path / "worker-killed"
    monkeypatch.setenv(ray_engine.EXIT_HOOK, str(marker))  # the first judge worker's first batch ends its process
    output = tmp_path / "scored"
    assert main(score_args(pool, bench, tiny_model_dir, tmp_path / "work", output, "ray")) == 0
    assert marker.exists()  # a worker was killed, and Ray restarted it and sent its batch again
    front, rows = read_scored(output)
    local_front, local_rows = local_run
    s2r, local_s2r = the_s2r_block(front), the_s2r_block(local_front)
    check_equal_to_local(rows, local_rows)
    assert len(rows) == ROWS - 1  # the benchmark's copy dropped
    assert rows[6][QUESTION_CLUSTER] == rows[7][QUESTION_CLUSTER] == min(rows[6][ID], rows[7][ID])
    assert len({row[QUESTION_CLUSTER] for row in rows}) == ROWS - 2
    assert [row[TRACE_LENGTH] for row in rows] == [row[TRACE_LENGTH] for row in local_rows]
    assert sum(row[RETHINK_COUNT] for row in rows) > 0
    assert s2r["rows_sha256"] == local_s2r["rows_sha256"]
    assert s2r["hygiene"] == local_s2r["hygiene"]
    assert s2r["settings"]["engine"] == "ray" and local_s2r["settings"]["engine"] == "local"
    assert s2r["difficulty"]["rows_scored"] == ROWS - 1


@pytest.mark.slow  # a local Ray cluster's judge workers start torch: about 20 s each
def test_a_killed_ray_job_resumes_scoring_only_the_missing_rows(
    ray_cluster, ray_pool, tiny_model_dir, local_run, tmp_path, monkeypatch
):
    pool, bench = ray_pool
    work_dir, output = tmp_path / "work", tmp_path / "scored"
    # The job dies: a judge worker ends its process on its second batch, and Ray may not restart it.
    monkeypatch.setenv(ray_engine.EXIT_HOOK, str(tmp_path / "worker-killed"))
    monkeypatch.setenv(ray_engine.EXIT_AFTER, "1")
    monkeypatch.setattr(ray_engine, "ACTOR_RESTARTS", 0)
    config = ScoreConfig(
        num_proc=1,
        source=str(pool), question_column="q", trace_column="t", answer_column="a", difficulty="judge",
        judge={"model": str(tiny_model_dir), "chunk_rows": CHUNK, "work_dir": str(work_dir)}, engine="ray",
        decontaminate="math500", benchmark_data=f"math500={bench}", near_duplicates="cluster",
    )  # fmt: skip
    with pytest.raises(ray_engine.RayJobError, match="Run the same command again"):
        score_pool(config)
    kept = stored_keys(work_dir)
    assert 0 < len(kept) < ROWS - 1  # some batches were finished and kept, not all
    monkeypatch.undo()
    assert main(score_args(pool, bench, tiny_model_dir, work_dir, output, "ray")) == 0
    # Each question scored once over both runs: the rerun scored exactly the ones the killed job had not kept.
    all_keys = stored_keys(work_dir)
    assert len(all_keys) == len(set(all_keys)) == ROWS - 1
    assert set(kept) < set(all_keys)
    front, rows = read_scored(output)
    check_equal_to_local(rows, local_run[1])
    assert the_s2r_block(front)["rows_sha256"] == the_s2r_block(local_run[0])["rows_sha256"]


def test_a_scorer_without_a_batch_step_runs_on_the_driver_under_ray(ray_cluster, ray_pool):
    # The column scorer has no model step (DifficultyScorer.batch_step returns None): --engine ray runs its own
    # add_difficulty, while the trace length still runs as Ray tasks; the rows equal the local engine's exactly.
    pool, _ = ray_pool
    results = {}
    for engine in ("local", "ray"):
        config = ScoreConfig(
            source=str(pool), question_column="q", trace_column="t", answer_column="a", difficulty="column:hardness",
            engine=engine,
        )  # fmt: skip
        scored, metadata = score_pool(config)
        results[engine] = (scored.to_list(), metadata["rows_sha256"])
    assert results["ray"] == results["local"]
    assert [row[DIFFICULTY] for row in results["ray"][0]] == [i / ROWS for i in range(ROWS)]


@pytest.mark.slow  # a Ray worker starts torch and samples
def test_sampled_rollouts_run_in_ray_workers_and_equal_local(ray_cluster, tiny_model_dir, tmp_path):
    # The sampled scorer's BatchStep (sampled_difficulty_batch) in one Ray actor: the same pass rates, capped counts and
    # kept completions as the local engine (each completion's seed comes from the question and its index).
    from s2r_hf.pipeline.score import score_pool_with_rollouts

    pool = tmp_path / "pool.jsonl"
    rows = [{"question": f"What is {i} + {i}?", "trace": f"So {2 * i}.", "answer": str(2 * i)} for i in range(4)]
    pool.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    results = {}
    for engine in ("local", "ray"):
        config = ScoreConfig(
            source=str(pool), question_column="question", trace_column="trace", answer_column="answer",
            difficulty="sampled", engine=engine, num_proc=1,
            sampled={"model": str(tiny_model_dir), "rollouts": 2, "max_new_tokens": 4, "device": "cpu",
                     "chunk_rows": 2, "keep_rollouts": True, "work_dir": str(tmp_path / f"work-{engine}")},
        )  # fmt: skip
        scored, metadata, kept = score_pool_with_rollouts(config)
        results[engine] = (scored.to_list(), metadata["rows_sha256"], kept.to_list(), metadata["difficulty"])
    assert results["ray"][:3] == results["local"][:3]
    assert len(results["ray"][2]) == 8  # 4 questions x 2 completions kept
    assert results["ray"][3]["rows_scored"] == 4


def test_an_error_a_ray_worker_raises_reaches_the_user_as_itself(ray_cluster, tiny_model_dir):
    # The batch function's own check fails on the worker (before any model loads): the user sees that error, not
    # Ray's wrapping of it.
    from datasets import Dataset

    from s2r_hf.signals.judge.scorer import JudgeConfig, judge_difficulty_batch

    engine = ray_engine.RayEngine.connect(None)
    pool = Dataset.from_dict({"messages": ["not turns", "nor this"]})
    config = {"config": JudgeConfig(model=str(tiny_model_dir))}
    with pytest.raises(ColumnTypeError, match=r"^2 rows have 'messages' that is not a list of chat turns"):
        engine.run_tasks(pool, ["messages"], judge_difficulty_batch, config, desc="check")


def check_a_refused_join_names_the_token(monkeypatch):
    """A cluster that answers but refuses the driver (`ray start` asks for a token): one line naming RAY_AUTH_MODE."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")

    def refused(**kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379")

    with monkeypatch.context() as patch:
        patch.delenv("RAY_ADDRESS", raising=False)
        patch.delenv("RAY_AUTH_MODE", raising=False)
        patch.setattr(ray, "is_initialized", lambda: False)
        patch.setattr(ray, "init", refused)
        with pytest.raises(InputError, match=r"cluster at 10.0.0.5:6379\); a cluster started .* RAY_AUTH_MODE=token"):
            ray_engine.RayEngine.connect(None)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_bad_engine_inputs_are_one_line_and_exit_2(ray_pool, tiny_model_dir, tmp_path, capsys, monkeypatch):
    pool, _ = ray_pool
    base = ["score", str(pool), "-o", str(tmp_path / "out"), "--question-column", "q", "--trace-column", "t"]
    assert main([*base, "--engine", "spark"]) == 2
    assert "engine must be one of ['local', 'ray'], got 'spark'" in capsys.readouterr().err
    assert main([*base, "--ray-address", "10.0.0.1:6379"]) == 2
    assert "applies to --engine ray; the engine is 'local'" in capsys.readouterr().err
    started = time.monotonic()
    port = closed_port()
    assert main([*base, "--engine", "ray", "--ray-address", f"127.0.0.1:{port}"]) == 2
    error = capsys.readouterr().err
    assert f"no Ray cluster reachable at --ray-address '127.0.0.1:{port}'" in error
    assert len(error.strip().splitlines()) == 1 and time.monotonic() - started < ray_engine.CONNECT_TIMEOUT + 5
    assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match="is not HOST:PORT"):
        ray_engine.probe_address("head-node")
    check_a_refused_join_names_the_token(monkeypatch)
    monkeypatch.setattr(s2r_hf.core.extras, "is_importable", lambda package: package != "ray")
    with pytest.raises(MissingDependencyError, match=r"install the ray extra: pip install 's2r-hf\[ray\]'"):
        ScoreConfig(source=str(pool), engine="ray")
    assert main([*base, "--engine", "ray"]) == 2
    assert "pip install 's2r-hf[ray]'" in capsys.readouterr().err
    assert os.environ.get(ray_engine.EXIT_HOOK) is None
