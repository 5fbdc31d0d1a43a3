"""`s2r demo`: the whole job, offline, on the embedded SYNTHETIC OpenR1-shaped pool: score, then select."""

from __future__ import annotations

import argparse

from s2r_hf.core.errors import InputError

HELP = "score and select the embedded synthetic OpenR1-shaped demo pool (offline; writes Hub-layout folders)"


# The subset sizes are --ratios; a row count or a token budget is `s2r select`'s.
_SIZES = ("ratio", "k", "token_budget")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import add_arguments as add_options
    from s2r_hf.core.options import options_of
    from s2r_hf.selection import SelectConfig

    parser.add_argument("-o", "--output", default="s2r-demo", help="folder to write the scored pool and subsets into")
    parser.add_argument("--overwrite", action="store_true", help="replace the folders an earlier demo run wrote")
    parser.add_argument(
        "--ratios", type=float, nargs="+", default=[0.1], help="subset sizes, as fractions of the pool in (0, 1]"
    )
    # The other selection settings are SelectConfig's own flags, as in `s2r select`.
    add_options(parser, [option for option in options_of(SelectConfig) if option.name not in _SIZES])


def select_configs(args: argparse.Namespace) -> dict:
    """Subset folder name -> SelectConfig, one per --ratios value; every value is checked before any work."""
    from s2r_hf.core.options import build, given, options_of
    from s2r_hf.selection import SelectConfig, check_options_fit

    settings = given(args, [option for option in options_of(SelectConfig) if option.name not in _SIZES])
    configs = [build(SelectConfig, {**settings, "ratio": ratio}) for ratio in args.ratios]
    check_options_fit(configs[0].strategy, settings)  # a flag typed at its default is refused too, as in s2r select
    named = {subset_folder_name(config.ratio): config for config in configs}
    if len(named) != len(configs):
        raise InputError(f"--ratios repeats a subset size: {args.ratios}")
    return named


def subset_folder_name(ratio: float) -> str:
    """openr1-select10 for 0.1, openr1-select2 for 0.02: the naming of the published subsets."""
    percent = round(ratio * 100, 6)
    if percent == 0:  # below a millionth of a percent: keep the digits rather than call it select0
        return f"openr1-select{ratio * 100:g}"
    return f"openr1-select{int(percent) if percent == int(percent) else percent}"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from s2r_hf.commands.score import score_columns_summary
    from s2r_hf.commands.select import subset_summary
    from s2r_hf.commands.summary import next_after_subset, shown_path
    from s2r_hf.core.folders import check_writable
    from s2r_hf.outputs.artifacts import write_scored_pool, write_subset
    from s2r_hf.pipeline.score import ScoreConfig, score_pool
    from s2r_hf.pool.demo import DEMO_LICENSE, DEMO_POOL_FILE
    from s2r_hf.selection import check_group_column

    if not args.output.strip():
        raise InputError("the output path is empty; name the folder to write the demo into, e.g. -o s2r-demo")
    output = Path(args.output)
    configs = select_configs(args)
    scored_dir = output / "openr1-synthetic-scored"
    check_writable(scored_dir, args.overwrite, kind="scored_pool")
    for name in configs:
        check_writable(output / name, args.overwrite, kind="subset")

    command = args.command_line
    config = ScoreConfig(
        source=str(DEMO_POOL_FILE), adapter="openr1", difficulty="rollout", license=DEMO_LICENSE, synthetic=True
    )
    pool, pool_s2r = score_pool(config, command=command)
    for select_config in configs.values():  # before anything is written
        check_group_column(pool, select_config)
    # Name the embedded file portably rather than by where this installation put it.
    pool_s2r["source"]["name"] = f"s2r-hf embedded demo pool (s2r_hf/data/{DEMO_POOL_FILE.name}, synthetic)"
    write_scored_pool(pool, pool_s2r, scored_dir, overwrite=args.overwrite)
    pool_s2r = {**pool_s2r, "name": scored_dir.name}
    dropped = ", ".join(f"{count:,} {reason}" for reason, count in pool_s2r["dropped"].items()) or "none"
    print(f"SYNTHETIC demo pool: {pool_s2r['rows_in']:,} rows read, {pool_s2r['rows']:,} kept; dropped: {dropped}")
    print(score_columns_summary(pool))
    print(f"scored pool written to {shown_path(scored_dir)}\n")
    for name, select_config in configs.items():
        subset, _ = write_subset(
            pool,
            pool_s2r,
            select_config,
            output / name,
            overwrite=args.overwrite,
            command=command,
            inputs=[scored_dir],
            pool_folder=scored_dir,
        )
        print(subset_summary(pool, subset, select_config))
        print(f"subset written to {shown_path(output / name)}\n")
    first = output / next(iter(configs))
    print(f'load it with: datasets.load_dataset("{shown_path(first)}", split="train")')
    print(next_after_subset(scored_dir, first))
    return 0
