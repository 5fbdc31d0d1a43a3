"""`s2r inspect`: the pool report of a scored pool folder (and of a subset selected from it), written to a folder of
its own: report.md, report.json and the PNGs of s2r_hf.outputs.pool_report.

The folder is written whole or not at all (staged, then moved into place, under the output lock); --overwrite replaces
only a folder an earlier report wrote.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID
from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import (
    POOL_REPORT_OWNER,
    check_writable,
    load_dataset_folder,
    read_card_metadata,
    staged_folder,
)
from s2r_hf.core.locks import locked_output
from s2r_hf.core.rows import arrow_column
from s2r_hf.outputs.artifacts import load_scored_pool
from s2r_hf.outputs.pool_report import describe_pool, report_files

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)


def check_subset_of(
    pool: Dataset, pool_s2r: dict[str, Any], subset: Dataset, subset_s2r: dict[str, Any], where: str
) -> None:
    """Refuse a subset that was not selected from this pool: its card names another pool, or it has rows this pool
    has not."""
    import pyarrow.compute as pc

    recorded = subset_s2r.get("pool") if isinstance(subset_s2r.get("pool"), dict) else {}
    differ = sorted(key for key in set(recorded) | set(pool_s2r) if recorded.get(key) != pool_s2r.get(key))
    # The pool's own report is added when it is written; a subset of an older pool has none.
    differ = [key for key in differ if key != "report"]
    if differ:
        raise InputError(
            f"the subset {where!r} was not selected from this scored pool: its card records a pool that differs in "
            f"{differ[:6]}; give the subset `s2r select` made from this pool"
        )
    if ID in subset.column_names and ID in pool.column_names:
        outside = pc.sum(pc.invert(pc.is_in(arrow_column(subset, ID), value_set=arrow_column(pool, ID)))).as_py()
        if outside:
            raise InputError(
                f"the subset {where!r} has {outside} rows whose {ID} is not in this scored pool; it was selected from "
                "another pool (or the pool was scored again): select it again from this one"
            )


def write_report(
    scored: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    subset: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """`s2r inspect`: write the report of a scored pool folder (and a subset of it) into `output`.

    The default output is `<scored folder>-report` beside it. The folder is written whole or not at all; --overwrite
    replaces only a folder an earlier report wrote. Returns the folder and the report's numbers.
    """
    scored_path = Path(scored)
    pool, pool_s2r = load_scored_pool(scored_path)
    output = Path(output) if output is not None else scored_path.parent / f"{scored_path.resolve().name}-report"
    target = _check_report_output(output, overwrite, inputs=[scored_path, subset])
    subset_data = subset_s2r = None
    if subset is not None:
        subset_s2r = read_card_metadata(subset).get("s2r")
        if not isinstance(subset_s2r, dict) or subset_s2r.get("kind") != "subset":
            raise InputError(
                f"{str(subset)!r} is not a subset written by `s2r select` (its card has no s2r block of kind "
                "subset); give the folder `s2r select -o` wrote"
            )
        subset_data = load_dataset_folder(subset)
        check_subset_of(pool, pool_s2r, subset_data, subset_s2r, str(subset))
    report = describe_pool(pool, pool_s2r, subset_data, subset_s2r)
    files = report_files(pool, report, subset_data)
    _write_folder(target, files, overwrite)
    return target, report


def _check_report_output(output: Path, overwrite: bool, inputs) -> Path:
    """The rules of s2r_hf.core.folders.check_writable, with a report folder (its report.json of kind pool_report) as
    the one kind of existing folder --overwrite may replace."""
    return check_writable(output, overwrite, inputs=inputs, owner=POOL_REPORT_OWNER)


def _write_folder(target: Path, files: dict[str, bytes], overwrite: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Locked before the stale staging folders are removed: another report into this folder is refused, instead of
    # removing this one's staging folder as stale.
    with locked_output(target, "s2r inspect"), staged_folder(target, overwrite) as staging:
        for name, content in files.items():
            (staging / name).write_bytes(content)
    logger.info("wrote the pool report to %s", target)
