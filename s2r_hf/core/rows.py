"""What a pool row is: chat `messages` whose first user turn is the question and whose last assistant turn is the trace.

Adapters (s2r_hf.pool.adapters) bring every source to this shape; everything downstream reads questions and traces
through
these two functions, so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from s2r_hf.core.errors import ColumnTypeError, InputError, OptionTypeError

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


def require_dataset(dataset, what: str = "dataset") -> None:
    """Refuse anything but a `datasets.Dataset` in one line that says how to get one from what was given."""
    from datasets import Dataset, DatasetDict, IterableDataset

    if isinstance(dataset, Dataset):
        return
    hints = {
        DatasetDict: "pick one split, e.g. dataset['train']",
        IterableDataset: "streaming datasets are not supported; load it without streaming=True",
        str: "load it first: s2r_hf.load_pool(path) for a source, s2r_hf.load_dataset_folder(path) for a scored pool",
    }
    hint = next((text for kind, text in hints.items() if isinstance(dataset, kind)), None)
    if hint is None and hasattr(dataset, "to_dict") and hasattr(dataset, "columns"):
        hint = "convert it with datasets.Dataset.from_pandas"
    raise OptionTypeError(
        f"{what} must be a datasets.Dataset, got {type(dataset).__name__}" + (f"; {hint}" if hint else "")
    )


def require_num_proc(num_proc) -> None:
    """num_proc for `Dataset.map`: None or a positive integer (datasets' own message for 0 or "2" is a traceback)."""
    import numbers

    if num_proc is None:
        return
    if isinstance(num_proc, bool) or not isinstance(num_proc, numbers.Integral):
        raise OptionTypeError(
            f"num_proc must be a positive integer or None, got {num_proc!r} ({type(num_proc).__name__})"
        )
    if num_proc < 1:
        raise InputError(f"num_proc must be at least 1, got {num_proc}")
