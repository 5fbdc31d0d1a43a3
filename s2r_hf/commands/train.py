"""`s2r train --config RECIPE [--flag value ...]`: supervised fine-tuning with TRL on a Select2Reason subset.

Every flag after the recipe is handed to TRL's own parser (`TrlParser((ScriptArguments, S2RSFTConfig, ModelConfig))`),
so TRL's option names work unchanged: `--model_name_or_path`, `--dataset_name`, `--output_dir`, `--max_steps`, ...
`python -m s2r_hf.training.sft --help` lists them all.
"""

from __future__ import annotations

import argparse
import logging

HELP = "fine-tune a model on a subset with TRL's SFTTrainer (TRL's flags pass through)"

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        help="a YAML recipe: a file, or a shipped recipe name (tiny-cpu, qwen2.5-1.5b, qwen2.5-3b, qwen2.5-math-7b)",
    )
    parser.epilog = (
        "Any other flag is a TRL / transformers option or one of s2r's (--selection_strategy, --callbacks, "
        "--benchmarks, --eval_command, --overwrite_output_dir); see `python -m s2r_hf.training.sft --help`."
    )
    parser.set_defaults(pass_through=True)


def run(args: argparse.Namespace) -> int:
    import sys

    from s2r_hf.commands.summary import shown_path
    from s2r_hf.training.output import INTERRUPTED

    argv = (["--config", args.config] if args.config else []) + list(args.extra)
    try:
        # Imported in here: TRL and torch take seconds to load, and a Ctrl-C then is a Ctrl-C of s2r train too.
        from s2r_hf.training.sft import main

        record = main(argv, command=args.command_line).record
    except KeyboardInterrupt:  # the run is resumable: say so (the CLI's generic line speaks of output folders)
        print(f"s2r train: {INTERRUPTED}", file=sys.stderr)
        return 130
    training = record.get("training") or {}
    data = record.get("data") or {}
    print(
        f"trained {training.get('steps')} steps on {data.get('sft', {}).get('rows_kept')} examples; "
        f"model and card in {shown_path(record.get('output_dir'))}"
    )
    print(next_after_training(record.get("output_dir"), on_cpu=not _cuda_available()))
    return 0


def _cuda_available() -> bool:
    import torch  # loaded by the training already

    return torch.cuda.is_available()


def next_after_training(output_dir: str, *, on_cpu: bool) -> str:
    """The `Next:` line after `s2r train`: evaluate the model (on a CPU, a smoke run on two MATH500 problems)."""
    from pathlib import Path

    from s2r_hf.commands.summary import shell_path, shown_path, sibling

    results = sibling(output_dir, f"eval-{Path(shown_path(output_dir)).name}")
    if on_cpu:
        run = f"--tasks math500 --max-samples 2 -o {shell_path(results)}"
        why = " (a smoke run: on a GPU drop --max-samples and add aime24,aime25,amc23 to --tasks)"
    else:
        run, why = f"--tasks math500,aime24,aime25,amc23 -o {shell_path(results)}", ""
    return f"Next: s2r evaluate {shell_path(output_dir)} {run}{why}"
