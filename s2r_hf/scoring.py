"""Scoring a pool: source -> adapter -> trace length and rethink count -> difficulty.

`score_pool` is what `s2r score` runs. Each step is a batched `Dataset.map`, so datasets' fingerprint cache makes a
re-run with the same settings free and a changed setting recompute only what depends on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.errors import InputError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)


@dataclass
class ScoreConfig:
    """How to build and score a pool."""

    source: str = field(default="", metadata={"help": "Hub dataset id, local folder, or jsonl/json/parquet/csv file"})
    config: str | None = field(default=None, metadata={"help": "dataset config (Hub or folder), e.g. default"})
    split: str = field(default="train", metadata={"help": "split to read"})
    revision: str | None = field(default=None, metadata={"help": "Hub revision (branch, tag or commit)"})
    adapter: str = field(default="auto", metadata={"help": "openr1, generic, or auto (openr1 if its columns exist)"})
    openr1_mode: str = field(default="problem", metadata={"help": "openr1: problem (verified trace) or generations"})
    question_column: str | None = field(default=None, metadata={"help": "generic: column holding the question"})
    trace_column: str | None = field(default=None, metadata={"help": "generic: column holding the reasoning trace"})
    answer_column: str | None = field(default=None, metadata={"help": "generic: column holding the final answer"})
    id_column: str | None = field(default=None, metadata={"help": "generic: unique id column (default: content hash)"})
    require_final_answer: bool = field(default=False, metadata={"help": "generic: drop traces with no \\boxed{}"})
    tokenizer: str | None = field(default=None, metadata={"help": "tokenizer for lengths (default: characters)"})
    discount_repeated_steps: bool = field(default=False, metadata={"help": "count repeated steps once"})
    difficulty: str = field(default="rollout", metadata={"help": "rollout, column:NAME or judge"})
    difficulty_options: dict[str, Any] = field(default_factory=dict, metadata={"help": "options of the scorer"})
    num_proc: int | None = field(default=None, metadata={"help": "processes for the map steps"})
    license: str | None = field(default=None, metadata={"help": "license of the source, for the card"})
    synthetic: bool = field(default=False, metadata={"help": "the source is synthetic (stated in the card)"})

    def __post_init__(self):
        if not self.source:
            raise InputError("no source given: name a Hub dataset id, a local folder or a file")
        if self.num_proc is not None and self.num_proc < 1:
            raise InputError(f"num_proc must be at least 1, got {self.num_proc}")

    def adapter_options(self, adapter: str) -> dict[str, Any]:
        if adapter == "openr1":
            generic = [
                name
                for name in ("question_column", "trace_column", "answer_column", "id_column")
                if getattr(self, name) is not None
            ]
            if generic:
                raise InputError(
                    f"{generic} apply to the generic adapter; the source looks like OpenR1 "
                    "(pass --adapter generic to use them)"
                )
            return {"mode": self.openr1_mode}
        return {
            "question_column": self.question_column,
            "trace_column": self.trace_column,
            "answer_column": self.answer_column,
            "id_column": self.id_column,
            "require_final_answer": self.require_final_answer,
        }


def score_pool(config: ScoreConfig, *, command: str | None = None) -> tuple[Dataset, dict[str, Any]]:
    """Build and score the pool. Returns it with the card metadata (`s2r` block) that says how it was made."""
    from s2r_hf.adapters import detect_adapter, make_adapter
    from s2r_hf.difficulty import make_difficulty_scorer
    from s2r_hf.length import add_trace_columns, describe_length, load_tokenizer
    from s2r_hf.sources import describe_source, load_source

    # Build every component before the expensive steps, so a bad option fails in a second, not after an hour.
    scorer = make_difficulty_scorer(config.difficulty, **config.difficulty_options)
    tokenizer = load_tokenizer(config.tokenizer) if config.tokenizer else None

    source_info = describe_source(config.source, config.config, config.split, config.revision)
    dataset = load_source(config.source, config.config, config.split, config.revision)
    adapter_name = detect_adapter(dataset.column_names) if config.adapter == "auto" else config.adapter
    adapter = make_adapter(adapter_name, **config.adapter_options(adapter_name))
    pool, report = adapter.adapt(dataset, num_proc=config.num_proc)
    pool = add_trace_columns(
        pool, tokenizer, discount_repeated_steps=config.discount_repeated_steps, num_proc=config.num_proc
    )
    pool = scorer.add_difficulty(pool, num_proc=config.num_proc)

    metadata = {
        "kind": "scored_pool",
        "version": __version__,
        "synthetic": config.synthetic,
        "license": config.license,
        "source": source_info.describe(),
        "adapter": {"name": report.adapter, "mode": report.mode, **report.options},
        "rows_in": report.rows_in,
        "rows": report.rows,
        "dropped": report.dropped,
        "length": describe_length(tokenizer, config.discount_repeated_steps),
        "difficulty": scorer.describe(),
        "command": command,
    }
    return pool, metadata
