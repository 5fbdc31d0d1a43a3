"""An experiment stopped while it trains leaves nothing running and says so in one line.

One output folder, two stages (module-scoped: each stage starts a real trainer, the pool is scored once):

1. the train step runs under `torch.distributed.run` and the runner is killed with SIGKILL: the launcher dies with the
   runner (run_tied) and its worker dies with the launcher (issue 16, case 14: it stayed alive, sleeping, and a re-run
   trained into the same folder beside it);
2. the same experiment resumed, then Ctrl-C as a terminal sends it (SIGINT to the whole foreground process group):
   one line and exit code 2, not the trainer's 46-line traceback, and again no process left.

The training is made long (many steps) so that it is still running when it is stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.evaluation import REPO_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="children die with their parent on Linux (prctl)"),
]

TORCHRUN = "{python} -m torch.distributed.run --standalone --nproc_per_node 1"


def _processes_naming(text: str) -> list:
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if text in " ".join(process.info["cmdline"] or []) and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def _wait_for(condition, seconds: float, what: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen; the run's output:\n{log.read_text(encoding='utf-8')[-4000:]}")


def _survivors(output: Path, seconds: float = 30) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        found = [" ".join(process.cmdline()) for process in _processes_naming(str(output))]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _start(output: Path, model: Path, log: Path, *flags: str) -> subprocess.Popen:
    # The benchmark as a local file: the checks before the run would find the Hub's copy unreachable here.
    math500 = log.parent / "interrupt-math500.jsonl"
    math500.write_text('{"problem": "What is 1 + 1?", "answer": "2"}\n', encoding="utf-8")
    settings = [
        f"train.model={model}",
        f"evaluate.data.math500={math500}",
        f"output={output}",
        "train.overrides.max_steps=100000",  # still training when stopped
        "train.overrides.save_steps=100000",
        "train.overrides.max_length=1024",
        *flags,
    ]
    command = [sys.executable, "-m", "s2r_hf.cli", "experiment", "run", "tiny-cpu", "--only", "full"]
    command += [word for setting in settings for word in ("--set", setting)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with open(log, "w", encoding="utf-8") as handle:
        # Its own session: the test sends SIGINT to its process group as a terminal does to its foreground group.
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True)


@pytest.fixture(scope="module")
def stopped(session_tmp, tiny_model_dir):
    output = session_tmp / "experiment-interrupted"
    trained = output / "full" / "model" / "s2r_training.json"
    outcome = {}

    # 1. torchrun launcher, runner killed once the worker trains (its provenance is written after the model loads).
    log = session_tmp / "experiment-torchrun.log"
    runner = _start(output, tiny_model_dir, log, f"train.launcher={TORCHRUN}")
    try:
        _wait_for(trained.is_file, 300, "the torchrun worker's training", runner, log)
        outcome["training"] = [" ".join(process.cmdline()) for process in _processes_naming(str(output))]
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        outcome["after_kill"] = _survivors(output)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGKILL)
        for process in _processes_naming(str(output)):  # the orphans of a failing run, so they stop using the CPU
            with contextlib.suppress(Exception):
                process.kill()

    # 2. The same experiment again (default launcher), Ctrl-C once its trainer runs.
    log = session_tmp / "experiment-ctrl-c.log"
    before = trained.stat().st_mtime_ns
    runner = _start(output, tiny_model_dir, log)
    try:
        _wait_for(lambda: trained.stat().st_mtime_ns != before, 300, "the resumed training", runner, log)
        os.killpg(runner.pid, signal.SIGINT)
        outcome["ctrl_c_code"] = runner.wait(timeout=120)
        outcome["ctrl_c_log"] = log.read_text(encoding="utf-8")
        outcome["after_ctrl_c"] = _survivors(output)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGKILL)
        for process in _processes_naming(str(output)):
            with contextlib.suppress(Exception):
                process.kill()
    return outcome


def test_a_killed_torchrun_experiment_leaves_no_worker(stopped):
    launchers = [line for line in stopped["training"] if "torch.distributed.run" in line]
    workers = [line for line in stopped["training"] if "torch.distributed.run" not in line and "sft" in line]
    assert launchers and workers, stopped["training"]  # torchrun, and the worker it started, were training
    assert stopped["after_kill"] == []


def test_ctrl_c_stops_the_trainer_and_prints_one_line(stopped):
    log = stopped["ctrl_c_log"]
    assert stopped["ctrl_c_code"] == 130, log[-3000:]
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-3000:]
    errors = re.findall(
        r"s2r experiment: (?:error: )?interrupted[^\r\n]*", log
    )  # (after the trainer's progress bar, on its line)
    assert errors == [
        "s2r experiment: interrupted (Ctrl-C) during full/train, which was stopped; run the same command "
        "again to resume: full/train continues (a training from its last checkpoint) and the steps already done "
        "are skipped"
    ], log[-3000:]
    assert stopped["after_ctrl_c"] == []
