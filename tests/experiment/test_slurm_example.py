"""The shipped Slurm script: task N of the array runs arm N of the experiment (with the same overrides)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from fixtures.evaluation import REPO_ROOT


@pytest.mark.skipif(shutil.which("bash") is None, reason="the script is a bash script")
def test_each_array_task_runs_its_arm(tmp_path):
    from s2r_hf.experiment.config import examples_dir

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `s2r`: this checkout's command line; `srun`: prints the command it was given instead of running it.
    (bin_dir / "s2r").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m s2r_hf.cli "$@"\n', encoding="utf-8")
    (bin_dir / "srun").write_text('#!/bin/sh\necho "srun $*"\n', encoding="utf-8")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO_ROOT)}
    script = str(examples_dir() / "slurm-arms.sh")
    out = str(tmp_path / "out")
    lines = []
    for task in range(3):
        done = subprocess.run(
            ["bash", script, "tiny-cpu", "--set", f"output={out}"],
            env={**env, "SLURM_ARRAY_TASK_ID": str(task)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        lines.append(done.stdout.strip().splitlines()[-1])
    expected = "srun --ntasks=1 s2r experiment run tiny-cpu --set output={} --only {}"
    assert lines == [expected.format(out, arm) for arm in ("full", "random", "joint")]
    outside_array = subprocess.run(["bash", script, "tiny-cpu"], env=env, capture_output=True, text=True, check=False)
    assert outside_array.returncode != 0 and "job array" in outside_array.stderr
