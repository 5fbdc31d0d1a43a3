"""`s2r select SCORED_DIR -o SUBSET_DIR`: choose the subset from a scored pool and write it with its card."""

from __future__ import annotations

import argparse

HELP = "select a subset of a scored pool (joint rank of difficulty and length, or a baseline)"


def select_options():
    """The flags of `s2r select`: every field of SelectConfig (s2r_hf.core.options)."""
    from s2r_hf.core.options import options_of
    from s2r_hf.selection import SelectConfig

    return options_of(SelectConfig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import add_arguments as add_options

    parser.add_argument("scored", help="folder written by `s2r score`")
    parser.add_argument("-o", "--output", required=True, help="folder to write the subset to (Hub layout)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output folder if s2r wrote it")
    add_options(parser, select_options(), exclusive=(("ratio", "k", "token_budget"),))
    parser.add_argument(
        "--tokenizer",
        help="with --token-budget: the student model's tokenizer (Hub id or folder) whose chat template the trainer "
        "applies (default: the tokenizer the scored pool's lengths were counted with)",
    )
    parser.add_argument("--repo-id", help="Hub repo the subset is meant for, shown in the card's example")


def config_from_args(args: argparse.Namespace):
    from s2r_hf.core.options import build, given
    from s2r_hf.selection import SelectConfig, check_options_fit

    typed = given(args, select_options())
    config = build(SelectConfig, typed)
    check_options_fit(config.strategy, typed)  # a flag typed at its default is refused too, as an experiment's key is
    return config


def run(args: argparse.Namespace) -> int:
    from s2r_hf.commands.summary import next_after_subset, shown_path
    from s2r_hf.core.errors import InputError
    from s2r_hf.core.folders import check_writable
    from s2r_hf.outputs.artifacts import load_scored_pool, write_subset

    config = config_from_args(args)
    if args.repo_id is not None:
        check_repo_id(args.repo_id)
    if args.tokenizer is not None and config.token_budget is None:
        raise InputError("--tokenizer counts the tokens of --token-budget; give --token-budget N, or drop --tokenizer")
    check_writable(args.output, args.overwrite, inputs=[args.scored], kind="subset")
    tokenizer = None
    if config.token_budget is not None and args.tokenizer is not None:
        from s2r_hf.selection import budget_tokenizer

        tokenizer = budget_tokenizer(args.tokenizer)  # before the pool is read: a wrong name is one line, at once
    pool, pool_s2r = load_scored_pool(args.scored)
    subset, _ = write_subset(
        pool,
        pool_s2r,
        config,
        args.output,
        overwrite=args.overwrite,
        command=args.command_line,
        repo_id=args.repo_id,
        inputs=[args.scored],
        tokenizer=tokenizer,
        pool_folder=args.scored,
    )
    print(subset_summary(pool, subset, config))
    if config.token_budget is not None:
        from s2r_hf.core.folders import read_card_metadata

        s2r = read_card_metadata(args.output)["s2r"]
        print(
            f"\ntrainer tokens: {s2r['tokens_taken']:,} within the budget of {config.token_budget:,} "
            f"(the chat template of {s2r['tokenizer']})"
        )
    print(f"\nsubset written to {shown_path(args.output)}")
    print(next_after_subset(args.scored, args.output))
    return 0


def check_repo_id(repo_id: str) -> None:
    """--repo-id goes into the card's load_dataset example: refuse one `s2r publish` would refuse, before any work."""
    from s2r_hf.core.errors import InputError
    from s2r_hf.hub.checks import check_repo_id as check_hub_repo_id

    try:
        check_hub_repo_id(repo_id)
    except InputError as err:
        raise InputError(f"--repo-id {repo_id!r} is not a Hub repo id: {err}") from None


def subset_summary(pool, subset, config) -> str:
    from s2r_hf.commands.summary import column_stats, format_table
    from s2r_hf.core.columns import DIFFICULTY, RETHINK_COUNT, TRACE_LENGTH

    rows = [["rows", len(pool), len(subset)]]
    rows += [
        [name, column_stats(pool, name), column_stats(subset, name)]
        for name in (TRACE_LENGTH, RETHINK_COUNT, DIFFICULTY)
        if name in pool.column_names
    ]
    return format_table(["", "pool: mean (min-max)", f"{config.strategy} subset: mean (min-max)"], rows)
