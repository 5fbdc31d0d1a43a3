"""`s2r verify SUBSET [--pool POOL]`: select again what a subset's card records, and say whether it gives the same rows.

Exit codes: 0 verified, 1 not verified (the report says where and why), 2 bad input (one line).
"""

from __future__ import annotations

import argparse

HELP = "check that a subset (folder or Hub repo) is exactly what its recorded selection gives from its recorded pool"
FORMATS = ("text", "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("subset", metavar="SUBSET", help="folder written by `s2r select`, or a Hub dataset repo id")
    parser.add_argument(
        "--pool",
        help="the scored folder to select from, or a source (Hub id, folder, file) to score again with the recorded "
        "settings (default: the scored folder the subset's card names)",
    )
    parser.add_argument("--revision", help="branch, tag or commit of the subset's Hub repo (default: main)")
    parser.add_argument(
        "--config", help="the subset to verify in a repo of several (`s2r publish` with several folders)"
    )
    parser.add_argument(
        "--pool-revision", help="with --pool SOURCE: the source's Hub revision (default: the recorded one)"
    )
    parser.add_argument(
        "--token", help="Hub token for a private subset repo (default: HF_TOKEN or the stored `hf auth login` token)"
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="text for people, json for scripts")


def run(args: argparse.Namespace) -> int:
    import json

    from s2r_hf.outputs.verify import verify_subset

    report = verify_subset(
        args.subset,
        args.pool,
        revision=args.revision,
        pool_revision=args.pool_revision,
        token=args.token,
        config=args.config,
    )
    if args.format == "json":
        print(json.dumps(report.describe(), indent=2, default=str))
    else:
        print("\n".join(report.lines()))
    return 0 if report.verified else 1
