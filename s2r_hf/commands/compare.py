"""`s2r compare RESULTS...`: several evaluation runs as one Markdown table and a grouped bar chart."""

from __future__ import annotations

import argparse

HELP = "compare evaluation runs (results.json of s2r evaluate): a Markdown table with training tokens, and a bar chart"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files (or their folders)")
    parser.add_argument(
        "--label", action="append", dest="labels", metavar="NAME", help="name of each run, in order (repeat)"
    )
    parser.add_argument("--metric", help="show one metric only (e.g. pass@1)")
    parser.add_argument(
        "--group-seeds",
        action="store_true",
        help="runs sharing a label are one arm's training seeds: one row, their mean and an interval over seeds and "
        "problems",
    )
    parser.add_argument(
        "--reference", metavar="LABEL", help="the run (or arm) the others are compared with (default: the first)"
    )
    parser.add_argument("-o", "--output", help="write the table to this Markdown file")
    parser.add_argument("--chart", help="write the grouped bar chart to this PNG file")


def run(args: argparse.Namespace) -> int:
    from s2r_hf.evaluation.compare import check_outputs, compare_results

    check_outputs(args.output, args.chart, args.results)  # before reading anything: refused in one line
    comparison = compare_results(
        args.results, args.labels, metric=args.metric, group_seeds=args.group_seeds, reference=args.reference
    )
    comparison.write(args.output, args.chart)
    print(comparison.markdown)
    for what, path in (("table", args.output), ("chart", args.chart)):
        if path is not None:
            print(f"{what} written to {path}")
    return 0
