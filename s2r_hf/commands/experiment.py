"""`s2r experiment run|plan|report`: the paper's comparison (arms selected, trained, evaluated alike) in one command."""

from __future__ import annotations

import argparse
import logging

HELP = "run the paper's comparison: select, train and evaluate every arm of an experiment file, then report"

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import DefaultsHelpFormatter
    from s2r_hf.experiment.plan import FORMATS
    from s2r_hf.experiment.runner import STEP_NAMES

    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = sub.add_parser(
        "run",
        help="run every step that is not up to date (a killed run resumes; a changed setting re-runs what it affects)",
        formatter_class=DefaultsHelpFormatter,
    )
    plan = sub.add_parser(
        "plan",
        help="print one command per step with its dependencies (for Slurm, or a node per arm)",
        formatter_class=DefaultsHelpFormatter,
    )
    for action in (run, plan):
        action.add_argument("experiment", help="an experiment YAML file, or a shipped example's name (tiny-cpu, ...)")
        action.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a setting of the file by dotted key (train.model=./m, arms.joint.weight=0.5); repeatable",
        )
    run.add_argument("--only", nargs="+", metavar="ARM", help="run these arms only (and the pool, if needed)")
    run.add_argument(
        "--step",
        choices=STEP_NAMES,
        help="run this step only (what it needs must be done): one job of a scheduler's plan",
    )
    run.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="the train and evaluate steps of this training seed only (of arms with seeds): one job per seed",
    )
    plan.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text for people, json for scripts, arms: one arm name per line (a Slurm array's index)",
    )
    plan.add_argument(
        "--missing",
        action="store_true",
        help="only the steps not finished (after a failure), and the sbatch lines that resubmit only their arms "
        "(array indices of --format arms, as slurm-arms.sh reads them)",
    )
    report = sub.add_parser(
        "report",
        help="write the comparison table (Markdown, JSON) and the accuracy-vs-training-tokens chart",
        formatter_class=DefaultsHelpFormatter,
    )
    report.add_argument(
        "output",
        metavar="EXPERIMENT",
        help="the experiment's output folder, or the experiment (a YAML file or a shipped example's name, as for run)",
    )
    report.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the experiment file, as for run (output=FOLDER: where it ran)",
    )
    report.add_argument("--arms", nargs="+", metavar="ARM", help="these arms, in this order (default: all)")


def run(args: argparse.Namespace) -> int:
    return {"run": _run, "plan": _plan, "report": _report}[args.action](args)


def _run(args: argparse.Namespace) -> int:
    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.experiment.runner import run_experiment

    config = load_experiment(args.experiment, args.overrides)
    outcome = run_experiment(
        config,
        only=args.only,
        step=args.step,
        seed=args.seed,
        command=args.command_line,
        experiment=args.experiment,
        overrides=args.overrides,
    )
    print(outcome.report.markdown)
    print(f"ran {len(outcome.ran)} step(s), skipped {len(outcome.skipped)} up to date; output in {outcome.output_dir}")
    publication = outcome.publication
    if publication is not None:
        state = "published" if publication.changed else "already up to date on the Hub"
        print(f"\n{publication.experiment} {state}:")
        for what, url in publication.urls.items():
            print(f"  {what}: {url}")
        for arm, why in publication.skipped.items():
            print(f"  {arm}: not published ({why})")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.experiment.plan import plan_experiment, render_missing, render_plan

    config = load_experiment(args.experiment, args.overrides)
    planned = plan_experiment(config, args.experiment, args.overrides)
    if args.missing:
        print(render_missing(config, planned, args.experiment, args.overrides, args.format))
    else:
        print(render_plan(config, planned, args.format))
    return 0


def _report(args: argparse.Namespace) -> int:
    from s2r_hf.experiment.config import experiment_output
    from s2r_hf.experiment.report import build_report

    output = experiment_output(args.output, args.overrides)
    report = build_report(output, args.arms)
    report.write(output)
    print(report.markdown)
    print(f"report written to {output} (report.md, report.json, accuracy_vs_tokens.png)")
    return 0
