"""`s2r score POOL -o SCORED_DIR`: build the pool and add trace length, rethink count and difficulty."""

from __future__ import annotations

import argparse

HELP = "score a pool: trace length, rethink count and difficulty for every example"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pool", help="Hub dataset id (e.g. open-r1/OpenR1-Math-220k), local folder, or jsonl/json/parquet/csv file"
    )
    parser.add_argument("-o", "--output", required=True, help="folder to write the scored pool to (Hub layout)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output folder if s2r wrote it")
    source = parser.add_argument_group("source")
    source.add_argument("--config", help="dataset config name, e.g. default / extended / all for OpenR1")
    source.add_argument("--split", default="train", help="split to read")
    source.add_argument("--revision", help="Hub revision (branch, tag or commit) to read")
    source.add_argument("--license", help="license of the source, written into the card")
    pool = parser.add_argument_group("pool")
    pool.add_argument(
        "--adapter",
        default="auto",
        choices=["auto", "openr1", "generic"],
        help="how to read the source; auto = openr1 when its columns are there",
    )
    pool.add_argument(
        "--openr1-mode",
        default="problem",
        choices=["problem", "generations"],
        help="openr1: one row per problem (its verified trace) or per verified generation",
    )
    pool.add_argument("--question-column", help="generic: the question column (else the pool needs 'messages')")
    pool.add_argument("--trace-column", help="generic: the reasoning trace column")
    pool.add_argument("--answer-column", help="generic: the final answer column")
    pool.add_argument("--id-column", help="generic: a unique id column (default: a hash of question and trace)")
    pool.add_argument("--require-final-answer", action="store_true", help="generic: drop traces without \\boxed{}")
    scores = parser.add_argument_group("scores")
    scores.add_argument("--tokenizer", help="tokenizer (Hub id or folder) to count trace tokens; default: characters")
    scores.add_argument(
        "--discount-repeated-steps",
        action="store_true",
        help="count a reasoning step (paragraph) that repeats an earlier one exactly only once",
    )
    scores.add_argument(
        "--difficulty",
        default="rollout",
        help="rollout (1 - verified-correct rollouts / rollouts), column:NAME, or judge",
    )
    scores.add_argument(
        "--flags-column", help="rollout: the per-rollout verification flags column (default correctness_math_verify)"
    )
    judge = parser.add_argument_group("judge (with --difficulty judge)")
    judge.add_argument("--judge", help="the judge model (Hub id or folder); default Qwen/Qwen2.5-1.5B-Instruct")
    judge.add_argument("--judge-revision", help="the judge model's revision")
    judge.add_argument("--judge-system-prompt", help="the judge's system prompt (default: the paper's)")
    judge.add_argument("--judge-max-question-tokens", type=int, help="cut longer questions (default 4096)")
    judge.add_argument("--judge-batch-tokens", type=int, help="token budget of a batch (default by device)")
    judge.add_argument("--judge-dtype", help="float32, bfloat16 or float16 (default: bf16 on GPU, float32 on CPU)")
    judge.add_argument("--judge-work-dir", help="folder of finished score chunks, so a killed run resumes")
    parser.add_argument("--num-proc", type=int, help="processes for the map steps (judge: one per GPU)")


def difficulty_options(args: argparse.Namespace) -> dict:
    name = args.difficulty.partition(":")[0]
    options = {}
    if args.flags_column:
        if name != "rollout":
            raise_usage(f"--flags-column applies to --difficulty rollout, not {args.difficulty!r}")
        options["flags_column"] = args.flags_column
    judge_options = {
        "model": args.judge,
        "revision": args.judge_revision,
        "system_prompt": args.judge_system_prompt,
        "max_question_tokens": args.judge_max_question_tokens,
        "batch_tokens": args.judge_batch_tokens,
        "dtype": args.judge_dtype,
        "work_dir": args.judge_work_dir,
    }
    given = {key: value for key, value in judge_options.items() if value is not None}
    if given and name != "judge":
        raise_usage(f"the --judge* options apply to --difficulty judge, not {args.difficulty!r}")
    options.update(given)
    return options


def raise_usage(message: str) -> None:
    from s2r_hf.errors import InputError

    raise InputError(message)


def run(args: argparse.Namespace) -> int:
    from s2r_hf.artifacts import write_scored_pool
    from s2r_hf.commands.summary import format_table
    from s2r_hf.folders import check_writable
    from s2r_hf.scoring import ScoreConfig, score_pool

    check_writable(args.output, args.overwrite, inputs=[args.pool], kind="scored_pool")
    config = ScoreConfig(
        source=args.pool,
        config=args.config,
        split=args.split,
        revision=args.revision,
        adapter=args.adapter,
        openr1_mode=args.openr1_mode,
        question_column=args.question_column,
        trace_column=args.trace_column,
        answer_column=args.answer_column,
        id_column=args.id_column,
        require_final_answer=args.require_final_answer,
        tokenizer=args.tokenizer,
        discount_repeated_steps=args.discount_repeated_steps,
        difficulty=args.difficulty,
        difficulty_options=difficulty_options(args),
        num_proc=args.num_proc,
        license=args.license,
    )
    pool, s2r = score_pool(config, command=args.command_line)
    path = write_scored_pool(pool, s2r, args.output, overwrite=args.overwrite, inputs=[args.pool])
    print(format_table(["pool", "rows"], pool_rows_summary(s2r)))
    print()
    print(score_columns_summary(pool))
    print(f"\nscored pool written to {path}")
    return 0


def pool_rows_summary(s2r: dict) -> list[list]:
    dropped = [[f"dropped: {reason}", count] for reason, count in s2r["dropped"].items()]
    return [["read", s2r["rows_in"]], *dropped, ["scored", s2r["rows"]]]


def score_columns_summary(pool) -> str:
    from s2r_hf.columns import DIFFICULTY, RETHINK_COUNT, TRACE_LENGTH
    from s2r_hf.commands.summary import column_stats, format_table

    rows = [[name, column_stats(pool, name)] for name in (TRACE_LENGTH, RETHINK_COUNT, DIFFICULTY)]
    return format_table(["column", "mean (min-max)"], rows)
