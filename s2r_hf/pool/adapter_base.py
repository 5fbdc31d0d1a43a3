"""What every pool adapter shares: the `PoolAdapter` base, the `PoolReport` it returns, the drop reasons as reports
and cards show them, ids derived from content, and dropping the rows an adapter does not keep.

The adapters are s2r_hf.pool.openr1, s2r_hf.pool.generic and s2r_hf.pool.layouts; s2r_hf.pool.adapters names them and
loads a pool; the checks of a source's columns are in s2r_hf.pool.column_checks.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from s2r_hf.core.errors import InputError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

KEEP = "kept"
# Drop reasons, as they appear in reports and cards.
INCOMPLETE = "incomplete reasoning"
TRUNCATED = "finish reason not stop"
NO_ANSWER = "no final \\boxed{} answer"
NOT_VERIFIED = "not verified correct"
DUPLICATE = "duplicate trace"
# A conversation whose last turn is not the assistant's (a user turn left unanswered): SFT would train on it.
UNANSWERED = "ends with an unanswered turn"
REASONS_COLUMN = "_s2r_reasons"  # temporary: one verdict per generation (or per row)


@dataclass
class PoolReport:
    """What an adapter did: rows read, rows kept, and the count dropped for each reason."""

    adapter: str
    mode: str | None
    rows_in: int
    rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class PoolAdapter:
    """Base class: `adapt(dataset)` returns the pool and a PoolReport."""

    name: ClassVar[str]

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        raise NotImplementedError


def has_final_answer(trace: str) -> bool:
    """A trace teaches only if it reaches a final answer; long CoT math traces end in \\boxed{...}."""
    return "\\boxed" in trace


def content_id(question: str, trace: str) -> str:
    """An id from the content, so rankings do not depend on row order when the source has no id.

    20 hex digits: never the form of a UUID (36 characters with hyphens), so it cannot collide with a source's uuid.
    """
    digest = hashlib.sha1(question.encode("utf-8") + b"\x00" + trace.encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest()[:20]


def repeats(ids, candidates):
    """Mask of the candidate rows whose id already appeared on an earlier candidate row."""
    import numpy as np

    ids = np.asarray(ids, dtype=object)
    positions = np.flatnonzero(candidates)
    first = np.zeros(len(ids), dtype=bool)
    first[positions[np.unique(ids[positions].astype(str), return_index=True)[1]]] = True
    return np.asarray(candidates, dtype=bool) & ~first


def keep_rows(dataset: Dataset, keep_mask) -> Dataset:
    import numpy as np

    keep = np.flatnonzero(keep_mask)
    return dataset if keep.size == len(dataset) else dataset.select(keep)


def require_rows_left(rows: int, rows_in: int, counts: Counter) -> None:
    if rows == 0:
        raise InputError(
            f"no usable rows are left out of {rows_in} (dropped: {dict(sorted(counts.items()))}); "
            "check that this is the source and the options you meant"
        )


def log_report(report: PoolReport) -> None:
    dropped = ", ".join(f"{count} {reason}" for reason, count in report.dropped.items()) or "none"
    logger.info("%s adapter: %d rows read, %d kept; dropped: %s", report.adapter, report.rows_in, report.rows, dropped)
