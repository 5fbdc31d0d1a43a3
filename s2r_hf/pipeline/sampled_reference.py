"""`s2r score --sampled-difficulty SAMPLED`: the pass rates of a sampled scored pool joined onto the pool being scored.

SAMPLED is a scored pool that `s2r score --difficulty sampled` wrote (often for `--sample 0.05` of the pool): its
`s2r_pass_rate` per `s2r_id`. Joined by `s2r_id`, `s2r_sampled_difficulty = 1 - pass rate` sits beside the pool's own
difficulty (a judge's, say), null on the rows that were not sampled, so that the pool report can check that difficulty
against the sampled pass rates of the same questions (s2r_hf.outputs.pool_report).

Everything is read and checked before a model loads: SAMPLED is a scored pool whose difficulty scorer is `sampled`,
it has pass rates, and it shares ids with the pool. The card records where the pass rates came from (the folder or
Hub id, its rows digest) and how many rows they matched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID, PASS_RATE, SAMPLED_DIFFICULTY
from s2r_hf.core.errors import ColumnError, InputError, SourceNotFoundError
from s2r_hf.core.folders import load_dataset_folder, read_card_metadata
from s2r_hf.core.models import looks_like_local_path
from s2r_hf.core.rows import arrow_column

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

SAMPLED_SCORER = "sampled"  # the `s2r score --difficulty` name whose output this reads
MADE_BY = "give a folder (or Hub dataset) that `s2r score --difficulty sampled` wrote"


@dataclass
class SampledReference:
    """The pass rates of a sampled scored pool, by s2r_id, and what identifies it."""

    source: str
    pass_rates: dict[str, float]  # s2r_id -> pass rate, the rows that were sampled
    card: dict[str, Any]  # the sampled pool's `s2r` block
    commit: str | None  # the Hub commit read, for a Hub dataset


def load_sampled_reference(source: str) -> SampledReference:
    """Read and check a sampled scored pool: a local folder, or a Hub dataset id (downloaded once, at one commit)."""
    folder, commit = _local_folder(source)
    try:
        s2r = read_card_metadata(folder).get("s2r")
    except SourceNotFoundError as error:
        raise SourceNotFoundError(f"--sampled-difficulty {source!r}: {error}") from None
    if not isinstance(s2r, dict) or s2r.get("kind") != "scored_pool":
        raise InputError(
            f"--sampled-difficulty {source!r} is not a scored pool written by `s2r score` (its card has no s2r block "
            f"of kind scored_pool); {MADE_BY}"
        )
    scorer = (s2r.get("difficulty") or {}).get("scorer")
    if scorer != SAMPLED_SCORER:
        raise InputError(
            f"--sampled-difficulty {source!r} is a scored pool whose difficulty scorer is {scorer!r}, not "
            f"{SAMPLED_SCORER!r}, so it holds no sampled pass rates; {MADE_BY}"
        )
    rows = load_dataset_folder(folder)
    missing = [name for name in (ID, PASS_RATE) if name not in rows.column_names]
    if missing:
        raise ColumnError(
            f"--sampled-difficulty {source!r} has no column(s) {missing} (columns: {rows.column_names}); {MADE_BY}"
        )
    ids, rates = arrow_column(rows, ID).to_pylist(), arrow_column(rows, PASS_RATE).to_pylist()
    # A row that was not sampled (null pass rate) says nothing about its question.
    pass_rates = {key: float(rate) for key, rate in zip(ids, rates) if rate is not None}
    return SampledReference(source=str(source), pass_rates=pass_rates, card=s2r, commit=commit)


def _local_folder(source: str) -> tuple[Path, str | None]:
    path = Path(source).expanduser()
    if path.exists() or looks_like_local_path(source):
        return path, None
    from s2r_hf.pool.sources import fetch_dataset_repo

    return fetch_dataset_repo(source)


def join_sampled_difficulty(pool: Dataset, reference: SampledReference) -> tuple[Dataset, dict[str, Any]]:
    """The pool with `s2r_sampled_difficulty` (1 - the pass rate of the row's s2r_id in the reference, null where it
    was not sampled) and the card's record of the join. A pool sharing no id with the reference is refused."""
    import pyarrow as pa

    ids = arrow_column(pool, ID).to_pylist()
    values = [None if (rate := reference.pass_rates.get(key)) is None else 1.0 - rate for key in ids]
    matched = sum(value is not None for value in values)
    if not matched:
        raise InputError(
            f"--sampled-difficulty {reference.source!r}: none of its {len(reference.pass_rates)} sampled {ID}s is "
            f"among the {len(pool)} rows of this pool, so there is nothing to compare; give the sampled scored pool "
            "made from this same pool (with the same adapter settings, so that the ids agree)"
        )
    if SAMPLED_DIFFICULTY in pool.column_names:  # a scored pool scored again: the new join replaces the old
        pool = pool.remove_columns(SAMPLED_DIFFICULTY)
    pool = pool.add_column(SAMPLED_DIFFICULTY, pa.array(values, type=pa.float64()))
    logger.info("sampled difficulty joined from %s: %d of %d rows matched", reference.source, matched, len(pool))
    record = {
        "source": reference.source,
        **({"commit": reference.commit} if reference.commit else {}),
        "rows_sha256": reference.card.get("rows_sha256"),
        "column": SAMPLED_DIFFICULTY,
        "formula": f"1 - {PASS_RATE} of the row's {ID} in the source; null where it was not sampled",
        "sampled_rows": len(reference.pass_rates),
        "rows_matched": matched,
        "scorer": reference.card.get("difficulty"),
    }
    return pool, record
