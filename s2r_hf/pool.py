"""What a pool row is: chat `messages` whose first user turn is the question and whose last assistant turn is the trace.

Adapters (s2r_hf.adapters) bring every source to this shape; everything downstream reads questions and traces through
these two functions, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s2r_hf.errors import ColumnTypeError, InputError

Message = dict[str, Any]


def question_of(messages: Sequence[Message]) -> str:
    """The content of the first user message."""
    if not isinstance(messages, (list, tuple)):  # a null `messages` cell would be a TypeError deep in the caller
        raise ColumnTypeError(f"messages must be a list of chat turns, got {messages!r}; filter out such rows")
    for message in messages:
        if message["role"] == "user":
            return message["content"]
    raise InputError(f"messages have no user turn (roles: {[m['role'] for m in messages]})")


def trace_of(messages: Sequence[Message]) -> str:
    """The content of the last assistant message: the reasoning trace SFT will imitate."""
    for message in reversed(messages):
        if message["role"] == "assistant":
            return message["content"]
    raise InputError(f"messages have no assistant turn (roles: {[m['role'] for m in messages]})")


def make_messages(question: str, trace: str) -> list[Message]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": trace}]


def arrow_column(dataset, name: str):
    """A column as a pyarrow ChunkedArray, honouring the dataset's indices mapping (after `select`/`shuffle`).

    `dataset.data` is the table *under* any indices mapping, so reading it directly would see the wrong rows.
    """
    return dataset.with_format("arrow")[name]
