"""`s2r train`: supervised fine-tuning on a Select2Reason subset with TRL's `SFTTrainer`.

A thin launcher in the open-r1 pattern: `TrlParser((ScriptArguments, S2RSFTConfig, ModelConfig))` reads a YAML recipe
(`--config`, a file or the name of a recipe shipped in s2r_hf/training/recipes) and command-line overrides with TRL's
own option names. Then, in order, everything a user can get wrong is checked before the model is loaded and before
anything in the output folder is created, changed or removed: the options, the output folder and the checkpoint to
resume from, the tokenizer and its chat template, the dataset, its `messages`, the selection, the lengths, and on a
resume that the data and settings are those the run started with. The output folder is locked while it is written.
The same script runs on one CPU, one GPU, or many processes under `accelerate launch` / `torchrun`. What the output
folder allows is decided in s2r_hf.training.output; Hub tokens are kept out of what gets saved by
s2r_hf.training.credentials.

    s2r train --config tiny-cpu --model_name_or_path MODEL --dataset_name SUBSET --output_dir OUT
    accelerate launch --config_file RECIPES/accelerate/zero3.yaml -m s2r_hf.training.sft --config qwen2.5-math-7b ...

(RECIPES: `python -c "from s2r_hf.training.sft import recipes_dir; print(recipes_dir())"`.)
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError, ModelError, OutputError, S2RError
from s2r_hf.core.models import is_local_model
from s2r_hf.training.credentials import refuse_tokens_in_options, token_in_environment
from s2r_hf.training.output import (
    INTERRUPTED,
    PENDING_EVALUATION,
    check_apart_from_inputs,
    check_checkpoint_fits,
    check_output_dir,
    check_same_run,
    clear_run,
)
from s2r_hf.training.provenance import data_record, new_record, read_provenance, update_provenance

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

RECIPE_SUFFIXES = (".yaml", ".yml")


def recipes_dir() -> Path:
    return Path(str(resources.files("s2r_hf.training"))) / "recipes"


def recipe_names() -> list[str]:
    return sorted(path.stem for path in recipes_dir().glob("*.yaml"))


def resolve_recipe(value: str) -> str:
    """A recipe file path as given, or the path of the shipped recipe of that name (`tiny-cpu`, `qwen2.5-1.5b`...)."""
    if Path(value).expanduser().is_file():
        return str(Path(value).expanduser())
    name = value[: -len(Path(value).suffix)] if value.endswith(RECIPE_SUFFIXES) else value
    shipped = recipes_dir() / f"{name}.yaml"
    if "/" not in value and shipped.is_file():
        return str(shipped)
    raise InputError(
        f"recipe {value!r} is neither a file nor a shipped recipe; shipped: {', '.join(recipe_names())} "
        f"(in {recipes_dir()})"
    )


def parse_train_args(argv: list[str]):
    """(ScriptArguments, S2RSFTConfig, ModelConfig) from `--config RECIPE` and TRL-named flags."""
    from trl import ModelConfig, ScriptArguments, TrlParser

    from s2r_hf.training.configs import S2RSFTConfig

    argv = list(argv)
    for index, word in enumerate(argv):
        if word.startswith("--config="):
            argv[index : index + 1] = ["--config", word.split("=", 1)[1]]
    if "--config" in argv:
        position = argv.index("--config")
        if position + 1 >= len(argv):
            raise InputError("--config needs a recipe: a YAML file or a shipped recipe name")
        argv[position + 1] = resolve_recipe(argv[position + 1])

    class OneLineParser(TrlParser):
        """argparse prints the whole usage (hundreds of TRL options) before an error: one line instead."""

        def error(self, message):
            raise InputError(f"{message}; every option: python -m s2r_hf.training.sft --help")

    from s2r_hf.core.options import DefaultsHelpFormatter  # each real default said once, no "(default: None)"

    parser = OneLineParser(
        (ScriptArguments, S2RSFTConfig, ModelConfig), prog="s2r train", formatter_class=DefaultsHelpFormatter
    )
    try:
        return parser.parse_args_and_config(args=argv)
    except S2RError:
        raise
    except (ValueError, TypeError) as err:  # TRL's unknown YAML keys, transformers' checks of incompatible options
        raise InputError(f"the training options are not valid: {' '.join(str(err).split())}") from err


# ---------------------------------------------------------------------------------------------------------------- data


def load_training_data(script_args, training_args, tokenizer, chat_template: str | None) -> tuple[Dataset, dict]:
    """The dataset the trainer gets (selected on the fly if asked, over-long rows removed) and its provenance."""
    from s2r_hf.core.folders import s2r_kind
    from s2r_hf.pool.sources import describe_source, load_source
    from s2r_hf.selection import select_with_report
    from s2r_hf.training.configs import train_flag_names
    from s2r_hf.training.sft_data import (
        TOKENS_COLUMN,
        command_line_words,
        measure_sft_tokens,
        prepare_sft_dataset,
        require_messages,
    )

    if not script_args.dataset_name:
        raise InputError(
            "--dataset_name is required: a subset folder (s2r select), a scored pool with --selection_strategy, "
            "a data file or a Hub dataset id"
        )
    source, split = script_args.dataset_name, script_args.dataset_train_split
    info = describe_source(source, script_args.dataset_config, split)
    with training_args.main_process_first(desc="loading the training data"), command_line_words():
        dataset = load_source(source, config=script_args.dataset_config, split=split)
        require_messages(dataset)
        selection_config = training_args.selection_config()
        pool_tokens = None
        if selection_config is not None:
            measured = measure_sft_tokens(dataset, tokenizer, chat_template=chat_template)
            pool_tokens = sum(measured[TOKENS_COLUMN])
            with train_flag_names():
                dataset, report = select_with_report(dataset, selection_config)
            selection, selected_by = report.describe(), "s2r train (on the fly)"
        elif info.kind == "folder" and s2r_kind(source) == "scored_pool":
            logger.warning(
                "%s is a whole scored pool and no --selection_strategy was given: training on all of it "
                "(pass --selection_strategy joint --selection_ratio 0.1 to train on the Select2Reason subset)",
                source,
            )
        # A ready-made subset: its selection is what its card says (read by prepare_sft_dataset); the pool given with
        # --pool_dataset is read only to count its tokens.
        pool = training_args.pool_dataset if selection_config is None else None
        prepared, sft_report = prepare_sft_dataset(
            dataset, tokenizer, training_args.max_length, chat_template=chat_template, pool=pool
        )
        if selection_config is None:
            selection, selected_by, pool_tokens = sft_report.selection, sft_report.selected_by, sft_report.pool_tokens
    data = data_record(
        source=str(source),
        kind=info.kind,
        config=script_args.dataset_config,
        split=split,
        selection=selection,
        selected_by=selected_by,
        sft_report=sft_report,
        pool_tokens=pool_tokens,
    )
    return prepared, data


# ------------------------------------------------------------------------------------------------ tokenizer and model


def load_tokenizer(model_args, training_args):
    """The tokenizer, with the chat template TRL will use; returns (tokenizer, template to measure with or None)."""
    from transformers import AutoTokenizer

    name = model_args.model_name_or_path
    if not name:
        raise InputError("--model_name_or_path is required: a local model folder or a Hub model id")
    if is_local_model(name) and not Path(name).expanduser().is_dir():
        raise ModelError(f"model {name!r} does not exist; give a model folder or a Hub model id")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            name, revision=model_args.model_revision, trust_remote_code=getattr(model_args, "trust_remote_code", False)
        )
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load the tokenizer of {name!r}: {' '.join(str(err).split())[:300]}") from err
    template_path = training_args.chat_template_path
    if template_path:
        if template_path.endswith((".jinja", ".j2")):  # TRL's rule for a template file
            tokenizer.chat_template = read_chat_template(template_path)
        elif is_local_model(template_path) and not Path(template_path).expanduser().exists():
            # Spelled as a path (the one rule, s2r_hf.core.models): missing here, never looked up on the Hub.
            raise InputError(
                f"--chat_template_path {template_path!r} does not exist; give a .jinja chat template file, a tokenizer "
                "folder, or the Hub id of a tokenizer whose template to copy"
            )
        else:  # TRL clones this tokenizer's template (and its special tokens) onto the model
            try:
                source = AutoTokenizer.from_pretrained(template_path)
            except (OSError, ValueError) as err:
                where = "" if is_local_model(template_path) else " (and no local folder has that name)"
                raise ModelError(
                    f"--chat_template_path {template_path!r} is neither a .jinja file nor a tokenizer{where}: "
                    f"{' '.join(str(err).split())[:300]}"
                ) from err
            tokenizer.chat_template = source.chat_template
    from s2r_hf.training.sft_data import command_line_words, require_chat_template

    with command_line_words():
        require_chat_template(tokenizer)
    chat_template = None
    if training_args.assistant_only_loss:
        from trl.chat_template_utils import get_training_chat_template, has_generation_markers

        if not has_generation_markers(tokenizer.chat_template):
            try:
                chat_template = get_training_chat_template(tokenizer)
            except ValueError:
                chat_template = None
            if chat_template is None:
                raise ModelError(
                    "assistant_only_loss needs a chat template with {% generation %} markers, and the template of "
                    f"{name!r} has none (TRL patches only the templates it knows); give one that has them with "
                    "--chat_template_path, or drop --assistant_only_loss"
                )
    return tokenizer, chat_template


def read_chat_template(path: str) -> str:
    """A .jinja chat template file, read and compiled now: a missing file or a syntax error is one line, not a
    traceback from the first row the trainer tokenizes."""
    from jinja2 import TemplateError
    from transformers.utils.chat_template_utils import _compile_jinja_template

    file = Path(path).expanduser()
    try:
        template = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        cause = "does not exist" if isinstance(err, FileNotFoundError) else f"cannot be read ({err})"
        raise InputError(f"--chat_template_path {path!r} {cause}; give a .jinja chat template file") from err
    try:
        _compile_jinja_template(template)
    except TemplateError as err:
        where = f" (line {err.lineno})" if getattr(err, "lineno", None) else ""
        raise InputError(
            f"--chat_template_path {path!r} is not a valid Jinja template{where}: {err}; fix the template"
        ) from err
    if not template.strip():
        raise InputError(f"--chat_template_path {path!r} is empty; give a .jinja chat template file")
    return template


def load_model(model_args, training_args):
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import get_quantization_config

    dtype = model_args.dtype
    if dtype not in (None, "auto"):
        dtype = getattr(torch, dtype)
    attn = model_args.attn_implementation
    if attn == "flash_attention_2" and not _installed("flash_attn"):
        logger.warning("flash-attn is not installed: using attn_implementation=sdpa instead of flash_attention_2")
        attn = "sdpa"
    quantization_config = get_quantization_config(model_args)
    kwargs = {
        "revision": model_args.model_revision,
        "trust_remote_code": getattr(model_args, "trust_remote_code", False),
        "attn_implementation": attn,
        "dtype": dtype,
        "quantization_config": quantization_config,
        "device_map": _kbit_device_map() if quantization_config is not None else None,
    }
    try:
        return AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
    except OSError as err:
        raise ModelError(f"cannot load the model {model_args.model_name_or_path!r}: {err}") from err


def _kbit_device_map() -> dict[str, int]:
    """A quantized model is placed whole on this process's device (TRL's rule for k-bit training)."""
    from accelerate import PartialState

    return {"": PartialState().local_process_index}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------------------------------------------------------- run


@dataclass
class TrainOutcome:
    """What `train` returns: the provenance record (rank 0 also writes it beside the model) and the trainer."""

    record: dict[str, Any]
    trainer: Any


def train(
    script_args, training_args, model_args, *, command: str | None = None, recipe: str | None = None
) -> TrainOutcome:
    """Train as the three configs say (on this process's rank; side effects on rank 0 only).

    Everything is checked (options, output folder, checkpoint, tokenizer, data, and on resume that the data and
    settings are the run's) before anything in the output folder is created, changed or removed; the output folder is
    locked (on rank 0) from before the first write to the end.
    """
    with contextlib.ExitStack() as stack:
        if Path(training_args.output_dir).expanduser().parent.is_dir():  # else locked once it is created, below
            stack.enter_context(_output_lock(training_args))
        return _train(script_args, training_args, model_args, stack, command=command, recipe=recipe)


def _output_lock(training_args):
    from s2r_hf.core.locks import locked_output

    if training_args.process_index != 0:  # one lock per run: the main process holds it
        return contextlib.nullcontext()
    return locked_output(training_args.output_dir, "s2r train")


def _train(script_args, training_args, model_args, stack, *, command, recipe) -> TrainOutcome:
    from trl import SFTTrainer, get_peft_config

    from s2r_hf.core.folders import follow_umask
    from s2r_hf.training.callbacks import (
        EVAL_FOLDER,
        WEIGHTS_PATTERN,
        EvaluateCallback,
        build_callbacks,
        recipe_record,
    )

    if training_args.use_liger_kernel and not _installed("liger_kernel"):
        logger.warning("liger-kernel is not installed: training without it (pip install liger-kernel)")
        training_args.use_liger_kernel = False
    plan = check_output_dir(training_args)
    inputs = {
        "--dataset_name": script_args.dataset_name,
        "--pool_dataset": training_args.pool_dataset,
        "--model_name_or_path": model_args.model_name_or_path,
    }
    check_apart_from_inputs(plan.output, inputs)
    tokenizer, chat_template = load_tokenizer(model_args, training_args)
    check_checkpoint_fits(plan.resume, model_args)
    dataset, data = load_training_data(script_args, training_args, tokenizer, chat_template)
    record = new_record(
        base_model=model_args.model_name_or_path,
        data=data,
        name=(training_args.hub_model_id or Path(training_args.output_dir).name).split("/")[-1],
        recipe={"recipe": recipe, **recipe_record(training_args)},
        command=command,
        output_dir=str(training_args.output_dir),
    )
    check_same_run(plan, record)
    callbacks = build_callbacks(training_args, record)
    # Every check passed: from here on the output folder may be written.
    main_process = training_args.process_index == 0
    if main_process and not Path(training_args.output_dir).expanduser().parent.is_dir():
        with _disk_errors(plan.output):
            plan.output.parent.mkdir(parents=True, exist_ok=True)
        stack.enter_context(_output_lock(training_args))
        plan = check_output_dir(training_args)  # what is there now, under the lock
    if main_process and plan.clear:
        with _disk_errors(plan.output):
            clear_run(plan, EVAL_FOLDER)
    evaluator = next((callback for callback in callbacks if isinstance(callback, EvaluateCallback)), None)
    if plan.evaluate_step is not None:  # nothing to train: complete what the killed run left undone
        if main_process:
            with _disk_errors(plan.output):
                _finish(plan.output, evaluator, plan.evaluate_step)
        return TrainOutcome(record=read_provenance(plan.output) or record, trainer=None)
    model = load_model(model_args, training_args)
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=callbacks,
        peft_config=get_peft_config(model_args),
    )
    if evaluator is not None:
        evaluator.attach(trainer)
    with _disk_errors(plan.output):
        trainer.train(resume_from_checkpoint=plan.resume)
        trainer.save_model(training_args.output_dir)
        if trainer.is_world_process_zero():
            # safetensors writes its files owner-only whatever the umask (checkpoints: the selection_report callback)
            follow_umask(training_args.output_dir, WEIGHTS_PATTERN)
            if evaluator is not None:
                update_provenance(training_args.output_dir, **{PENDING_EVALUATION: trainer.state.global_step})
            _finish(plan.output, evaluator, trainer.state.global_step)
            trainer.save_state()
    if trainer.is_world_process_zero():
        record = read_provenance(training_args.output_dir) or record
    return TrainOutcome(record=record, trainer=trainer)


def _finish(output: Path, evaluator, step: int) -> None:
    """Evaluate the final model (unless done on its last save) and only then call the run "finished": a run killed
    before is "trained" with its evaluation pending, and the same command evaluates it instead of being refused."""
    if evaluator is not None:
        if step not in evaluator.evaluated_steps:
            evaluator.evaluate(output, step, output)
        evaluator.wait()
    update_provenance(output, status="finished", **{PENDING_EVALUATION: None})


# What a full or read-only disk raises while the trainer saves: OSError from Python and safetensors, and from
# torch.save a RuntimeError of its zip writer ("PytorchStreamWriter failed writing file ... file write failed",
# "[enforce fail at inline_container.cc] unexpected pos", "basic_ios::clear: iostream error").
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM)
_TORCH_WRITE_FAILED = ("file write failed", "inline_container.cc", "iostream error", "PytorchStreamWriter")


@contextlib.contextmanager
def _disk_errors(output: Path):
    """A disk that fills (or turns read-only) while training: one line naming the folder, the cause and the fix."""
    try:
        yield
    except OSError as err:
        if err.errno not in _DISK_ERRNOS:
            raise
        raise OutputError(_disk_message(output, err.strerror or str(err))) from err
    except RuntimeError as err:
        if not any(marker in str(err) for marker in _TORCH_WRITE_FAILED):
            raise
        raise OutputError(_disk_message(output, "a file could not be written whole (is the disk full?)")) from err


def _disk_message(output: Path, cause: str) -> str:
    return (
        f"training into {str(output)!r} stopped: {cause}; free some space there (or make it writable) and run the "
        "same command again: it resumes from the last whole checkpoint"
    )


def main(argv: list[str] | None = None, *, command: str | None = None) -> TrainOutcome:
    """Parse `argv` (TRL's flags plus ours) and train; the entry point of `s2r train` and of `accelerate launch -m`."""
    from s2r_hf.core.children import tie_to_parent

    # A launcher's worker (torchrun sets LOCAL_RANK, accelerate ACCELERATE_USE_CPU) dies with its launcher.
    if {"LOCAL_RANK", "TORCHELASTIC_RUN_ID", "ACCELERATE_USE_CPU"} & set(os.environ):
        tie_to_parent()
    argv = sys.argv[1:] if argv is None else list(argv)
    recipe = None
    if "--config" in argv and argv.index("--config") + 1 < len(argv):
        recipe = argv[argv.index("--config") + 1]
    script_args, training_args, model_args = parse_train_args(argv)
    with token_in_environment(training_args):
        refuse_tokens_in_options(script_args, training_args, model_args)
        check_checkpoint_pushes(training_args)
        outcome = train(script_args, training_args, model_args, command=command, recipe=recipe)
        refuse_failed_pushes(outcome.trainer, training_args.output_dir)
    return outcome


def check_checkpoint_pushes(training_args) -> None:
    """With the push_to_hub_revision callback, refuse a push bound to fail (offline, no token, a token the Hub rejects
    or that may only read) before the model loads, not at the first checkpoint: `commit_files`' own start checks."""
    from s2r_hf.hub.checks import check_push

    # S2RSFTConfig has checked the names and that --hub_model_id is given with this callback.
    if "push_to_hub_revision" not in (training_args.callbacks or []):
        return
    try:
        check_push([training_args.hub_model_id], repo_type="model")
    except S2RError as err:
        raise type(err)(f"push_to_hub_revision: {err}") from None


def refuse_failed_pushes(trainer, output_dir: str) -> None:
    """Raise (on the main process) when a checkpoint push failed: a run whose pushes were refused is not a success."""
    from s2r_hf.training.callbacks import PushToHubRevisionCallback

    if trainer is None or not trainer.is_world_process_zero():  # None: only a pending evaluation was completed
        return
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, PushToHubRevisionCallback):
            callback.raise_failures(output_dir)


def launch() -> int:
    """`accelerate launch -m s2r_hf.training.sft ...` (and `python -m`): train with the command line's options."""
    import shlex

    from s2r_hf.core.redaction import redact_argv

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main(command=shlex.join(redact_argv(["s2r", "train", *sys.argv[1:]])))
    return 0


if __name__ == "__main__":  # accelerate launch -m s2r_hf.training.sft --config ...
    from s2r_hf.core.entry import run_entry

    sys.exit(run_entry(launch, prog="s2r train", interrupted=INTERRUPTED))
