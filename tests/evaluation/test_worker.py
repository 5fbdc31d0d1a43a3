"""The lighteval process's model settings, without a lighteval run (issue 18: a CPU smoke evaluation hung in lighteval's
batch-size detection, which never ends on a CPU)."""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys

from fixtures.env import REPO_ROOT

from s2r_hf.evaluation.worker import CPU_BATCH_SIZE, transformers_options


def test_a_cpu_smoke_run_never_lets_lighteval_detect_the_batch_size(caplog):
    with caplog.at_level(logging.INFO, logger="s2r_hf.evaluation.worker"):
        on_cpu = transformers_options({"backend": "transformers", "batch_size": None}, cuda=False)
    assert CPU_BATCH_SIZE == 1
    assert on_cpu == {"device": "cpu", "batch_size": 1, "model_parallel": False}
    assert "no CUDA device: generating with batch size 1 on the CPU" in caplog.text  # the log says what it chose
    # A user's --batch-size always wins; on a GPU, lighteval's detection (None) finds the largest batch that fits.
    assert transformers_options({"batch_size": 4}, cuda=False)["batch_size"] == 4
    assert transformers_options({"batch_size": None}, cuda=True) == {
        "device": "cuda",
        "batch_size": None,
        "model_parallel": None,
    }
    assert transformers_options({"batch_size": 8}, cuda=True)["batch_size"] == 8


def test_the_evaluate_callbacks_default_command_gets_the_cpu_batch_size(tmp_path):
    """The training callback's default command is `s2r evaluate` with no --batch-size: parsed as the CLI parses it, its
    plan leaves the batch size to the worker, which gives 1 on a CPU."""
    from s2r_hf.cli import build_parser
    from s2r_hf.commands.evaluate import evaluation_options
    from s2r_hf.core.options import build, given
    from s2r_hf.evaluation.runner import EvaluationConfig
    from s2r_hf.training.eval_command import DEFAULT_EVAL_COMMAND

    values = {"python": sys.executable, "checkpoint": "ckpt", "output": str(tmp_path / "out"), "benchmarks": "math500"}
    argv = [word.format(**values) for word in shlex.split(DEFAULT_EVAL_COMMAND)]
    assert argv[:4] == [sys.executable, "-m", "s2r_hf.cli", "evaluate"]
    args = build_parser().parse_args(argv[3:])
    config = build(EvaluationConfig, given(args, evaluation_options()))
    assert config.batch_size is None and config.backend == "transformers"
    assert transformers_options({"batch_size": config.batch_size}, cuda=False)["batch_size"] == CPU_BATCH_SIZE


def test_the_evaluate_callbacks_command_module_imports_no_evaluation_code():
    probe = (
        "import sys, s2r_hf.training.eval_command\n"
        "print(sorted(m for m in sys.modules if m.startswith(('s2r_hf.evaluation', 'lighteval'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT, timeout=60
    )
    assert done.stdout.strip() == "[]"
