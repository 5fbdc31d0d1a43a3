"""`s2r demo`: the whole job, offline, on the embedded SYNTHETIC OpenR1-shaped pool: score, then select."""

from __future__ import annotations

import argparse

HELP = "score and select the embedded synthetic OpenR1-shaped demo pool (offline; writes Hub-layout folders)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="s2r-demo", help="folder to write the scored pool and subsets into")
    parser.add_argument("--overwrite", action="store_true", help="replace the folders an earlier demo run wrote")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.1], help="subset sizes, as fractions")
    parser.add_argument("--weight", type=float, default=0.25, help="weight on the difficulty rank")


def subset_folder_name(ratio: float) -> str:
    """openr1-select10 for 0.1, openr1-select2 for 0.02: the naming of the published subsets."""
    percent = round(ratio * 100, 6)
    return f"openr1-select{int(percent) if percent == int(percent) else percent}"


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from s2r_hf.artifacts import write_scored_pool, write_subset
    from s2r_hf.commands.score import score_columns_summary
    from s2r_hf.commands.select import subset_summary
    from s2r_hf.demo_pool import DEMO_LICENSE, DEMO_POOL_FILE
    from s2r_hf.folders import check_writable
    from s2r_hf.scoring import ScoreConfig, score_pool
    from s2r_hf.selection import SelectConfig

    output = Path(args.output)
    configs = {subset_folder_name(ratio): SelectConfig(ratio=ratio, weight=args.weight) for ratio in args.ratios}
    scored_dir = output / "openr1-synthetic-scored"
    check_writable(scored_dir, args.overwrite, kind="scored_pool")
    for name in configs:
        check_writable(output / name, args.overwrite, kind="subset")

    command = args.command_line
    config = ScoreConfig(
        source=str(DEMO_POOL_FILE), adapter="openr1", difficulty="rollout", license=DEMO_LICENSE, synthetic=True
    )
    pool, pool_s2r = score_pool(config, command=command)
    # Name the embedded file portably rather than by where this installation put it.
    pool_s2r["source"]["name"] = f"s2r-hf embedded demo pool (s2r_hf/data/{DEMO_POOL_FILE.name}, synthetic)"
    write_scored_pool(pool, pool_s2r, scored_dir, overwrite=args.overwrite)
    pool_s2r = {**pool_s2r, "name": scored_dir.name}
    print(
        f"SYNTHETIC demo pool: {pool_s2r['rows_in']} rows read, {pool_s2r['rows']} kept, dropped {pool_s2r['dropped']}"
    )
    print(score_columns_summary(pool))
    print(f"scored pool written to {scored_dir}\n")
    for name, select_config in configs.items():
        subset, path = write_subset(
            pool, pool_s2r, select_config, output / name, overwrite=args.overwrite, command=command, inputs=[scored_dir]
        )
        print(subset_summary(pool, subset, select_config))
        print(f"subset written to {path}\n")
    print(f'load it with: datasets.load_dataset("{output / next(iter(configs))}", split="train")')
    return 0
