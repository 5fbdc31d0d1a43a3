"""`s2r score POOL -o SCORED_DIR`: build the pool and add trace length, rethink count and difficulty."""

from __future__ import annotations

import argparse

HELP = "score a pool: trace length, rethink count and difficulty for every example"


# --help sections, by the `group` of the ScoreConfig fields.
TITLES = {
    "source": "source",
    "pool": "pool",
    "scores": "scores",
    "judge": "judge (with --difficulty judge; the settings of s2r_hf.signals.judge.scorer.JudgeConfig)",
    "sampled": "sampled rollouts (with --difficulty sampled; s2r_hf.signals.sampled.config.SampledConfig)",
    "hygiene": "hygiene (benchmark decontamination, near-duplicate questions: s2r_hf.hygiene)",
}


def score_options():
    """The flags of `s2r score`: every field of ScoreConfig and of its nested scorer configs (s2r_hf.core.options)."""
    from s2r_hf.core.options import options_of
    from s2r_hf.pipeline.score import ScoreConfig

    return options_of(ScoreConfig)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from s2r_hf.core.options import add_arguments as add_options

    parser.add_argument(
        "pool", help="Hub dataset id (e.g. open-r1/OpenR1-Math-220k), local folder, or jsonl/json/parquet/csv file"
    )
    parser.add_argument("-o", "--output", required=True, help="folder to write the scored pool to (Hub layout)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output folder if s2r wrote it")
    add_options(parser, score_options(), titles=TITLES)
    parser.add_argument(  # ScoreConfig.benchmark_data, repeatable here (one flag per benchmark)
        "--benchmark-data", action="append", metavar="NAME=PATH", default=argparse.SUPPRESS,
        help="read benchmark NAME of --decontaminate from a local file or folder instead of the Hub (repeatable)",
    )  # fmt: skip


def config_from_args(args: argparse.Namespace):
    """The ScoreConfig the command line asks for: the flags given, the dataclass defaults for the rest."""
    from s2r_hf.core.options import build, given
    from s2r_hf.pipeline.score import ScoreConfig

    values = given(args, score_options())
    if "benchmark_data" in values:  # the repeated flag's NAME=PATH items, as ScoreConfig holds them
        values["benchmark_data"] = ",".join(values["benchmark_data"])
    return build(ScoreConfig, {**values, "source": args.pool})


def run(args: argparse.Namespace) -> int:
    from s2r_hf.commands.summary import format_table, shown_path
    from s2r_hf.core.folders import check_writable
    from s2r_hf.outputs.artifacts import write_scored_pool
    from s2r_hf.pipeline.score import score_pool_with_rollouts

    config = config_from_args(args)
    inputs = [args.pool, config.sampled_difficulty]  # never written over
    check_writable(args.output, args.overwrite, inputs=inputs, kind="scored_pool")
    pool, s2r, rollouts = score_pool_with_rollouts(config, command=args.command_line)
    write_scored_pool(pool, s2r, args.output, overwrite=args.overwrite, inputs=inputs, rollouts=rollouts)
    print(format_table(["pool", "rows"], pool_rows_summary(s2r)))
    print()
    print(score_columns_summary(pool))
    if s2r["difficulty"].get("scorer") == "sampled":
        print()
        print(pass_rate_summary(s2r["difficulty"]))
    print(f"\nscored pool written to {shown_path(args.output)}")
    print(next_after_scoring(args.output))
    return 0


def subset_name_for(scored: str) -> str:
    """The subset folder the `Next:` line suggests: limo-scored -> limo-select10, anything else -> NAME-select10."""
    from pathlib import Path

    name = Path(scored).name
    return (name.removesuffix("-scored") if name.endswith("-scored") and name != "-scored" else name) + "-select10"


def next_after_scoring(scored: str) -> str:
    from s2r_hf.commands.summary import shell_path, shown_path, sibling

    subset = sibling(scored, subset_name_for(shown_path(scored)))
    return f"Next: s2r select {shell_path(scored)} -o {shell_path(subset)} --ratio 0.1"


def pass_rate_summary(difficulty: dict) -> str:
    """The sampled scorer's figures: mean pass rate, questions never and always solved, capped completions."""
    from s2r_hf.core.numbers import plain_number

    completions = difficulty["completions"]
    capped = difficulty["capped_completions"]
    share = f" ({100 * capped / completions:.1f}%, counted wrong)" if completions else ""
    rows = difficulty["rows_scored"]
    return (
        f"pass rate of {difficulty['rollouts']} completions per question: mean "
        f"{plain_number(difficulty['mean_pass_rate'])} over {rows} questions; never solved "
        f"{difficulty['unsolved_rows']}, always solved {difficulty['solved_by_all_rows']}; capped at "
        f"{difficulty['max_new_tokens']} new tokens: {capped} of {completions} completions{share}"
    )


def pool_rows_summary(s2r: dict) -> list[list]:
    dropped = [[f"dropped: {reason}", count] for reason, count in s2r["dropped"].items()]
    return [["read", s2r["rows_in"]], *dropped, ["scored", s2r["rows"]]]


def score_columns_summary(pool) -> str:
    from s2r_hf.commands.summary import column_stats, format_table
    from s2r_hf.core.columns import DIFFICULTY, PASS_RATE, RETHINK_COUNT, TRACE_LENGTH

    names = (TRACE_LENGTH, RETHINK_COUNT, DIFFICULTY) + ((PASS_RATE,) if PASS_RATE in pool.column_names else ())
    rows = [[name, column_stats(pool, name)] for name in names]
    return format_table(["column", "mean (min-max)"], rows)
