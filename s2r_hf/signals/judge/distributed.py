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
jobs. Input problems (a missing or foreign shard, a bad setting, an unreachable judge) end in one line and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
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
) -> Path:
    """Score this rank's part of the pool and write it to `out_dir`; return the shard file's path.

    `local_rank` picks the GPU on this machine (`cuda:{local_rank % n_gpus}`); it defaults to `rank`.
    A shard already written by an identical run is kept, not rescored.
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


def merge_shards(
    pool: Dataset, out_dir: str | os.PathLike, world_size: int, *, expected_run: str | None = None
) -> Dataset:
    """The pool with `s2r_difficulty` from the shards of `world_size` ranks, after checking each row scored once."""
    import pyarrow.parquet as pq

    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise InputError(f"world_size must be a positive integer (the number of ranks that scored), got {world_size!r}")
    paths = [shard_path(out_dir, rank, world_size) for rank in range(world_size)]
    missing_ranks = [rank for rank, path in enumerate(paths) if not path.exists()]
    if missing_ranks:
        present = sorted(path.name for path in Path(out_dir).glob("difficulty-*-of-*.parquet"))
        raise InputError(
            f"{len(missing_ranks)} of {world_size} shards are missing in {out_dir} (ranks {missing_ranks[:20]}; shard "
            f"files there: {present[:6] or 'none'}); rerun the scoring: finished ranks are kept and the others resume"
            + (" (was another world size used?)" if present else "")
        )
    metadata = {path.name: _shard_metadata(path) for path in paths}
    runs = {name: values.get(_RUN_KEY) for name, values in metadata.items()}
    pools = {name: values.get(_POOL_KEY) for name, values in metadata.items()}
    if len(set(runs.values())) != 1 or (expected_run is not None and expected_run not in runs.values()):
        raise InputError(
            f"the shards in {out_dir} come from different runs (pool or judge settings): {runs}"
            + (f"; expected {expected_run}" if expected_run else "")
            + ". Delete the stale shard files and rerun"
        )
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
        "--barrier-timeout-minutes", type=float, default=24 * 60, help="how long rank 0 waits for the slowest rank"
    )
    # The judge's flags are JudgeConfig's fields (--model, --revision, --batch-tokens, ...), as in `s2r score`'s
    # --judge-* flags: one definition, in s2r_hf.signals.judge.scorer.
    add_arguments(score, options_of(JudgeConfig))
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
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


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args) if args.command == "score" else None  # a bad setting fails before the pool loads
    if args.command == "score":
        launch_ranks(os.environ)  # a bad launch fails before the pool loads, too
    if args.output:
        check_merge_output(args.output, inputs=[args.pool, args.out])  # and an output it may not write, too
    pool = load_pool_path(args.pool)
    if args.command == "merge":
        merged = merge_shards(pool, args.out, args.world_size)
        if args.output:
            save_merged(merged, args.output, args.world_size, inputs=[args.pool, args.out])
        logger.info("merged %d rows from %d shards", len(merged), args.world_size)
        return 0

    import torch.distributed as dist

    rank, world_size, local_rank = launch_ranks(os.environ)
    if world_size > 1:
        # gloo: the group only synchronises; a CPU barrier works whatever the accelerator.
        dist.init_process_group("gloo", timeout=timedelta(minutes=args.barrier_timeout_minutes))
    try:
        score_shard(pool, config, args.out, rank=rank, world_size=world_size, local_rank=local_rank)
        if world_size > 1:
            dist.barrier()
        if rank == 0:
            merged = merge_shards(pool, args.out, world_size)
            if args.output:
                save_merged(merged, args.output, world_size, inputs=[args.pool, args.out])
            logger.info("all %d rows scored exactly once across %d ranks", len(merged), world_size)
    finally:
        if world_size > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
