"""The shipped tiny experiment, end to end with a tiny offline model: killed, resumed, changed, reported, planned.

One experiment folder goes through the whole story in order (module-scoped, since every stage costs real training and
real lighteval runs):

1. the README's offline command (`HF_HUB_OFFLINE=1 s2r experiment run tiny-cpu --set train.model=./... --set
   evaluate.data.math500=./math500.jsonl`, read from the README, the arms and sizes cut by `--set`s appended) is
   killed with SIGKILL as soon as its first arm is evaluated;
2. the same command resumes: the first arm is skipped (not retrained, not re-evaluated), the other runs;
3. the joint arm's weight changes: only the joint arm runs again, the full arm is skipped;
4. the report and the chart hold each arm's numbers; `plan` lists every step.

Two of the example's three arms run: `full` (trained on the pool itself, the arm that is killed) and `joint` (selected,
then changed). The third, `random`, is a second 10% subset whose steps are the same as joint's and prove nothing more
here (that a change to one arm leaves the others' fingerprints alone is tests/experiment/test_steps.py's); each arm
costs a training and a lighteval run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.evaluation import REPO_ROOT, s2r
from fixtures.readme import readme_block

pytestmark = pytest.mark.slow

ARMS = ("full", "joint")


def shipped_arms(*names: str) -> str:
    """The shipped tiny-cpu example's arms of these names, as the YAML value of `--set arms=...`."""
    import yaml

    from s2r_hf.experiment.config import resolve_example

    arms = yaml.safe_load(resolve_example("tiny-cpu").read_text(encoding="utf-8"))["arms"]
    return json.dumps([arm for arm in arms if arm["name"] in names])


def tiny_overrides(output: Path) -> list[str]:
    """`--set` flags appended to the README's command: the arms of ARMS, seconds per arm, the story's output folder."""
    settings = [
        f"arms={shipped_arms(*ARMS)}",
        f"output={output}",
        "train.overrides.max_steps=2",
        "train.overrides.save_steps=1",
        "train.overrides.max_length=1024",
        "evaluate.max_samples=2",
        "evaluate.max_new_tokens=8",
    ]
    return [word for setting in settings for word in ("--set", setting)]


def record(output: Path, arm: str, step: str) -> dict:
    return json.loads((output / arm / "steps" / f"{step}.json").read_text(encoding="utf-8"))


def ran_steps(log: str) -> set[str]:
    lines = [line for line in log.splitlines() if "s2r_hf.experiment.runner" in line]
    return {line.split(": ")[1] for line in lines if line.endswith(("running", "resuming", "running it again"))}


def skipped_steps(log: str) -> set[str]:
    return {line.split(": ")[1] for line in log.splitlines() if line.endswith(", skipped")}


def readme_offline_command() -> tuple[dict[str, str], list[str]]:
    """The README's offline experiment command: (its environment assignments, the words after `s2r`)."""
    block = readme_block("The paper's comparison in one command", "bash", startswith="HF_HUB_OFFLINE=1 ")
    words = shlex.split(block.code.replace("\\\n", " "))
    assignments = dict(word.split("=", 1) for word in words[: words.index("s2r")])
    return assignments, words[words.index("s2r") + 1 :]


@pytest.fixture(scope="module")
def story(session_tmp, tiny_model_dir, benchmark_paths):
    """Run the four stages once; each test reads what it needs. Every command runs in `story_dir`, where the README's
    command finds its model folder and MATH-500 file (as a reader would have them), offline as the README says."""
    story_dir = session_tmp / "experiment-readme"
    shutil.copytree(tiny_model_dir, story_dir / "SmolLM2-135M-Instruct")
    shutil.copy(benchmark_paths["math500"], story_dir / "math500.jsonl")
    output = session_tmp / "experiment-tiny"
    offline, readme_words = readme_offline_command()
    assert readme_words[:3] == ["experiment", "run", "tiny-cpu"], readme_words
    flags = [*readme_words[3:], *tiny_overrides(output)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **offline}
    command = [sys.executable, "-m", "s2r_hf.cli", "experiment", "run", "tiny-cpu", *flags]

    # 1. Killed (SIGKILL, the parent only: its training child must die with it) once the first arm is evaluated.
    log_path = session_tmp / "experiment-killed.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=story_dir, start_new_session=True
        )
        first_eval = output / "full" / "steps" / "evaluate.json"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            if first_eval.is_file() and json.loads(first_eval.read_text(encoding="utf-8"))["status"] == "finished":
                break
            time.sleep(0.2)
        killed_while_running = process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    orphans = _wait_for_no_process_using(output, seconds=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever else is left of that run (nothing, if all is well)
    full = {
        "train": record(output, "full", "train"),
        "evaluate": record(output, "full", "evaluate"),
        "weights_mtime": (output / "full" / "model" / "model.safetensors").stat().st_mtime_ns,
        "results_mtime": (output / "full" / "eval" / "results.json").stat().st_mtime_ns,
    }

    where = {"env": offline, "cwd": story_dir}
    # What the failure left unfinished, and the lines that resubmit only that (as a Slurm array).
    missing = s2r("experiment", "plan", "tiny-cpu", *flags, "--missing", **where)
    # 2. Resumed with the same command.
    resumed = s2r("experiment", "run", "tiny-cpu", *flags, **where)
    # 3. The joint arm's weight changed.
    changed = s2r("experiment", "run", "tiny-cpu", *flags, "--set", "arms.joint.weight=0.75", **where)
    # 4. The plan of the finished experiment.
    plan = s2r("experiment", "plan", "tiny-cpu", *flags, "--set", "arms.joint.weight=0.75", **where)
    return {
        "story_dir": story_dir,
        "output": output,
        "flags": flags,
        "killed_log": log_path.read_text(encoding="utf-8"),
        "killed_while_running": killed_while_running,
        "orphans": orphans,
        "full_before": full,
        "missing": missing,
        "resumed": resumed,
        "changed": changed,
        "plan": plan,
    }


def _wait_for_no_process_using(output: Path, seconds: float) -> list[str]:
    """The command lines of live processes naming `output`, after waiting up to `seconds` for them to go."""
    import psutil

    deadline = time.monotonic() + seconds
    while True:
        found = []
        for process in psutil.process_iter(["cmdline"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if str(output) in cmdline and process.status() != psutil.STATUS_ZOMBIE:
                found.append(cmdline)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_the_killed_run_stopped_after_the_first_arm(story):
    assert story["killed_while_running"], "the run finished before it could be killed:\n" + story["killed_log"][-3000:]
    assert story["full_before"]["evaluate"]["status"] == "finished"
    assert "joint/evaluate: running" not in story["killed_log"]


@pytest.mark.skipif(sys.platform != "linux", reason="the training child dies with its parent on Linux (prctl)")
def test_no_training_process_outlives_the_killed_run(story):
    assert story["orphans"] == []


def test_after_the_kill_plan_missing_lists_the_unfinished_arm_and_resubmits_only_it(story, tmp_path):
    from s2r_hf.experiment.config import examples_dir

    missing = story["missing"]
    assert missing.returncode == 0, missing.stderr[-3000:]
    listed = re.findall(r"^(\S+) +\[(?:new|interrupted|changed)\]", missing.stdout, flags=re.MULTILINE)
    assert {"joint/train", "joint/evaluate"} <= set(listed) <= {"joint/select", "joint/train", "joint/evaluate"}
    resubmit = [line for line in missing.stdout.splitlines() if line.startswith(("arms=", "sbatch "))]
    assert len(resubmit) == 2 and "--array=1 slurm-arms.sh tiny-cpu --set" in resubmit[0]  # joint: index 1 of ARMS

    # Pasted where slurm-arms.sh is, each line submits: a stand-in sbatch runs the array's tasks at once (task N
    # with SLURM_ARRAY_TASK_ID=N) and a stand-in srun says what it would run. Only the joint arm is resubmitted.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "s2r").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m s2r_hf.cli "$@"\n', encoding="utf-8")
    (fake / "srun").write_text('#!/bin/sh\necho "srun $*" >> "$SUBMITTED"\n', encoding="utf-8")
    (fake / "sbatch").write_text(
        '#!/bin/bash\nset -e\nargs=()\nfor word in "$@"; do case $word in --array=*) tasks=${word#--array=};;\n'
        '--parsable|--dependency=*|--gpus-per-node=*) ;; *) args+=("$word");; esac; done\n'
        'if [ -n "$tasks" ]; then for task in ${tasks//,/ }; do\n'
        '  SLURM_ARRAY_TASK_ID=$task bash "${args[@]}" > /dev/null; done\n'
        'else echo "wrap ${args[*]}" >> "$SUBMITTED"; fi\necho 1234\n',
        encoding="utf-8",
    )
    for tool in fake.iterdir():
        tool.chmod(0o755)
    shutil.copy(examples_dir() / "slurm-arms.sh", tmp_path / "slurm-arms.sh")
    submitted = tmp_path / "submitted.txt"
    env = {
        **os.environ,
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO_ROOT),
        "SUBMITTED": str(submitted),
        "HF_HUB_OFFLINE": "1",
    }
    # (the experiment's relative paths, `./SmolLM2-135M-Instruct`, are the story folder's: the script runs there)
    script = f"cp {shlex.quote(str(tmp_path / 'slurm-arms.sh'))} . && " + " && ".join(resubmit)
    done = subprocess.run(["bash", "-c", script], cwd=story["story_dir"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    runs = submitted.read_text(encoding="utf-8").splitlines()
    assert len(runs) == 2 and runs[0].startswith("srun --ntasks=1 s2r experiment run tiny-cpu --set ")
    assert runs[0].endswith(" --only joint") and " --set arms=" in runs[0], runs[0]  # the story's own settings
    assert runs[1] == f"wrap --wrap s2r experiment report {story['output']}"


def test_the_resumed_run_skips_the_finished_arm_and_runs_the_rest(story):
    resumed = story["resumed"]
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    log = resumed.stderr
    assert {"pool", "full/train", "full/evaluate"} <= skipped_steps(log)
    assert ran_steps(log) >= {"joint/select", "joint/train", "joint/evaluate"}
    assert not ran_steps(log) & {"pool", "full/train", "full/evaluate"}
    output, before = story["output"], story["full_before"]
    # Not redone: the same records, weights and results files as before the kill.
    assert record(output, "full", "train") == before["train"]
    assert (output / "full" / "model" / "model.safetensors").stat().st_mtime_ns == before["weights_mtime"]
    assert (output / "full" / "eval" / "results.json").stat().st_mtime_ns == before["results_mtime"]
    for arm in ARMS:
        assert (output / arm / "eval" / "results.json").is_file()
        assert (output / arm / "model" / "README.md").is_file()  # each step's own card
    assert (output / "joint" / "subset" / "README.md").is_file()
    assert not (output / "full" / "subset").exists()  # the full arm trains on the pool itself


def test_a_changed_weight_reruns_only_that_arm(story):
    changed = story["changed"]
    assert changed.returncode == 0, changed.stderr[-4000:]
    log = changed.stderr
    assert ran_steps(log) == {"joint/select", "joint/train", "joint/evaluate"}
    unchanged = {"pool", "full/train", "full/evaluate"}
    assert skipped_steps(log) == unchanged
    assert "joint/select: settings changed (selection.weight: 0.25 -> 0.75)" in log
    from s2r_hf.core.folders import read_card_metadata

    assert read_card_metadata(story["output"] / "joint" / "subset")["s2r"]["weight"] == 0.75
    assert record(story["output"], "joint", "select")["settings"]["selection"]["weight"] == 0.75


def test_the_report_holds_each_arms_results(story):
    from s2r_hf.evaluation.results import read_results
    from s2r_hf.experiment.report import read_chart_points
    from s2r_hf.training.provenance import read_provenance

    assert story["changed"].returncode == 0
    output = story["output"]
    report = json.loads((output / "report.json").read_text(encoding="utf-8"))
    assert [arm["name"] for arm in report["arms"]] == list(ARMS)
    points = {point["arm"]: point for point in read_chart_points(output / "accuracy_vs_tokens.png")}
    markdown = (output / "report.md").read_text(encoding="utf-8")
    for arm in report["arms"]:
        results = read_results(output / arm["name"] / "eval")
        provenance = read_provenance(output / arm["name"] / "model")
        assert arm["data_tokens"] == provenance["data"]["data_tokens"]
        assert arm["trained_tokens"] == provenance["training"]["trained_tokens"]
        assert arm["wall_seconds"] == provenance["training"]["wall_seconds"]
        for row in results["table"]:
            cell = arm["results"][row["task"]][row["metric"]]
            assert cell["value"] == row["value"]
            assert cell["stderr"] == row["stderr"]
            assert cell["problems"] == row["problems"] == 2
        assert points[arm["name"]]["data_tokens"] == arm["data_tokens"]
        assert points[arm["name"]]["accuracy"] == arm["accuracy"]
        assert f"{arm['data_tokens']:,} | {arm['trained_tokens']:,}" in markdown
    rows = {arm["name"]: arm["rows"] for arm in report["arms"]}
    assert rows["full"] > rows["joint"] > 0  # 10% of the pool against all of it


def test_plan_lists_every_step_with_its_needs(story):
    plan = story["plan"]
    assert plan.returncode == 0, plan.stderr
    text = plan.stdout
    for step, needs in [
        ("pool", "-"),
        ("full/train", "pool"),
        ("full/evaluate", "full/train"),
        ("joint/select", "pool"),
        ("joint/train", "joint/select"),
        ("joint/evaluate", "joint/train"),
    ]:
        assert any(line.startswith(step + " ") and f"needs: {needs}" in line for line in text.splitlines()), step
    assert "--only joint --step train" in text
    assert "-m s2r_hf.training.sft" in text  # what the train step starts
    assert text.count("[done]") == 6  # everything is up to date after the last run


def test_the_finished_experiment_publishes_through_its_publish_step(story, hub):
    """`--step publish` (the plan's last step): every arm's model, the subsets, the results and a collection; a second
    publish changes nothing."""
    assert story["changed"].returncode == 0
    changes = ["--set", "arms.joint.weight=0.75", "--set", "publish.namespace=s2r"]
    argv = ["experiment", "run", "tiny-cpu", *story["flags"], *changes, "--step", "publish"]
    first = s2r(*argv, cwd=story["story_dir"])  # online: it publishes
    assert first.returncode == 0, first.stderr[-3000:]
    assert "tiny-cpu published:" in first.stdout
    assert not ran_steps(first.stderr)  # nothing is selected, trained or evaluated again
    for arm in ARMS:
        assert "model.safetensors" in hub.files(f"s2r/tiny-cpu-{arm}", repo_type="model")
    assert not any(path.startswith("checkpoint-") for path in hub.files("s2r/tiny-cpu-joint", repo_type="model"))
    assert "data/train-00000-of-00001.parquet" in hub.files("s2r/tiny-cpu-joint")
    results = hub.files("s2r/tiny-cpu-results")
    assert json.loads(results["experiment/report.json"]) == json.loads((story["output"] / "report.json").read_bytes())
    (collection,) = hub.collections("s2r")
    assert collection.title == "tiny-cpu"
    items = {entry.item_id for entry in collection.items}
    assert {"s2r/tiny-cpu-full", "s2r/tiny-cpu-joint", "s2r/tiny-cpu-results"} <= items
    again = s2r(*argv, cwd=story["story_dir"])
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already up to date on the Hub" in again.stdout
