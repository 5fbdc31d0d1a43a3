"""Judge scoring split across ranks (s2r_hf.signals.judge.distributed): per-rank shards and the checked merge, and a
real
2-process
torchrun (gloo, CPU) whose result must equal the single-process scorer's."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.env import REPO_ROOT
from fixtures.judge_data import make_pool, random_questions, reference_scores

from s2r_hf.core.columns import DIFFICULTY, ID
from s2r_hf.core.errors import InputError
from s2r_hf.signals.judge.distributed import main, merge_shards, score_shard, shard_path
from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return random_questions(30, seed=5)


@pytest.fixture(scope="module")
def expected(tiny_model_dir, questions) -> list[float]:
    return reference_scores(tiny_model_dir, questions)


def test_ranks_score_disjoint_shards_and_merge_equals_single_process(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    config = JudgeConfig(model=str(tiny_model_dir), chunk_rows=4)
    out = tmp_path / "shards"
    paths = [score_shard(pool, config, out, rank=rank, world_size=3) for rank in range(3)]
    assert paths == [shard_path(out, rank, 3) for rank in range(3)]
    # split_dataset_by_node gives each rank a contiguous third of the pool: 10 rows each, in pool order.
    assert [pq.read_table(p).column(ID).to_pylist() for p in paths] == [pool[ID][i : i + 10] for i in (0, 10, 20)]
    merged = merge_shards(pool, out, world_size=3)
    assert merged.column_names == [*pool.column_names, DIFFICULTY]
    assert merged[DIFFICULTY] == pytest.approx(expected, abs=1e-6)
    single = JudgeDifficulty(model=str(tiny_model_dir)).add_difficulty(pool)
    assert merged[DIFFICULTY] == pytest.approx(single[DIFFICULTY], abs=1e-7)
    # A second run keeps finished shards as they are (same file, not rewritten).
    stamp = paths[1].stat().st_mtime_ns
    assert score_shard(pool, config, out, rank=1, world_size=3) == paths[1]
    assert paths[1].stat().st_mtime_ns == stamp


def _rewrite(path, ids, scores):
    """Replace a shard's rows, keeping its run metadata (to fake what a buggy or mixed-up run would leave)."""
    metadata = pq.read_schema(path).metadata
    table = pa.table({ID: ids, DIFFICULTY: scores}).replace_schema_metadata(metadata)
    pq.write_table(table, path)


def test_merge_checks_every_row_is_scored_exactly_once(tiny_model_dir, tmp_path, questions):
    pool = make_pool(questions[:8], tmp_path / "pool")
    out = tmp_path / "shards"
    config = JudgeConfig(model=str(tiny_model_dir))
    first = score_shard(pool, config, out, rank=0, world_size=2)
    with pytest.raises(InputError, match=r"1 of 2 shards are missing \(ranks \[1\]\)"):
        merge_shards(pool, out, world_size=2)
    second = score_shard(pool, config, out, rank=1, world_size=2)
    original = pq.read_table(second).to_pydict()

    _rewrite(second, [*original[ID], "q0000"], [*original[DIFFICULTY], 0.5])
    with pytest.raises(InputError, match=r"1 ids scored more than once \(e\.g\. \['q0000'\]\)"):
        merge_shards(pool, out, world_size=2)
    _rewrite(second, original[ID][1:], original[DIFFICULTY][1:])
    with pytest.raises(InputError, match=r"1 not scored \(e\.g\. \['q0004'\]\)"):
        merge_shards(pool, out, world_size=2)
    _rewrite(second, [*original[ID], "stranger"], [*original[DIFFICULTY], 0.5])
    with pytest.raises(InputError, match=r"1 not in the pool \(e\.g\. \['stranger'\]\)"):
        merge_shards(pool, out, world_size=2)

    # A shard left over from another prompt is refused, and rescored when its rank runs again.
    other = JudgeConfig(model=str(tiny_model_dir), system_prompt="Hard? 1 or 0.")
    score_shard(pool, other, out, rank=1, world_size=2)
    with pytest.raises(InputError, match="come from different runs"):
        merge_shards(pool, out, world_size=2)
    score_shard(pool, config, out, rank=1, world_size=2)
    assert merge_shards(pool, out, world_size=2)[ID] == pool[ID]
    assert first.exists()


def test_merge_output_replaces_only_an_earlier_merge_never_the_input_or_a_users_folder(
    tiny_model_dir, tmp_path, questions, capsys
):
    from datasets import Dataset

    pool = make_pool(questions[:6], tmp_path / "pool")
    out = tmp_path / "shards"
    config = JudgeConfig(model=str(tiny_model_dir))
    for rank in range(2):
        score_shard(pool, config, out, rank=rank, world_size=2)

    def merge(output) -> int:
        pool_dir = str(tmp_path / "pool")
        return main(["merge", "--pool", pool_dir, "--out", str(out), "--world-size", "2", "--output", output])

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for output, reason in (
        (mine, "was not written by s2r"),
        (tmp_path / "pool", "is the input"),
        (tmp_path, "holds the input"),
        (out / "merged", "is inside the input folder"),
    ):
        assert merge(str(output)) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]  # progress bars aside
        assert len(err) == 1 and reason in err[0], err
        assert err[0].startswith("python -m s2r_hf.signals.judge.distributed merge: error:")
    assert (mine / "notes.txt").read_text() == "keep me"
    assert Dataset.load_from_disk(tmp_path / "pool")[ID] == pool[ID]

    merged = tmp_path / "merged"
    assert merge(str(merged)) == 0
    assert Dataset.load_from_disk(merged)[ID] == pool[ID]
    assert merge(str(merged)) == 0  # a rerun replaces the folder its earlier merge wrote
    assert Dataset.load_from_disk(merged)[DIFFICULTY] == merge_shards(pool, out, world_size=2)[DIFFICULTY]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []  # no staging left


@pytest.mark.slow
def test_torchrun_two_processes_equal_single_process(tiny_model_dir, tmp_path, questions, expected):
    from datasets import Dataset

    pool = make_pool(questions, tmp_path / "pool")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "s2r_hf.signals.judge.distributed", "score",
        "--pool", str(tmp_path / "pool"), "--out", str(tmp_path / "shards"), "--output", str(tmp_path / "scored"),
        "--model", str(tiny_model_dir), "--chunk-rows", "4", "--work-dir", str(tmp_path / "work"),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "all 30 rows scored exactly once across 2 ranks" in run.stderr
    for rank in range(2):
        assert pq.read_metadata(shard_path(tmp_path / "shards", rank, 2)).num_rows == 15
    scored = Dataset.load_from_disk(tmp_path / "scored")
    assert scored[ID] == pool[ID]
    single = JudgeDifficulty(model=str(tiny_model_dir)).add_difficulty(pool)
    assert scored[DIFFICULTY] == pytest.approx(single[DIFFICULTY], abs=1e-7)
    assert scored[DIFFICULTY] == pytest.approx(expected, abs=1e-6)


# Defined before a pasted line runs: each `python` it starts is written down (one line per call, NUL-separated words)
# instead of started, and the test then runs those words in-process. The shell still parses the line, expands
# $SLURM_ARRAY_TASK_ID and follows `cd` and `&&`; only the interpreter's start-up (torch's imports) is saved.
RECORD_PYTHON = 'python() { printf "%s\\0" "$PWD" "$@" >> "$CALLS"; printf "\\n" >> "$CALLS"; }; export -f python; '


def _pasted(command: str, tmp_path, env: dict[str, str] | None = None) -> list[tuple[str, list[str]]]:
    """The `python` calls `command` makes in bash, as (working folder, words after `python`), in order."""
    calls = tmp_path / "calls"
    calls.unlink(missing_ok=True)
    env = {**os.environ, **(env or {}), "CALLS": str(calls)}
    done = subprocess.run(
        ["bash", "-c", RECORD_PYTHON + command], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [
        (fields[0], fields[1:])
        for line in calls.read_text(encoding="utf-8").splitlines()
        for fields in [line.split("\0")[:-1]]
    ]


def _run_calls(calls, monkeypatch) -> None:
    """Run recorded `python -m s2r_hf.signals.judge.distributed ...` calls here, each in its folder."""
    for folder, words in calls:
        assert words[:2] == ["-m", "s2r_hf.signals.judge.distributed"], words
        monkeypatch.chdir(folder)
        assert main(words[2:]) == 0, words


def _one_error(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_merge_lists_missing_and_damaged_ranks_and_its_command_scores_only_those(
    tiny_model_dir, tmp_path, questions, expected, capsys, monkeypatch
):
    from datasets import Dataset

    pool = make_pool(questions[:8], tmp_path / "pool")
    out, scored = tmp_path / "shards", tmp_path / "scored"
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    (tmp_path / "scoring").mkdir()
    monkeypatch.chdir(tmp_path / "scoring")
    score = ["score", "--pool", str(tmp_path / "pool"), "--out", str(out), "--model", str(tiny_model_dir)]
    assert main([*score, "--chunk-rows", "2", "--rank", "0,2", "--world-size", "4"]) == 0  # ranks 1 and 3 never ran
    shard_path(out, 2, 4).write_bytes(b"PAR1 cut short")  # rank 2's node died while writing (or the disk lied)
    kept = shard_path(out, 0, 4).stat().st_mtime_ns

    merge = ["merge", "--pool", str(tmp_path / "pool"), "--out", str(out), "--world-size", "4", "--output", str(scored)]
    monkeypatch.chdir(tmp_path / "pool")  # the merge runs in another folder than the scoring did
    line = _one_error(capsys, merge)
    assert "2 of 4 shards are missing (ranks [1, 3])" in line
    assert "1 damaged (ranks [2]: difficulty-00002-of-00004.parquet cannot be read)" in line
    assert not scored.exists()  # nothing half-written
    command = line.split("then merge: ", 1)[1]

    # The printed line, pasted into a shell: it goes where the scoring ran, scores ranks 1 to 3, then merges.
    calls = _pasted(command, tmp_path)
    assert [words[2] for _, words in calls] == ["score", "merge"] and calls[0][0] == calls[1][0] == str(
        tmp_path / "scoring"
    )
    assert calls[0][1][-4:] == ["--rank", "1,2,3", "--world-size", "4"] and "--chunk-rows" in calls[0][1]
    _run_calls(calls, monkeypatch)
    assert shard_path(out, 0, 4).stat().st_mtime_ns == kept  # rank 0's shard was not scored again
    merged = Dataset.load_from_disk(scored)
    assert merged[ID] == pool[ID]
    assert merged[DIFFICULTY] == pytest.approx(expected[:8], abs=1e-6)


def test_shards_of_a_slurm_array_get_the_sbatch_line_that_resubmits_only_the_missing_tasks(
    tiny_model_dir, tmp_path, questions, expected, capsys, monkeypatch
):
    pool = make_pool(questions[:6], tmp_path / "pool")
    out = tmp_path / "shards"
    # Task 1 of `sbatch --array=0-2 --wrap '... --rank $SLURM_ARRAY_TASK_ID --world-size 3'` finished, task 2's shard
    # was cut short, task 0 never ran. (Task 1's shard is written here in-process, as the task would.)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    score = ["score", "--pool", str(tmp_path / "pool"), "--out", str(out), "--model", str(tiny_model_dir)]
    assert main([*score, "--rank", "1", "--world-size", "3"]) == 0
    shard_path(out, 2, 3).write_bytes(b"PAR1")
    merge = ["merge", "--pool", str(tmp_path / "pool"), "--out", str(out), "--world-size", "3"]
    line = _one_error(capsys, merge)
    assert "1 of 3 shards are missing (ranks [0])" in line and "1 damaged (ranks [2]" in line
    sbatch = line.split("as a Slurm array (with your first submission's sbatch options): ", 1)[1]
    sbatch, after = sbatch.split(" , ", 1)
    assert after == "then the merge once those tasks end"
    assert sbatch.startswith("sbatch --array=0,2 ") and "--rank $SLURM_ARRAY_TASK_ID --world-size 3" in sbatch

    # A stand-in for sbatch that runs each array task at once, as Slurm would later, with its SLURM_ARRAY_TASK_ID.
    fake = tmp_path / "bin" / "sbatch"
    fake.parent.mkdir()
    fake.write_text(
        '#!/bin/bash\nset -e\nfor word in "$@"; do case $prev in --wrap) wrap=$word;; esac; prev=$word\n'
        'case $word in --array=*) tasks=${word#--array=};; --chdir=*) cd "${word#--chdir=}";; esac; done\n'
        'for task in ${tasks//,/ }; do SLURM_ARRAY_TASK_ID=$task bash -c "$wrap"; done\n'
    )
    fake.chmod(0o755)
    monkeypatch.delenv("SLURM_ARRAY_TASK_ID")
    calls = _pasted(sbatch, tmp_path, {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"})
    assert [words[-4:] for _, words in calls] == [["--rank", str(task), "--world-size", "3"] for task in (0, 2)]
    _run_calls(calls, monkeypatch)
    assert main(merge) == 0
    assert merge_shards(pool, out, world_size=3)[DIFFICULTY] == pytest.approx(expected[:6], abs=1e-6)


def test_score_rank_flags_are_checked_before_the_pool_loads(tmp_path, capsys, monkeypatch):
    base = ["score", "--pool", str(tmp_path / "nope"), "--out", str(tmp_path / "s")]
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for flags, message in (
        (["--rank", "1"], "--rank and --world-size go together"),
        (["--rank", "1,x", "--world-size", "2"], "--rank takes rank numbers separated by commas"),
        (["--rank", "2", "--world-size", "2"], "--rank 2 does not fit --world-size 2"),
    ):
        assert message in _one_error(capsys, [*base, *flags])
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert "run it without torchrun" in _one_error(capsys, [*base, "--rank", "0", "--world-size", "2"])
