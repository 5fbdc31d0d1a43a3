"""`s2r train-judge`: fine-tune a difficulty-aware judge from rollout flags or pass rates
(s2r_hf.signals.judge.training)."""

from __future__ import annotations

import argparse
import logging

HELP = "fine-tune a small LM so that its P('1') predicts 1 - pass rate; writes a judge `s2r score` can load"

logger = logging.getLogger(__name__)

# The flags are the fields of JudgeTrainingConfig (help and defaults said once, there); a few keep the short names
# they had before the flags were generated.
SHORT_NAMES = {
    "output_dir": "output",
    "num_train_epochs": "epochs",
    "learning_rate": "lr",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "lr_scheduler_type": "scheduler",
}


def training_options():
    from s2r_hf.core.options import options_of
    from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

    return options_of(JudgeTrainingConfig, names=SHORT_NAMES)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import add_arguments as add_options

    parser.add_argument(
        "pool", metavar="POOL", help="a jsonl/json/parquet/csv file, a dataset folder, or a Hub dataset id"
    )
    source = parser.add_argument_group("POOL")
    source.add_argument("--config", default=None, help="dataset configuration (subset) of POOL")
    source.add_argument("--split", default="train", help="split of POOL to train on")
    source.add_argument("--revision", default=None, help="Hub revision of POOL")
    options = training_options()
    add_options(
        parser,
        options,
        flags={"output": ["-o"]},
        exclusive=(("flags_column", "pass_rate_column"),),
        required=("output",),
    )


def config_from_args(args: argparse.Namespace):
    from s2r_hf.core.options import build, given
    from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

    options = training_options()
    return build(JudgeTrainingConfig, given(args, options), options=options)


def check_not_inside_pool(output_dir: str, pool: str) -> None:
    """The judge is never written into (or over) a local pool: the pool would mean something else when read again."""
    from pathlib import Path

    from s2r_hf.core.errors import InputError

    source = Path(pool).expanduser()
    if not source.exists():
        return  # a Hub dataset id
    output, source = Path(output_dir).expanduser().resolve(), source.resolve()
    if output == source or source in output.parents:
        raise InputError(
            f"the judge's output folder {output_dir!r} is the pool {pool!r} or inside it; write the judge elsewhere"
        )


def training_pool_identity(args: argparse.Namespace, dataset) -> dict:
    """What the judge was trained on, for its record: the source as read (name, kind, split), the digest of its files
    or its Hub commit, its rows, and, for a scored pool s2r wrote, the rows digest its card records."""
    from pathlib import Path

    from s2r_hf.core.errors import InputError
    from s2r_hf.core.folders import read_card_metadata
    from s2r_hf.pool.sources import describe_source, source_identity

    identity = {
        **describe_source(args.pool, args.config, args.split, args.revision).describe(),
        **source_identity(args.pool, dataset),
        "rows": len(dataset),
    }
    if (Path(args.pool).expanduser() / "README.md").is_file():
        try:
            s2r = read_card_metadata(Path(args.pool).expanduser()).get("s2r")
        except InputError:  # a card s2r did not write: the files' digest above identifies the pool
            s2r = None
        if isinstance(s2r, dict) and s2r.get("rows_sha256"):
            identity.update(s2r_kind=s2r.get("kind"), rows_sha256=s2r["rows_sha256"])
    return identity


def run(args: argparse.Namespace) -> int:
    from s2r_hf.core.models import check_model_reachable
    from s2r_hf.pool.sources import load_source
    from s2r_hf.signals.judge.judge_folder import check_output_dir
    from s2r_hf.signals.judge.training import train_judge

    config = config_from_args(args)
    check_output_dir(config)  # before a possibly long download of the pool
    check_not_inside_pool(config.output_dir, args.pool)
    check_model_reachable(config.base_model, config.base_revision, role="base model")
    dataset = load_source(args.pool, config=args.config, split=args.split, revision=args.revision)
    result = train_judge(dataset, config, pool=training_pool_identity(args, dataset))
    logger.info(
        "judge written to %s: held-out Spearman %s -> %s on %d questions (trained on %d)",
        result.output_dir,
        result.spearman_before,
        result.spearman_after,
        result.eval_rows,
        result.train_rows,
    )
    return 0
