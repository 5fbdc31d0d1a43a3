"""`s2r train-judge`: fine-tune a difficulty-aware judge from rollout flags or pass rates (s2r_hf.judge.training)."""

from __future__ import annotations

import argparse
import logging
from dataclasses import MISSING, fields

from s2r_hf.judge.training import JudgeTrainingConfig

HELP = "fine-tune a small LM so that its P('1') predicts 1 - pass rate; writes a judge `s2r score` can load"

logger = logging.getLogger(__name__)

# command-line flag -> JudgeTrainingConfig field; help texts and defaults come from the dataclass, said once.
_OPTIONS = {
    "--base-model": "base_model",
    "--base-revision": "base_revision",
    "--question-column": "question_column",
    "--system-prompt": "system_prompt",
    "--max-question-tokens": "max_question_tokens",
    "--epochs": "num_train_epochs",
    "--lr": "learning_rate",
    "--batch-size": "per_device_train_batch_size",
    "--grad-accum": "gradient_accumulation_steps",
    "--eval-batch-size": "eval_batch_size",
    "--scheduler": "lr_scheduler_type",
    "--warmup-ratio": "warmup_ratio",
    "--weight-decay": "weight_decay",
    "--eval-fraction": "eval_fraction",
    "--min-eval-rows": "min_eval_rows",
    "--seed": "seed",
    "--save-dtype": "save_dtype",
    "--logging-steps": "logging_steps",
}
_FIELDS = {f.name: f for f in fields(JudgeTrainingConfig)}


def _field_type(name: str):
    default = _FIELDS[name].default
    return type(default) if default not in (None, MISSING) else str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pool", metavar="POOL", help="a jsonl/json/parquet/csv file, a dataset folder, or a Hub dataset id"
    )
    parser.add_argument("-o", "--output", required=True, help=_FIELDS["output_dir"].metadata["help"])
    parser.add_argument("--config", default=None, help="dataset configuration (subset) of POOL")
    parser.add_argument("--split", default="train", help="split of POOL to train on")
    parser.add_argument("--revision", default=None, help="Hub revision of POOL")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--flags-column", default=_FIELDS["flags_column"].default, help=_FIELDS["flags_column"].metadata["help"]
    )
    target.add_argument("--pass-rate-column", default=None, help=_FIELDS["pass_rate_column"].metadata["help"])
    for flag, name in _OPTIONS.items():
        kwargs = {"dest": name, "default": _FIELDS[name].default, "help": _FIELDS[name].metadata["help"]}
        kwargs["metavar"] = flag.removeprefix("--").upper().replace("-", "_")
        if name == "save_dtype":
            kwargs["choices"] = ("auto", "float32", "bfloat16", "float16")
        parser.add_argument(flag, type=_field_type(name), **kwargs)
    parser.add_argument(
        "--bf16", action=argparse.BooleanOptionalAction, default=None, help=_FIELDS["bf16"].metadata["help"]
    )
    parser.add_argument(
        "--gradient-checkpointing", action="store_true", help=_FIELDS["gradient_checkpointing"].metadata["help"]
    )
    parser.add_argument("--overwrite", action="store_true", help=_FIELDS["overwrite"].metadata["help"])


def config_from_args(args: argparse.Namespace) -> JudgeTrainingConfig:
    return JudgeTrainingConfig(
        output_dir=args.output,
        flags_column=args.flags_column,
        pass_rate_column=args.pass_rate_column,
        bf16=args.bf16,
        gradient_checkpointing=args.gradient_checkpointing,
        overwrite=args.overwrite,
        **{name: getattr(args, name) for name in _OPTIONS.values()},
    )


def run(args: argparse.Namespace) -> int:
    from s2r_hf.judge.model import check_judge_reachable
    from s2r_hf.judge.training import check_output_dir, train_judge
    from s2r_hf.sources import load_source

    config = config_from_args(args)
    check_output_dir(config)  # before a possibly long download of the pool
    check_judge_reachable(config.base_model, config.base_revision, role="base model")
    dataset = load_source(args.pool, config=args.config, split=args.split, revision=args.revision)
    result = train_judge(dataset, config)
    logger.info(
        "judge written to %s: held-out Spearman %s -> %s on %d questions (trained on %d)",
        result.output_dir,
        result.spearman_before,
        result.spearman_after,
        result.eval_rows,
        result.train_rows,
    )
    return 0
