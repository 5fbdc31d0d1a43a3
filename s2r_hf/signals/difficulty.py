"""The difficulty signal: `s2r_difficulty` in [0, 1], 1 = hardest.

Scorers are chosen by name from `DIFFICULTY_SCORERS`. Each is a small class with an `add_difficulty(pool)` method that
returns the pool with the column added by a batched `Dataset.map` (so datasets' fingerprint cache makes re-runs free),
and a `describe()` that says, for dataset cards, exactly what produced the scores.

Registered here: `rollout` (model-free: 1 - verified-correct rollouts / rollouts) and `column:NAME` (a column the user
already has). The LLM judge and the sampled rollouts (signals/sampled/) live in their own packages and are imported
only when asked for.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from s2r_hf.core.columns import DIFFICULTY
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, OptionTypeError
from s2r_hf.core.options import check_field_types
from s2r_hf.core.rows import arrow_column

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# name -> "module:Class". Strings, so that naming a scorer never imports another scorer's heavy dependencies.
DIFFICULTY_SCORERS: dict[str, str] = {
    "rollout": "s2r_hf.signals.difficulty:RolloutDifficulty",
    "column": "s2r_hf.signals.difficulty:ColumnDifficulty",
    "judge": "s2r_hf.signals.judge.scorer:JudgeDifficulty",
    "sampled": "s2r_hf.signals.sampled.scorer:SampledDifficulty",
}


@dataclass
class BatchStep:
    """A scorer's model work as one batched function, for an engine that runs it elsewhere (s2r_hf.pipeline.ray_engine).

    `function(batch, rank=None, **fn_kwargs) -> {column: values}` is the very function the scorer's own `Dataset.map`
    runs (the judge's `judge_difficulty_batch`): it loads its model lazily, once per process, so an engine calling it
    from one long-lived worker per GPU gets the same scores, row for row, as the local map. It reads `input_columns`
    and returns `output_columns`; the scorer's `finish_batches` then turns the pool with those columns into its
    result (a summary, private columns removed).
    """

    function: Callable[..., dict[str, list]]
    fn_kwargs: dict[str, Any]
    input_columns: list[str]
    output_columns: list[str]
    batch_rows: int  # rows per call: the unit of work (and of the resume store, where the scorer keeps one)
    device: str | None = None  # the scorer's device setting: "cpu" keeps it off the GPUs; None or "cuda...": GPUs
    gpus_per_worker: int = 1  # GPUs one worker holds (a model split over several, as vLLM's tensor parallel)


class DifficultyScorer(ABC):
    """Adds `s2r_difficulty` to a pool.

    A scorer whose settings are a config dataclass names it in `config_class` and takes its fields as keywords:
    `make_difficulty_scorer` checks keywords against those fields, and `s2r score` and the builder expose them.
    """

    name: ClassVar[str]
    config_class: ClassVar[type | None] = None

    def check(self, pool: Dataset) -> None:  # noqa: B027 (a hook: most scorers have something to check)
        """Raise a clear error now if `add_difficulty` would fail on this pool (a missing or mistyped column).

        Runs before the expensive steps, so a bad option fails in a second rather than after the trace-length pass.
        Only cheap checks belong here: column names, types, Arrow compute over one column.
        """

    @abstractmethod
    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        """Return `pool` with the `s2r_difficulty` column (float in [0, 1], no nulls)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-able description of the scorer and its settings, written into dataset cards."""

    def batch_step(self, pool: Dataset) -> BatchStep | None:
        """The scorer's model work as a `BatchStep`, for `s2r score --engine ray`; None: `add_difficulty` runs as is.

        A model-backed scorer (the judge, sampled rollouts) returns its batch function here and uses the same step in
        its own `add_difficulty`, so both engines run one code path. Cheap column scorers return None.
        """
        return None

    def finish_batches(self, scored: Dataset) -> Dataset:
        """The pool `batch_step`'s output columns were added to, made into `add_difficulty`'s result."""
        return scored

    def fingerprint(self, pool: Dataset) -> str | None:
        """The datasets fingerprint of the scored pool, from what changes the scores (None: datasets hashes the map's
        function and arguments). Read after `batch_step`, which may resolve the model the fingerprint names."""
        return None

    def map_batch_step(self, pool: Dataset, *, num_proc: int | None, desc: str) -> Dataset:
        """`add_difficulty` of a model-backed scorer on this machine: its `BatchStep` as one `Dataset.map` (spawned
        workers, one per GPU with `num_proc`), then `finish_batches`. The Ray engine runs the same step elsewhere."""
        step = self.batch_step(pool)
        fingerprint = self.fingerprint(pool)  # after the step: the step resolves the model the fingerprint names
        with spawned_workers():
            scored = pool.map(
                step.function,
                batched=True,
                batch_size=step.batch_rows,
                with_rank=True,
                num_proc=num_proc,
                fn_kwargs={**step.fn_kwargs, "num_workers": num_proc},
                new_fingerprint=fingerprint,
                desc=desc,
            )
        return self.finish_batches(scored)


@contextmanager
def spawned_workers():
    """Make datasets start its map workers with "spawn" for the duration of the block.

    Forking a process whose torch has already run (OpenMP thread pools, an initialised CUDA context) can deadlock the
    children or break CUDA in them; spawned workers start clean and load their model themselves. As with any spawn,
    a calling script must keep its top-level work under `if __name__ == "__main__":`.
    """
    import multiprocess

    previous = multiprocess.get_start_method(allow_none=True)
    multiprocess.set_start_method("spawn", force=True)
    try:
        yield
    finally:
        multiprocess.set_start_method(previous, force=True)


def parse_scorer_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a command-line spec such as `rollout` or `column:pass_rate` into a registry name and options."""
    name, _, argument = spec.partition(":")
    if name not in DIFFICULTY_SCORERS:
        raise InputError(
            f"unknown difficulty scorer {spec!r}; known: {sorted(DIFFICULTY_SCORERS)} (column takes column:NAME)"
        )
    if name == "column":
        if not argument:
            raise InputError(f"the column scorer needs a column name, as column:NAME; got {spec!r}")
        return name, {"column": argument}
    if argument:
        raise InputError(f"the {name} scorer takes no ':' argument; got {spec!r}")
    return name, {}


def scorer_class(spec: str) -> type[DifficultyScorer]:
    """The scorer class a spec names, imported only now."""
    name, _ = parse_scorer_spec(spec)
    module_name, class_name = DIFFICULTY_SCORERS[name].split(":")
    return getattr(import_module(module_name), class_name)


def make_difficulty_scorer(spec: str, **options: Any) -> DifficultyScorer:
    """Build a scorer from its registry name (or `column:NAME`) and keyword options."""
    _, parsed = parse_scorer_spec(spec)
    cls = scorer_class(spec)
    check_scorer_options(cls, options)
    return cls(**{**parsed, **options})


def check_scorer_options(cls: type[DifficultyScorer], options: dict[str, Any]) -> None:
    """Refuse keywords that are not fields of the scorer's config, naming the ones it takes."""
    known = [f.name for f in fields(cls.config_class)] if cls.config_class is not None else []
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(
            f"the {cls.name} difficulty scorer takes no option(s) {unknown}; it takes {known or 'no options'}"
        )


def add_difficulty(
    pool: Dataset, scorer: str | DifficultyScorer = "rollout", *, num_proc: int | None = None, **options
):
    """Add `s2r_difficulty` to `pool` with the named scorer (or a scorer instance).

    `options` are the fields of the scorer's config: `flags_column` for rollout (RolloutConfig), the fields of
    s2r_hf.signals.judge.scorer.JudgeConfig for judge (model, revision, system_prompt, question_column, ...).
    """
    from s2r_hf.core.rows import require_dataset, require_num_proc

    require_dataset(pool, "the pool")
    require_num_proc(num_proc)
    if isinstance(scorer, str):
        scorer = make_difficulty_scorer(scorer, **options)
    elif not isinstance(scorer, DifficultyScorer):
        raise OptionTypeError(
            f"scorer must be a scorer name ({sorted(DIFFICULTY_SCORERS)}, column:NAME) or a DifficultyScorer, got "
            f"{scorer!r} ({type(scorer).__name__})"
        )
    elif options:
        raise OptionTypeError(f"options {sorted(options)} are only accepted with a scorer name, not a scorer instance")
    return scorer.add_difficulty(pool, num_proc=num_proc)


def _rollout_difficulty_batch(batch: dict[str, list], flags_column: str, output: str = DIFFICULTY) -> dict[str, list]:
    scores = []
    for flags in batch[flags_column]:
        # A missing (null) verdict is not a verified-correct rollout.
        scores.append(1.0 - sum(1 for flag in flags if flag) / len(flags))
    return {output: scores}


@dataclass
class RolloutConfig:
    """Settings of the rollout difficulty scorer."""

    flags_column: str = field(
        default="correctness_math_verify",
        metadata={"help": "rollout: the column of per-rollout verification flags (lists of booleans)"},
    )

    def __post_init__(self):
        check_field_types(self)
        if not self.flags_column:
            raise InputError("flags_column must name a column, got an empty string")


class RolloutDifficulty(DifficultyScorer):
    """Model-free difficulty from several verified rollouts per question: 1 - (correct rollouts / rollouts).

    OpenR1-Math-220k carries 1 to 6 DeepSeek-R1 generations per problem with `correctness_math_verify` flags.
    A null flag counts as not verified-correct.
    """

    name = "rollout"
    config_class = RolloutConfig

    def __init__(self, **options: Any):
        self.config = RolloutConfig(**options)
        self.flags_column = self.config.flags_column

    def describe(self) -> dict[str, Any]:
        return {
            "scorer": self.name,
            "flags_column": self.flags_column,
            "formula": f"1 - count(true in {self.flags_column}) / len({self.flags_column})",
        }

    def check(self, pool: Dataset) -> None:
        import pyarrow.compute as pc

        if self.flags_column not in pool.column_names:
            raise ColumnError(
                f"the rollout difficulty needs a column of per-rollout verification flags, {self.flags_column!r}, "
                f"which is not in the pool; columns: {pool.column_names}. Name another with flags_column=... "
                "(--flags-column), or use --difficulty column:NAME"
            )
        flags = arrow_column(pool, self.flags_column)
        type_name = str(flags.type)
        if not type_name.startswith(("list<", "large_list<")) or "bool" not in type_name:
            raise ColumnTypeError(
                f"column {self.flags_column!r} must hold lists of booleans (one per rollout); got {type_name}"
            )
        lengths = pc.fill_null(pc.list_value_length(flags), 0)
        no_rollouts = int(pc.sum(pc.equal(lengths, 0)).as_py() or 0)
        if no_rollouts:
            raise InputError(
                f"{no_rollouts} rows have no rollouts in {self.flags_column!r} (an empty or null list), so their "
                "difficulty is undefined; filter them out first"
            )

    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        self.check(pool)
        return pool.map(
            _rollout_difficulty_batch,
            batched=True,
            fn_kwargs={"flags_column": self.flags_column},
            num_proc=num_proc,
            desc="Rollout difficulty",
        )


def _copy_difficulty_batch(batch: dict[str, list], column: str) -> dict[str, list]:
    return {DIFFICULTY: [float(value) for value in batch[column]]}


class ColumnDifficulty(DifficultyScorer):
    """Difficulty taken from a numeric column the pool already has (values must lie in [0, 1])."""

    name = "column"

    def __init__(self, column: str):
        self.column = column

    def describe(self) -> dict[str, Any]:
        return {"scorer": self.name, "column": self.column}

    def check(self, pool: Dataset) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.column not in pool.column_names:
            raise ColumnError(f"difficulty column {self.column!r} not in pool; columns: {pool.column_names}")
        values = arrow_column(pool, self.column)
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            # Strings of digits and booleans would cast to numbers silently: a difficulty is a number in [0, 1].
            raise ColumnTypeError(
                f"difficulty column {self.column!r} must be numeric; got type {values.type}. Convert it first "
                "(e.g. Dataset.cast_column to float)"
            )
        nulls = values.null_count
        array = pc.cast(values, "float64").fill_null(0.0).to_numpy(zero_copy_only=False)
        nan = int(np.count_nonzero(np.isnan(array)))
        outside = int(np.count_nonzero((array < 0) | (array > 1)))
        if nulls or nan or outside:
            finite = array[np.isfinite(array)]
            seen = f" (min {finite.min()}, max {finite.max()})" if outside and finite.size else ""
            raise InputError(
                f"difficulty column {self.column!r} must hold numbers in [0, 1] with no nulls; found {nulls} nulls, "
                f"{nan} NaN and {outside} values outside [0, 1]{seen}. Fill or rescale it first, e.g. with Dataset.map"
            )

    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        self.check(pool)
        if self.column == DIFFICULTY:
            return pool
        return pool.map(
            _copy_difficulty_batch,
            batched=True,
            fn_kwargs={"column": self.column},
            num_proc=num_proc,
            desc="Difficulty from column",
        )


def add_rollout_difficulty_if_flagged(
    pool: Dataset, flags_column: str | None = None, *, num_proc: int | None = None
) -> tuple[Dataset, dict[str, Any] | None]:
    """Add `s2r_rollout_difficulty` (the rollout scorer's formula) when the pool has usable verification flags.

    Returns the pool and a description for the card, or the pool unchanged and None when the flags column is missing,
    is not lists of booleans, or leaves some row without rollouts (then nothing can be compared row for row).
    """
    from s2r_hf.core.columns import ROLLOUT_DIFFICULTY

    scorer = RolloutDifficulty(**({"flags_column": flags_column} if flags_column else {}))
    try:
        scorer.check(pool)
    except (ColumnError, ColumnTypeError, InputError) as err:
        logger.info("no %s column: %s", ROLLOUT_DIFFICULTY, err)
        return pool, None
    pool = pool.map(
        _rollout_difficulty_batch,
        batched=True,
        fn_kwargs={"flags_column": scorer.flags_column, "output": ROLLOUT_DIFFICULTY},
        num_proc=num_proc,
        desc="Rollout difficulty (for comparison)",
    )
    return pool, {"column": ROLLOUT_DIFFICULTY, **scorer.describe()}
