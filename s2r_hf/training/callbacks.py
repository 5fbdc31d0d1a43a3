"""Training callbacks (transformers `TrainerCallback`s), chosen by name from `CALLBACKS`.

- `selection_report`: writes which data made the model (source, selection, rows, its tokens in the training data
  against the whole pool's) and what training cost (steps, tokens processed by the trainer, wall time, across resumes)
  into `s2r_training.json` and the model card (on by default).
- `push_to_hub_revision`: pushes each saved checkpoint to its own branch of the model repo, in a background thread,
  without optimizer, scheduler or RNG state (s2r_hf.hub.commit.commit_files: the one Hub write path).
- `evaluate`: runs the evaluation command on the final checkpoint (or on every save) in a separate process and logs its
  scores. lighteval is never imported here: importing it turns autograd off for the whole process.

Every side effect happens on the world's main process only (`state.is_world_process_zero`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from enum import Enum
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Protocol

from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

from s2r_hf.core.children import popen_tied
from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.core.folders import follow_umask
from s2r_hf.core.records import TRAINED_TOKENS, read_json_object
from s2r_hf.core.redaction import redact, redact_argv
from s2r_hf.hub.checks import check_repo_id
from s2r_hf.hub.commit import commit_files
from s2r_hf.training.eval_command import DEFAULT_EVAL_COMMAND, check_eval_command
from s2r_hf.training.provenance import (
    SELECTED_WITH_REPORT,
    TRAINED_BY_SCRIPT,
    data_record,
    new_record,
    read_provenance,
    update_provenance,
    write_provenance,
)
from s2r_hf.training.publish import PUSH_EXCLUDE

logger = logging.getLogger(__name__)

EVAL_FOLDER = "s2r_eval"  # output_dir/s2r_eval/step-N/: the evaluation's results and log
EVAL_OUTPUT = "results"  # {output}: a JSON file, or a folder holding results.json (s2r evaluate -o)
WEIGHTS_PATTERN = "*.safetensors"


class SelectionReportCallback(TrainerCallback, ExportableState):
    """Writes the run's provenance and cost into `output_dir/s2r_training.json` and the model card.

    `record` is the provenance the launcher builds (`s2r_hf.training.provenance.new_record`); in your own script,
    `SelectionReportCallback.from_reports(report)` builds one from `prepare_sft_dataset`'s report.

    The cost is the whole run's, across resumes: `trained_tokens` is the trainer's own count (restored from the
    checkpoint with the rest of its state), and the training time so far is saved in every checkpoint (its
    `trainer_state.json`, under `stateful_callbacks`, as transformers saves a callback's state) and carried on by the
    run that resumes from it. The time between the last checkpoint and a kill, whose steps are trained again, is not.
    """

    def __init__(self, record: dict[str, Any], training_seconds: float = 0.0):
        if not isinstance(record, dict) or "data" not in record:
            raise InputError("SelectionReportCallback needs a provenance record; build it with from_reports(...)")
        self.record = record
        self.training_seconds = training_seconds  # carried over from the checkpoint resumed from
        self._started: float | None = None
        self._first_step = 0

    def _seconds_so_far(self) -> float:
        session = 0.0 if self._started is None else time.perf_counter() - self._started
        return self.training_seconds + session

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback (transformers' ExportableState): the training time so far."""
        return {"args": {"record": redact(self.record)}, "attributes": {"training_seconds": self._seconds_so_far()}}

    @classmethod
    def from_reports(
        cls,
        sft_report,
        *,
        selection=None,
        source: str | None = None,
        pool_tokens: int | None = None,
        base_model: str | None = None,
        name: str | None = None,
    ) -> SelectionReportCallback:
        """The callback of a Python script: the record made from `prepare_sft_dataset`'s report.

        The report already carries the data's source, the selection that chose it (noted on the Dataset by `select`,
        or a subset folder's card) and the pool's tokens (`prepare_sft_dataset(..., pool=pool)`); each argument given
        here replaces the report's: `selection` (a `select_with_report` report or a subset card's block), `source`
        (a name), `pool_tokens`. `base_model` defaults to the trainer's model (`config._name_or_path`), `name` to the
        output folder's name.
        """
        if selection is not None:
            block = selection.describe() if hasattr(selection, "describe") else selection
            selected_by = SELECTED_WITH_REPORT
        else:
            block, selected_by = getattr(sft_report, "selection", None), getattr(sft_report, "selected_by", None)
        loaded = getattr(sft_report, "source", None) or {"name": None, "kind": "dataset"}
        if source is not None and str(source) != loaded.get("name"):  # a name of the user's for what was loaded
            loaded = {"name": str(source), "kind": "given"}
        if pool_tokens is None:
            pool_tokens = getattr(sft_report, "pool_tokens", None)
        data = data_record(
            source=loaded.get("name"),
            kind=loaded.get("kind"),
            config=loaded.get("config"),
            split=loaded.get("split"),
            revision=loaded.get("revision"),
            selection=block,
            selected_by=selected_by if block else None,
            sft_report=sft_report,
            pool_tokens=pool_tokens,
            pool_tokens_note=None if pool_tokens else "pass pool=POOL to prepare_sft_dataset to count its tokens",
        )
        return cls(new_record(base_model=base_model, data=data, name=name, trained_by=TRAINED_BY_SCRIPT))

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._started = time.perf_counter()
        self._first_step = state.global_step
        # Resumed: the checkpoint's trainer state holds the time trained before it (0 for a fresh run).
        self.training_seconds = _saved_training_seconds(state) if state.global_step else 0.0
        if args.include_num_input_tokens_seen in ("no", False):
            # The card states the tokens trained and the throughput: the trainer counts them (the non-padding ones,
            # cheaply) from its next step on, as `s2r train` always has it do.
            args.include_num_input_tokens_seen = "non_padding"
        if not state.is_world_process_zero:
            return
        if not self.record.get("base_model") and model is not None:
            self.record["base_model"] = getattr(model.config, "_name_or_path", None) or None
        if not self.record.get("name"):
            self.record["name"] = Path(args.output_dir).name
        self.record["recipe"] = self.record.get("recipe") or recipe_record(args)
        previous = read_provenance(args.output_dir)
        if previous is not None:
            self.record["evaluations"] = previous.get("evaluations", [])
        self.record["status"] = "running"
        write_provenance(args.output_dir, self.record)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            # safetensors 0.8 writes its files owner-only (0600) whatever the umask: give them the umask's mode.
            follow_umask(Path(args.output_dir) / f"checkpoint-{state.global_step}", WEIGHTS_PATTERN)

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        wall = self._seconds_so_far()  # the whole run's, the sessions before a resume included
        tokens = state.num_input_tokens_seen or None  # the trainer's count, restored on resume: the whole run's
        losses = [entry["loss"] for entry in state.log_history if "loss" in entry]
        self.record["training"] = {
            "steps": state.global_step,
            "epochs": float(state.epoch or 0.0),
            TRAINED_TOKENS: tokens,
            "wall_seconds": round(wall, 3),
            "tokens_per_second": round(tokens / wall, 3) if tokens and wall > 0 else None,
            "world_size": args.world_size,
            "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "resumed_from_step": self._first_step or None,
        }
        previous = read_provenance(args.output_dir)
        if previous is not None:  # evaluations logged while training ran
            self.record["evaluations"] = previous.get("evaluations", [])
        # s2r train calls its run "finished" once the final model is saved and evaluated; in a script of the user's,
        # the end of the loop is the last thing this callback sees.
        by_script = self.record.get("trained_by") == TRAINED_BY_SCRIPT
        self.record["status"] = "finished" if by_script else "trained"
        write_provenance(args.output_dir, self.record)


def _saved_training_seconds(state) -> float:
    """The training time a resumed checkpoint's trainer state carries (`SelectionReportCallback.state`); 0 when it has
    none (a checkpoint written before it was saved, or by a run without this callback)."""
    saved = (state.stateful_callbacks or {}).get(SelectionReportCallback.__name__)
    saved = saved[-1] if isinstance(saved, list) and saved else saved  # transformers lists several of one class
    seconds = ((saved or {}).get("attributes") or {}).get("training_seconds") if isinstance(saved, dict) else None
    return float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else 0.0


def recipe_record(args) -> dict[str, Any]:
    """The training settings a reader of the card needs to reproduce the run."""
    names = (
        "learning_rate",
        "lr_scheduler_type",
        "warmup_steps",
        "num_train_epochs",
        "max_steps",
        "per_device_train_batch_size",
        "gradient_accumulation_steps",
        "max_length",
        "packing",
        "bf16",
        "use_liger_kernel",
        "assistant_only_loss",
        "seed",
    )
    recipe = {name: getattr(args, name, None) for name in names}
    recipe = {name: value.value if isinstance(value, Enum) else value for name, value in recipe.items()}
    recipe["world_size"] = args.world_size
    recipe["effective_batch"] = args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size
    return recipe


class PushToHubRevisionCallback(TrainerCallback):
    """Pushes every saved checkpoint to branch `<prefix>step-<global step, 9 digits>` of `repo_id`, in the background.

    The checkpoint's files are hard-linked into a staging folder first, so a checkpoint rotated away by
    `save_total_limit` during the upload is still pushed whole. Pushes run one at a time, in order; `wait()` (called at
    the end of training) waits for them and logs any that failed.
    """

    def __init__(self, repo_id: str, *, prefix: str = "", private: bool = False, token: str | None = None):
        check_repo_id(repo_id)
        self.repo_id = repo_id
        self.prefix = f"{prefix}-" if prefix and not prefix.endswith("-") else prefix
        self.private = private
        self.token = token
        self._executor: ThreadPoolExecutor | None = None
        self.pushed: dict[str, Future] = {}
        self._logged: set[str] = set()

    def branch(self, step: int) -> str:
        return f"{self.prefix}step-{step:09d}"

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if not checkpoint.is_dir():
            logger.warning("push_to_hub_revision: no checkpoint folder %s to push", checkpoint)
            return
        staging = Path(args.output_dir) / ".s2r-push" / checkpoint.name
        files = _stage_files(checkpoint, staging)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s2r-push")
        branch = self.branch(state.global_step)
        self.pushed[branch] = self._executor.submit(self._push, files, branch, staging)
        logger.info("pushing %s to %s@%s in the background", checkpoint.name, self.repo_id, branch)

    def _push(self, files: dict[str, Path], branch: str, staging: Path):
        try:
            return commit_files(
                self.repo_id,
                files,
                repo_type="model",
                revision=branch,
                create_branch=True,
                private=self.private,
                token=self.token,
                message=f"checkpoint {branch}",
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):  # the staging root, once no push uses it
                staging.parent.rmdir()

    def wait(self) -> dict[str, Any]:
        """Wait for every push; returns {branch: CommitResult or the error}, and logs the failures (each once)."""
        outcomes: dict[str, Any] = {}
        for branch, future in self.pushed.items():
            error = future.exception()
            outcomes[branch] = error if error is not None else future.result()
            if error is not None and branch not in self._logged:
                self._logged.add(branch)
                logger.error("push of %s to %s failed: %s", branch, self.repo_id, error)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        return outcomes

    def raise_failures(self, output_dir: str | os.PathLike) -> None:
        """Wait for every push, then raise a PublishError naming the branches whose push failed (none: nothing).

        A run whose checkpoints did not reach the Hub must not end as a success; what it trained stays saved.
        """
        failed = {branch: error for branch, error in self.wait().items() if isinstance(error, BaseException)}
        if not failed:
            return
        first = " ".join(str(next(iter(failed.values()))).split())
        raise PublishError(
            f"the push of {len(failed)} checkpoint(s) to {self.repo_id} failed (branches {', '.join(failed)}; first "
            f"error: {first}); the model and its checkpoints stay saved in {str(output_dir)!r}: fix the cause, then "
            f"push the model with s2r_hf.publish_model({str(output_dir)!r}, {self.repo_id!r}) and a checkpoint with "
            f"s2r_hf.commit_files({self.repo_id!r}, files, repo_type='model', revision=BRANCH, create_branch=True)"
        )

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.wait()


def _stage_files(checkpoint: Path, staging: Path) -> dict[str, Path]:
    """Hard-link (or copy, across file systems) the pushable files of `checkpoint` into `staging`."""
    shutil.rmtree(staging, ignore_errors=True)
    files = {}
    for path in sorted(checkpoint.rglob("*")):
        relative = path.relative_to(checkpoint).as_posix()
        if not path.is_file() or path.is_symlink() or any(fnmatch(relative, pattern) for pattern in PUSH_EXCLUDE):
            continue
        target = staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        files[relative] = target
    return files


class EvaluateCallback(TrainerCallback):
    """Evaluates saved checkpoints in a separate process and logs the scores into the trainer's logs.

    `command` is a template (see `s2r_hf.training.eval_command.DEFAULT_EVAL_COMMAND`): it is split like a shell line and
    each word filled in with {python}, {checkpoint}, {output}, {output_dir} and {benchmarks}. The command must write
    `{output}`: a JSON object `{"results": {benchmark: {metric: number}}}`, as a file at that path or as a folder
    holding results.json (what the default, `s2r evaluate -o {output}`, writes); each score is logged as
    `eval/<benchmark>/<metric>` at the checkpoint's step, and recorded in s2r_training.json and the model card.

    The final checkpoint is evaluated (every checkpoint with `every_save=True`). Evaluations run in the background, in
    child processes that die with the trainer (`s2r_hf.core.children.popen_tied`), each on a hard-linked copy of its
    checkpoint (so `save_total_limit` may rotate the checkpoint away meanwhile), and are collected as they finish;
    `wait()` collects the rest. Give the callback the trainer (`attach(trainer)`) so the
    scores go through `trainer.log` (and so to every reporting integration); without it they are appended to
    `state.log_history`. In a multi-process run, collect the final evaluation after `trainer.save_model()` (as
    `s2r train` does) rather than at the end of `train()`, so the other processes are not kept waiting in a collective.
    """

    def __init__(
        self,
        benchmarks: list[str] | tuple[str, ...],
        *,
        command: str | None = None,
        python: str | None = None,
        every_save: bool = False,
        wait_at_train_end: bool = True,
    ):
        self.command = command or DEFAULT_EVAL_COMMAND
        check_eval_command(self.command)
        self.benchmarks = list(benchmarks)
        self.python = python or sys.executable
        self.every_save = every_save
        self.wait_at_train_end = wait_at_train_end
        self.trainer = None
        self.evaluated_steps: set[int] = set()
        self.results: dict[int, dict[str, Any]] = {}
        self._running: list[tuple[int, str, Path, subprocess.Popen, Any]] = []
        self._state = None
        self._staged: dict[int, Path] = {}  # step -> the hard-linked copy its evaluation reads

    def attach(self, trainer) -> EvaluateCallback:
        self.trainer = trainer
        return self

    def command_for(self, checkpoint: str | os.PathLike, output: Path) -> list[str]:
        values = {
            "python": self.python,
            "checkpoint": str(checkpoint),
            "output": str(output),
            "output_dir": str(output.parent),
            "benchmarks": ",".join(self.benchmarks),
        }
        return [word.format(**values) for word in shlex.split(self.command)]

    def evaluate(
        self, checkpoint: str | os.PathLike, step: int, output_dir: str | os.PathLike, *, stage: bool = False
    ) -> None:
        """Start the evaluation of `checkpoint` (a saved model folder) as the scores of `step`.

        `stage=True` evaluates a hard-linked copy of it (in s2r_eval/step-N/), so that `save_total_limit` rotating the
        checkpoint away while it is evaluated takes nothing from the evaluation.
        """
        folder = Path(output_dir) / EVAL_FOLDER / f"step-{step}"
        folder.mkdir(parents=True, exist_ok=True)
        output = folder / EVAL_OUTPUT
        # An earlier attempt at this step (a resumed run) left its own results here: s2r wrote them, inside s2r_eval/.
        if output.is_dir():
            shutil.rmtree(output)
        output.unlink(missing_ok=True)
        evaluated = Path(checkpoint)
        if stage:  # named as the checkpoint (what the results call the model), beside its results and log
            name = Path(checkpoint).name
            evaluated = folder / (name if name not in (EVAL_OUTPUT, "evaluate.log") else "model")
            _stage_files(Path(checkpoint), evaluated)  # the model's files, not the resume state
            self._staged[step] = evaluated
        argv = self.command_for(evaluated, output)
        log = open(folder / "evaluate.log", "wb")  # noqa: SIM115 (closed when the process is collected)
        logger.info("evaluating %s: %s", checkpoint, shlex.join(redact_argv(argv)))
        try:
            # Tied to this process: a killed trainer leaves no evaluation behind writing into its folder.
            process = popen_tied(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as err:
            log.close()
            if stage:
                shutil.rmtree(self._staged.pop(step), ignore_errors=True)
            self._record(step, str(checkpoint), output_dir, error=f"could not start {argv[0]!r}: {err}")
            return
        self.evaluated_steps.add(step)
        self._running.append((step, str(checkpoint), Path(output_dir), process, log))

    def on_save(self, args, state, control, **kwargs):
        self._state = state
        if not state.is_world_process_zero:
            return
        final = state.global_step >= state.max_steps
        if self.every_save or final:
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self.evaluate(checkpoint, state.global_step, args.output_dir, stage=True)

    def on_step_end(self, args, state, control, **kwargs):
        self._state = state
        if state.is_world_process_zero and self._running:
            self._collect(block=False)

    def on_train_end(self, args, state, control, **kwargs):
        self._state = state
        if state.is_world_process_zero and self.wait_at_train_end:
            self._collect(block=True)

    def wait(self) -> dict[int, dict[str, Any]]:
        """Wait for every running evaluation, log their scores; returns {step: results} of every evaluation."""
        self._collect(block=True)
        return self.results

    def _collect(self, block: bool) -> None:
        still = []
        for step, checkpoint, output_dir, process, log in self._running:
            if block:
                process.wait()
            if process.poll() is None:
                still.append((step, checkpoint, output_dir, process, log))
                continue
            log.close()
            self._finish(step, checkpoint, output_dir, process.returncode)
            staged = self._staged.pop(step, None)
            if staged is not None:  # the hard-linked copy, s2r's own
                shutil.rmtree(staged, ignore_errors=True)
        self._running = still

    def _finish(self, step: int, checkpoint: str, output_dir: Path, returncode: int) -> None:
        folder = output_dir / EVAL_FOLDER / f"step-{step}"
        if returncode != 0:
            tail = (folder / "evaluate.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
            self._record(step, checkpoint, output_dir, error=f"exit code {returncode}: {' '.join(tail)[:300]}")
            return
        try:
            results = read_results(folder / EVAL_OUTPUT)
        except InputError as err:
            self._record(step, checkpoint, output_dir, error=str(err))
            return
        self._record(step, checkpoint, output_dir, results=results)
        logs = {
            f"eval/{benchmark}/{metric}": value
            for benchmark, metrics in results.items()
            for metric, value in metrics.items()
        }
        if self.trainer is not None:
            self.trainer.log(logs)
        elif self._state is not None:
            self._state.log_history.append({**logs, "step": step})
        logger.info("evaluation of step %d: %s", step, logs)

    def _record(self, step, checkpoint, output_dir, *, results=None, error=None) -> None:
        entry = {"step": step, "checkpoint": str(checkpoint), "results": results or {}, "error": error}
        self.results[step] = entry
        if error:
            logger.error("evaluation of %s failed: %s (log: %s)", checkpoint, error, Path(output_dir) / EVAL_FOLDER)
        record = read_provenance(output_dir)
        if record is not None:
            evaluations = [item for item in record.get("evaluations", []) if item.get("step") != step]
            update_provenance(output_dir, evaluations=[*evaluations, entry])


def read_results(path: Path) -> dict[str, dict[str, float]]:
    """Read `{"results": {benchmark: {metric: number}}}` from a file, or from a folder's results.json (`s2r evaluate`),
    refusing any other shape in words."""
    if path.is_dir():
        path = path / "results.json"
    if not path.is_file():
        raise InputError(f"the evaluation command exited 0 but wrote no results file {str(path)!r}")
    payload = read_json_object(path, what="a results file", fix=f"the evaluation command must write {_RESULTS_SHAPE}")
    results = payload.get("results")
    shape_ok = isinstance(results, dict) and all(
        isinstance(metrics, dict)
        and all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in metrics.values())
        for metrics in results.values()
    )
    if not shape_ok:
        raise InputError(f"the results file {str(path)!r} must hold {_RESULTS_SHAPE}, got {json.dumps(payload)[:200]}")
    return results


_RESULTS_SHAPE = '{"results": {benchmark: {metric: number}}}'


class CallbackSettings(Protocol):
    """What the callback factories read of the training options: fields of s2r_hf.training.configs.S2RSFTConfig (the
    options module builds on this one: it checks callback names against `CALLBACKS`)."""

    callbacks: list[str]
    hub_model_id: str | None
    hub_revision: str | None
    hub_private_repo: bool | None
    hub_token: str | None
    benchmarks: list[str]
    eval_command: str
    eval_python: str | None
    eval_every_save: bool


def _selection_report(config: CallbackSettings, record: dict[str, Any]) -> TrainerCallback:
    return SelectionReportCallback(record)


def _push_to_hub_revision(config: CallbackSettings, record: dict[str, Any]) -> TrainerCallback:
    prefix = config.hub_revision if config.hub_revision and config.hub_revision != "main" else ""
    return PushToHubRevisionCallback(
        config.hub_model_id, prefix=prefix, private=bool(config.hub_private_repo), token=config.hub_token
    )


def _evaluate(config: CallbackSettings, record: dict[str, Any]) -> TrainerCallback:
    # s2r train collects the final evaluation after the model is saved (see EvaluateCallback's docstring).
    return EvaluateCallback(
        config.benchmarks,
        command=config.eval_command,
        python=config.eval_python,
        every_save=config.eval_every_save,
        wait_at_train_end=False,
    )


# name -> factory(config, provenance record) -> callback
CALLBACKS = {
    "selection_report": _selection_report,
    "push_to_hub_revision": _push_to_hub_revision,
    "evaluate": _evaluate,
}


def require_callback_names(names) -> list[str]:
    """Check callback names (a list, or one comma-separated string); an unknown one lists the known ones."""
    items = names.split(",") if isinstance(names, str) else list(names or [])
    if not all(isinstance(item, str) for item in items):
        raise InputError(f"callbacks are names, got {names!r}; known: {', '.join(CALLBACKS)}")
    cleaned = [item.strip() for item in items if item.strip()]
    unknown = [name for name in cleaned if name not in CALLBACKS]
    if unknown:
        raise InputError(f"unknown callback {unknown[0]!r}; known: {', '.join(CALLBACKS)}")
    return list(dict.fromkeys(cleaned))


def build_callbacks(config: CallbackSettings, record: dict[str, Any]) -> list[TrainerCallback]:
    """The callbacks `config.callbacks` names, built from the config and the provenance record."""
    return [CALLBACKS[name](config, record) for name in require_callback_names(config.callbacks)]
