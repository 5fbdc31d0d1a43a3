"""The output folder of `s2r train`, decided before anything loads: a fresh run, the resume of an unfinished s2r
run from its last whole checkpoint, a finished run to refuse (or, with --overwrite_output_dir, to clear and train
again), or a folder s2r did not write, always refused. Also the checks that the output is apart from the inputs, that
a checkpoint fits the base model, and that a resumed run has the data and settings it was started with."""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, OutputError, SourceNotFoundError
from s2r_hf.core.folders import TRAINING_OWNER, check_writable
from s2r_hf.core.records import read_json_object
from s2r_hf.training.provenance import read_provenance, update_provenance

logger = logging.getLogger(__name__)

# What `s2r train` says when Ctrl-C stops it, whenever that is: the folder is kept as it is, on purpose (the record
# says "running", or "trained" with its evaluation pending), for the same command to resume it. Here rather than in
# the launcher, so that `s2r train` can say it while TRL and torch are still being imported.
INTERRUPTED = "interrupted; run the same command again to resume from the last whole checkpoint"

# The record's key naming the step whose final evaluation is missing: set once the final model is saved, cleared
# (None) when the evaluation is recorded and the run is "finished".
PENDING_EVALUATION = "pending_evaluation"


# A checkpoint is whole when the trainer's state and the model weights were both written (a full disk or a kill
# while saving leaves a folder without them, and resuming from it fails).
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
    "adapter_model.safetensors",
    "adapter_model.bin",
)
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


@dataclass
class OutputPlan:
    """What `check_output_dir` decided, before anything is written: what `train` does to `output_dir` once every
    other check has passed too."""

    output: Path
    resume: str | None = None  # the checkpoint to resume from (None: from the base model)
    previous: dict[str, Any] | None = None  # the record of the unfinished run being resumed, to compare with
    clear: bool = False  # --overwrite_output_dir on an s2r run: remove its checkpoints and evaluations first
    evaluate_step: int | None = None  # the run is trained and saved, its final evaluation (of this step) is missing


def check_output_dir(training_args) -> OutputPlan:
    """Decide what `output_dir` allows, before anything loads; reads only, writes nothing.

    - missing or empty: a fresh run (from --resume_from_checkpoint if given);
    - an s2r run that did not finish: resumed from its last whole checkpoint (or started again if it has none);
    - an s2r run with --overwrite_output_dir: started again (its checkpoints and evaluations are removed, once every
      other check passed);
    - a finished s2r run: refused unless --overwrite_output_dir;
    - anything else: refused, whatever the resume options; s2r never writes into a folder it did not write.
    """
    output = Path(training_args.output_dir).expanduser()
    explicit = _explicit_checkpoint(training_args.resume_from_checkpoint, output, training_args.overwrite_output_dir)
    # The one output guard: not a file, writable, not the current folder, never a folder s2r train did not write.
    check_writable(output, training_args.overwrite_output_dir, owner=TRAINING_OWNER, reuse=True)
    if not output.exists() or not any(output.iterdir()):
        return OutputPlan(output, resume=explicit)
    record = read_provenance(output)
    if training_args.overwrite_output_dir:
        return OutputPlan(output, resume=explicit, clear=True)
    pending = record.get(PENDING_EVALUATION)
    if record.get("status") == "trained" and isinstance(pending, int):  # killed while its final model was evaluated
        logger.info("%s is trained and saved; evaluating its final model (step %d), which is missing", output, pending)
        return OutputPlan(output, previous=record, evaluate_step=pending)
    if record.get("status") == "finished":
        raise InputError(
            f"output_dir {str(output)!r} holds a finished run; choose another --output_dir, or pass "
            "--overwrite_output_dir to train again into it"
        )
    resume = explicit or last_whole_checkpoint(output)
    return OutputPlan(output, resume=resume, previous=record if resume else None)


def checkpoint_problem(folder: Path) -> str | None:
    """Why `folder` cannot be resumed from (in words), or None when it is a whole checkpoint."""
    if not folder.is_dir():
        return "does not exist" if not folder.exists() else "is not a folder"
    try:
        state = read_json_object(folder / "trainer_state.json", what="a trainer state")
    except SourceNotFoundError:
        return "has no trainer_state.json (it was not saved whole)"
    except InputError:
        return "has a trainer_state.json that cannot be read (it was not saved whole)"
    if "global_step" not in state:
        return "has a trainer_state.json without global_step"
    deepspeed = any(path.is_dir() for path in folder.glob("global_step*"))
    if not deepspeed and not any((folder / name).is_file() for name in WEIGHT_FILES):
        return "holds no model weights (it was not saved whole)"
    return None


def last_whole_checkpoint(output: Path) -> str | None:
    """The highest-numbered whole checkpoint of `output`; incomplete ones are logged and left as they are.

    transformers' `get_last_checkpoint` picks by number alone, so a checkpoint a full disk cut short would be chosen
    (and fail) on every re-run.
    """
    numbered = []
    for path in output.iterdir():
        match = _CHECKPOINT.fullmatch(path.name)
        if match and path.is_dir():
            numbered.append((int(match.group(1)), path))
    for _, path in sorted(numbered, reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            logger.info("resuming from %s", path)
            return str(path)
        logger.warning("not resuming from %s: it %s; it is left as it is, and skipped", path, problem)
    return None


def _explicit_checkpoint(value, output: Path, overwrite: bool) -> str | None:
    """--resume_from_checkpoint: a whole checkpoint folder, checked before the model loads."""
    if value is None or value is False or value == "":
        return None
    if value is True or str(value).lower() == "true":  # transformers' "the last one in output_dir"
        last = last_whole_checkpoint(output) if output.is_dir() else None
        if last is None:
            raise InputError(
                f"--resume_from_checkpoint true, but output_dir {str(output)!r} holds no whole checkpoint; give a "
                "checkpoint folder, or leave the option out to start from the base model"
            )
        value = last
    checkpoint = Path(str(value)).expanduser()
    problem = checkpoint_problem(checkpoint)
    if problem is not None:
        raise InputError(
            f"--resume_from_checkpoint {str(value)!r} {problem}; give a checkpoint folder that trainer_state.json and "
            "the model weights were saved into (e.g. OUT/checkpoint-500), or leave the option out"
        )
    if overwrite and output.resolve() in checkpoint.resolve().parents:
        raise InputError(
            f"--resume_from_checkpoint {str(value)!r} is inside output_dir {str(output)!r}, which "
            "--overwrite_output_dir would clear; resume without --overwrite_output_dir, or copy the checkpoint out"
        )
    return str(checkpoint)


def check_apart_from_inputs(output: Path, inputs: dict[str, str | None]) -> None:
    """The output must not be an input folder or inside one (a dataset folder would then read the run as data).

    `inputs`: {option: value}; values that are not local folders (Hub ids) are ignored.
    """
    target = output.expanduser().resolve()
    for option, value in inputs.items():
        if not value or not Path(value).expanduser().is_dir():
            continue
        folder = Path(value).expanduser().resolve()
        if target == folder or folder in target.parents:
            where = "is" if target == folder else "is inside"
            # An OutputError, as check_writable's for an output inside an input folder: the output is what to change.
            raise OutputError(
                f"output_dir {str(output)!r} {where} the {option} folder {value!r}; choose an --output_dir outside it "
                "(s2r never writes into its inputs)"
            )


# The shape of a model: a checkpoint whose shape differs from the base model's fails to load, with a long traceback.
SHAPE_KEYS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
)


def check_checkpoint_fits(checkpoint: str | None, model_args) -> None:
    """The checkpoint to resume from must have been trained from a model of the base model's shape."""
    saved_path = Path(checkpoint) / "config.json" if checkpoint else None
    if saved_path is None or not saved_path.is_file():  # nothing to resume, or an adapter checkpoint (no config)
        return
    from transformers import AutoConfig

    try:
        saved = read_json_object(saved_path, what="a model's config")  # InputError is a ValueError
        base = AutoConfig.from_pretrained(
            model_args.model_name_or_path,
            revision=model_args.model_revision,
            trust_remote_code=getattr(model_args, "trust_remote_code", False),
        ).to_dict()
    except (OSError, ValueError):  # an unreadable config: loading the model says what is wrong with it
        return
    changed = [
        f"{key}: {base.get(key)!r} -> {saved.get(key)!r}"
        for key in SHAPE_KEYS
        if key in saved and saved.get(key) != base.get(key)
    ]
    if changed:
        raise InputError(
            f"the checkpoint {checkpoint!r} was not trained from {model_args.model_name_or_path!r} (the model -> the "
            f"checkpoint: {'; '.join(changed)}); resume with the model it was trained from, or without the checkpoint"
        )


def differences(previous: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """What differs between the record of an unfinished run and the run asked for now (`name: old -> new`).

    The data and the training settings are compared: resuming with others would train on one thing and record another.
    What only changes the output (logging, reporting, the evaluation command) may differ.
    """
    current = json.loads(json.dumps(record, default=str))  # as it would be read back from the record
    pairs = [("base_model", previous.get("base_model"), current.get("base_model"))]
    old_data, new_data = previous.get("data") or {}, current.get("data") or {}
    for key in ("source", "kind", "config", "split", "revision", "selection", "sft"):
        if key in old_data:
            pairs.extend(_leaves(f"data.{key}", old_data.get(key), new_data.get(key)))
    old_recipe, new_recipe = previous.get("recipe") or {}, current.get("recipe") or {}
    for key in old_recipe:
        if key != "recipe":  # the recipe's name: the settings it gave are compared one by one
            pairs.extend(_leaves(key, old_recipe.get(key), new_recipe.get(key)))
    return [f"{name}: {old!r} -> {new!r}" for name, old, new in pairs if old != new]


def _leaves(name: str, old, new) -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = dict.fromkeys([*old, *new])
        return [pair for key in keys for pair in _leaves(f"{name}.{key}", old.get(key), new.get(key))]
    return [(name, old, new)]


def check_same_run(plan: OutputPlan, record: dict[str, Any]) -> None:
    """Refuse to resume a run with other data or settings than it was started with (saying what differs)."""
    if plan.previous is None:
        return
    changed = differences(plan.previous, record)
    if changed:
        raise InputError(
            f"output_dir {str(plan.output)!r} holds an unfinished run started with other data or settings "
            f"({'; '.join(changed)}); resume it with the options it was started with, or pass "
            "--overwrite_output_dir to start again"
        )


def clear_run(plan: OutputPlan, eval_folder: str) -> None:
    """--overwrite_output_dir: remove what the earlier s2r run wrote (checkpoints, and its evaluations in
    `eval_folder`); keep the rest."""
    for old in [*plan.output.glob("checkpoint-*"), plan.output / eval_folder]:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
    update_provenance(plan.output, status="running", training=None, evaluations=[])
    logger.info("training again into %s (--overwrite_output_dir)", plan.output)
