"""`s2r inspect SCORED_DIR [--subset SUBSET_DIR] [-o DIR]`: the pool report, pictures first
(s2r_hf.outputs.inspect writes it, s2r_hf.outputs.pool_report computes and draws it)."""

from __future__ import annotations

import argparse

HELP = (
    "report on a scored pool: difficulty against length by quadrant, correlations, the judge against rollouts and "
    "sampled pass rates"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scored", help="folder written by `s2r score`")
    parser.add_argument("--subset", help="a subset `s2r select` made from this pool: its rows are marked")
    parser.add_argument(
        "-o",
        "--output",
        default=argparse.SUPPRESS,  # the default depends on SCORED: said in the help, not printed as None
        help="folder for report.md, report.json and the PNGs (default: SCORED-report beside SCORED)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the output folder if `s2r inspect` wrote it")


def run(args: argparse.Namespace) -> int:
    from s2r_hf.commands.summary import format_table, shown_path
    from s2r_hf.core.numbers import plain_number
    from s2r_hf.outputs.inspect import write_report
    from s2r_hf.outputs.pool_report import REPORT_MD

    output = getattr(args, "output", None)
    path, report = write_report(args.scored, output, subset=args.subset, overwrite=args.overwrite)
    rows = [
        [name, plain_number(count), f"{100 * count / report['rows']:.1f}%"]
        for name, count in report["quadrants"].items()
    ]
    print(format_table(["quadrant", "rows", "share"], rows))
    print()

    def shown(value):
        return "undefined" if value is None else f"{value:.3f}"

    pairs = [[pair, shown(value)] for pair, value in report["spearman"].items()]
    for key, reference in (("judge_vs_rollout", "rollout"), ("judge_vs_sampled", "sampled")):
        judge = report.get(key)
        if judge:
            pairs.append([f"judge ~ {reference} difficulty ({judge['rows']} rows)", shown(judge["spearman"])])
            pairs.append([f"judge AUC, never vs always solved ({reference})", shown(judge["auc_never_vs_always"])])
    held_out = report.get("judge_held_out")
    if held_out and held_out.get("rows"):
        for judge in ("calibrated", "base"):
            pairs.append([f"{judge} judge ~ held-out target ({held_out['rows']} rows)",
                          shown(held_out[judge]["spearman"])])  # fmt: skip
            pairs.append([f"{judge} judge AUC on held-out rows", shown(held_out[judge]["auc_never_vs_always"])])
    elif held_out:
        pairs.append(["calibrated judge on held-out rows", "absent: see report.md"])
    print(format_table(["signals", "Spearman"], pairs))
    print(f"\nreport written to {shown_path(path / REPORT_MD)}")
    return 0
