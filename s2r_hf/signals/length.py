"""The length signal: `s2r_trace_length` and, for analysis, `s2r_rethink_count`, in one batched `Dataset.map` pass.

Length is counted in tokens of a given tokenizer (its fast Rust backend encodes a whole batch at once), or in characters
when no tokenizer is named. Optionally, reasoning steps (paragraphs) that repeat exactly are counted once: length then
measures reasoning, not copy-paste (the "normalised length" of the paper's v3).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import MESSAGES, RETHINK_COUNT, TRACE_LENGTH
from s2r_hf.core.errors import ColumnError, InputError, OptionTypeError
from s2r_hf.core.models import looks_like_local_path
from s2r_hf.core.rows import require_dataset, require_num_proc, trace_of

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The words the paper counts as rethinking (self-correction, backtracking); capitalised, as they open a sentence.
RETHINK_MARKERS = ("Wait", "Alternatively", "Maybe", "However")
# Their counterparts in DeepSeek-R1's Chinese traces (the Chinese-DeepSeek-R1-Distill pool): wait (等等,
# 等一下), that's wrong (不对), but (不过, 但是), alternatively / or (或者), maybe (也许), besides (另外),
# let me check (检查一下), again / redo (重新). Chinese has no spaces, so these match anywhere in the text
# (see `rethink_pattern`).
RETHINK_MARKERS_ZH = ("等等", "等一下", "不对", "不过", "但是", "或者", "也许", "另外", "检查一下", "重新")
RETHINK_LANGUAGES = {"en": RETHINK_MARKERS, "zh": RETHINK_MARKERS_ZH}
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


@functools.lru_cache(maxsize=16)
def rethink_pattern(markers: tuple[str, ...]) -> re.Pattern:
    """One regex for a list of markers, matched as whole words where that means something.

    A word boundary (`\\b`) is required on a side of a marker only when the marker ends there in an ASCII letter or
    digit: "Wait" does not count inside "Waiting", while a CJK marker (等等), whose characters are all word characters
    to the regex engine with no spaces around them, matches wherever it occurs. Longer markers are tried first, so a
    marker that contains another counts once.
    """

    def bounded(marker: str) -> str:
        start = r"\b" if marker[0].isascii() and marker[0].isalnum() else ""
        end = r"\b" if marker[-1].isascii() and marker[-1].isalnum() else ""
        return start + re.escape(marker) + end

    return re.compile("|".join(bounded(marker) for marker in sorted(markers, key=len, reverse=True)))


def parse_rethink_markers(markers: str | Sequence[str]) -> tuple[str, ...]:
    """A list of markers from "Wait,Alternatively" or a sequence of strings; blanks are refused."""
    if isinstance(markers, str):
        items = markers.split(",")
    elif isinstance(markers, (list, tuple)) and all(isinstance(item, str) for item in markers):
        items = list(markers)
    else:
        raise OptionTypeError(f"rethink markers must be a comma-separated string or a list of strings, got {markers!r}")
    parsed = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not parsed:
        raise InputError(f"no rethink markers in {markers!r}; give words separated by commas, e.g. 'Wait,Maybe'")
    return parsed


def count_rethinks(trace: str, markers: Sequence[str] = RETHINK_MARKERS) -> int:
    return len(rethink_pattern(tuple(markers)).findall(trace))


def _trace_columns_batch(
    batch: dict[str, list], tokenizer, discount_repeated_steps: bool, rethink_markers: tuple[str, ...] = RETHINK_MARKERS
) -> dict[str, list]:
    traces = [trace_of(messages) for messages in batch[MESSAGES]]
    rethinks = [count_rethinks(trace, rethink_markers) for trace in traces]
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


def count_trainer_tokens(conversations: list, tokenizer, chat_template: str | None = None) -> list[int]:
    """Each conversation's length in the tokens TRL's SFTTrainer sees: the one definition of "trainer tokens".

    TRL 1.16 tokenizes a conversational `messages` row with `apply_chat_template(messages, tokenize=True,
    return_dict=True, chat_template=...)`: the template rendered, the text encoded without added special tokens and no
    EOS appended (the template's end-of-turn token ends the row). The same is done here on a whole batch: the template
    rendered, then the texts encoded in one call of the Rust tokenizer without added special tokens (what
    `apply_chat_template(tokenize=True)` calls), keeping only the counts (its fast variant skips the character offsets
    they do not need). A tokenizer without a Rust backend is given the trainer's own call. Used by the SFT transform
    (s2r_hf.training.sft_data) and by the token budget of the selection (s2r_hf.selection).
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        encoded = tokenizer.apply_chat_template(
            conversations, tokenize=True, return_dict=True, chat_template=chat_template
        )
        return [len(ids) for ids in encoded["input_ids"]]
    texts = tokenizer.apply_chat_template(conversations, tokenize=False, chat_template=chat_template)
    encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
    return [len(encoding) for encoding in encode(texts, add_special_tokens=False)]


def load_tokenizer(name: str, revision: str | None = None):
    """A tokenizer from a local folder or a Hub id, or one line saying why it cannot be loaded."""
    from transformers import AutoTokenizer

    from s2r_hf.core.http_errors import transport_errors

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


def describe_length(
    tokenizer=None,
    discount_repeated_steps: bool = False,
    rethink_markers: Sequence[str] = RETHINK_MARKERS,
    rethink_language: str | None = "en",
) -> dict[str, Any]:
    return {
        "unit": "characters" if tokenizer is None else "tokens",
        "tokenizer": None if tokenizer is None else getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "discount_repeated_steps": discount_repeated_steps,
        "rethink_markers": list(rethink_markers),
        "rethink_language": rethink_language,  # None: a list the user gave
    }


def add_trace_columns(
    pool: Dataset,
    tokenizer=None,
    *,
    discount_repeated_steps: bool = False,
    num_proc: int | None = None,
    batch_size: int = 1000,
    rethink_markers: str | Sequence[str] = RETHINK_MARKERS,
) -> Dataset:
    """Add `s2r_trace_length` and `s2r_rethink_count`.

    `tokenizer` is a tokenizer object, a Hub id or local path to load one from, or None to count characters.
    `rethink_markers`: the words counted (a list, or a comma-separated string); `RETHINK_LANGUAGES` has the defaults.
    """
    rethink_markers = parse_rethink_markers(rethink_markers)
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
        fn_kwargs={
            "tokenizer": tokenizer,
            "discount_repeated_steps": discount_repeated_steps,
            "rethink_markers": rethink_markers,
        },
        desc="Trace length" + (" (tokens)" if tokenizer is not None else " (characters)"),
    )
