"""Adapters bring a source dataset to the pool shape (s2r_hf.core.rows), keeping every original column.

Each adapter adds `messages` (user question, assistant trace), `s2r_id` (unique, stable: the ranking's tie-breaker)
and `s2r_answer`, drops rows that cannot teach (incomplete traces), and reports how many it dropped and why.

- `openr1`: OpenR1-Math-220k. Mode `problem`: one row per problem with its verified trace (the `messages` column),
  id `uuid`. Mode `generations`: one row per Math-Verify-correct generation, exact duplicates within a problem removed,
  id `uuid#index`. The card's schema allows a null `uuid`, null flag lists and flag lists shorter than `generations`:
  a row without a uuid is named by a hash of question and trace (20 hex digits, never a UUID's form), and two such
  rows with the same content are one example, kept once.
- `generic`: any dataset, given its question and trace columns, or one that already has `messages`.
- `chinese-distill`, `sharegpt`, `s1k`: more layouts, in s2r_hf.pool.layouts.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from s2r_hf.core.columns import ANSWER, GENERATION_INDEX, ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.core.rows import arrow_column, make_messages, question_of, trace_of

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
_REASONS_COLUMN = "_s2r_reasons"  # temporary: one verdict per generation (or per row)
_CONTENT_ID_COLUMN = "_s2r_content_id"  # temporary: the id was derived from the content (no uuid)


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


def has_final_answer(trace: str) -> bool:
    """A trace teaches only if it reaches a final answer; long CoT math traces end in \\boxed{...}."""
    return "\\boxed" in trace


def _require_columns(dataset: Dataset, names: list[str], hint: str) -> None:
    missing = [name for name in names if name not in dataset.column_names]
    if missing:
        raise ColumnError(f"column(s) {missing} not in the pool; columns: {dataset.column_names}. {hint}")


def _require_string_column(dataset: Dataset, name: str) -> None:
    import pyarrow as pa

    column_type = arrow_column(dataset, name).type
    if not (pa.types.is_string(column_type) or pa.types.is_large_string(column_type)):
        raise ColumnTypeError(
            f"column {name!r} must hold strings; got {column_type}. Convert it first (e.g. Dataset.cast_column)"
        )


def _require_lists_of(dataset: Dataset, name: str, value: str) -> None:
    """A list column of `value`s ("string" or "bool"); null (whole rows, or a column of nulls) is allowed."""
    import pyarrow as pa

    column_type = arrow_column(dataset, name).type
    is_value = (
        pa.types.is_boolean if value == "bool" else (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t))
    )
    if pa.types.is_null(column_type) or (
        (pa.types.is_list(column_type) or pa.types.is_large_list(column_type))
        and (is_value(column_type.value_type) or pa.types.is_null(column_type.value_type))
    ):
        return
    raise ColumnTypeError(
        f"column {name!r} must hold lists of {value} as in OpenR1-Math-220k; got {column_type}. "
        "Use the generic adapter for other data"
    )


def _require_non_empty_strings(dataset: Dataset, name: str, what: str) -> None:
    """Nulls and blank strings, with the first offending row numbers."""
    import numpy as np
    import pyarrow.compute as pc

    column = arrow_column(dataset, name)
    blank = pc.or_kleene(pc.is_null(column), pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0))
    bad_rows = np.flatnonzero(blank.to_numpy(zero_copy_only=False))
    if bad_rows.size:
        raise InputError(
            f"{bad_rows.size} rows have a null or empty {what} in column {name!r} (rows {bad_rows[:10].tolist()}"
            f"{', ...' if bad_rows.size > 10 else ''}); remove them first, e.g. with Dataset.filter"
        )


def _require_id_column(dataset: Dataset, name: str) -> None:
    """An id column holds one non-null scalar per row (a null would become the id 'None', a list its repr)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = arrow_column(dataset, name)
    if pa.types.is_nested(column.type) or pa.types.is_null(column.type):
        raise ColumnTypeError(
            f"the id column {name!r} must hold one string or number per row; got {column.type}. Name another "
            "--id-column, or none to derive ids from the content"
        )
    if column.null_count:
        rows = np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))
        raise InputError(
            f"the id column {name!r} has {rows.size} null ids ({_rows_listed(rows)}); fill them in, or name no "
            "--id-column to derive ids from the content"
        )


def _keep_rows(dataset: Dataset, keep_mask) -> Dataset:
    import numpy as np

    keep = np.flatnonzero(keep_mask)
    return dataset if keep.size == len(dataset) else dataset.select(keep)


def _require_unique_ids(dataset: Dataset, fix: str) -> None:
    import pyarrow.compute as pc

    ids = arrow_column(dataset, ID)
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pc.value_counts(ids)
        repeated = [item["values"] for item in counts.to_pylist() if item["counts"] > 1][:5]
        raise InputError(f"ids must be unique, but some repeat (e.g. {repeated}); {fix}")


def _content_id(question: str, trace: str) -> str:
    """An id from the content, so rankings do not depend on row order when the source has no id.

    20 hex digits: never the form of a UUID (36 characters with hyphens), so it cannot collide with a source's uuid.
    """
    digest = hashlib.sha1(question.encode("utf-8") + b"\x00" + trace.encode("utf-8"), usedforsecurity=False)
    return digest.hexdigest()[:20]


def _repeats(ids, candidates):
    """Mask of the candidate rows whose id already appeared on an earlier candidate row."""
    import numpy as np

    ids = np.asarray(ids, dtype=object)
    positions = np.flatnonzero(candidates)
    first = np.zeros(len(ids), dtype=bool)
    first[positions[np.unique(ids[positions].astype(str), return_index=True)[1]]] = True
    return np.asarray(candidates, dtype=bool) & ~first


def _require_rows_left(rows: int, rows_in: int, counts: Counter) -> None:
    if rows == 0:
        raise InputError(
            f"no usable rows are left out of {rows_in} (dropped: {dict(sorted(counts.items()))}); "
            "check that this is the source and the options you meant"
        )


class PoolAdapter:
    """Base class: `adapt(dataset)` returns the pool and a PoolReport."""

    name: ClassVar[str]

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------------------
# OpenR1-Math-220k


def _generation_verdicts(row: dict[str, Any], only_verified: bool) -> list[str]:
    """One verdict per generation: KEEP or the reason it cannot be trained on.

    The flag lists can be null or shorter than `generations` (the card's data has both): a flag that is not there is
    no evidence either way, except that a generation counts as verified only when a flag says so.
    """
    verdicts, seen = [], set()
    complete = row["is_reasoning_complete"] or []
    finish = row["finish_reasons"] or []
    correct = row["correctness_math_verify"] or []
    for index, text in enumerate(row["generations"] or []):
        if index < len(complete) and complete[index] is False:
            verdicts.append(INCOMPLETE)
        # A missing finish reason is no evidence of truncation; an explicit other one ("length") is.
        elif index < len(finish) and finish[index] not in (None, "stop"):
            verdicts.append(TRUNCATED)
        elif not text or not has_final_answer(text):
            verdicts.append(NO_ANSWER)
        elif only_verified and not (index < len(correct) and correct[index]):
            verdicts.append(NOT_VERIFIED)
        elif text in seen:
            verdicts.append(DUPLICATE)
        else:
            verdicts.append(KEEP)
        seen.add(text)
    return verdicts


def _has_uuid(uuid: Any) -> bool:
    return uuid is not None and str(uuid).strip() != ""


def _openr1_problem_batch(batch: dict[str, list]) -> dict[str, list]:
    reasons, ids, content_ids, answers = [], [], [], []
    for index in range(len(batch["problem"])):
        row = {key: values[index] for key, values in batch.items()}
        trace = trace_of(row[MESSAGES])
        # The verified trace is one of the generations; its flags say whether it was complete.
        generations = row["generations"] or []
        verdict = KEEP if has_final_answer(trace) else NO_ANSWER
        if trace in generations and verdict == KEEP:
            verdict = _generation_verdicts(row, only_verified=False)[generations.index(trace)]
        reasons.append(verdict)
        # The card allows a null uuid: such a row is named by its content (question and trace), never 'None'.
        content_ids.append(not _has_uuid(row["uuid"]))
        ids.append(_content_id(question_of(row[MESSAGES]), trace) if content_ids[-1] else str(row["uuid"]))
        answers.append(None if row["answer"] is None else str(row["answer"]))
    return {_REASONS_COLUMN: reasons, ID: ids, _CONTENT_ID_COLUMN: content_ids, ANSWER: answers}


def _openr1_verdicts_batch(batch: dict[str, list]) -> dict[str, list]:
    rows = ({key: values[index] for key, values in batch.items()} for index in range(len(batch["problem"])))
    return {_REASONS_COLUMN: [_generation_verdicts(row, only_verified=True) for row in rows]}


def _openr1_expand_batch(batch: dict[str, list]) -> dict[str, list]:
    """One output row per kept generation; every original column is repeated for it."""
    out: dict[str, list] = {key: [] for key in batch if key != _REASONS_COLUMN}
    out.update({ID: [], ANSWER: [], GENERATION_INDEX: [], _CONTENT_ID_COLUMN: []})
    for index, verdicts in enumerate(batch[_REASONS_COLUMN]):
        for generation, verdict in enumerate(verdicts):
            if verdict != KEEP:
                continue
            for key in batch:
                if key not in (_REASONS_COLUMN, MESSAGES):
                    out[key].append(batch[key][index])
            problem, text = batch["problem"][index], batch["generations"][index][generation]
            out[MESSAGES].append(make_messages(problem, text))
            uuid = batch["uuid"][index]
            # Without a uuid, the id comes from the problem and this generation's text: stable whatever the order
            # of the generations, and the same example gets the same id in problem mode.
            out[_CONTENT_ID_COLUMN].append(not _has_uuid(uuid))
            out[ID].append(_content_id(problem, text) if out[_CONTENT_ID_COLUMN][-1] else f"{uuid}#{generation}")
            answer = batch["answer"][index]
            out[ANSWER].append(None if answer is None else str(answer))
            out[GENERATION_INDEX].append(generation)
    return out


class OpenR1Adapter(PoolAdapter):
    """OpenR1-Math-220k (`open-r1/OpenR1-Math-220k`, configs default / extended / all).

    Rows with a null uuid get a content id (see `_content_id`); two of them with the same content are one example,
    kept once and counted as a duplicate trace.
    """

    name = "openr1"
    MODES = ("problem", "generations")
    REQUIRED = (
        "problem",
        "answer",
        "uuid",
        "generations",
        "is_reasoning_complete",
        "finish_reasons",
        "correctness_math_verify",
        MESSAGES,
    )
    LIST_COLUMNS: ClassVar[dict[str, str]] = {
        "generations": "string",
        "is_reasoning_complete": "bool",
        "finish_reasons": "string",
        "correctness_math_verify": "bool",
    }

    def __init__(self, mode: str = "problem"):
        if mode not in self.MODES:
            raise InputError(f"unknown OpenR1 mode {mode!r}; choose one of {list(self.MODES)}")
        self.mode = mode

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        import pyarrow.compute as pc

        _require_columns(dataset, list(self.REQUIRED), "Is this OpenR1-Math-220k? Use the generic adapter otherwise")
        for name, value in self.LIST_COLUMNS.items():
            _require_lists_of(dataset, name, value)
        rows_in = len(dataset)
        if self.mode == "problem":
            _validate_messages_column(dataset)  # the verified trace is read from it
            scored = dataset.map(_openr1_problem_batch, batched=True, num_proc=num_proc, desc="OpenR1 verified traces")
            verdicts = arrow_column(scored, _REASONS_COLUMN).to_numpy(zero_copy_only=False).astype(object)
            content = arrow_column(scored, _CONTENT_ID_COLUMN).to_numpy(zero_copy_only=False)
            ids = arrow_column(scored, ID).to_numpy(zero_copy_only=False)
            verdicts[_repeats(ids, (verdicts == KEEP) & content)] = DUPLICATE
            counts = Counter(verdicts.tolist())
            pool = _keep_rows(scored, verdicts == KEEP)
        else:
            _require_string_column(dataset, "problem")
            _require_non_empty_strings(dataset, "problem", "problem")  # it becomes the user turn
            scored = dataset.map(_openr1_verdicts_batch, batched=True, num_proc=num_proc, desc="OpenR1 generations")
            verdicts = pc.list_flatten(arrow_column(scored, _REASONS_COLUMN))
            counts = Counter({item["values"]: item["counts"] for item in pc.value_counts(verdicts).to_pylist()})
            pool = scored.map(
                _openr1_expand_batch,
                batched=True,
                num_proc=num_proc,
                remove_columns=scored.column_names,
                desc="One row per verified generation",
            )
            content = arrow_column(pool, _CONTENT_ID_COLUMN).to_numpy(zero_copy_only=False)
            repeated = _repeats(arrow_column(pool, ID).to_numpy(zero_copy_only=False), content)
            counts[DUPLICATE] += int(repeated.sum())
            pool = _keep_rows(pool, ~repeated)
        counts.pop(KEEP, None)
        counts = +counts  # drop reasons counted zero times
        pool = pool.remove_columns([c for c in (_REASONS_COLUMN, _CONTENT_ID_COLUMN) if c in pool.column_names])
        _require_rows_left(len(pool), rows_in, counts)
        _require_unique_ids(pool, "some rows share a uuid: keep one of each first, e.g. with Dataset.filter")
        report = PoolReport(self.name, self.mode, rows_in, len(pool), dict(sorted(counts.items())), {"mode": self.mode})
        _log_report(report)
        return pool, report


# ---------------------------------------------------------------------------------------------------------------------
# Generic pools


def _generic_batch(
    batch: dict[str, list],
    question_column: str | None,
    trace_column: str | None,
    answer_column: str | None,
    id_column: str | None,
    require_final_answer: bool,
) -> dict[str, list]:
    out: dict[str, list] = {ID: [], ANSWER: [], _REASONS_COLUMN: []}
    if question_column is not None:
        out[MESSAGES] = [make_messages(q, t) for q, t in zip(batch[question_column], batch[trace_column])]
    conversations = out.get(MESSAGES, batch.get(MESSAGES))
    for index, messages in enumerate(conversations):
        question, trace = question_of(messages), trace_of(messages)
        out[ID].append(str(batch[id_column][index]) if id_column else _content_id(question, trace))
        answer = batch[answer_column][index] if answer_column else None
        out[ANSWER].append(None if answer is None else str(answer))
        if not trace.strip():
            out[_REASONS_COLUMN].append("empty trace")
        elif require_final_answer and not has_final_answer(trace):
            out[_REASONS_COLUMN].append(NO_ANSWER)
        else:
            out[_REASONS_COLUMN].append(KEEP)
    return out


def _rows_listed(rows, limit: int = 10) -> str:
    rows = [int(row) for row in rows]
    return f"rows {rows[:limit]}{'...' if len(rows) > limit else ''}"


def _validate_messages_column(dataset: Dataset) -> None:
    """Every conversation needs a user question and an assistant trace, with roles and contents that are not null.

    Checked on the Arrow column up front, so a bad row is one clear error instead of a traceback from a worker.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = arrow_column(dataset, MESSAGES)
    column_type = column.type
    if not (pa.types.is_list(column_type) or pa.types.is_large_list(column_type)) or not pa.types.is_struct(
        column_type.value_type
    ):
        raise ColumnTypeError(f"column {MESSAGES!r} must hold lists of {{role, content}}; got {column_type}")
    fields = {column_type.value_type.field(i).name for i in range(column_type.value_type.num_fields)}
    if not {"role", "content"} <= fields:
        raise ColumnTypeError(f"messages must have 'role' and 'content' fields; got {sorted(fields)}")
    for name in ("role", "content"):
        field_type = column_type.value_type.field(name).type
        if not (pa.types.is_string(field_type) or pa.types.is_large_string(field_type) or pa.types.is_null(field_type)):
            raise ColumnTypeError(
                f"the {name} of each message must be a string; column {MESSAGES!r} has {name} of type {field_type}. "
                "Flatten it to text first (e.g. with Dataset.map)"
            )
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    found: list[tuple[str, np.ndarray]] = []  # (what is wrong, row numbers)
    no_messages = np.flatnonzero(pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False) == 0)
    found.append(("no messages", no_messages))
    messages = pc.list_flatten(column)
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    roles = pc.struct_field(messages, "role")
    content_null = pc.is_null(pc.struct_field(messages, "content")).to_numpy(zero_copy_only=False)
    found.append(("a message with a null role", np.unique(parents[pc.is_null(roles).to_numpy(zero_copy_only=False)])))
    for role, what in (("user", "the question"), ("assistant", "the trace")):
        positions = np.flatnonzero(pc.fill_null(pc.equal(roles, role), False).to_numpy(zero_copy_only=False))
        if role == "assistant":  # the trace is the last assistant turn, the question the first user turn
            positions = positions[::-1]
        rows_with_role, first = np.unique(parents[positions], return_index=True)
        found.append((f"no {role} turn", np.setdiff1d(np.arange(len(column)), np.union1d(rows_with_role, no_messages))))
        found.append((f"a null {role} content ({what})", rows_with_role[content_null[positions[first]]]))
    found = [(what, rows) for what, rows in found if rows.size]
    if found:
        bad = np.unique(np.concatenate([rows for _, rows in found])).size
        details = "; ".join(f"{_rows_listed(rows)}: {what}" for what, rows in found)
        raise InputError(
            f"column {MESSAGES!r} has {bad} unusable rows of {len(column)} ({details}). Every conversation needs a "
            "user question and an assistant trace: fix or remove those rows first, e.g. with Dataset.filter"
        )


class GenericAdapter(PoolAdapter):
    """Any dataset: name its question and trace columns, or give it a `messages` column.

    Ids come from `id_column` when named, else from a hash of question and trace (so exact duplicates share an id and
    only the first is kept). Answers come from `answer_column` when named.
    """

    name = "generic"

    def __init__(
        self,
        question_column: str | None = None,
        trace_column: str | None = None,
        answer_column: str | None = None,
        id_column: str | None = None,
        require_final_answer: bool = False,
    ):
        if (question_column is None) != (trace_column is None):
            raise InputError(
                f"name both the question and the trace column, or neither (to use 'messages'); "
                f"got question_column={question_column!r}, trace_column={trace_column!r}"
            )
        self.question_column = question_column
        self.trace_column = trace_column
        self.answer_column = answer_column
        self.id_column = id_column
        self.require_final_answer = require_final_answer

    def options(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value not in (None, False)}

    def _validate(self, dataset: Dataset) -> None:
        if self.question_column is None:
            if MESSAGES not in dataset.column_names:
                raise ColumnError(
                    f"the pool has no {MESSAGES!r} column and no question/trace columns were named; columns: "
                    f"{dataset.column_names}. Pass --question-column and --trace-column"
                )
            _validate_messages_column(dataset)
        else:
            _require_columns(dataset, [self.question_column, self.trace_column], "Name the columns that exist")
            if MESSAGES in dataset.column_names:
                raise InputError(
                    f"the pool already has a {MESSAGES!r} column; use it (name no question/trace columns) or rename it "
                    "before building messages from other columns"
                )
            for column, what in ((self.question_column, "question"), (self.trace_column, "trace")):
                _require_string_column(dataset, column)
                _require_non_empty_strings(dataset, column, what)
        for column in (self.answer_column, self.id_column):
            if column is not None:
                _require_columns(dataset, [column], "Name columns that exist")
        if self.id_column is not None:
            _require_id_column(dataset, self.id_column)

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        self._validate(dataset)
        rows_in = len(dataset)
        scored = dataset.map(
            _generic_batch,
            batched=True,
            num_proc=num_proc,
            desc="Building pool",
            fn_kwargs={
                "question_column": self.question_column,
                "trace_column": self.trace_column,
                "answer_column": self.answer_column,
                "id_column": self.id_column,
                "require_final_answer": self.require_final_answer,
            },
        )
        verdicts = arrow_column(scored, _REASONS_COLUMN).to_numpy(zero_copy_only=False).astype(object)
        if self.id_column is None:  # identical content gives identical ids: keep the first
            verdicts[_repeats(arrow_column(scored, ID).to_numpy(zero_copy_only=False), verdicts == KEEP)] = DUPLICATE
        counts = Counter(verdicts.tolist())
        counts.pop(KEEP, None)
        pool = _keep_rows(scored, verdicts == KEEP).remove_columns(_REASONS_COLUMN)
        _require_unique_ids(pool, "name a unique id column (--id-column), or none to derive ids from the content")
        _require_rows_left(len(pool), rows_in, counts)
        report = PoolReport(self.name, None, rows_in, len(pool), dict(sorted(counts.items())), self.options())
        _log_report(report)
        return pool, report


# ---------------------------------------------------------------------------------------------------------------------

# name -> "module:Class": the layouts in s2r_hf.pool.layouts build on this module, so they are imported when named.
ADAPTERS: dict[str, str] = {
    "openr1": "s2r_hf.pool.adapters:OpenR1Adapter",
    "generic": "s2r_hf.pool.adapters:GenericAdapter",
    "chinese-distill": "s2r_hf.pool.layouts:ChineseDistillAdapter",
    "sharegpt": "s2r_hf.pool.layouts:ShareGPTAdapter",
    "s1k": "s2r_hf.pool.layouts:S1KAdapter",
}
# Columns that identify a layout, most specific first (a pool with `messages` is read as it is, by `generic`).
_SIGNATURES = (
    ("openr1", set(OpenR1Adapter.REQUIRED)),
    ("chinese-distill", {"input", "reasoning_content", "content"}),
    ("s1k", {"question", "thinking_trajectories", "attempt", "solution"}),
)


def detect_adapter(column_names: list[str]) -> str:
    """The adapter whose columns the dataset has: openr1, chinese-distill, s1k, sharegpt (a `conversations` column
    and no `messages`), else `generic`."""
    names = set(column_names)
    for adapter, required in _SIGNATURES:
        if required <= names:
            return adapter
    return "sharegpt" if "conversations" in names and MESSAGES not in names else "generic"


def adapter_class(name: str) -> type[PoolAdapter]:
    from importlib import import_module

    if name not in ADAPTERS:
        raise InputError(f"unknown adapter {name!r}; known: {sorted(ADAPTERS)}")
    module_name, class_name = ADAPTERS[name].split(":")
    return getattr(import_module(module_name), class_name)


def make_adapter(name: str, **options: Any) -> PoolAdapter:
    import inspect

    cls = adapter_class(name)
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(
            f"the {name} adapter takes the options {accepted}, not {unknown}; choose the adapter explicitly"
        )
    return cls(**options)


def _log_report(report: PoolReport) -> None:
    dropped = ", ".join(f"{count} {reason}" for reason, count in report.dropped.items()) or "none"
    logger.info("%s adapter: %d rows read, %d kept; dropped: %s", report.adapter, report.rows_in, report.rows, dropped)


def load_pool(
    source,
    *,
    adapter: str = "auto",
    config: str | None = None,
    split: str = "train",
    revision: str | None = None,
    num_proc: int | None = None,
    **adapter_options: Any,
):
    """Load a source (Hub id, folder or file) and adapt it into a pool. Returns `(pool, PoolReport)`."""
    from datasets import Dataset

    from s2r_hf.core.rows import require_num_proc
    from s2r_hf.pool.sources import load_source

    require_num_proc(num_proc)
    dataset = source if isinstance(source, Dataset) else load_source(source, config, split, revision)
    if adapter == "auto":
        adapter = detect_adapter(dataset.column_names)
        logger.info("using the %s adapter", adapter)
    return make_adapter(adapter, **adapter_options).adapt(dataset, num_proc=num_proc)
