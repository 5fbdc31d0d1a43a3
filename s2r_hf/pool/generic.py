"""The generic adapter (`generic`): any dataset, given its question and trace columns, or one that already has
`messages`."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ANSWER, ID, MESSAGES
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.core.rows import arrow_column, make_messages, question_of, trace_of
from s2r_hf.pool.adapter_base import (
    DUPLICATE,
    KEEP,
    NO_ANSWER,
    REASONS_COLUMN,
    UNANSWERED,
    PoolAdapter,
    PoolReport,
    content_id,
    has_final_answer,
    keep_rows,
    log_report,
    repeats,
    require_rows_left,
)
from s2r_hf.pool.column_checks import (
    require_columns,
    require_id_column,
    require_non_empty_strings,
    require_string_column,
    require_unique_ids,
    validate_messages_column,
)

if TYPE_CHECKING:
    from datasets import Dataset


def _generic_batch(
    batch: dict[str, list],
    question_column: str | None,
    trace_column: str | None,
    answer_column: str | None,
    id_column: str | None,
    require_final_answer: bool,
) -> dict[str, list]:
    out: dict[str, list] = {ID: [], ANSWER: [], REASONS_COLUMN: []}
    if question_column is not None:
        out[MESSAGES] = [make_messages(q, t) for q, t in zip(batch[question_column], batch[trace_column])]
    conversations = out.get(MESSAGES, batch.get(MESSAGES))
    for index, messages in enumerate(conversations):
        question, trace = question_of(messages), trace_of(messages)
        out[ID].append(str(batch[id_column][index]) if id_column else content_id(question, trace))
        answer = batch[answer_column][index] if answer_column else None
        out[ANSWER].append(None if answer is None else str(answer))
        if not trace.strip():
            out[REASONS_COLUMN].append("empty trace")
        elif messages[-1]["role"] != "assistant":
            out[REASONS_COLUMN].append(UNANSWERED)
        elif require_final_answer and not has_final_answer(trace):
            out[REASONS_COLUMN].append(NO_ANSWER)
        else:
            out[REASONS_COLUMN].append(KEEP)
    return out


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
            validate_messages_column(dataset)
        else:
            require_columns(dataset, [self.question_column, self.trace_column], "Name the columns that exist")
            if MESSAGES in dataset.column_names:
                raise InputError(
                    f"the pool already has a {MESSAGES!r} column; use it (name no question/trace columns) or rename it "
                    "before building messages from other columns"
                )
            for column, what in ((self.question_column, "question"), (self.trace_column, "trace")):
                require_string_column(dataset, column)
                require_non_empty_strings(dataset, column, what)
        for column in (self.answer_column, self.id_column):
            if column is not None:
                require_columns(dataset, [column], "Name columns that exist")
        if self.id_column is not None:
            require_id_column(dataset, self.id_column)

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
        verdicts = arrow_column(scored, REASONS_COLUMN).to_numpy(zero_copy_only=False).astype(object)
        if self.id_column is None:  # identical content gives identical ids: keep the first
            verdicts[repeats(arrow_column(scored, ID).to_numpy(zero_copy_only=False), verdicts == KEEP)] = DUPLICATE
        counts = Counter(verdicts.tolist())
        counts.pop(KEEP, None)
        pool = keep_rows(scored, verdicts == KEEP).remove_columns(REASONS_COLUMN)
        require_unique_ids(pool, "name a unique id column (--id-column), or none to derive ids from the content")
        require_rows_left(len(pool), rows_in, counts)
        report = PoolReport(self.name, None, rows_in, len(pool), dict(sorted(counts.items())), self.options())
        log_report(report)
        return pool, report
