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

import contextlib
import logging
import numbers
import os
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, ModelError, OptionTypeError, S2RError
from s2r_hf.core.lineage import read_lineage
from s2r_hf.signals.length import count_trainer_tokens

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The temporary column holding each row's length in trainer tokens (removed before the dataset is returned).
TOKENS_COLUMN = "s2r_sft_tokens"

# The same checks serve a Python script and `s2r train`; their advice is in the words of whoever called: arguments
# and attributes by default, the flags of `s2r train` within `command_line_words()` (which s2r train enters).
_command_line = ContextVar("s2r_sft_data_command_line_words", default=False)


@contextlib.contextmanager
def command_line_words():
    """Within this block, messages name `s2r train`'s flags rather than Python arguments."""
    token = _command_line.set(True)
    try:
        yield
    finally:
        _command_line.reset(token)


def _words(python: str, command_line: str) -> str:
    return command_line if _command_line.get() else python


def _template_advice() -> str:
    return _words(
        "set tokenizer.chat_template to a Jinja chat template (the trainer applies the same one)",
        "give one with --chat_template_path (a .jinja file, or a tokenizer whose template to copy)",
    )


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
    # Where the rows came from, for the training card (SelectionReportCallback.from_reports reads these): what was
    # loaded, the selection that chose the rows (from the dataset's lineage, or a subset folder's card) and who made
    # it, and the tokens of the whole pool when `pool` was given. Neither part of `describe()` nor of `==`, which are
    # about the rows and tokens prepared.
    source: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    selection: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    selected_by: str | None = field(default=None, repr=False, compare=False)
    pool_tokens: int | None = field(default=None, compare=False)

    def describe(self) -> dict[str, Any]:
        """The counts (rows and tokens kept and removed, at max_length)."""
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.name not in _LINEAGE_FIELDS}


_LINEAGE_FIELDS = ("source", "selection", "selected_by", "pool_tokens")


def _token_counts(batch: dict[str, list], tokenizer, chat_template: str | None) -> dict[str, list[int]]:
    return {TOKENS_COLUMN: count_trainer_tokens(batch[MESSAGES], tokenizer, chat_template)}


def require_chat_template(tokenizer, chat_template: str | None = None) -> None:
    """A tokenizer without a chat template cannot turn `messages` into tokens: say how to give it one."""
    if not callable(getattr(tokenizer, "apply_chat_template", None)):
        raise OptionTypeError(
            f"tokenizer must be a transformers tokenizer with a chat template, got {_shown(tokenizer)}; e.g. "
            "AutoTokenizer.from_pretrained(MODEL), the tokenizer the trainer gets as processing_class"
        )
    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
        raise ModelError(
            f"the tokenizer {name!r} has no chat template, so `messages` cannot be tokenized as the trainer will; "
            f"{_template_advice()}"
        )


def _shown(value: Any) -> str:
    return "None" if value is None else f"{type(value).__name__} {str(value)[:60]!r}"


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


def _resolve(dataset, what: str = "the dataset to prepare") -> Dataset:
    from datasets import Dataset

    if isinstance(dataset, Dataset):
        return dataset
    if isinstance(dataset, (str, os.PathLike)):
        from s2r_hf.pool.sources import load_source

        return load_source(dataset)
    from s2r_hf.core.rows import require_dataset

    require_dataset(dataset, what)  # raises, with a hint for what was given
    raise AssertionError("unreachable")


def subset_card_block(source: str, kind: str) -> dict[str, Any] | None:
    """The `s2r` block of a subset's card (a folder written by `s2r select`, or a published subset), if it has one."""
    if kind == "folder":
        from s2r_hf.core.folders import read_card_metadata

        try:
            block = read_card_metadata(source).get("s2r")
        except S2RError:
            return None
    elif kind == "hub":
        from s2r_hf.core.cards import split_card
        from s2r_hf.hub.cards import read_remote_card

        try:
            block = split_card(read_remote_card(source, "dataset"))[0].get("s2r")
        except (S2RError, ValueError):  # ValueError: not a valid repo id
            return None
    else:
        return None
    return block if isinstance(block, dict) and block.get("kind") == "subset" else None


def selection_of_card_block(block: dict[str, Any]) -> dict[str, Any]:
    """The selection a subset card's `s2r` block describes, in the shape of a selection report (plus `pool`)."""
    keys = ("strategy", "rows", "pool_rows", "ratio", "k", "weight", "seed", "group_column", "rule", "token_budget",
            "tokens_taken", "tokenizer")  # fmt: skip
    selection = {key: block.get(key) for key in keys}
    pool = block.get("pool") if isinstance(block.get("pool"), dict) else {}
    selection["pool"] = pool.get("name") or pool.get("source")
    return selection


def _where_from(data: Dataset) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(source, selection, selected_by) of the rows to prepare: the Dataset's lineage (s2r_hf.core.lineage: what
    `load_dataset_folder`, `load_source` and `select` noted), or the card of the subset folder or published subset it
    was loaded from."""
    from s2r_hf.training.provenance import SELECTED_BY_CARD, SELECTED_IN_SCRIPT

    lineage = read_lineage(data)
    source, selection = lineage.get("source"), lineage.get("selection")
    if selection is not None:
        return source, selection, SELECTED_IN_SCRIPT
    if source and source.get("name"):
        block = subset_card_block(source["name"], source.get("kind"))
        if block:
            return source, selection_of_card_block(block), SELECTED_BY_CARD
    return source, None, None


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
            f"the chat template cannot render these messages: {err}; use one that can: {_template_advice()}"
        ) from err


def prepare_sft_dataset(
    dataset,
    tokenizer,
    max_length: int,
    *,
    keep_columns: str | list[str] | tuple[str, ...] | None = None,
    chat_template: str | None = None,
    num_proc: int | None = None,
    pool=None,
) -> tuple[Dataset, SFTDataReport]:
    """A dataset ready for TRL's `SFTTrainer`, and a report of what was removed: `(dataset, report)`.

    `dataset`: a `datasets.Dataset` (a pool or subset, e.g. the output of `s2r_hf.select`), a subset folder, or a
    published subset's Hub id. Every row longer than `max_length` tokens (the chat template applied as TRL applies it;
    `chat_template` as TRL's `chat_template_path` or its assistant-only patch would give it) is removed, never
    truncated. Only `messages` is kept, plus `keep_columns` (a column name or a list of them). The counts and token
    totals removed are logged. Set `SFTConfig.max_length` to the same `max_length`, so that TRL has nothing left to
    truncate.

    `pool`: the pool the subset was selected from (a Dataset, folder, file or Hub id); its tokens are counted the same
    way, so the card can state the share of the pool's tokens trained on (`report.pool_tokens`). The report also
    carries where the rows came from (`report.source`, `report.selection`: what `select` noted on the Dataset, or a
    subset folder's card), which `SelectionReportCallback.from_reports(report)` writes into the training card.
    """
    if isinstance(max_length, numbers.Integral) and not isinstance(max_length, bool):
        max_length = int(max_length)  # numpy's integers too (a length read from an array or a config)
    else:
        raise OptionTypeError(f"max_length must be an integer number of tokens, got {max_length!r}")
    if max_length < 1:
        raise InputError(f"max_length must be at least 1 token, got {max_length}")
    keep = [keep_columns] if isinstance(keep_columns, str) else list(keep_columns or ())
    if not all(isinstance(name, str) for name in keep):
        raise OptionTypeError(f"keep_columns must be a column name or a list of them, got {keep_columns!r}")
    require_chat_template(tokenizer, chat_template)  # before any data is loaded
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
    report.source, report.selection, report.selected_by = _where_from(data)
    if not kept_rows:
        raise InputError(
            f"every one of the {len(lengths)} examples is longer than max_length={max_length} tokens (the shortest "
            f"has {min(lengths)}); raise {_words('max_length', '--max_length')}, or select shorter examples"
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
    if pool is not None:
        pool_data = _resolve(pool, "the pool")
        counted = measure_sft_tokens(pool_data, tokenizer, chat_template=chat_template, num_proc=num_proc)
        report.pool_tokens = sum(counted[TOKENS_COLUMN])
        report.source = report.source or read_lineage(pool_data).get("source")
    result = measured.select(kept_rows) if removed else measured
    return result.remove_columns(TOKENS_COLUMN), report
