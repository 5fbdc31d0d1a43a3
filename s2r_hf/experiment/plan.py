"""`s2r experiment plan`: one command per step, with what it needs, for a scheduler (Slurm, or a node per arm).

Each arm's steps form a chain (select -> train -> evaluate) that needs only the pool, so arms run in parallel: one
`s2r experiment run EXPERIMENT --only ARM` per node (its train step starts `train.launcher`, e.g. `accelerate launch`
over the node's GPUs), or one job per step with the dependencies below. Every command is the experiment runner itself,
so a step run by a scheduler is skipped when up to date and resumes when it was killed, exactly as in one `run`.

After a failure, `plan --missing` lists only the steps not finished and the `sbatch` lines that resubmit only the arms
holding them: the array indices are the arms' positions in `plan --format arms`, the list the shipped `slurm-arms.sh`
reads its arm from.
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
ARRAY_SCRIPT = "slurm-arms.sh"  # the shipped job array script (s2r_hf/experiment/examples), as its header submits it


@dataclass
class PlannedStep:
    """A step as a scheduler sees it: its id, the ids it needs, its command, its status, and what it starts."""

    id: str
    needs: list[str]
    command: str
    status: str
    why: str
    runs: str | None = None
    arm: str | None = None  # the arm whose steps it is (None: the pool, the report, publishing)

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
        command_line = shlex.join(redact_argv(command))
        planned.append(PlannedStep(step.id, needs, command_line, status.state, status.why, runs, step.arm))
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


def unfinished(planned: list[PlannedStep]) -> list[PlannedStep]:
    """The steps a run would still do: new, interrupted or changed (the report and publishing have no state)."""
    return [step for step in planned if step.status not in ("done", "-")]


def resubmit_lines(
    config: ExperimentConfig, planned: list[PlannedStep], experiment_file: str, overrides: Sequence[str] = ()
) -> list[str]:
    """The shell lines that resubmit only what is unfinished as slurm-arms.sh's header submits everything: the pool's
    job when the pool is not done, the array of the arms holding an unfinished step (their indices in `--format
    arms`), and the report after them. Empty when every step is done."""
    missing = unfinished(planned)
    names = config.arm_names()
    indices = sorted({names.index(step.arm) for step in missing if step.arm is not None})
    pool_missing = any(step.id == "pool" for step in missing)
    if not indices and not pool_missing:
        return []
    sets = run_command(experiment_file, overrides)[4:]  # the `--set` flags, a token's left out as for every step
    lines = []
    after = ""
    if pool_missing:
        pool_job = shlex.join(redact_argv(run_command(experiment_file, overrides, step="pool")))
        lines.append(f"pool=$(sbatch --parsable --gpus-per-node=8 --wrap {shlex.quote(pool_job)})")
        after = "--dependency=afterok:$pool "
    if not indices:  # only the pool: the arms' steps are done (a re-scored pool changes them, and plan says so)
        return lines
    array = ",".join(map(str, indices))
    script = shlex.join(redact_argv([ARRAY_SCRIPT, str(experiment_file), *sets]))
    lines.append(f"arms=$(sbatch --parsable {after}--array={array} {script})")
    report = shlex.join(["s2r", "experiment", "report", str(config.output_dir)])
    lines.append(f"sbatch --dependency=afterok:$arms --wrap {shlex.quote(report)}")
    return lines


def render_missing(
    config: ExperimentConfig,
    planned: list[PlannedStep],
    experiment_file: str,
    overrides: Sequence[str] = (),
    fmt: str = "text",
) -> str:
    """`plan --missing`: the unfinished steps with their commands, then the lines that resubmit only their arms."""
    import json

    missing = unfinished(planned)
    lines = resubmit_lines(config, planned, experiment_file, overrides)
    names = config.arm_names()
    arms = [name for name in names if any(step.arm == name for step in missing)]
    if fmt == "json":
        described = {
            "experiment": config.name,
            "steps": [step.describe() for step in missing],
            "arms": arms,
            "array": [names.index(name) for name in arms],
            "resubmit": lines,
        }
        return json.dumps(described, indent=2)
    if fmt == "arms":
        return "\n".join(arms)
    steps = [step for step in planned if step.status != "-"]
    if not missing:
        return f"# experiment {config.name!r}: all {len(steps)} step(s) are done; nothing to resubmit"
    width = max(len(step.id) for step in missing)
    text = [
        f"# experiment {config.name!r}: {len(missing)} of {len(steps)} step(s) not finished; output {config.output_dir}"
    ]
    for step in missing:
        text.append(f"{step.id:<{width}}  [{step.status}]  {step.why}")
        text.append(f"    {step.command}")
    if arms:
        listed = ", ".join(f"{name} ({names.index(name)})" for name in arms)
        text += ["", f"# Resubmit only the arms with unfinished steps, {listed}: their indices in `--format arms`, the"]
        text.append(f"# list {ARRAY_SCRIPT} reads its arm from. Finished steps are skipped when they run.")
    else:
        text += ["", "# Resubmit only the pool (every arm's steps are done):"]
    return "\n".join([*text, *lines])
