"""What a judge learns from: the question of each row, its difficulty target (1 - pass rate, from rollout flags or a
pass-rate column) and the seeded split into training and held-out rows, all checked before a model is loaded."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.core.rows import arrow_column, question_of
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset


def judge_targets(dataset: Dataset, config: JudgeTrainingConfig) -> np.ndarray:
    """Difficulty target per row, float64 in [0, 1]: 1 - pass rate, or 1 - mean of the rollout flags."""
    import numpy as np
    import pyarrow as pa

    description = config.target_description()
    name = description["column"]
    if name not in dataset.column_names:
        other = "--pass-rate-column" if description["source"] == "rollout_flags" else "--flags-column"
        raise ColumnError(
            f"the judge's training target needs column {name!r}, which is not in the dataset; columns: "
            f"{dataset.column_names}. Name the right one (or use {other})"
        )
    values = arrow_column(dataset, name)
    if description["source"] == "pass_rate":
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise ColumnTypeError(f"pass-rate column {name!r} must be numeric; got type {values.type}")
        rates = np.array([math.nan if v is None else float(v) for v in values.to_pylist()], dtype=np.float64)
        bad = np.isnan(rates) | (rates < 0) | (rates > 1)
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise InputError(
                f"pass-rate column {name!r} must hold numbers in [0, 1] with no nulls; {int(bad.sum())} rows do not "
                f"(first rows {rows}, values {[values[i].as_py() for i in rows]}). Rescale or filter them first"
            )
        return 1.0 - rates
    if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)) or not pa.types.is_boolean(
        values.type.value_type
    ):
        raise ColumnTypeError(
            f"flags column {name!r} must hold lists of booleans (one per rollout); got type {values.type}"
        )
    flags_per_row = values.to_pylist()
    empty = [i for i, flags in enumerate(flags_per_row) if not flags]
    if empty:
        raise InputError(
            f"{len(empty)} rows have no rollouts in {name!r} (an empty or null list; first rows {empty[:5]}), so their "
            "pass rate is undefined; filter them out first"
        )
    # A null flag is a rollout nobody verified correct: it counts as a failure, as in the `rollout` scorer.
    return np.array([1.0 - sum(1 for f in flags if f) / len(flags) for flags in flags_per_row], dtype=np.float64)


def read_questions(dataset: Dataset, config: JudgeTrainingConfig) -> list[str]:
    import pyarrow as pa

    if config.question_column is not None:
        if config.question_column not in dataset.column_names:
            raise ColumnError(
                f"question column {config.question_column!r} not in the dataset; columns: {dataset.column_names}"
            )
        column = arrow_column(dataset, config.question_column)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise ColumnTypeError(
                f"question column {config.question_column!r} must hold strings (the question text); got type "
                f"{column.type}. Name a text column, or leave question_column unset to read {MESSAGES!r}"
            )
        questions = column.to_pylist()
    elif MESSAGES in dataset.column_names:
        # In batches: a pool's messages hold the long traces too, which must not all sit in memory at once.
        questions = [
            question_of(messages)
            for batch in dataset.select_columns([MESSAGES]).iter(batch_size=1024)
            for messages in batch[MESSAGES]
        ]
    else:
        raise ColumnError(
            f"no question to judge: the dataset has no {MESSAGES!r} column and no question column was named; "
            f"columns: {dataset.column_names}. Pass question_column=... (--question-column)"
        )
    empty = [i for i, question in enumerate(questions) if not isinstance(question, str) or not question.strip()]
    if empty:
        raise InputError(
            f"{len(empty)} rows have an empty or missing question (first rows {empty[:5]}); filter them out"
        )
    return questions


def split_rows(num_rows: int, config: JudgeTrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random (train, eval) row indices, each sorted."""
    import numpy as np

    num_eval = round(num_rows * config.eval_fraction)
    if num_eval < config.min_eval_rows or num_rows - num_eval < 1:
        raise InputError(
            f"too few rows for the held-out split: {num_rows} rows with eval_fraction {config.eval_fraction} give "
            f"{num_eval} held-out and {num_rows - num_eval} training rows; need at least {config.min_eval_rows} "
            "held-out (min_eval_rows) and 1 training row. Supply more rows or raise eval_fraction"
        )
    order = np.random.default_rng(config.seed).permutation(num_rows)
    return np.sort(order[num_eval:]), np.sort(order[:num_eval])


def check_targets_vary(targets: np.ndarray, eval_rows: np.ndarray, config: JudgeTrainingConfig) -> None:
    """Refuse targets that teach nothing (all equal) or a held-out split whose Spearman is undefined (all equal)."""
    column = config.target_description()["column"]
    if targets.min() == targets.max():
        raise InputError(
            f"every row has the same difficulty target {float(targets[0])} (from {column!r}), so there is nothing to "
            "rank and the held-out Spearman is undefined; train on questions of varied pass rates"
        )
    held_out = targets[eval_rows]
    if held_out.min() == held_out.max():
        raise InputError(
            f"the {len(eval_rows)} held-out rows all have the target {float(held_out[0])}, so their Spearman "
            "correlation is undefined; raise eval_fraction, supply more varied rows, or change the seed"
        )
