"""What demo, score, select and train print at the end: paths the same way (relative to the current folder when
inside it, as typed otherwise), plain numbers, and one `Next:` line holding a command that runs as printed."""

from __future__ import annotations

import shlex
import types

import pytest

from s2r_hf.cli import main
from s2r_hf.commands.summary import shown_path
from s2r_hf.commands.train import next_after_training
from s2r_hf.pool.demo import DEMO_POOL_FILE


def last_lines(capsys, prefix: str) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith(prefix)]


def test_shown_path_is_relative_inside_the_current_folder_and_as_typed_outside(tmp_path, monkeypatch):
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert shown_path(tmp_path / "here" / "out" / "a") == "out/a"
    assert shown_path("out/../out/a") == "out/a"
    assert shown_path(str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
    assert shown_path("../elsewhere") == "../elsewhere"


@pytest.mark.parametrize("absolute", [False, True])
def test_demo_prints_both_output_paths_the_same_way_and_what_to_run_next(tmp_path, monkeypatch, capsys, absolute):
    monkeypatch.chdir(tmp_path)
    output = str(tmp_path / "my demo") if absolute else "my demo"  # typed absolute, inside the current folder
    assert main(["demo", "-o", output]) == 0
    out = capsys.readouterr().out
    assert "scored pool written to my demo/openr1-synthetic-scored\n" in out
    assert "subset written to my demo/openr1-select10\n" in out
    assert 'load it with: datasets.load_dataset("my demo/openr1-select10", split="train")' in out
    # Lengths as plain numbers (the longest demo trace is 1,085 characters; it was printed 1.08e+03).
    assert "s2r_trace_length   605.1 (203-1,085)" in out and "e+0" not in out
    assert "dropped: 11 incomplete reasoning" in out
    assert out.strip().splitlines()[-1] == (
        "Next: s2r inspect 'my demo/openr1-synthetic-scored' --subset 'my demo/openr1-select10' (the report on the "
        "pool and the subset), or train on it: s2r train --config tiny-cpu --model_name_or_path "
        "Qwen/Qwen2.5-0.5B-Instruct --dataset_name 'my demo/openr1-select10' --output_dir "
        "'my demo/openr1-select10-model'"
    )


def test_demo_outside_the_current_folder_prints_the_paths_as_typed(tmp_path, monkeypatch, capsys):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["demo", "-o", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert f"scored pool written to {tmp_path}/demo/openr1-synthetic-scored\n" in out
    assert f"subset written to {tmp_path}/demo/openr1-select10\n" in out


def test_score_then_select_print_the_next_command_and_it_runs_as_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["score", str(DEMO_POOL_FILE), "-o", "pool-scored"]) == 0
    out = capsys.readouterr().out
    assert "scored pool written to pool-scored\n" in out and "e+0" not in out
    suggested = out.strip().splitlines()[-1]
    assert suggested == "Next: s2r select pool-scored -o pool-select10 --ratio 0.1"
    assert main(shlex.split(suggested.removeprefix("Next: s2r "))) == 0
    out = capsys.readouterr().out
    assert "subset written to pool-select10\n" in out
    suggested = out.strip().splitlines()[-1]
    assert suggested == (
        "Next: s2r inspect pool-scored --subset pool-select10 (the report on the pool and the subset), or train on "
        "it: s2r train --config tiny-cpu --model_name_or_path Qwen/Qwen2.5-0.5B-Instruct --dataset_name "
        "pool-select10 --output_dir pool-select10-model"
    )
    inspect = suggested.removeprefix("Next: s2r ").split(" (the report")[0]
    assert main(shlex.split(inspect)) == 0  # the first suggestion runs as printed too
    assert capsys.readouterr().out.strip().splitlines()[-1] == "report written to pool-scored-report/report.md"


def test_train_prints_where_the_model_is_and_the_evaluate_command(tmp_path, monkeypatch, capsys):
    from s2r_hf.training import sft

    record = {"output_dir": str(tmp_path / "runs" / "qwen select"), "training": {"steps": 8}, "data": {}}
    record["data"]["sft"] = {"rows_kept": 19}
    monkeypatch.setattr(sft, "main", lambda argv, command: types.SimpleNamespace(record=record, trainer=None))
    monkeypatch.setattr("s2r_hf.commands.train._cuda_available", lambda: False)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--config", "tiny-cpu"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "trained 8 steps on 19 examples; model and card in runs/qwen select",
        "Next: s2r evaluate 'runs/qwen select' --tasks math500 --max-samples 2 -o 'runs/eval-qwen select' (a smoke "
        "run: on a GPU drop --max-samples and add aime24,aime25,amc23 to --tasks)",
    ]


def test_next_after_training_on_a_gpu_evaluates_the_paper_benchmarks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert next_after_training(str(tmp_path / "out"), on_cpu=False) == (
        "Next: s2r evaluate out --tasks math500,aime24,aime25,amc23 -o eval-out"
    )
