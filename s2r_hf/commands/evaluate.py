"""`s2r evaluate MODEL --tasks math500,aime24 [--preset paper]`: score a model on the math benchmarks with lighteval."""

from __future__ import annotations

import argparse

HELP = "evaluate a model on MATH500, AIME24/25, AMC23, Minerva and OlympiadBench with lighteval (paper's protocol)"


def evaluation_options():
    from s2r_hf.core.options import options_of
    from s2r_hf.evaluation.runner import EvaluationConfig

    return options_of(EvaluationConfig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import add_arguments as add_options

    parser.add_argument("model", metavar="MODEL", help="model folder, Hub id, or (--backend custom) a .py model file")
    add_options(parser, evaluation_options())
    parser.add_argument(
        "--data",
        action="append",
        metavar="TASK=PATH",
        help="read a benchmark from a local file or folder instead of its Hub dataset (repeatable)",
    )
    parser.add_argument("-o", "--output-dir", help="results folder to write (default: eval-<model name>)")
    parser.add_argument("--overwrite", action="store_true", help="replace a results folder s2r evaluate wrote")
    hub = parser.add_argument_group("publishing (--push-to-hub)")
    hub.add_argument("--push-to-hub", action="store_true", help="push the results to the repos named below")
    hub.add_argument("--results-repo", help="dataset repo collecting runs, one config per run")
    hub.add_argument("--model-repo", help="model repo whose card gets a model-index entry per benchmark")
    hub.add_argument("--subset-repo", help="subset dataset repo (from s2r publish) whose card shows the results")
    hub.add_argument("--subset-config", help="the subset, when --subset-repo holds several")
    hub.add_argument(
        "--token", help="Hub token with write access (default: HF_TOKEN or the stored `hf auth login` token)"
    )


def run(args: argparse.Namespace) -> int:
    from s2r_hf.core.errors import InputError
    from s2r_hf.core.options import build, given
    from s2r_hf.evaluation.runner import EvaluationConfig, evaluate_model

    targets = {"results_repo": args.results_repo, "model_repo": args.model_repo, "subset_repo": args.subset_repo}
    if args.push_to_hub and not any(targets.values()):
        raise InputError("--push-to-hub needs at least one of --results-repo, --model-repo, --subset-repo")
    if any(targets.values()) and not args.push_to_hub:
        raise InputError("--results-repo, --model-repo and --subset-repo are used with --push-to-hub; add it")
    if args.push_to_hub:
        from s2r_hf.evaluation.publish import check_push_results

        # Online, a token the Hub accepts with write access: a doomed push fails now, not after an hour of generation.
        check_push_results(token=args.token, **targets)
    config = build(EvaluationConfig, given(args, evaluation_options()))
    result = evaluate_model(
        args.model,
        args.output_dir,
        data=args.data,
        overwrite=args.overwrite,
        command=args.command_line,
        config=config,
    )
    print(result.markdown)
    print(f"results written to {result.output_dir}")
    if args.push_to_hub:
        from s2r_hf.evaluation.publish import push_results

        pushed = push_results(result.output_dir, subset_config=args.subset_config, token=args.token, **targets)
        for target, commit in pushed.items():
            state = f"commit {commit.commit}" if commit.changed else "unchanged"
            print(f"{target}: {commit.url} ({state})")
    return 0
