"""The length signal: `s2r_trace_length` and, for analysis, `s2r_rethink_count`, in one batched `Dataset.map` pass.

Length is counted in tokens of a given tokenizer (its fast Rust backend encodes a whole batch at once), or in characters
when no tokenizer is named. Optionally, reasoning steps (paragraphs) that repeat exactly are counted once: length then
measures reasoning, not copy-paste (the "normalised length" of the paper's v3).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.columns import MESSAGES, RETHINK_COUNT, TRACE_LENGTH
from s2r_hf.errors import ColumnError, InputError, OptionTypeError
from s2r_hf.pool import require_dataset, require_num_proc, trace_of

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The words the paper counts as rethinking (self-correction, backtracking); capitalised, as they open a sentence.
RETHINK_MARKERS = ("Wait", "Alternatively", "Maybe", "However")
_RETHINK_PATTERN = re.compile(r"\b(?:" + "|".join(RETHINK_MARKERS) + r")\b")
_STEP_BREAK = re.compile(r"\n[ \t]*\n")


def drop_repeated_steps(trace: str) -> str:
    """The trace with every step (paragraph) that repeats an earlier one exactly, whitespace aside, removed."""
    seen: set[str] = set()
    kept = []
    for step in _STEP_BREAK.split(trace):
        key = " ".join(step.split())
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(step)
    return "\n\n".join(kept)


def count_rethinks(trace: str) -> int:
    return len(_RETHINK_PATTERN.findall(trace))


def _trace_columns_batch(batch: dict[str, list], tokenizer, discount_repeated_steps: bool) -> dict[str, list]:
    traces = [trace_of(messages) for messages in batch[MESSAGES]]
    rethinks = [count_rethinks(trace) for trace in traces]
    if discount_repeated_steps:
        traces = [drop_repeated_steps(trace) for trace in traces]
    if tokenizer is None:
        lengths = [len(trace) for trace in traces]
    elif getattr(tokenizer, "backend_tokenizer", None) is not None:
        # The Rust tokenizer encodes the whole batch in one call, on every core; only the counts are kept, and the
        # fast variant (tokenizers >= 0.20) skips the character offsets that counting does not need.
        backend = tokenizer.backend_tokenizer
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
        lengths = [len(encoding) for encoding in encode(traces, add_special_tokens=False)]
    else:
        lengths = [len(ids) for ids in tokenizer(traces, add_special_tokens=False)["input_ids"]]
    return {TRACE_LENGTH: lengths, RETHINK_COUNT: rethinks}


def looks_like_local_path(name: str) -> bool:
    """True for names a user means as a path (`./tok`, `/data/tok`, `~/tok`, `a/b/c`), never a Hub id (`org/name`)."""
    return name.startswith(("/", "./", "../", "~", ".\\")) or name in (".", "..") or name.count("/") > 1


def load_tokenizer(name: str, revision: str | None = None):
    """A tokenizer from a local folder or a Hub id, or one line saying why it cannot be loaded."""
    from transformers import AutoTokenizer

    from s2r_hf.http_errors import transport_errors

    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"the tokenizer {name!r} is a file; give the folder that holds tokenizer.json (or a Hub id)")
    if not path.exists() and looks_like_local_path(name):
        raise InputError(
            f"the tokenizer folder {name!r} does not exist; give an existing folder or a Hub id such as "
            "'Qwen/Qwen2.5-7B-Instruct'"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, revision=revision)
    except (OSError, ValueError, *transport_errors()) as err:
        # OSError: not found, offline or unreachable; ValueError: a malformed id or a folder without a tokenizer.
        where = f"folder {name!r}" if path.is_dir() else f"{name!r} from the Hub (revision {revision or 'default'})"
        raise InputError(f"could not load the tokenizer {where}: {' '.join(str(err).split())}") from err
    if not getattr(tokenizer, "is_fast", False):
        logger.warning("tokenizer %s has no fast (Rust) backend; counting tokens will be slow", name)
    return tokenizer


def describe_length(tokenizer=None, discount_repeated_steps: bool = False) -> dict[str, Any]:
    return {
        "unit": "characters" if tokenizer is None else "tokens",
        "tokenizer": None if tokenizer is None else getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "discount_repeated_steps": discount_repeated_steps,
        "rethink_markers": list(RETHINK_MARKERS),
    }


def add_trace_columns(
    pool: Dataset,
    tokenizer=None,
    *,
    discount_repeated_steps: bool = False,
    num_proc: int | None = None,
    batch_size: int = 1000,
) -> Dataset:
    """Add `s2r_trace_length` and `s2r_rethink_count`.

    `tokenizer` is a tokenizer object, a Hub id or local path to load one from, or None to count characters.
    """
    require_dataset(pool, "the pool")
    require_num_proc(num_proc)
    if not isinstance(discount_repeated_steps, bool):
        raise OptionTypeError(f"discount_repeated_steps must be True or False, got {discount_repeated_steps!r}")
    if MESSAGES not in pool.column_names:
        raise ColumnError(
            f"the pool has no {MESSAGES!r} column (columns: {pool.column_names}); build it with s2r_hf.load_pool first"
        )
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = load_tokenizer(os.fspath(tokenizer))
    elif tokenizer is not None and not callable(tokenizer):
        raise OptionTypeError(
            f"tokenizer must be a tokenizer, a Hub id or folder, or None (characters); got {type(tokenizer).__name__}"
        )
    return pool.map(
        _trace_columns_batch,
        batched=True,
        batch_size=batch_size,
        num_proc=num_proc,
        fn_kwargs={"tokenizer": tokenizer, "discount_repeated_steps": discount_repeated_steps},
        desc="Trace length" + (" (tokens)" if tokenizer is not None else " (characters)"),
    )
