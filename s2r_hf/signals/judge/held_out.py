"""The calibrated judge on its own held-out rows: when `s2r score --difficulty judge --judge TRAINED` scores a pool that
holds rows `s2r train-judge` held out, how well the judge's scores in this pool order them, against how well the
untrained base judge did (its scores recorded at training, eval_predictions.jsonl), both against the held-out targets
(1 - pass rate): Spearman, and the AUC of telling never-solved from always-solved questions.

Rows are found by s2r_id, which the judge's record holds when its training pool had one (a scored pool has). A judge
that is not one s2r trained says nothing here; one trained without ids, or whose held-out rows are not in this pool,
gets a reason instead of numbers. The result is the scored pool card's `judge_held_out` block, which the pool report
shows (s2r_hf.outputs.pool_report).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import DIFFICULTY, ID
from s2r_hf.core.errors import InputError
from s2r_hf.core.records import read_json_object
from s2r_hf.core.rows import arrow_column
from s2r_hf.core.stats import agreement_with_pass_rates
from s2r_hf.signals.judge.judge_folder import EVAL_PREDICTIONS_FILE, METADATA_FILE

if TYPE_CHECKING:
    from datasets import Dataset


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def read_held_out(folder: str | Path) -> list[dict[str, Any]] | None:
    """The held-out records of a judge `s2r train-judge` wrote (one dict per row), or None for any other model."""
    folder = Path(folder)
    if not (folder / METADATA_FILE).is_file():
        return None
    path = folder / EVAL_PREDICTIONS_FILE
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise InputError(
                f"line {number} of {str(path)!r} is not JSON ({error}); train the judge again to rewrite it"
            ) from None
    return records


def compare_held_out(pool: Dataset, folder: str | Path) -> dict[str, Any] | None:
    """The card's `judge_held_out` block for a pool scored by the judge in `folder` (its scores: `s2r_difficulty`);
    None when the judge is not one `s2r train-judge` wrote."""
    import numpy as np

    records = read_held_out(folder)
    if records is None:
        return None
    training = read_json_object(Path(folder) / METADATA_FILE, what="the record of `s2r train-judge`")
    block: dict[str, Any] = {
        "held_out_rows": len(records),
        "rows": 0,
        "key": ID,
        "training_pool": training.get("pool"),
        "spearman_recorded": {
            name: (training.get("evaluation") or {}).get(f"spearman_{name}") for name in ("before", "after")
        },
        "absent": None,
    }
    if not records:
        block["absent"] = f"the judge's folder has no {EVAL_PREDICTIONS_FILE}, the record of its held-out rows"
        return block
    if any(ID not in record for record in records):
        block["absent"] = (
            f"the judge's held-out rows were recorded without {ID} (its training pool had none), so they cannot be "
            f"found in this pool; train the judge on a scored pool (it has {ID}) for this comparison"
        )
        return block
    position = {key: index for index, key in enumerate(arrow_column(pool, ID).to_pylist())}
    found = [(position[record[ID]], record) for record in records if record[ID] in position]
    if not found:
        block["absent"] = (
            f"none of the judge's {len(records)} held-out {ID}s is in this pool (it was trained on rows of "
            "another pool)"
        )
        return block
    scores = arrow_column(pool, DIFFICULTY).to_numpy(zero_copy_only=False).astype("float64")
    calibrated = scores[[index for index, _ in found]]
    base = np.array([record["score_before"] for _, record in found], dtype=np.float64)
    targets = np.array([record["target"] for _, record in found], dtype=np.float64)
    measured = {name: agreement_with_pass_rates(values, targets) for name, values in (("calibrated", calibrated),
                                                                                       ("base", base))}  # fmt: skip
    never, always = measured["base"]["never_solved"], measured["base"]["always_solved"]
    missing = [kind for kind, count in (("never-solved (target 1)", never), ("always-solved (target 0)", always))
               if not count]  # fmt: skip
    block.update(
        rows=len(found),
        never_solved=never,
        always_solved=always,
        **{
            name: {"spearman": _rounded(m["spearman"]), "auc_never_vs_always": _rounded(m["auc_never_vs_always"])}
            for name, m in measured.items()
        },
        auc_missing=f"no {' and no '.join(missing)} question among these rows" if missing else None,
    )
    return block
