"""`s2r select SCORED_DIR -o SUBSET_DIR`: choose the subset from a scored pool and write it with its card."""

from __future__ import annotations

import argparse

from s2r_hf.selection import STRATEGIES

HELP = "select a subset of a scored pool (joint rank of difficulty and length, or a baseline)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scored", help="folder written by `s2r score`")
    parser.add_argument("-o", "--output", required=True, help="folder to write the subset to (Hub layout)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output folder if s2r wrote it")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--ratio", type=float, default=0.1, help="fraction of the pool to keep, rounded half up")
    size.add_argument("--k", type=int, help="number of rows to keep")
    parser.add_argument("--weight", type=float, default=0.25, help="joint: weight on the difficulty rank (0 = longest)")
    parser.add_argument("--strategy", default="joint", choices=STRATEGIES, help="how to choose")
    parser.add_argument("--seed", type=int, default=0, help="random/diverse: seed")
    parser.add_argument("--group-column", default="problem_type", help="diverse: column to stratify by")
    parser.add_argument("--repo-id", help="Hub repo the subset is meant for, shown in the card's example")


def run(args: argparse.Namespace) -> int:
    from s2r_hf.artifacts import load_scored_pool, write_subset
    from s2r_hf.folders import check_writable
    from s2r_hf.selection import SelectConfig

    config = SelectConfig(
        ratio=args.ratio,
        k=args.k,
        weight=args.weight,
        strategy=args.strategy,
        seed=args.seed,
        group_column=args.group_column,
    )
    check_writable(args.output, args.overwrite, inputs=[args.scored], kind="subset")
    pool, pool_s2r = load_scored_pool(args.scored)
    subset, path = write_subset(
        pool,
        pool_s2r,
        config,
        args.output,
        overwrite=args.overwrite,
        command=args.command_line,
        repo_id=args.repo_id,
        inputs=[args.scored],
    )
    print(subset_summary(pool, subset, config))
    print(f"\nsubset written to {path}")
    return 0


def subset_summary(pool, subset, config) -> str:
    from s2r_hf.columns import DIFFICULTY, RETHINK_COUNT, TRACE_LENGTH
    from s2r_hf.commands.summary import column_stats, format_table

    rows = [["rows", len(pool), len(subset)]]
    rows += [
        [name, column_stats(pool, name), column_stats(subset, name)]
        for name in (TRACE_LENGTH, RETHINK_COUNT, DIFFICULTY)
        if name in pool.column_names
    ]
    return format_table(["", "pool: mean (min-max)", f"{config.strategy} subset: mean (min-max)"], rows)
