"""The SFT transform: a pool or subset in, a `datasets.Dataset` TRL's `SFTTrainer` can train on out.

Long chains of thought are often longer than the training length, and TRL truncates an over-long example by keeping
its start: the final answer is what gets cut away. So every example longer than `max_length` is removed before
training, never truncated, and the length is measured in the tokens the trainer will see.

How TRL 1.16 tokenizes a conversational `messages` row (trl/trainer/sft_trainer.py, `_prepare_dataset`, and
trl/data_utils.py, `_tokenize`): `processing_class.apply_chat_template(messages, tokenize=True, return_dict=True,
chat_template=..., tools=...)`, which renders the template and encodes the text with `add_special_tokens=False`; no EOS
is appended to conversational rows (the template's own end-of-turn token ends them). The same call is made here, on a
whole batch at once (the fast tokenizer encodes the batch in parallel), so the counts are the trainer's to the token.

    train, report = prepare_sft_dataset(select(pool, ratio=0.1), tokenizer, 16384)

The function returns a `(dataset, report)` pair rather than hanging the report on the dataset: every later `map` or
`select` would silently drop such an attribute.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, ModelError, OptionTypeError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The temporary column holding each row's length in trainer tokens (removed before the dataset is returned).
TOKENS_COLUMN = "s2r_sft_tokens"


@dataclass
class SFTDataReport:
    """What `prepare_sft_dataset` kept and removed, counted in the tokens the trainer sees."""

    max_length: int
    rows_in: int
    rows_kept: int
    rows_removed: int
    tokens_in: int
    tokens_kept: int
    tokens_removed: int
    longest_kept: int
    longest_removed: int | None

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def _token_counts(batch: dict[str, list], tokenizer, chat_template: str | None) -> dict[str, list[int]]:
    encoded = tokenizer.apply_chat_template(
        batch[MESSAGES], tokenize=True, return_dict=True, chat_template=chat_template
    )
    return {TOKENS_COLUMN: [len(ids) for ids in encoded["input_ids"]]}


def require_chat_template(tokenizer, chat_template: str | None = None) -> None:
    """A tokenizer without a chat template cannot turn `messages` into tokens: say which option gives it one."""
    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
        raise ModelError(
            f"the tokenizer {name!r} has no chat template, so `messages` cannot be tokenized as the trainer will; give "
            "one with --chat_template_path (a .jinja file, or a tokenizer whose template to copy), or set "
            "tokenizer.chat_template in your script"
        )


def require_messages(dataset: Dataset) -> None:
    """The column SFT trains on must be there, as lists of {role, content} turns, each row with a user question and an
    assistant trace (checked on the Arrow column: cheap)."""
    from datasets import LargeList, List

    if MESSAGES not in dataset.column_names:
        raise ColumnError(
            f"the dataset has no {MESSAGES!r} column (columns: {dataset.column_names}); SFT trains on chat turns. "
            "Build it with s2r_hf.load_pool (or `s2r score`), which writes `messages` from a question and a trace"
        )
    feature = dataset.features[MESSAGES]
    inner = getattr(feature, "feature", None)
    if (
        not isinstance(feature, (List, LargeList))
        or not isinstance(inner, dict)
        or not {"role", "content"} <= set(inner)
    ):
        raise ColumnTypeError(
            f"column {MESSAGES!r} must hold lists of {{'role', 'content'}} turns, got {feature}; build it with "
            "s2r_hf.load_pool"
        )
    # The rows themselves, by the rule `s2r score` applies (a user question and an assistant trace, nothing null):
    # the trainer would otherwise learn from a conversation with no answer, or fail on a null turn mid-run.
    from s2r_hf.pool.column_checks import validate_messages_column

    validate_messages_column(dataset)


def _resolve(dataset) -> Dataset:
    from datasets import Dataset

    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (str, os.PathLike)):
        from s2r_hf.pool.sources import load_source

        return load_source(dataset)
    from s2r_hf.core.rows import require_dataset

    require_dataset(dataset, "the dataset to prepare")  # raises, with a hint for what was given
    raise AssertionError("unreachable")


def measure_sft_tokens(
    dataset: Dataset, tokenizer, *, chat_template: str | None = None, num_proc: int | None = None
) -> Dataset:
    """`dataset` with a `s2r_sft_tokens` column: each row's length in the tokens TRL's SFTTrainer will see."""
    require_messages(dataset)
    require_chat_template(tokenizer, chat_template)
    from jinja2 import TemplateError

    try:
        return dataset.map(
            _token_counts,
            batched=True,
            batch_size=256,
            fn_kwargs={"tokenizer": tokenizer, "chat_template": chat_template},
            num_proc=num_proc,
            desc="Measuring trainer tokens",
        )
    except TemplateError as err:  # a template that parses but fails on these conversations (raise_exception, ...)
        raise ModelError(
            f"the chat template cannot render these messages: {err}; give one that can with --chat_template_path"
        ) from err


def prepare_sft_dataset(
    dataset,
    tokenizer,
    max_length: int,
    *,
    keep_columns: list[str] | tuple[str, ...] | None = None,
    chat_template: str | None = None,
    num_proc: int | None = None,
) -> tuple[Dataset, SFTDataReport]:
    """A dataset ready for TRL's `SFTTrainer`, and a report of what was removed: `(dataset, report)`.

    `dataset`: a `datasets.Dataset` (a pool or subset, e.g. the output of `s2r_hf.select`), a subset folder, or a
    published subset's Hub id. Every row longer than `max_length` tokens (the chat template applied as TRL applies it;
    `chat_template` as TRL's `chat_template_path` or its assistant-only patch would give it) is removed, never
    truncated. Only `messages` is kept, plus `keep_columns`. The counts and token totals removed are logged.
    Set `SFTConfig.max_length` to the same `max_length`, so that TRL has nothing left to truncate.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise OptionTypeError(f"max_length must be an integer number of tokens, got {max_length!r}")
    if max_length < 1:
        raise InputError(f"max_length must be at least 1 token, got {max_length}")
    keep = list(keep_columns or ())
    if not all(isinstance(name, str) for name in keep):
        raise OptionTypeError(f"keep_columns must be column names, got {keep_columns!r}")
    data = _resolve(dataset)
    missing = [name for name in keep if name not in data.column_names]
    if missing:
        raise ColumnError(f"keep_columns names {missing} which the dataset lacks; its columns: {data.column_names}")
    if len(data) == 0:
        raise InputError("the dataset has no rows; give a pool or subset with at least one row")
    require_messages(data)
    columns = [MESSAGES, *[name for name in keep if name != MESSAGES]]
    measured = measure_sft_tokens(
        data.select_columns(columns), tokenizer, chat_template=chat_template, num_proc=num_proc
    )
    lengths = measured[TOKENS_COLUMN]
    kept_rows = [index for index, length in enumerate(lengths) if length <= max_length]
    removed = [length for length in lengths if length > max_length]
    kept_lengths = [lengths[index] for index in kept_rows]
    report = SFTDataReport(
        max_length=max_length,
        rows_in=len(lengths),
        rows_kept=len(kept_rows),
        rows_removed=len(removed),
        tokens_in=sum(lengths),
        tokens_kept=sum(kept_lengths),
        tokens_removed=sum(removed),
        longest_kept=max(kept_lengths, default=0),
        longest_removed=max(removed, default=None),
    )
    if not kept_rows:
        raise InputError(
            f"every one of the {len(lengths)} examples is longer than max_length={max_length} tokens (the shortest "
            f"has {min(lengths)}); raise --max_length, or select shorter examples"
        )
    logger.info(
        "kept %d of %d examples (%d tokens); removed %d longer than %d tokens (%d tokens)",
        report.rows_kept,
        report.rows_in,
        report.tokens_kept,
        report.rows_removed,
        max_length,
        report.tokens_removed,
    )
    result = measured.select(kept_rows) if removed else measured
    return result.remove_columns(TOKENS_COLUMN), report
