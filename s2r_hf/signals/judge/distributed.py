"""The judge difficulty across processes and machines: one shard of the pool per rank, then one checked merge.

    torchrun --nnodes 4 --nproc_per_node 8 ... -m s2r_hf.signals.judge.distributed score \\
        --pool POOL --out SHARDS --output SCORED \\
        --model Qwen/Qwen2.5-1.5B-Instruct --work-dir WORK

Every rank scores `datasets.distributed.split_dataset_by_node(pool, rank, world_size)` with the same code as the
single-machine scorer (s2r_hf.signals.judge.scorer) on `cuda:{LOCAL_RANK}` (or the CPU) and writes its scores, keyed by
`s2r_id`, to `SHARDS/difficulty-RRRRR-of-WWWWW.parquet` (written to a temporary name, then renamed: a shard file is
always whole). After a barrier, rank 0 merges: it checks that every row of the pool was scored exactly once (no id
missing, none twice, none foreign, every shard from this same pool and judge settings) and saves the scored pool.

Scores travel through files rather than collectives so that finished work survives a crash elsewhere: rerun the same
command and ranks whose shard exists return at once, while the others resume from `--work-dir`
(s2r_hf.signals.judge.store).
The process group (gloo) only provides the barrier. `merge` redoes the merge alone, e.g. after ranks ran as separate
jobs: `score --rank 3,7 --world-size 8` scores the given ranks in one process without torchrun (a Slurm array task
passes `--rank $SLURM_ARRAY_TASK_ID`). Each score command leaves its options in `SHARDS/score-command.json`, so that a
merge which finds shards missing, damaged or left by another run lists those ranks and prints the one command that
scores only them, then merges. Input problems (a missing or foreign shard, a bad setting, an unreachable judge) end in
one line and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shlex
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES
from s2r_hf.core.entry import run_entry
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.core.folders import write_table_atomically
from s2r_hf.signals.judge.model import resolve_judge
from s2r_hf.signals.judge.scorer import JudgeConfig, judge_difficulty_batch
from s2r_hf.signals.judge.store import stable_digest

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

SHARD_NAME = "difficulty-{rank:05d}-of-{world_size:05d}.parquet"
_RUN_KEY = b"s2r_run"  # parquet schema metadata: which pool and judge settings a shard belongs to
_POOL_KEY = b"s2r_pool"  # parquet schema metadata: the datasets fingerprint of the pool the shard scored
# Beside the shards: how they were scored (the command's options, its folder, the run), so that a merge finding some
# missing can print the command that scores only those. Written by every score command; the last one's is kept.
SCORE_COMMAND_FILE = "score-command.json"
MODULE_COMMAND = ("python", "-m", "s2r_hf.signals.judge.distributed")


def run_fingerprint(pool: Dataset, identity: str, config: JudgeConfig) -> str:
    """Names one scoring run: the pool's content, the judge's identity and the settings that change scores."""
    return stable_digest({"pool": pool._fingerprint, "identity": identity, **config.score_settings()})[:32]


def shard_path(out_dir: str | os.PathLike, rank: int, world_size: int) -> Path:
    return Path(out_dir) / SHARD_NAME.format(rank=rank, world_size=world_size)


def _shard_run(path: Path) -> str | None:
    """The run a shard file belongs to (None: written without one); unreadable is an InputError naming the file."""
    return _shard_metadata(path).get(_RUN_KEY)


def _shard_metadata(path: Path) -> dict[bytes, str]:
    """A shard file's s2r schema metadata, decoded; unreadable is an InputError naming the file."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError(
            f"the shard file {path} cannot be read ({err}); it is damaged or not a shard. Delete it and rerun the "
            "scoring of its rank"
        ) from err
    return {key: value.decode() for key, value in metadata.items() if key in (_RUN_KEY, _POOL_KEY)}


def score_shard(
    pool: Dataset,
    config: JudgeConfig,
    out_dir: str | os.PathLike,
    *,
    rank: int,
    world_size: int,
    local_rank: int | None = None,
    command: list[str] | None = None,
) -> Path:
    """Score this rank's part of the pool and write it to `out_dir`; return the shard file's path.

    `local_rank` picks the GPU on this machine (`cuda:{local_rank % n_gpus}`); it defaults to `rank`.
    A shard already written by an identical run is kept, not rescored. `command` (the score command's words after
    `score`, without its rank flags) is recorded beside the shards for the merge to print when ranks are missing.
    """
    from datasets.distributed import split_dataset_by_node

    if not 0 <= rank < world_size:
        raise InputError(f"rank must be in [0, world_size); got rank {rank} with world_size {world_size}")
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InputError(f"the shard folder {str(out_dir)!r} is a file; give a folder for the per-rank shard files")
    question_column = config.question_column or MESSAGES
    for column in (ID, question_column):
        if column not in pool.column_names:
            raise ColumnError(f"distributed scoring needs the column {column!r}; pool columns: {pool.column_names}")
    folder, identity = resolve_judge(config.model, config.revision)
    run = run_fingerprint(pool, identity, config)
    path = shard_path(out_dir, rank, world_size)
    if command is not None:
        record_score_command(out_dir, command, run=run, world_size=world_size)
    if path.exists():
        try:
            finished = _shard_run(path) == run
        except InputError as err:
            logger.warning("rank %d: %s; scoring it again", rank, err)
            finished = False
        if finished:
            logger.info("rank %d: shard %s already scored by this run; keeping it", rank, path)
            return path
    worker_config = dataclasses.replace(config, model=folder, revision=None)
    shard = split_dataset_by_node(pool, rank=rank, world_size=world_size).select_columns([ID, question_column])
    ids: list[str] = []
    scores: list[float] = []
    for batch in shard.iter(batch_size=config.chunk_rows):
        scored = judge_difficulty_batch(
            batch, local_rank if local_rank is not None else rank, config=worker_config, identity=identity
        )
        ids.extend(batch[ID])
        scores.extend(scored[DIFFICULTY])
    _write_shard(path, ids, scores, run, pool._fingerprint)
    logger.info("rank %d of %d: scored %d rows into %s", rank, world_size, len(ids), path)
    return path


def _write_shard(path: Path, ids: list[str], scores: list[float], run: str, pool_fingerprint: str) -> None:
    import pyarrow as pa

    table = pa.table({ID: pa.array(ids, pa.string()), DIFFICULTY: pa.array(scores, pa.float64())})
    table = table.replace_schema_metadata({_RUN_KEY: run.encode(), _POOL_KEY: pool_fingerprint.encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table_atomically(path, table)


def record_score_command(out_dir: str | os.PathLike, command: list[str], *, run: str, world_size: int) -> Path:
    """Write SCORE_COMMAND_FILE beside the shards: the command's words (secrets redacted), where it ran, its run
    and world size, and whether it ran as a Slurm array task (then the reprint is an `sbatch --array` line too)."""
    from s2r_hf.core.folders import write_json_atomically
    from s2r_hf.core.redaction import redact_argv

    record = {
        "command": redact_argv(without_rank_flags(command)),
        "cwd": os.getcwd(),
        "run": run,
        "world_size": world_size,
        "slurm_array": "SLURM_ARRAY_TASK_ID" in os.environ,
    }
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return write_json_atomically(Path(out_dir) / SCORE_COMMAND_FILE, record, indent=2)


def read_score_command(out_dir: str | os.PathLike) -> dict | None:
    """The record of the last score command run into `out_dir` (None when there is none or it cannot be read: the
    merge then names the ranks without a command to paste)."""
    from s2r_hf.core.records import read_json_object

    path = Path(out_dir) / SCORE_COMMAND_FILE
    if not path.is_file():
        return None
    try:
        record = read_json_object(path, what="the record of a score command")
    except InputError as err:
        logger.warning("%s", err)
        return None
    command = record.get("command")
    return record if isinstance(command, list) and all(isinstance(word, str) for word in command) else None


def without_rank_flags(words: list[str]) -> list[str]:
    """The words of a score command without `--rank R` and `--world-size W` (in either spelling)."""
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--rank", "--world-size"):
            skip = True
        elif not word.startswith(("--rank=", "--world-size=")):
            kept.append(word)
    return kept


def unusable_shards(paths: list[Path], expected_run: str | None, *, expected: bool = False) -> dict[int, str]:
    """{rank: why its shard cannot be merged}: missing, unreadable, or from another run than `expected_run` (the run
    the caller expects when `expected`, else the last score command's when some shard has it, else the run most
    shards come from)."""
    problems: dict[int, str] = {}
    runs: dict[int, str | None] = {}
    for rank, path in enumerate(paths):
        if not path.exists():
            problems[rank] = "missing"
            continue
        try:
            runs[rank] = _shard_run(path)
        except InputError:
            problems[rank] = "damaged"
    if expected_run not in runs.values() and not expected:
        expected_run = None  # a record left by an earlier command that scored none of these shards decides nothing
    if expected_run is None and runs:
        counts = Counter(runs.values())
        expected_run = max(counts, key=lambda run: (counts[run], run is not None))
    problems.update({rank: "another run" for rank, run in runs.items() if run != expected_run})
    return dict(sorted(problems.items()))


def describe_unusable(
    problems: dict[int, str],
    out_dir: str | os.PathLike,
    world_size: int,
    recorded: dict | None,
    merge_command: list[str] | None,
) -> str:
    """One line: which ranks' shards cannot be merged and why, then the command that scores only those and merges."""
    by_reason: dict[str, list[int]] = {}
    for rank, reason in problems.items():
        by_reason.setdefault(reason, []).append(rank)
    parts = []
    if "missing" in by_reason:
        parts.append(
            f"{len(by_reason['missing'])} of {world_size} shards are missing (ranks {_ranks(by_reason['missing'])})"
        )
    if "damaged" in by_reason:
        names = [shard_path(out_dir, rank, world_size).name for rank in by_reason["damaged"]]
        parts.append(
            f"{len(names)} damaged (ranks {_ranks(by_reason['damaged'])}: {', '.join(names[:3])} cannot be read)"
        )
    if "another run" in by_reason:
        parts.append(
            f"{len(by_reason['another run'])} come from different runs (another pool or judge setting; ranks "
            f"{_ranks(by_reason['another run'])})"
        )
    present = sorted(path.name for path in Path(out_dir).glob("difficulty-*-of-*.parquet"))
    other_sizes = [name for name in present if not name.endswith(f"-of-{world_size:05d}.parquet")]
    text = f"in {out_dir}: " + "; ".join(parts)
    if other_sizes:
        text += f" (shard files of another world size there: {other_sizes[:6]}; was another world size used?)"
    ranks = list(problems)
    rerun = rerun_commands(recorded, ranks, world_size, merge_command)
    if rerun is None:
        flags = f"--rank {','.join(map(str, ranks))} --world-size {world_size}"
        return (
            f"{text}. Score only those ranks with the score command's options and `{flags}` (finished ranks are "
            "kept), then merge again"
        )
    text += f". Score only those ranks (finished ones are kept), then merge: {rerun['local']}"
    if "slurm" in rerun:
        text += (
            f" ; or, as a Slurm array (with your first submission's sbatch options): {rerun['slurm']} , then the "
            "merge once those tasks end"
        )
    return text


def _ranks(ranks: list[int]) -> str:
    return str(ranks[:20])[:-1] + (f", ... {len(ranks) - 20} more]" if len(ranks) > 20 else "]")


def rerun_commands(
    recorded: dict | None, ranks: list[int], world_size: int, merge_command: list[str] | None
) -> dict[str, str] | None:
    """{"local": the shell line scoring `ranks` in one process then merging, "slurm": the `sbatch --array` line when
    the shards were scored by array tasks}; None without a record of the score command."""
    if recorded is None:
        return None
    base = [*MODULE_COMMAND, *recorded["command"]]
    where = recorded.get("cwd")
    prefix = f"cd {shlex.quote(where)} && " if isinstance(where, str) and where != os.getcwd() else ""
    listed = ",".join(map(str, ranks))
    local = shlex.join([*base, "--rank", listed, "--world-size", str(world_size)])
    merge = f" && {shlex.join([*MODULE_COMMAND, 'merge', *merge_command])}" if merge_command else ""
    commands = {"local": f"{prefix}{local}{merge}"}
    if recorded.get("slurm_array"):
        task = f"{shlex.join(base)} --rank $SLURM_ARRAY_TASK_ID --world-size {world_size}"
        chdir = f"--chdir={shlex.quote(where)} " if isinstance(where, str) else ""
        commands["slurm"] = f"sbatch --array={listed} {chdir}--wrap {shlex.quote(task)}"
    return commands


def merge_shards(
    pool: Dataset,
    out_dir: str | os.PathLike,
    world_size: int,
    *,
    expected_run: str | None = None,
    merge_command: list[str] | None = None,
) -> Dataset:
    """The pool with `s2r_difficulty` from the shards of `world_size` ranks, after checking each row scored once.

    Shards missing, unreadable or left by another run are listed by rank in one InputError, with the command that
    scores only those ranks (from the record of the score command, when one was run here) followed by
    `merge_command` (this merge's own words after `merge`), so that pasting it completes the merge."""
    import pyarrow.parquet as pq

    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise InputError(f"world_size must be a positive integer (the number of ranks that scored), got {world_size!r}")
    paths = [shard_path(out_dir, rank, world_size) for rank in range(world_size)]
    recorded = read_score_command(out_dir)
    problems = unusable_shards(paths, expected_run or (recorded or {}).get("run"), expected=expected_run is not None)
    if problems:
        raise InputError(describe_unusable(problems, out_dir, world_size, recorded, merge_command))
    metadata = {path.name: _shard_metadata(path) for path in paths}
    runs = {name: values.get(_RUN_KEY) for name, values in metadata.items()}
    pools = {name: values.get(_POOL_KEY) for name, values in metadata.items()}
    # Another pool with the same ids (a re-generated or edited pool) would otherwise take these scores silently.
    foreign = sorted(name for name, pool_of in pools.items() if pool_of is not None and pool_of != pool._fingerprint)
    if foreign:
        raise InputError(
            f"the shards {foreign[:6]} in {out_dir} scored another pool (datasets fingerprint "
            f"{pools[foreign[0]]}; this pool's is {pool._fingerprint}); merge with the pool the ranks scored, or "
            "delete the shards and rerun the scoring on this one"
        )
    ids: list[str] = []
    scores: list[float] = []
    for path in paths:
        table = pq.read_table(path)
        ids.extend(table.column(ID).to_pylist())
        scores.extend(table.column(DIFFICULTY).to_pylist())
    pool_ids = pool[ID] if ID in pool.column_names else None
    if pool_ids is None:
        raise ColumnError(f"merging needs the column {ID!r} in the pool; columns: {pool.column_names}")
    pool_ids = list(pool_ids)
    pool_counts = Counter(pool_ids)
    if len(pool_counts) != len(pool_ids):
        repeated = [key for key, count in pool_counts.items() if count > 1]
        raise InputError(f"{len(repeated)} {ID} values repeat in the pool (e.g. {repeated[:5]}); ids must be unique")
    counts = Counter(ids)
    twice = [key for key, count in counts.items() if count > 1]
    absent = [key for key in pool_ids if key not in counts]
    foreign = [key for key in counts if key not in pool_counts]
    if twice or absent or foreign:
        raise InputError(
            f"the shards in {out_dir} do not score every pool row exactly once: {len(twice)} ids scored more than "
            f"once (e.g. {twice[:5]}), {len(absent)} not scored (e.g. {absent[:5]}), {len(foreign)} not in the pool "
            f"(e.g. {foreign[:5]}). Were the shards made with another world size or pool? Delete them and rerun"
        )
    by_id = dict(zip(ids, scores, strict=True))
    values = [by_id[key] for key in pool_ids]
    fingerprint = f"s2r-merge-{stable_digest({'pool': pool._fingerprint, 'runs': sorted(set(runs.values()))})[:32]}"
    if DIFFICULTY in pool.column_names:
        pool = pool.remove_columns(DIFFICULTY)
    return pool.add_column(DIFFICULTY, values, new_fingerprint=fingerprint)


def load_pool_path(path: str | os.PathLike) -> Dataset:
    """A pool from a `save_to_disk` folder, or a file `s2r score` reads (parquet, JSON lines, csv, optionally .gz)."""
    from datasets import Dataset
    from datasets.exceptions import DatasetGenerationError

    path = Path(path)
    if not path.exists():
        raise InputError(f"the pool {str(path)!r} does not exist; give a save_to_disk folder, a .parquet or a .jsonl")
    if path.is_dir() and not (path / "state.json").is_file():
        raise InputError(
            f"the pool folder {str(path)!r} was not written by Dataset.save_to_disk (it has no state.json); give such "
            "a folder, a .parquet or a .jsonl file"
        )
    if path.is_file():  # through the same reader as `s2r score`, with its checks (empty, truncated, not UTF-8, ...)
        from s2r_hf.pool.sources import load_source

        return load_source(path)
    try:
        return Dataset.load_from_disk(path)
    # What datasets raises for a folder it cannot read: a damaged state.json or arrow file.
    except (DatasetGenerationError, ValueError, OSError) as err:
        cause = err.__cause__ or err
        raise InputError(
            f"could not read the pool {str(path)!r} ({type(cause).__name__}: {str(cause).rstrip('.')}); write it "
            "again with Dataset.save_to_disk"
        ) from err


# The merged pool is a save_to_disk folder with a small card, so that a rerun recognises (and may replace) a folder an
# earlier merge wrote, and never replaces anything else.
MERGED_CARD = "---\ns2r:\n  kind: merged_pool\n  world_size: {world_size}\n---\n# Judge difficulty, merged\n\n" + (
    "The pool with `s2r_difficulty` merged from {world_size} rank shards by "
    "`python -m s2r_hf.signals.judge.distributed`. Load it with `datasets.load_from_disk`.\n"
)


def check_merge_output(output: str | os.PathLike, inputs: list[str | os.PathLike]) -> Path:
    """Before any work: the merge writes `output` only if it is new or an earlier merge's, and not an input."""
    from s2r_hf.core.folders import check_writable

    return check_writable(output, overwrite=True, inputs=inputs, kind="merged_pool")


def save_merged(dataset: Dataset, output: str | os.PathLike, world_size: int, inputs: list[str | os.PathLike]) -> Path:
    """Save the merged pool into `output` whole: staged beside it, then moved into place."""
    from s2r_hf.core.folders import CARD_FILE, staged_folder

    target = check_merge_output(output, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    with staged_folder(target, overwrite=True) as staging:
        dataset.save_to_disk(str(staging))
        (staging / CARD_FILE).write_text(MERGED_CARD.format(world_size=world_size), encoding="utf-8")
    return target


def config_from_args(args: argparse.Namespace) -> JudgeConfig:
    from s2r_hf.core.options import build, given, options_of

    return build(JudgeConfig, given(args, options_of(JudgeConfig)))


def build_parser() -> argparse.ArgumentParser:
    from s2r_hf.core.options import DefaultsHelpFormatter, add_arguments, options_of

    parser = argparse.ArgumentParser(
        prog="python -m s2r_hf.signals.judge.distributed", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    score = commands.add_parser(
        "score",
        help="score this rank's shard (under torchrun), then merge on rank 0",
        formatter_class=DefaultsHelpFormatter,
    )
    merge = commands.add_parser(
        "merge", help="merge finished shards into the scored pool", formatter_class=DefaultsHelpFormatter
    )
    for sub in (score, merge):
        sub.add_argument("--pool", required=True, help="save_to_disk folder, .parquet or .jsonl of the pool")
        sub.add_argument("--out", required=True, help="folder for the per-rank shard files")
        sub.add_argument("--output", help="save_to_disk folder for the merged, scored pool")
    merge.add_argument("--world-size", type=int, required=True, help="number of ranks that wrote shards")
    score.add_argument(
        "--rank",
        metavar="R[,R...]",
        help="score these ranks' shards one after another in this process, without torchrun (the ranks a merge "
        "found missing, or a Slurm array task's $SLURM_ARRAY_TASK_ID); needs --world-size; merge separately",
    )
    score.add_argument("--world-size", type=int, help="with --rank: the number of ranks the pool is split into")
    score.add_argument(
        "--barrier-timeout-minutes", type=float, default=24 * 60, help="how long rank 0 waits for the slowest rank"
    )
    # The judge's flags are JudgeConfig's fields (--model, --revision, --batch-tokens, ...), as in `s2r score`'s
    # --judge-* flags: one definition, in s2r_hf.signals.judge.scorer.
    add_arguments(score, options_of(JudgeConfig))
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(words)
    args.words = words
    # As the `s2r` command does: an input problem is one line naming the fix, exit code 2 (argparse's own code). A
    # shard file is written whole, and a rank whose shard exists returns at once when the command is run again.
    return run_entry(
        lambda: run(args),
        prog=f"{parser.prog} {args.command}",
        interrupted="interrupted; every shard file is whole or absent: run the same command again to resume",
    )


def launch_ranks(environ) -> tuple[int, int, int]:
    """(rank, world size, local rank) from torchrun's environment; a hand-set or partial one is an InputError."""
    values = {}
    for name, default in (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", None)):
        text = environ.get(name, default)
        if text is None:
            continue
        try:
            values[name] = int(text)
        except ValueError:
            raise InputError(f"{name}={text!r} in the environment is not an integer; launch with torchrun") from None
    rank, world_size = values["RANK"], values["WORLD_SIZE"]
    if world_size < 1 or not 0 <= rank < world_size:
        raise InputError(
            f"RANK={rank} and WORLD_SIZE={world_size} in the environment do not fit (need 0 <= RANK < WORLD_SIZE); "
            "launch with torchrun, or unset them for one process"
        )
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if world_size > 1 and not environ.get(name)]
    if missing:
        raise InputError(
            f"WORLD_SIZE={world_size} is set but {' and '.join(missing)} not, so the ranks cannot meet; launch with "
            "torchrun (it sets them), or unset WORLD_SIZE and RANK to score in one process"
        )
    return rank, world_size, values.get("LOCAL_RANK", rank)


def given_ranks(args: argparse.Namespace, environ) -> list[int] | None:
    """The ranks of `score --rank R[,R...] --world-size W` (None: the ranks come from torchrun's environment)."""
    if args.rank is None and args.world_size is None:
        return None
    if args.rank is None or args.world_size is None:
        raise InputError("--rank and --world-size go together: the ranks to score and how many ranks the pool has")
    try:
        ranks = [int(word) for word in args.rank.split(",")]
    except ValueError:
        raise InputError(f"--rank takes rank numbers separated by commas (3 or 3,7), got {args.rank!r}") from None
    outside = [rank for rank in ranks if not 0 <= rank < args.world_size]
    if args.world_size < 1 or outside:
        raise InputError(
            f"--rank {args.rank} does not fit --world-size {args.world_size}: each rank must be in [0, world size)"
        )
    if int(environ.get("WORLD_SIZE", "1") or 1) > 1:
        raise InputError(
            "--rank scores the given ranks in one process, but WORLD_SIZE is set as under torchrun (every process "
            "would score the same ranks); run it without torchrun"
        )
    return sorted(set(ranks))


def merge_words(args: argparse.Namespace, world_size: int) -> list[str]:
    """The words after `merge` of the merge these arguments ask for, for the command an error prints."""
    words = ["--pool", args.pool, "--out", args.out, "--world-size", str(world_size)]
    return words + (["--output", args.output] if args.output else [])


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args) if args.command == "score" else None  # a bad setting fails before the pool loads
    ranks = given_ranks(args, os.environ) if args.command == "score" else None
    if args.command == "score" and ranks is None:
        launch_ranks(os.environ)  # a bad launch fails before the pool loads, too
    if args.output:
        check_merge_output(args.output, inputs=[args.pool, args.out])  # and an output it may not write, too
    pool = load_pool_path(args.pool)
    if args.command == "merge":
        merged = merge_shards(pool, args.out, args.world_size, merge_command=merge_words(args, args.world_size))
        if args.output:
            save_merged(merged, args.output, args.world_size, inputs=[args.pool, args.out])
        logger.info("merged %d rows from %d shards", len(merged), args.world_size)
        return 0

    command = getattr(args, "words", None)
    if ranks is not None:
        for rank in ranks:
            score_shard(pool, config, args.out, rank=rank, world_size=args.world_size, command=command)
        done = ", ".join(map(str, ranks))
        logger.info("scored the shards of rank(s) %s of %d; merge when every rank's is there", done, args.world_size)
        return 0

    import torch.distributed as dist

    rank, world_size, local_rank = launch_ranks(os.environ)
    if world_size > 1:
        # gloo: the group only synchronises; a CPU barrier works whatever the accelerator.
        dist.init_process_group("gloo", timeout=timedelta(minutes=args.barrier_timeout_minutes))
    try:
        score_shard(pool, config, args.out, rank=rank, world_size=world_size, local_rank=local_rank, command=command)
        if world_size > 1:
            dist.barrier()
        if rank == 0:
            merged = merge_shards(pool, args.out, world_size, merge_command=merge_words(args, world_size))
            if args.output:
                save_merged(merged, args.output, world_size, inputs=[args.pool, args.out])
            logger.info("all %d rows scored exactly once across %d ranks", len(merged), world_size)
    finally:
        if world_size > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
