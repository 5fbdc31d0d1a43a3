"""`s2r experiment plan`: one command per step, with what it needs, for a scheduler (Slurm, or a node per arm).

Each arm's steps form a chain (select -> train -> evaluate) that needs only the pool, so arms run in parallel: one
`s2r experiment run EXPERIMENT --only ARM` per node (its train step starts `train.launcher`, e.g. `accelerate launch`
over the node's GPUs), or one job per step with the dependencies below. Every command is the experiment runner itself,
so a step run by a scheduler is skipped when up to date and resumes when it was killed, exactly as in one `run`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from s2r_hf.core.redaction import redact_argv
from s2r_hf.experiment.config import FULL, ExperimentConfig
from s2r_hf.experiment.launch import train_command
from s2r_hf.experiment.steps import arm_output, experiment_steps, pool_dir, step_status
from s2r_hf.training.credentials import credential_variable

FORMATS = ("text", "json", "arms")


@dataclass
class PlannedStep:
    """A step as a scheduler sees it: its id, the ids it needs, its command, its status, and what it starts."""

    id: str
    needs: list[str]
    command: str
    status: str
    why: str
    runs: str | None = None

    def describe(self) -> dict:
        return {
            "id": self.id,
            "needs": self.needs,
            "command": self.command,
            "status": self.status,
            "why": self.why,
            "runs": self.runs,
        }


def plan_experiment(
    config: ExperimentConfig, experiment_file: str, overrides: list[str] | tuple[str, ...] = ()
) -> list[PlannedStep]:
    """Every step (the pool, each arm's, the report and publishing), with the command that runs it."""
    planned = []
    steps = experiment_steps(config)
    for step in steps:
        if step.name == "pool" and config.pool.scored is not None:
            continue  # nothing to run: the pool is a folder that exists
        needs = [need for need in step.needs if not (need == "pool" and config.pool.scored is not None)]
        command = run_command(experiment_file, overrides, arm=step.arm, step=step.name, seed=step.seed)
        status = step_status(step)
        runs = None
        if step.name == "train":
            arm = config.arm(step.arm)
            data = pool_dir(config) if arm.strategy == FULL else arm_output(config, arm.name, "select")
            runs = shlex.join(train_command(config, data=str(data), output_dir=str(step.output), seed=step.seed))
        planned.append(PlannedStep(step.id, needs, shlex.join(redact_argv(command)), status.state, status.why, runs))
    evaluations = [step.id for step in steps if step.name == "evaluate"]
    report = shlex.join(["s2r", "experiment", "report", str(config.output_dir)])
    planned.append(PlannedStep("report", evaluations, report, "-", "written at the end of every run"))
    if config.publish is not None:
        publish = shlex.join(redact_argv(run_command(experiment_file, overrides, step="publish")))
        planned.append(PlannedStep("publish", ["report"], publish, "-", f"to {config.publish.namespace} on the Hub"))
    return planned


def run_command(
    experiment_file: str,
    overrides: Sequence[str] = (),
    *,
    arm: str | None = None,
    step: str | None = None,
    seed: int | None = None,
) -> list[str]:
    """`s2r experiment run` of the experiment as the user named it (the file or shipped name, then each `--set`), for
    one arm (`--only`), one step (`--step`) and one training seed (`--seed`) when given."""
    command = ["s2r", "experiment", "run", str(experiment_file)]
    for override in overrides:
        # A token is never printed: each job reads it from its own environment (HF_TOKEN), as the trainer does.
        key = override.split("=", 1)[0].strip()
        if key.startswith("train.overrides.") and credential_variable(key.removeprefix("train.overrides.")):
            continue
        command += ["--set", override]
    command += ["--only", arm] if arm else []
    command += ["--seed", str(seed)] if seed is not None else []
    return [*command, *(["--step", step] if step else [])]


def render_plan(config: ExperimentConfig, planned: list[PlannedStep], fmt: str = "text") -> str:
    import json

    if fmt == "json":
        return json.dumps({"experiment": config.name, "steps": [step.describe() for step in planned]}, indent=2)
    if fmt == "arms":
        return "\n".join(config.arm_names())
    width = max(len(step.id) for step in planned)
    lines = [
        f"# experiment {config.name!r}: {len(config.arms)} arm(s), {len(planned)} step(s); output {config.output_dir}",
        "# Each arm's steps need only the pool: run arms in parallel, one `--only ARM` per node, or one job per",
        "# step with the dependencies shown. A step already up to date is skipped when run; a killed one resumes.",
        "",
    ]
    for step in planned:
        needs = ", ".join(step.needs) or "-"
        lines.append(f"{step.id:<{width}}  [{step.status}]  needs: {needs}")
        lines.append(f"    {step.command}")
        if step.runs:
            lines.append(f"    # starts: {step.runs}")
    return "\n".join(lines)
