"""Run an experiment: `run_experiment(config)`, the library behind `s2r experiment run`.

Steps run in order (the pool, then each arm's select -> train -> evaluate); a step that is up to date is skipped and
the log says so, a step whose settings changed runs again and the log says which setting, and everything downstream of
it follows. Each step writes its output whole or resumably:

- pool and select write their folders through s2r_hf.core.folders (a staging folder moved into place);
- train runs `s2r train` (`-m s2r_hf.training.sft`) in a child process started by `train.launcher` (`{python}`, or
  `accelerate launch ...` / `torchrun ...` for many GPUs): a killed run resumes from its last checkpoint;
- evaluate runs `s2r evaluate` (lighteval in its own process), whose folder appears whole or not at all.

A step's record is written only once its output is complete, so a run killed at any moment (SIGKILL included) resumes
where it stopped. The report (`report.md`, `report.json`, the chart) is written at the end of every run.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2r_hf._version import __version__
from s2r_hf.core.children import run_tied
from s2r_hf.core.errors import InputError, OutputError, RunInterruptedError, S2RError, StepFailedError
from s2r_hf.core.folders import EXPERIMENT_OWNER, TRAINING_OWNER, _disk_error_message, check_writable
from s2r_hf.core.locks import FileLock
from s2r_hf.core.records import token_counts
from s2r_hf.core.redaction import redact_argv
from s2r_hf.evaluation.runner import evaluate_model
from s2r_hf.experiment.config import FULL, ExperimentConfig
from s2r_hf.experiment.launch import train_command, train_environment
from s2r_hf.experiment.preflight import check_step_inputs, split_evaluation_data
from s2r_hf.experiment.repos import arm_repo_id
from s2r_hf.experiment.steps import (
    ARM_STEPS,
    EXPERIMENT_FILE,
    EXPERIMENT_FORMAT,
    STEPS_DIR,
    Step,
    arm_output,
    experiment_steps,
    now,
    pool_dir,
    read_experiment_record,
    seed_folder,
    step_status,
    student_model,
    write_json,
    write_record,
)
from s2r_hf.pipeline.score import score_pool
from s2r_hf.training.provenance import read_provenance

# Imported where they are used, not here: `s2r --help` loads this module (the options of `s2r experiment`) and needs
# neither the training launcher (s2r_hf.training.sft), the dataset writers (s2r_hf.outputs.artifacts), the report nor
# the publisher.

logger = logging.getLogger(__name__)

STEP_NAMES = ("pool", *ARM_STEPS, "publish")
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.ENAMETOOLONG)


@dataclass
class ExperimentRun:
    """What a run did: the steps it ran and skipped (by id), and the output folder."""

    output_dir: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    report: Any = None
    publication: Any = None


def run_experiment(
    config: ExperimentConfig,
    *,
    only: Sequence[str] | None = None,
    step: str | None = None,
    command: str | None = None,
    experiment: str | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> ExperimentRun:
    """Run the experiment's steps that are not up to date (`only`: these arms; `step`: this step only; `seed`: the
    train and evaluate steps of this training seed only, of arms trained with seeds).

    `command` is recorded in the cards; `experiment` and `overrides` (the file or shipped name and the `--set`s the
    config was read with) let a message give the `s2r experiment run` line to type (a Python call without them).
    """
    how_to_run = _how_to_run(experiment, overrides)
    try:
        return _run_experiment(config, only=only, step=step, seed=seed, command=command, how_to_run=how_to_run)
    except OSError as err:
        # A full or read-only disk under the experiment's own records (steps/, locks, experiment.json): one line.
        if err.errno not in _DISK_ERRNOS or isinstance(err, S2RError):
            raise

        raise OutputError(_disk_error_message(Path(err.filename or config.output_dir), err)) from err
    except KeyboardInterrupt:
        # One line, not a traceback: every step's record is written only once its output is whole, so the same
        # command resumes where this one stopped.
        raise RunInterruptedError(
            "interrupted (Ctrl-C); nothing unfinished is kept as done: run the same command again to resume (the "
            "steps already done are skipped, a training resumes from its last checkpoint)"
        ) from None


def _run_experiment(
    config: ExperimentConfig,
    *,
    only: Sequence[str] | None,
    step: str | None,
    seed: int | None,
    command: str | None,
    how_to_run: Callable[[Step], str],
) -> ExperimentRun:
    # Missing evaluation data is listed with every other input problem below; the steps are planned without it.
    planning, missing_data = split_evaluation_data(config)
    chosen = select_steps(planning, only=only, step=step, seed=seed)
    check_output(config)
    statuses = {planned.id: step_status(planned) for planned in chosen}
    by_id = {candidate.id: candidate for candidate in experiment_steps(planning)}
    chosen_ids = {planned.id for planned in chosen}
    for planned in chosen:
        if statuses[planned.id].done:
            continue
        # What a step needs and this run does not make first must be done already: with --step, the step before it
        # (a scheduler's job runs one step); with --only, another arm's step (match_tokens' reference subset).
        _check_needs(planned, by_id, how_to_run, outside=chosen_ids)
    # Every input of the steps that will run (models, benchmarks, the pool's source, the training options, lighteval),
    # checked in one pass before any step: each problem one line, nothing written (s2r_hf.experiment.preflight).
    check_step_inputs(config, [planned for planned in chosen if not statuses[planned.id].done], missing_data)
    # Two runs never work on one arm (or the pool) at once: a scheduler's requeued job beside the one still running,
    # or the same command typed twice. The locks go with this process, however it ends.
    with ArmLocks(config.output_dir) as locks:
        for planned in chosen:
            if not statuses[planned.id].done:
                locks.acquire(planned.arm, planned.seed)
        statuses = {planned.id: step_status(planned) for planned in chosen}  # again: a run may have ended meanwhile
        run = _run_steps(config, chosen, statuses, command)
    from s2r_hf.experiment.report import build_report

    run.report = build_report(config.output_dir)
    run.report.write(config.output_dir)
    if config.publish is not None and step in (None, "publish") and not only:
        from s2r_hf.experiment.publish import publish_experiment

        run.publication = publish_experiment(
            config.output_dir,
            namespace=config.publish.namespace,
            collection=config.publish.collection,
            private=config.publish.private,
        )
    return run


def _run_steps(config: ExperimentConfig, chosen: list[Step], statuses: dict, command: str | None) -> ExperimentRun:
    write_experiment_record(config)
    run = ExperimentRun(config.output_dir)
    context = _Context(config, command)
    for planned in chosen:
        status = statuses[planned.id]
        if status.done:
            logger.info("%s: %s, skipped", planned.id, status.why)
            run.skipped.append(planned.id)
            continue
        if status.state == "changed":
            logger.info("%s: %s; running it again", planned.id, status.why)
        elif status.state == "interrupted":
            logger.info("%s: %s; resuming", planned.id, status.why)
        else:
            logger.info("%s: running", planned.id)
        started, clock = now(), time.monotonic()
        write_record(planned, "running", started=started)
        try:
            summary = context.execute(planned, resume=status.state == "interrupted")
        except KeyboardInterrupt:
            raise RunInterruptedError(
                f"interrupted (Ctrl-C) during {planned.id}, which was stopped; run the same command again to resume: "
                f"{planned.id} continues (a training from its last checkpoint) and the steps already done are skipped"
            ) from None
        write_record(
            planned, "finished", started=started, finished_at=now(), seconds=round(time.monotonic() - clock, 3),
            summary=summary,
        )  # fmt: skip
        run.ran.append(planned.id)
    return run


class ArmLocks:
    """An exclusive lock file per arm (`OUTPUT/<arm>/steps/.lock`, the pool's `OUTPUT/steps/.lock`) and per training
    seed of an arm (`OUTPUT/<arm>/seed<N>/steps/.lock`: two jobs may train two seeds of one arm at once), held until
    exit (s2r_hf.core.locks: released by the kernel however the run ends, SIGKILL included)."""

    def __init__(self, output: Path):
        self.output = output
        self.held: dict[tuple[str | None, int | None], FileLock] = {}

    def acquire(self, arm: str | None, seed: int | None = None) -> None:
        if (arm, seed) in self.held:
            return
        folder = self.output / arm if arm else self.output
        folder = (folder if seed is None else folder / seed_folder(seed)) / STEPS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        what = (f"arm {arm!r}" if seed is None else f"seed {seed} of arm {arm!r}") if arm else "the pool"
        busy = (
            f"another `s2r experiment run` is working on {what} of {str(self.output)!r}; wait for it to end (or "
            "stop it), then run again: what it finished is skipped"
        )
        self.held[(arm, seed)] = FileLock(folder / ".lock", busy, remove=False).acquire()

    def __enter__(self) -> ArmLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        for lock in self.held.values():
            lock.release()
        self.held.clear()


def select_steps(
    config: ExperimentConfig, *, only: Sequence[str] | None, step: str | None, seed: int | None = None
) -> list[Step]:
    """The steps a run with `--only`, `--step` and `--seed` covers (checked: unknown arms, steps and seeds are
    refused)."""
    if step is not None and step not in STEP_NAMES:
        raise InputError(f"--step must be one of {list(STEP_NAMES)}, got {step!r}")
    arms = list(only or [])
    for name in arms:
        config.arm(name)  # an unknown arm: one line listing the arms
    if step == "publish":
        if config.publish is None:
            raise InputError("--step publish: the experiment file has no publish section (namespace, collection)")
        if arms:
            # The results repo, its comparison table and the collection hold every arm: publishing is never per arm.
            raise InputError(
                f"--step publish publishes every evaluated arm together; drop --only {' '.join(arms)} (an arm not "
                "evaluated yet is skipped and named)"
            )
        return []
    if step == "select" and arms and all(config.arm(name).strategy == FULL for name in arms):
        raise InputError(f"--step select: the full arm {arms[0]!r} has no select step (it trains on the whole pool)")
    if seed is not None:
        seeded = [name for name in arms or config.arm_names() if seed in (config.arm_seeds(name) or [])]
        if not seeded:
            known = {name: config.arm_seeds(name) or "none given" for name in arms or config.arm_names()}
            described = ", ".join(f"{name} {value}" for name, value in known.items())
            raise InputError(
                f"--seed {seed} is not a training seed of any arm run (their seeds: {described}); give one of them, "
                "or add it to seeds"
            )
    steps = experiment_steps(config)
    chosen = []
    for candidate in steps:
        if step is not None and candidate.name != step:
            continue
        if seed is not None and candidate.name in ("train", "evaluate") and candidate.seed != seed:
            continue
        if arms and candidate.arm is not None and candidate.arm not in arms:
            continue
        chosen.append(candidate)
    return chosen


def _check_needs(
    planned: Step, by_id: dict[str, Step], how_to_run: Callable[[Step], str], outside: set[str] | None = None
) -> None:
    """With --step, a step runs alone: what it needs must already be up to date (the scheduler's dependencies).
    `outside`: the steps of this run; only the needs outside them are checked (they will not run before it)."""
    for need in planned.needs:
        if outside is not None and need in outside:
            continue
        status = step_status(by_id[need])
        if not status.done:
            raise InputError(
                f"{planned.id} needs {need}, which is not done ({status.why}); run it first: {how_to_run(by_id[need])}"
            )


def _how_to_run(experiment: str | None, overrides: Sequence[str]) -> Callable[[Step], str]:
    """How the user runs one step alone: the `s2r experiment run` line as they typed it (their file or shipped name,
    their `--set`s), or for a Python caller (no file), the `run_experiment` call."""
    if experiment is None:
        return lambda step: (
            f"run_experiment(config{f', only=[{step.arm!r}]' if step.arm else ''}, step={step.name!r}"
            f"{'' if step.seed is None else f', seed={step.seed}'})"
        )
    from s2r_hf.experiment.plan import run_command

    return lambda step: shlex.join(
        redact_argv(run_command(experiment, overrides, arm=step.arm, step=step.name, seed=step.seed))
    )


# -- the output folder ------------------------------------------------------------------------------------------------


def check_output(config: ExperimentConfig) -> Path:
    """The output folder must hold this experiment, or nothing: never another experiment's or anything else."""
    output = config.output_dir
    path = output / EXPERIMENT_FILE
    if output.is_symlink() and not output.exists():
        raise OutputError(
            f"output {str(output)!r} is a symbolic link to {os.readlink(output)!r}, which does not exist; make that "
            "folder, or choose another output"
        )
    _refuse_inside_inputs(config)
    # The usual checks (not the current folder, writable), and never a folder of another program: resumed into. An
    # experiment's folder is known by its experiment.json (s2r_hf.core.folders.EXPERIMENT_OWNER).
    target = check_writable(output, overwrite=False, owner=EXPERIMENT_OWNER, reuse=True)
    if not path.is_file():
        return target  # new, or an empty folder made for it
    try:
        previous = read_experiment_record(path, "choose another output (--set output=FOLDER)")
    except InputError as err:  # in the output folder: an output problem
        raise OutputError(str(err)) from None
    if previous.get("name") != config.name:
        raise OutputError(
            f"output folder {str(output)!r} holds another experiment ({previous.get('name')!r}, not "
            f"{config.name!r}); choose another output, or give this experiment that folder's name"
        )
    return target


def _refuse_inside_inputs(config: ExperimentConfig) -> None:
    """An output inside a folder the experiment reads (the scored pool, the base model, evaluation data) would change
    that input (a scored pool's fingerprint covers its files: every run would find a new pool and redo everything)."""
    output = config.output_dir.resolve()
    inputs = {"pool.scored": config.pool.scored, "train.model": config.train.model}
    inputs.update({f"evaluate.data.{name}": path for name, path in (config.evaluate.get("data") or {}).items()})
    for key, value in inputs.items():
        if not isinstance(value, str) or not Path(value).expanduser().is_dir():
            continue  # not set, a Hub id, or a file
        folder = Path(value).expanduser().resolve()
        if folder == output or folder in output.parents:
            raise OutputError(
                f"output {str(config.output_dir)!r} is inside {key} {value!r}, which the experiment reads; choose an "
                "output outside it"
            )


def write_experiment_record(config: ExperimentConfig) -> None:
    """experiment.json: the experiment's name, arms and settings, which `report` and `publish` read."""
    write_json(
        config.output_dir / EXPERIMENT_FILE,
        {
            "format": EXPERIMENT_FORMAT,
            "name": config.name,
            "arms": config.arm_names(),
            "arm_settings": {arm.name: arm.describe() for arm in config.arms},
            # Each arm's training seeds (null: one training with the recipe's seed, in the arm's own folders) and the
            # arm the report compares the others with.
            "seeds": {arm.name: config.arm_seeds(arm.name) for arm in config.arms},
            "reference": config.reference_arm(),
            "config": config.to_dict(),
            "s2r_hf_version": __version__,
            "updated": now(),
        },
    )


# -- executing the steps ----------------------------------------------------------------------------------------------


class _Context:
    """What the steps of one run share: the config, the command line, and the pool once loaded."""

    def __init__(self, config: ExperimentConfig, command: str | None):
        self.config = config
        self.command = command
        self._loaded_pool = None
        self._tokenizer = None

    def execute(self, planned: Step, *, resume: bool) -> dict[str, Any]:
        steps = {"pool": self._score, "select": self._select, "train": self._train, "evaluate": self._evaluate}
        return steps[planned.name](planned, resume)

    def _scored_pool(self):
        """The scored pool and its card's s2r block, read once per run."""
        if self._loaded_pool is None:
            from s2r_hf.outputs.artifacts import load_scored_pool

            self._loaded_pool = load_scored_pool(pool_dir(self.config))
        return self._loaded_pool

    def _score(self, planned: Step, resume: bool) -> dict[str, Any]:
        from s2r_hf.outputs.artifacts import write_scored_pool

        pool, s2r = score_pool(self.config.pool.score_config(), command=self.command)
        write_scored_pool(pool, s2r, planned.output, overwrite=True)  # only an earlier scored pool is replaced
        self._loaded_pool = None
        return {"rows": len(pool), "rows_in": s2r.get("rows_in")}

    def _select(self, planned: Step, resume: bool) -> dict[str, Any]:
        from s2r_hf.core.folders import read_card_metadata
        from s2r_hf.outputs.artifacts import write_subset

        arm = self.config.arm(planned.arm)
        budget = None if arm.matched_to is None else self._reference_tokens(planned, arm.matched_to)
        select_config = arm.select_config(token_budget=budget)
        tokenizer = self._student_tokenizer() if select_config.token_budget is not None else None
        pool, pool_s2r = self._scored_pool()
        subset, _ = write_subset(
            pool,
            {**pool_s2r, "name": f"{self.config.name}/pool"},
            select_config,
            planned.output,
            overwrite=True,  # only an earlier subset is ever replaced (check_writable's kind rule)
            command=self.command,
            repo_id=self._subset_repo(arm.name),
            inputs=[pool_dir(self.config)],
            tokenizer=tokenizer,
            pool_folder=pool_dir(self.config),  # where `s2r verify` finds the pool
        )
        summary: dict[str, Any] = {"rows": len(subset), "pool_rows": len(pool)}
        if select_config.token_budget is not None:
            taken = read_card_metadata(planned.output)["s2r"].get("tokens_taken")
            summary.update(token_budget=select_config.token_budget, tokens_taken=taken)
        return summary

    def _student_tokenizer(self):
        """The base model's tokenizer, which counts the token budgets as the trainer will count the tokens."""
        if self._tokenizer is None:
            from s2r_hf.selection import budget_tokenizer

            model = student_model(self.config)
            if model is None:
                raise InputError(
                    "a token budget is counted with the student model's tokenizer, and the experiment names no model; "
                    "set train.model"
                )
            self._tokenizer = budget_tokenizer(model)
        return self._tokenizer

    def _reference_tokens(self, planned: Step, reference: str) -> int:
        """The trainer tokens of the reference arm's subset (match_tokens): the budget of `planned`'s selection."""
        from s2r_hf.core.folders import load_dataset_folder
        from s2r_hf.selection import trainer_tokens

        by_id = {step.id: step for step in experiment_steps(self.config)}
        status = step_status(by_id[f"{reference}/select"])
        if not status.done:
            raise InputError(
                f"{planned.id} takes its token budget from {reference}/select (match_tokens: {reference}), which is "
                f"not done ({status.why}); run arm {reference!r} first (--only {reference}), or every arm together"
            )
        subset = load_dataset_folder(arm_output(self.config, reference, "select"))
        tokens = trainer_tokens(subset, self._student_tokenizer())
        logger.info("%s: token budget %s, the trainer tokens of %s/select", planned.id, f"{tokens:,}", reference)
        return tokens

    def _subset_repo(self, arm: str) -> str | None:
        """Where publishing will push this arm's subset, for its card's example (not a setting: a card's example
        does not change what the subset holds, so adding `publish` later re-runs nothing)."""
        publish = self.config.publish
        return None if publish is None else arm_repo_id(publish.namespace, self.config.name, arm)

    def _train(self, planned: Step, resume: bool) -> dict[str, Any]:
        arm = self.config.arm(planned.arm)
        output = planned.output
        check_writable(output, overwrite=False, owner=TRAINING_OWNER, reuse=True)  # never files s2r train did not write
        existing = read_provenance(output) if output.is_dir() else None
        if existing is not None and existing.get("status") == "finished" and resume:
            logger.info("%s: the training had finished before the run was stopped; keeping it", planned.id)
            return _train_summary(existing)
        if existing is not None and not resume:
            # Trained with other settings (or its record is gone): what it holds is not this arm's model any more.
            logger.info("%s: removing the earlier training in %s (other settings)", planned.id, output)
            shutil.rmtree(output)
        data = pool_dir(self.config) if arm.strategy == FULL else arm_output(self.config, planned.arm, "select")
        command = train_command(self.config, data=str(data), output_dir=str(output), seed=planned.seed)
        logger.info("%s: %s", planned.id, shlex.join(redact_argv(command)))
        _run_child(command, planned.id, env=train_environment(self.config))
        record = read_provenance(output)
        if record is None or record.get("status") != "finished":
            raise StepFailedError(f"{planned.id}: the training ended without a finished record in {output}")
        return _train_summary(record)

    def _evaluate(self, planned: Step, resume: bool) -> dict[str, Any]:
        model = arm_output(self.config, planned.arm, "train", planned.seed)
        record = read_provenance(model) or {}
        evaluation = self.config.evaluation_config(label=planned.arm, **token_counts(record))
        result = evaluate_model(
            model,
            planned.output,
            data=self.config.evaluation_data(),
            overwrite=True,  # only an earlier evaluation folder is ever replaced
            command=self.command,
            config=evaluation,
        )
        return {"results": result.results}


def _train_summary(record: dict[str, Any]) -> dict[str, Any]:
    data, training = record.get("data") or {}, record.get("training") or {}
    return {
        "rows": (data.get("sft") or {}).get("rows_kept"),
        **token_counts(record),  # data_tokens and trained_tokens (s2r_hf.core.records)
        "steps": training.get("steps"),
        "wall_seconds": training.get("wall_seconds"),
    }


def _run_child(command: list[str], step_id: str, *, env: dict[str, str] | None = None) -> None:
    """Run a step's child process with the terminal's output; it dies with this process (no orphan trainer). `env`
    is added to this process's environment for the child (its credentials)."""
    try:
        completed = run_tied(command, env={**os.environ, **env} if env else None)
    except FileNotFoundError as err:
        raise InputError(f"{step_id}: cannot start {command[0]!r} ({err}); check train.launcher") from None
    if completed.returncode != 0:
        raise StepFailedError(
            f"{step_id} failed (exit code {completed.returncode}; its output is above); fix the cause and run again: "
            "the steps already done are skipped"
        )
