"""Adapters bring a source dataset to the pool shape (s2r_hf.core.rows), keeping every original column.

Each adapter adds `messages` (user question, assistant trace), `s2r_id` (unique, stable: the ranking's tie-breaker)
and `s2r_answer`, drops rows that cannot teach (incomplete traces), and reports how many it dropped and why. This
module names them (`ADAPTERS`), recognizes a source's layout by its columns (`detect_adapter`) and loads a pool
(`load_pool`):

- `openr1`: OpenR1-Math-220k, one row per problem or per verified generation (s2r_hf.pool.openr1).
- `generic`: any dataset, given its question and trace columns, or one that already has `messages`
  (s2r_hf.pool.generic).
- `chinese-distill`, `sharegpt`, `s1k`: more layouts, in s2r_hf.pool.layouts.

What they share (the base class, the report, the drop reasons) is in s2r_hf.pool.adapter_base, the checks of a
source's columns in s2r_hf.pool.column_checks.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import InputError
from s2r_hf.core.rows import require_num_proc
from s2r_hf.pool.adapter_base import PoolAdapter
from s2r_hf.pool.generic import GenericAdapter
from s2r_hf.pool.layouts import ChineseDistillAdapter, S1KAdapter, ShareGPTAdapter
from s2r_hf.pool.openr1 import OpenR1Adapter
from s2r_hf.pool.sources import load_source

logger = logging.getLogger(__name__)

# name -> adapter class; `--adapter` and `load_pool(adapter=...)` take these names.
ADAPTERS: dict[str, type[PoolAdapter]] = {
    adapter.name: adapter
    for adapter in (OpenR1Adapter, GenericAdapter, ChineseDistillAdapter, ShareGPTAdapter, S1KAdapter)
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
    if name not in ADAPTERS:
        raise InputError(f"unknown adapter {name!r}; known: {sorted(ADAPTERS)}")
    return ADAPTERS[name]


def make_adapter(name: str, **options: Any) -> PoolAdapter:
    cls = adapter_class(name)
    accepted = list(inspect.signature(cls).parameters)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(
            f"the {name} adapter takes the options {accepted}, not {unknown}; choose the adapter explicitly"
        )
    return cls(**options)


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

    require_num_proc(num_proc)
    dataset = source if isinstance(source, Dataset) else load_source(source, config, split, revision)
    if adapter == "auto":
        adapter = detect_adapter(dataset.column_names)
        logger.info("using the %s adapter", adapter)
    return make_adapter(adapter, **adapter_options).adapt(dataset, num_proc=num_proc)
