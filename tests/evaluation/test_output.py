"""Where `s2r evaluate` writes (issue 16, case 7 and the full-disk traceback): one run per output folder at a time,
and a disk that fails is one line, with nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from fixtures.env import REPO_ROOT
from fixtures.evaluation import SCRIPTED_MODEL, s2r

from s2r_hf.core.folders import STAGING_MARK
from s2r_hf.core.locks import locked_output


def one_line_error(done) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("s2r evaluate: error: "), done.stderr
    return lines[0]


def start_scripted_evaluation(benchmark_paths, out, **popen) -> tuple[list[str], subprocess.Popen]:
    """`s2r evaluate` of the scripted oracle on one MATH500 problem into `out`, started in the background: its
    arguments (to run it again) and the process."""
    args = [
        "evaluate", str(SCRIPTED_MODEL), "--backend", "custom", "--tasks", "math500", "--max-samples", "1",
        "--data", f"math500={benchmark_paths['math500']}", "-o", str(out),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "S2R_TEST_SCRIPT": json.dumps({"math500": "oracle"})}
    process = subprocess.Popen(
        [sys.executable, "-m", "s2r_hf.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
    return args, process


def test_a_second_run_into_a_locked_output_is_refused_before_touching_the_first_runs_staging(tiny_model_dir, tmp_path):
    out = tmp_path / "eval"
    # What a first run holds while lighteval runs: the lock, and its staging folder beside the output.
    staging = tmp_path / ".eval.tmp-0123abcd"
    staging.mkdir()
    (staging / STAGING_MARK).touch()
    with locked_output(out, "s2r evaluate"):
        done = s2r("evaluate", str(tiny_model_dir), "--tasks", "math500", "-o", str(out))
    line = one_line_error(done)
    assert f"another `s2r evaluate` is writing {str(out.resolve())!r} right now" in line
    assert (staging / STAGING_MARK).is_file() and not out.exists()


@pytest.mark.slow
def test_two_real_runs_into_one_output_the_second_is_refused_and_the_first_is_whole(benchmark_paths, tmp_path):
    out = tmp_path / "eval"
    args, first = start_scripted_evaluation(benchmark_paths, out)
    try:
        deadline = time.monotonic() + 120
        # The first run is writing once its staging folder exists (it holds the lock from before it makes it).
        while not list(tmp_path.glob(".eval.tmp-*")):
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[1][-3000:]
            time.sleep(0.2)
        staging = next(tmp_path.glob(".eval.tmp-*"))
        started = time.monotonic()
        second = s2r(*args, env={"S2R_TEST_SCRIPT": json.dumps({"math500": "oracle"})})
        assert time.monotonic() - started < 60  # refused at once: no lighteval run of its own
        assert "another `s2r evaluate` is writing" in one_line_error(second)
        assert first.poll() is not None or staging.is_dir()  # the first's staging survived the second
        _, first_err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, first_err[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["results"]["math500"]["pass@1"] == 1.0  # the oracle's score, whole
    assert (out / "benchmarks" / "math500" / "test.parquet").is_file()
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".eval")) == []


def test_a_full_disk_is_one_line_and_leaves_nothing(tiny_model_dir, benchmark_paths, tiny_disk):
    out = tiny_disk / "eval"
    done = s2r(
        "evaluate", str(tiny_model_dir), "--tasks", "math500", "--data", f"math500={benchmark_paths['math500']}",
        "-o", str(out),
    )  # fmt: skip
    line = one_line_error(done)
    assert f"could not write {str(out)!r}: " in line and "No space left on device" in line
    assert "Free some space there, or write to another disk with -o" in line
    assert "running lighteval" not in done.stderr  # refused while the benchmarks were prepared
    assert list(tiny_disk.iterdir()) == []  # no staging folder, no lock file


def test_a_read_only_output_folder_is_one_line_before_work(tiny_model_dir, read_only_folder):
    done = s2r("evaluate", str(tiny_model_dir), "--tasks", "math500", "-o", str(read_only_folder / "eval"))
    line = one_line_error(done)
    assert "cannot write" in line and "choose" in line
    assert list(read_only_folder.iterdir()) == []


def test_an_output_in_folders_that_do_not_exist_yet_is_made(tiny_model_dir, tmp_path):
    # The run is refused while it prepares the benchmarks (the file has no answer field), after its staging folder
    # was made beside the output: the missing folders above the output were made, not a traceback.
    bad = tmp_path / "math500.jsonl"
    bad.write_text(json.dumps({"problem": "1+1?", "result": "2"}) + "\n")
    out = tmp_path / "new" / "deeper" / "eval"
    done = s2r("evaluate", str(tiny_model_dir), "--tasks", "math500", "--data", f"math500={bad}", "-o", str(out))
    assert "has no recognisable answer field" in one_line_error(done)
    assert list((tmp_path / "new" / "deeper").iterdir()) == []  # no output, no staging folder, no lock file


@pytest.mark.slow
def test_ctrl_c_during_the_lighteval_run_is_one_line_and_leaves_nothing(benchmark_paths, tmp_path):
    import signal

    out = tmp_path / "eval"
    # In its own process group, as a terminal's foreground job: Ctrl-C reaches all of it.
    _, run = start_scripted_evaluation(benchmark_paths, out, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".eval.tmp-*/lighteval/plan.json")):  # the lighteval process is starting
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-3000:]
            time.sleep(0.2)
        time.sleep(3)  # inside lighteval's imports
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 130, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert "s2r evaluate: interrupted" in err
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # no output, no staging folder, no lock file


@pytest.mark.slow
def test_the_lighteval_process_on_a_disk_that_turns_read_only_says_so_in_one_line(
    benchmark_paths, tmp_path, read_only_folder
):
    from dataclasses import asdict

    from s2r_hf.evaluation.runner import EvaluationConfig
    from s2r_hf.pool.benchmarks import load_benchmark

    data_dir = tmp_path / "benchmarks" / "math500"
    data_dir.mkdir(parents=True)
    load_benchmark("math500", str(benchmark_paths["math500"])).to_parquet(str(data_dir / "test.parquet"))
    settings = EvaluationConfig(tasks="math500").settings()["math500"]
    plan = {
        "model": {"backend": "custom", "name_or_path": str(SCRIPTED_MODEL), "name": "scripted"},
        "seed": 1234,
        "max_samples": 1,
        "output_dir": str(read_only_folder),  # lighteval writes its results there once the answers are graded
        "tasks": {"math500": {"settings": asdict(settings), "data_dir": str(data_dir)}},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "S2R_TEST_SCRIPT": json.dumps({"math500": "oracle"})}
    done = subprocess.run(
        [sys.executable, "-m", "s2r_hf.evaluation.worker", str(tmp_path / "plan.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "lighteval process: could not write" in done.stderr and "Read-only file system" in done.stderr


def test_lighteval_folders_named_after_the_models_path_are_removed_when_emptied(tmp_path):
    """lighteval writes details/<the model's absolute path>/<date>/... and results/<the model's path>/...: once its
    files are collected, the emptied folders go; a folder that still holds a file stays."""
    from s2r_hf.evaluation.runner import _collect_details

    staging = tmp_path / "staging"
    mirrored = "home/me/models/qwen-select10"
    details = staging / "lighteval" / "details" / mirrored / "2026-01-01T00-00-00"
    details.mkdir(parents=True)
    (details / "details_s2r_math500|0_2026-01-01T00-00-00.parquet").write_bytes(b"details")
    results = staging / "lighteval" / "results" / mirrored
    results.mkdir(parents=True)
    (results / "results_2026-01-01T00-00-00.json").write_text("{}")
    (staging / "lighteval" / "plan.json").write_text("{}")
    kept = staging / "lighteval" / "details" / "other"
    kept.mkdir()
    (kept / "notes.txt").write_text("not lighteval's to lose")
    _collect_details(staging)
    found = sorted(str(path.relative_to(staging)) for path in staging.rglob("*"))
    assert found == [
        "details",
        "details/math500.parquet",
        "lighteval",
        "lighteval/details",
        "lighteval/details/other",
        "lighteval/details/other/notes.txt",
        "lighteval/plan.json",
        "lighteval/results_2026-01-01T00-00-00.json",
    ]
    assert (staging / "details" / "math500.parquet").read_bytes() == b"details"
