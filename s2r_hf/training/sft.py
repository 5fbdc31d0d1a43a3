"""`s2r train`: supervised fine-tuning on a Select2Reason subset with TRL's `SFTTrainer`.

A thin launcher in the open-r1 pattern: `TrlParser((ScriptArguments, S2RSFTConfig, ModelConfig))` reads a YAML recipe
(`--config`, a file or the name of a recipe shipped in s2r_hf/training/recipes) and command-line overrides with TRL's
own option names. Then, in order, everything a user can get wrong is checked before the model is loaded: the output
folder, the tokenizer and its chat template, the dataset, its `messages`, the selection, the lengths. The same script
runs on one CPU, one GPU, or many processes under `accelerate launch` / `torchrun`.

    s2r train --config tiny-cpu --model_name_or_path MODEL --dataset_name SUBSET --output_dir OUT
    accelerate launch --config_file RECIPES/accelerate/zero3.yaml -m s2r_hf.training.sft --config qwen2.5-math-7b ...

(RECIPES: `python -c "from s2r_hf.training.sft import recipes_dir; print(recipes_dir())"`.)
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.errors import InputError, ModelError, S2RError
from s2r_hf.training.provenance import PROVENANCE_FILE, read_provenance, update_provenance

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

    parser = OneLineParser((ScriptArguments, S2RSFTConfig, ModelConfig), prog="s2r train")
    try:
        return parser.parse_args_and_config(args=argv)
    except S2RError:
        raise
    except (ValueError, TypeError) as err:  # TRL's unknown YAML keys, transformers' checks of incompatible options
        raise InputError(f"the training options are not valid: {' '.join(str(err).split())}") from err


# ---------------------------------------------------------------------------------------------------------------- data


def new_record(
    *,
    base_model: str | None,
    data: dict[str, Any],
    name: str | None = None,
    recipe: dict[str, Any] | None = None,
    command: str | None = None,
    output_dir: str | None = None,
) -> dict[str, Any]:
    """A provenance record (see s2r_hf.training.provenance), before training."""
    return {
        "kind": "s2r_training",
        "status": "running",
        "name": name,
        "s2r_hf_version": __version__,
        "base_model": base_model,
        "data": data,
        "recipe": recipe,
        "training": None,
        "evaluations": [],
        "command": command,
        "output_dir": output_dir,
    }


def data_record(
    *,
    source: str | None,
    kind: str,
    selection: dict[str, Any] | None,
    selected_by: str | None,
    sft_report,
    pool_tokens: int | None,
    config: str | None = None,
    split: str | None = None,
    revision: str | None = None,
    pool_tokens_note: str | None = None,
) -> dict[str, Any]:
    """Which data made the model: the source, the selection, and the tokens trained against the pool's."""
    sft = sft_report.describe() if hasattr(sft_report, "describe") else dict(sft_report)
    return {
        "source": source,
        "kind": kind,
        "config": config,
        "split": split,
        "revision": revision,
        "selected_by": selected_by,
        "selection": selection,
        "sft": sft,
        "tokens_trained": sft["tokens_kept"],
        "pool_tokens": pool_tokens,
        "token_share": (sft["tokens_kept"] / pool_tokens) if pool_tokens else None,
        "pool_tokens_note": pool_tokens_note
        or (
            None if pool_tokens else "give the pool with --pool_dataset, or select on the fly with --selection_strategy"
        ),
    }


def _subset_block(source: str, kind: str) -> dict[str, Any] | None:
    """The `s2r` block of a subset's card (a folder written by `s2r select`, or a published subset), if it has one."""
    if kind == "folder":
        from s2r_hf.folders import read_card_metadata

        try:
            block = read_card_metadata(source).get("s2r")
        except S2RError:
            return None
    elif kind == "hub":
        from huggingface_hub import DatasetCard
        from huggingface_hub.errors import HfHubHTTPError

        try:
            block = DatasetCard.load(source, repo_type="dataset").data.to_dict().get("s2r")
        except (HfHubHTTPError, OSError, ValueError):
            return None
    else:
        return None
    return block if isinstance(block, dict) and block.get("kind") == "subset" else None


def _selection_of_block(block: dict[str, Any]) -> dict[str, Any]:
    keys = ("strategy", "rows", "pool_rows", "ratio", "k", "weight", "seed", "group_column", "rule")
    selection = {key: block.get(key) for key in keys}
    pool = block.get("pool") if isinstance(block.get("pool"), dict) else {}
    selection["pool"] = pool.get("name") or pool.get("source")
    return selection


def load_training_data(script_args, training_args, tokenizer, chat_template: str | None) -> tuple[Dataset, dict]:
    """The dataset the trainer gets (selected on the fly if asked, over-long rows removed) and its provenance."""
    from s2r_hf.folders import s2r_kind
    from s2r_hf.selection import select_with_report
    from s2r_hf.sources import describe_source, load_source
    from s2r_hf.training.configs import train_flag_names
    from s2r_hf.training.sft_data import TOKENS_COLUMN, measure_sft_tokens, prepare_sft_dataset, require_messages

    if not script_args.dataset_name:
        raise InputError(
            "--dataset_name is required: a subset folder (s2r select), a scored pool with --selection_strategy, "
            "a data file or a Hub dataset id"
        )
    source, split = script_args.dataset_name, script_args.dataset_train_split
    info = describe_source(source, script_args.dataset_config, split)
    with training_args.main_process_first(desc="loading the training data"):
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
        else:
            block = _subset_block(source, info.kind)
            if info.kind == "folder" and s2r_kind(source) == "scored_pool":
                logger.warning(
                    "%s is a whole scored pool and no --selection_strategy was given: training on all of it "
                    "(pass --selection_strategy joint --selection_ratio 0.1 to train on the Select2Reason subset)",
                    source,
                )
            selection = _selection_of_block(block) if block else None
            selected_by = "s2r select (the subset's card)" if block else None
            if training_args.pool_dataset:
                pool = load_source(training_args.pool_dataset)
                measured = measure_sft_tokens(pool, tokenizer, chat_template=chat_template)
                pool_tokens = sum(measured[TOKENS_COLUMN])
        prepared, sft_report = prepare_sft_dataset(
            dataset, tokenizer, training_args.max_length, chat_template=chat_template
        )
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


# ------------------------------------------------------------------------------------------------------- output folder


def check_output_dir(training_args) -> str | None:
    """Decide what `output_dir` allows, before anything loads: the checkpoint to resume from, or None (fresh).

    - missing or empty: a fresh run;
    - an s2r run that did not finish: resumed from its last checkpoint (or started again if it has none);
    - a finished s2r run: refused unless --overwrite_output_dir (its checkpoints and evaluations are then removed);
    - anything else: refused; s2r never writes into a folder it did not write.
    """
    from transformers.trainer_utils import get_last_checkpoint

    output = Path(training_args.output_dir)
    if training_args.resume_from_checkpoint:
        return training_args.resume_from_checkpoint
    if output.exists() and not output.is_dir():
        raise InputError(f"output_dir {str(output)!r} is a file; choose a folder with --output_dir")
    if not output.exists() or not any(output.iterdir()):
        return None
    record = read_provenance(output)
    if record is None:
        raise InputError(
            f"output_dir {str(output)!r} exists and was not written by s2r train (no {PROVENANCE_FILE}); choose "
            "another --output_dir (s2r never writes into a folder it did not write)"
        )
    if record.get("status") == "finished":
        if not training_args.overwrite_output_dir:
            raise InputError(
                f"output_dir {str(output)!r} holds a finished run; choose another --output_dir, or pass "
                "--overwrite_output_dir to train again into it"
            )
        if training_args.process_index == 0:  # what the finished run wrote: its checkpoints, evaluations and record
            for old in [*output.glob("checkpoint-*"), output / "s2r_eval"]:
                if old.is_dir():
                    shutil.rmtree(old)
            update_provenance(output, status="running", training=None, evaluations=[])
        logger.info("training again into %s (--overwrite_output_dir)", output)
        return None
    last = get_last_checkpoint(str(output))
    if last:
        logger.info("resuming from %s", last)
    return last


# ------------------------------------------------------------------------------------------------ tokenizer and model


def _looks_local(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or Path(name).expanduser().exists()


def load_tokenizer(model_args, training_args):
    """The tokenizer, with the chat template TRL will use; returns (tokenizer, template to measure with or None)."""
    from transformers import AutoTokenizer

    name = model_args.model_name_or_path
    if not name:
        raise InputError("--model_name_or_path is required: a local model folder or a Hub model id")
    if _looks_local(name) and not Path(name).expanduser().is_dir():
        raise ModelError(f"model {name!r} does not exist; give a model folder or a Hub model id")
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            name, revision=model_args.model_revision, trust_remote_code=getattr(model_args, "trust_remote_code", False)
        )
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load the tokenizer of {name!r}: {' '.join(str(err).split())[:300]}") from err
    template_path = training_args.chat_template_path
    if template_path:
        if Path(template_path).is_file() and template_path.endswith((".jinja", ".j2")):
            tokenizer.chat_template = Path(template_path).read_text(encoding="utf-8")
        else:  # TRL clones this tokenizer's template (and its special tokens) onto the model
            try:
                source = AutoTokenizer.from_pretrained(template_path)
            except (OSError, ValueError) as err:
                raise ModelError(
                    f"--chat_template_path {template_path!r} is neither a .jinja file nor a tokenizer: {err}"
                ) from err
            tokenizer.chat_template = source.chat_template
    from s2r_hf.training.sft_data import require_chat_template

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
    """Train as the three configs say (on this process's rank; side effects on rank 0 only)."""
    from trl import SFTTrainer, get_peft_config

    from s2r_hf.training.callbacks import EvaluateCallback, build_callbacks, recipe_record

    if training_args.use_liger_kernel and not _installed("liger_kernel"):
        logger.warning("liger-kernel is not installed: training without it (pip install liger-kernel)")
        training_args.use_liger_kernel = False
    resume = check_output_dir(training_args)
    tokenizer, chat_template = load_tokenizer(model_args, training_args)
    dataset, data = load_training_data(script_args, training_args, tokenizer, chat_template)
    record = new_record(
        base_model=model_args.model_name_or_path,
        data=data,
        name=(training_args.hub_model_id or Path(training_args.output_dir).name).split("/")[-1],
        recipe={"recipe": recipe, **recipe_record(training_args)},
        command=command,
        output_dir=str(training_args.output_dir),
    )
    callbacks = build_callbacks(training_args, record)
    model = load_model(model_args, training_args)
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=callbacks,
        peft_config=get_peft_config(model_args),
    )
    evaluator = next((callback for callback in callbacks if isinstance(callback, EvaluateCallback)), None)
    if evaluator is not None:
        evaluator.attach(trainer)
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(training_args.output_dir)
    if trainer.is_world_process_zero():
        update_provenance(training_args.output_dir, status="finished")
        if evaluator is not None:
            step = trainer.state.global_step
            if step not in evaluator.evaluated_steps:
                evaluator.evaluate(training_args.output_dir, step, training_args.output_dir)
            evaluator.wait()
        trainer.save_state()
    if trainer.is_world_process_zero():
        record = read_provenance(training_args.output_dir) or record
    return TrainOutcome(record=record, trainer=trainer)


def main(argv: list[str] | None = None, *, command: str | None = None) -> TrainOutcome:
    """Parse `argv` (TRL's flags plus ours) and train; the entry point of `s2r train` and of `accelerate launch -m`."""
    import os

    from s2r_hf.children import tie_to_parent

    # A launcher's worker (torchrun sets LOCAL_RANK, accelerate ACCELERATE_USE_CPU) dies with its launcher.
    if {"LOCAL_RANK", "TORCHELASTIC_RUN_ID", "ACCELERATE_USE_CPU"} & set(os.environ):
        tie_to_parent()
    argv = sys.argv[1:] if argv is None else list(argv)
    recipe = None
    if "--config" in argv and argv.index("--config") + 1 < len(argv):
        recipe = argv[argv.index("--config") + 1]
    script_args, training_args, model_args = parse_train_args(argv)
    hand_token_to_environment(training_args)
    refuse_tokens_in_options(script_args, training_args, model_args)
    check_checkpoint_pushes(training_args)
    outcome = train(script_args, training_args, model_args, command=command, recipe=recipe)
    refuse_failed_pushes(outcome.trainer, training_args.output_dir)
    return outcome


# ------------------------------------------------------------------------------------------------------------ secrets


def refuse_tokens_in_options(*configs) -> None:
    """Refuse, before any work, a Hub token given inside another option (`--eval_command "... --token hf_..."`,
    `--hub_model_id`): every option is pickled into each checkpoint's training_args.bin, where only --hub_token is
    taken out. The evaluation command and every push read HF_TOKEN, which --hub_token sets."""
    from dataclasses import fields, is_dataclass

    from s2r_hf.redaction import HUB_TOKEN

    for config in configs:
        for spec in fields(config) if is_dataclass(config) else ():
            value = getattr(config, spec.name, None)
            words = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(word, str) and HUB_TOKEN.search(word) for word in words):
                raise InputError(
                    f"--{spec.name} holds a Hub token, and every option is saved with each checkpoint "
                    "(training_args.bin); give the token with --hub_token or HF_TOKEN instead (the evaluation "
                    "command and every push read it from HF_TOKEN)"
                )


def check_checkpoint_pushes(training_args) -> None:
    """With the push_to_hub_revision callback, refuse a push bound to fail (offline, no token, a token the Hub rejects
    or that may only read) before the model loads, not at the first checkpoint: `commit_files`' own start checks."""
    from s2r_hf.hub.commit import check_push

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

    if not trainer.is_world_process_zero():
        return
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, PushToHubRevisionCallback):
            callback.raise_failures(output_dir)


# The options of `s2r train` that carry a credential, and the environment variable that carries it instead: a
# launcher (the experiment) passes them through the environment, never on a command line that is recorded and shown.
CREDENTIAL_OPTIONS = {"hub_token": "HF_TOKEN"}


def credential_variable(option: str) -> str | None:
    """The environment variable that carries option `option` (`hub_token`, `--hub-token`: the parser takes both
    spellings) when it is a credential; None for every other option."""
    return CREDENTIAL_OPTIONS.get(str(option).lstrip("-").replace("-", "_"))


def hand_token_to_environment(training_args) -> None:
    """Move `--hub_token` (a flag or a recipe's key) out of the arguments into HF_TOKEN, for this process and its
    children.

    transformers pickles the TrainingArguments into every checkpoint's training_args.bin, and the card and record are
    made from them: an object that gets saved must never hold the token. huggingface_hub (every s2r push, the
    Trainer's own push_to_hub) falls back to HF_TOKEN when given no token, so nothing is lost. The explicit flag wins
    over an HF_TOKEN already set, as it did when it was passed along.
    """
    token = getattr(training_args, "hub_token", None)
    if token:
        os.environ["HF_TOKEN"] = token
        training_args.hub_token = None


if __name__ == "__main__":  # accelerate launch -m s2r_hf.training.sft --config ...
    import shlex

    from s2r_hf.redaction import redact_argv

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        main(command=shlex.join(redact_argv(["s2r", "train", *sys.argv[1:]])))
    except S2RError as err:
        print(f"s2r train: error: {err}", file=sys.stderr)
        sys.exit(2)
