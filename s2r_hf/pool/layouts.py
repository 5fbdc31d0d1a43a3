"""Adapters for more pool layouts: the Chinese R1-distilled pool, ShareGPT conversations and s1K.

Each brings its source to the pool shape (s2r_hf.core.rows) like the adapters in s2r_hf.pool.openr1 and
s2r_hf.pool.generic, keeping every original column, and names rows by a hash of question and trace (none of these
sources has an id column):

- `chinese-distill`: `Congliu/Chinese-DeepSeek-R1-Distill-data-110k` (`input`, `reasoning_content`, `content`, ...).
  The trace is DeepSeek-R1's own layout: `<think>\\n` + reasoning_content + `\\n</think>\\n\\n` + content (the answer).
  Its rethinking markers are the Chinese ones (s2r_hf.signals.length.RETHINK_MARKERS_ZH).
- `sharegpt`: a `conversations` column of `{from, value}` turns (e.g. `open-thoughts/OpenThoughts-114k`). Roles
  human/user, gpt/assistant and system become user, assistant and system; every turn is kept, text unchanged (the
  `<|begin_of_thought|>` markers of OpenThoughts stay as they are). The question is the first user turn, the trace the
  last assistant turn. A separate `system` column is kept as a column, not added to the conversation. A conversation
  whose last turn is not an assistant's (a user turn left unanswered) is dropped and counted: SFT would train on it.
- `s1k`: `simplescaling/s1K` (`question`, `thinking_trajectories` (list of str), `attempt`, `solution`). The trace is
  `<think>\\n` + the trajectories joined by newlines (as s1's own training script joins them) + `\\n</think>\\n\\n` +
  attempt; `s2r_answer` is the last `\\boxed{}` of `solution`, where it has one.

A row whose reasoning is null or blank cannot teach long chain of thought: it is dropped and counted, like an
incomplete trace in OpenR1. A null question, a column of the wrong type or an unknown ShareGPT role is an error.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ANSWER, ID, MESSAGES
from s2r_hf.core.errors import ColumnTypeError, InputError
from s2r_hf.core.rows import arrow_column, make_messages
from s2r_hf.pool.adapter_base import (
    DUPLICATE,
    KEEP,
    UNANSWERED,
    PoolAdapter,
    PoolReport,
    content_id,
    keep_rows,
    log_report,
    repeats,
    require_rows_left,
)
from s2r_hf.pool.column_checks import (
    require_columns,
    require_lists_of,
    require_non_empty_strings,
    require_string_column,
    require_unique_ids,
    rows_listed,
    validate_messages_column,
)

if TYPE_CHECKING:
    from datasets import Dataset

EMPTY_REASONING = "empty reasoning"
NO_ANSWER_TEXT = "no answer after the reasoning"
EMPTY_TRACE = "empty trace"
_VERDICT = "_s2r_verdict"  # temporary column


def think_trace(reasoning: str, answer: str) -> str:
    """DeepSeek-R1's layout: the reasoning in <think> tags, then the answer."""
    return f"<think>\n{reasoning.strip()}\n</think>\n\n{answer.strip()}"


def _blank(text: Any) -> bool:
    return text is None or not str(text).strip()


def _finish(
    name: str, dataset: Dataset, scored: Dataset, options: dict[str, Any] | None = None
) -> tuple[Dataset, PoolReport]:
    """Drop the rows whose verdict is not KEEP and the repeats of identical content; report the counts."""
    verdicts = arrow_column(scored, _VERDICT).to_numpy(zero_copy_only=False).astype(object)
    verdicts[repeats(arrow_column(scored, ID).to_numpy(zero_copy_only=False), verdicts == KEEP)] = DUPLICATE
    counts = Counter(verdicts.tolist())
    counts.pop(KEEP, None)
    pool = keep_rows(scored, verdicts == KEEP).remove_columns(_VERDICT)
    require_rows_left(len(pool), len(dataset), counts)
    require_unique_ids(pool, "rows with identical question and trace are kept once")
    report = PoolReport(name, None, len(dataset), len(pool), dict(sorted(counts.items())), options or {})
    log_report(report)
    return pool, report


# ---------------------------------------------------------------------------------------------------------------------
# Congliu/Chinese-DeepSeek-R1-Distill-data-110k


def _chinese_batch(batch: dict[str, list]) -> dict[str, list]:
    out: dict[str, list] = {MESSAGES: [], ID: [], ANSWER: [], _VERDICT: []}
    for question, reasoning, content in zip(batch["input"], batch["reasoning_content"], batch["content"]):
        reasoning, content = reasoning or "", content or ""
        trace = think_trace(reasoning, content)
        out[MESSAGES].append(make_messages(question, trace))
        out[ID].append(content_id(question, trace))
        out[ANSWER].append(None)  # the pool mixes subjects and has no reference answers
        out[_VERDICT].append(EMPTY_REASONING if _blank(reasoning) else NO_ANSWER_TEXT if _blank(content) else KEEP)
    return out


class ChineseDistillAdapter(PoolAdapter):
    """`Congliu/Chinese-DeepSeek-R1-Distill-data-110k`: the question is `input`, the trace
    `<think>reasoning_content</think>content`.

    A row with blank reasoning, or reasoning and no answer (DeepSeek-R1 stopped inside its thinking), is dropped.
    """

    name = "chinese-distill"
    COLUMNS = ("input", "reasoning_content", "content")
    RETHINK_LANGUAGE = "zh"

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        require_columns(
            dataset,
            list(self.COLUMNS),
            "Is this Chinese-DeepSeek-R1-Distill-data-110k? Use --adapter generic otherwise",
        )
        for column in self.COLUMNS:
            _require_string_or_null_column(dataset, column)
        require_non_empty_strings(dataset, "input", "question")  # it becomes the user turn
        if MESSAGES in dataset.column_names:
            raise InputError(_messages_exists(self.name))
        scored = dataset.map(_chinese_batch, batched=True, num_proc=num_proc, desc="Chinese R1-distill traces")
        return _finish(self.name, dataset, scored)


# ---------------------------------------------------------------------------------------------------------------------
# ShareGPT conversations

SHAREGPT_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
SHAREGPT_COLUMN = "conversations"


def _sharegpt_batch(batch: dict[str, list]) -> dict[str, list]:
    out: dict[str, list] = {MESSAGES: [], ID: [], ANSWER: [], _VERDICT: []}
    for turns in batch[SHAREGPT_COLUMN]:
        messages = [{"role": SHAREGPT_ROLES[turn["from"]], "content": turn["value"]} for turn in turns or []]
        questions = [m["content"] for m in messages if m["role"] == "user"]
        traces = [m["content"] for m in messages if m["role"] == "assistant"]
        out[MESSAGES].append(messages)
        out[ANSWER].append(None)
        if not questions or not traces or questions[0] is None or traces[-1] is None:
            out[ID].append("")  # refused right after the map, with every such row named
            out[_VERDICT].append(KEEP)
            continue
        out[ID].append(content_id(questions[0], traces[-1]))
        unanswered = messages[-1]["role"] != "assistant"
        out[_VERDICT].append(EMPTY_TRACE if _blank(traces[-1]) else UNANSWERED if unanswered else KEEP)
    return out


def _check_sharegpt_column(dataset: Dataset) -> None:
    """A list of {from, value} strings per row, every `from` a known role (checked on Arrow, before any work)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = arrow_column(dataset, SHAREGPT_COLUMN)
    kind = column.type
    is_text = lambda t: pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)  # noqa: E731
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not pa.types.is_struct(kind.value_type):
        raise ColumnTypeError(
            f"column {SHAREGPT_COLUMN!r} must hold lists of {{from, value}} turns (ShareGPT); got {kind}"
        )
    names = {kind.value_type.field(i).name: kind.value_type.field(i).type for i in range(kind.value_type.num_fields)}
    if not {"from", "value"} <= set(names) or not (is_text(names["from"]) and is_text(names["value"])):
        raise ColumnTypeError(
            f"the turns of {SHAREGPT_COLUMN!r} must have string fields 'from' and 'value'; got {kind.value_type}. "
            "For {role, content} turns, rename the column to 'messages' and use --adapter generic"
        )
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    turns = pc.list_flatten(column)
    roles = pc.struct_field(turns, "from")
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
    unknown = pc.invert(pc.fill_null(pc.is_in(roles, value_set=pa.array(list(SHAREGPT_ROLES))), False))
    bad = np.flatnonzero(unknown.to_numpy(zero_copy_only=False))
    if bad.size:
        seen = sorted({str(role) for role in roles.take(pa.array(bad)).to_pylist()})
        rows = rows_listed(np.unique(parents[bad]))
        raise InputError(
            f"column {SHAREGPT_COLUMN!r} has turns from unknown roles {seen[:5]} ({rows}); "
            f"known roles: {sorted(SHAREGPT_ROLES)}. Rename them first, e.g. with Dataset.map"
        )


class ShareGPTAdapter(PoolAdapter):
    """Conversations of `{from, value}` turns, such as `open-thoughts/OpenThoughts-114k`.

    Every conversation needs a user turn (the question) and an assistant turn (the trace: the last one); a blank
    trace is dropped, and so is a conversation that does not end with an assistant turn.
    """

    name = "sharegpt"

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        require_columns(dataset, [SHAREGPT_COLUMN], "A ShareGPT pool has a 'conversations' column of {from, value}")
        if MESSAGES in dataset.column_names:
            raise InputError(_messages_exists(self.name))
        _check_sharegpt_column(dataset)
        scored = dataset.map(_sharegpt_batch, batched=True, num_proc=num_proc, desc="ShareGPT conversations")
        validate_messages_column(scored)  # one error naming the rows with no question or no trace
        return _finish(self.name, dataset, scored)


# ---------------------------------------------------------------------------------------------------------------------
# simplescaling/s1K


def _s1k_batch(batch: dict[str, list]) -> dict[str, list]:
    from s2r_hf.pool.benchmarks import last_boxed

    out: dict[str, list] = {MESSAGES: [], ID: [], ANSWER: [], _VERDICT: []}
    for question, trajectories, attempt, solution in zip(
        batch["question"], batch["thinking_trajectories"], batch["attempt"], batch["solution"]
    ):
        reasoning = "\n".join(text for text in trajectories or [] if text is not None)
        trace = think_trace(reasoning, attempt or "")
        out[MESSAGES].append(make_messages(question, trace))
        out[ID].append(content_id(question, trace))
        out[ANSWER].append(last_boxed(solution))
        out[_VERDICT].append(EMPTY_REASONING if _blank(reasoning) else NO_ANSWER_TEXT if _blank(attempt) else KEEP)
    return out


class S1KAdapter(PoolAdapter):
    """`simplescaling/s1K`: question, thinking trajectories (joined), then the attempt as the answer."""

    name = "s1k"
    COLUMNS = ("question", "thinking_trajectories", "attempt", "solution")

    def adapt(self, dataset: Dataset, *, num_proc: int | None = None) -> tuple[Dataset, PoolReport]:
        require_columns(dataset, list(self.COLUMNS), "Is this simplescaling/s1K? Use --adapter generic otherwise")
        for column in ("question", "attempt", "solution"):
            _require_string_or_null_column(dataset, column)
        require_lists_of(dataset, "thinking_trajectories", "string")
        require_non_empty_strings(dataset, "question", "question")
        if MESSAGES in dataset.column_names:
            raise InputError(_messages_exists(self.name))
        scored = dataset.map(_s1k_batch, batched=True, num_proc=num_proc, desc="s1K traces")
        return _finish(self.name, dataset, scored)


# ---------------------------------------------------------------------------------------------------------------------


def _require_string_or_null_column(dataset: Dataset, name: str) -> None:
    """Strings, or a column of nulls only (its rows are then dropped or refused with their own message)."""
    import pyarrow as pa

    if not pa.types.is_null(arrow_column(dataset, name).type):
        require_string_column(dataset, name)


def _messages_exists(adapter: str) -> str:
    return (
        f"the pool already has a {MESSAGES!r} column, which the {adapter} adapter would replace; use it with "
        "--adapter generic, or rename it first"
    )
