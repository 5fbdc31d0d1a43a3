"""Every entry point that needs an optional dependency says, in one line, which extra to install, and exits 2.

The dependency is hidden for real, in a subprocess (and every process it starts): a `sitecustomize.py` on PYTHONPATH
puts None in `sys.modules` for it, so importing it raises ModuleNotFoundError as it would were it not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.env import REPO_ROOT

TRAIN_MESSAGE = (
    "trl is not installed, and training (s2r train, an experiment's train step) needs it; install the train extra: "
    "pip install 's2r-hf[train]'"
)
EVAL_MESSAGE = (
    "lighteval is not installed, and evaluation (s2r evaluate, an experiment's evaluate step) needs it; "
    "install the eval extra: pip install 's2r-hf[eval]'"
)
OPTIONAL = ("trl", "lighteval", "evaluate")


def environment_without(folder: Path, *packages: str) -> dict[str, str]:
    """os.environ, with `packages` made unimportable in every Python process started with it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["import sys", *(f"sys.modules[{name!r}] = None" for name in packages)]
    (folder / "sitecustomize.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(REPO_ROOT)])}


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def error_line(result: subprocess.CompletedProcess, prog: str) -> str:
    """The one line the entry point printed; fails on a traceback, another exit code, or more than one such line."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{prog}:")]
    assert len(lines) == 1, result.stderr
    # Nothing follows it: it is the entry point's last word (libraries may warn before it).
    assert result.stderr.rstrip("\n").splitlines()[-1] == lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "s2r_hf.cli", "train", "--config", "tiny-cpu"],
        ["-m", "s2r_hf.training.sft", "--config", "tiny-cpu"],  # what `accelerate launch -m` runs
    ],
    ids=["s2r train", "python -m s2r_hf.training.sft"],
)
def test_training_without_the_train_extra(argv, tmp_path):
    result = run(argv, environment_without(tmp_path / "hide", "trl"), tmp_path)
    assert error_line(result, "s2r train") == f"s2r train: error: {TRAIN_MESSAGE}"


@pytest.mark.slow
def test_an_experiment_without_the_train_extra_stops_before_any_step(tmp_path):
    env = environment_without(tmp_path / "h", "trl")
    result = run(["-m", "s2r_hf.cli", "experiment", "run", "tiny-cpu"], env, tmp_path)
    assert error_line(result, "s2r experiment") == f"s2r experiment: error: {TRAIN_MESSAGE}"
    assert not (tmp_path / "tiny-cpu" / "pool").exists()  # the pool was not scored


@pytest.mark.slow
def test_an_experiment_without_the_eval_extra_stops_before_any_step(tmp_path, tiny_model_dir):
    env = environment_without(tmp_path / "h", "lighteval", "evaluate")
    # A local model and benchmark, so that lighteval is the one input problem (here no Hub can be reached).
    math500 = tmp_path / "math500.jsonl"
    math500.write_text('{"problem": "What is 1 + 1?", "answer": "2"}\n', encoding="utf-8")
    inputs = ["--set", f"train.model={tiny_model_dir}", "--set", f"evaluate.data.math500={math500}"]
    result = run(["-m", "s2r_hf.cli", "experiment", "run", "tiny-cpu", *inputs], env, tmp_path)
    # Said for the interpreter that will run lighteval (evaluate.python, by default this one).
    line = error_line(result, "s2r experiment")
    assert line.startswith(f"s2r experiment: error: {EVAL_MESSAGE} (in the environment of {sys.executable})")
    assert not (tmp_path / "tiny-cpu" / "pool").exists()  # no hour of training before the evaluation fails


def test_s2r_evaluate_without_the_eval_extra(tmp_path, tiny_model_dir):
    env = environment_without(tmp_path / "h", "lighteval", "evaluate")
    argv = ["-m", "s2r_hf.cli", "evaluate", str(tiny_model_dir), "--tasks", "math500", "-o", str(tmp_path / "out")]
    line = error_line(run(argv, env, tmp_path), "s2r evaluate")
    assert line.startswith(f"s2r evaluate: error: {EVAL_MESSAGE} (in the environment of {sys.executable})")
    assert not (tmp_path / "out").exists()


def test_the_lighteval_process_without_the_eval_extra(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"output_dir": str(tmp_path / "out")}), encoding="utf-8")
    env = environment_without(tmp_path / "h", "lighteval", "evaluate")
    line = error_line(run(["-m", "s2r_hf.evaluation.worker", str(plan)], env, tmp_path), "lighteval process")
    assert line == f"lighteval process: error: {EVAL_MESSAGE}"


def test_only_training_and_the_lighteval_tasks_need_an_extra_to_import(tmp_path):
    """Every other module, and so every other entry point (s2r score, select, demo, train-judge, publish, compare,
    inspect, python -m s2r_hf.signals.judge.distributed, .training.rope, .pool.demo), imports with none installed."""
    scan = (
        "import importlib, json, pkgutil, s2r_hf\n"
        "failed = {}\n"
        "for module in pkgutil.walk_packages(s2r_hf.__path__, 's2r_hf.'):\n"
        "    try:\n"
        "        importlib.import_module(module.name)\n"
        "    except ModuleNotFoundError as err:\n"
        "        failed[module.name] = err.name.partition('.')[0]\n"
        "print(json.dumps(failed))\n"
    )
    result = run(["-c", scan], environment_without(tmp_path / "h", *OPTIONAL), tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "s2r_hf.evaluation.tasks": "lighteval",  # loaded by lighteval itself, in the lighteval process
        "s2r_hf.training.configs": "trl",  # S2RSFTConfig subclasses TRL's SFTConfig
    }
