"""The words of a question, as decontamination and near-duplicate detection compare them.

Two copies of one problem differ in ways that do not change the problem: case, spaces and line breaks, LaTeX spacing
(`\\,` `\\;` `\\!` `\\ ` `~` `\\quad`), spaces inside formulas (`$x+1$` against `$ x + 1 $`), sizing commands (`\\left(`
against `(`) and fraction styles (`\\dfrac`, `\\tfrac`). So a question is lower-cased, the layout-only commands are
removed, and then:

- outside formulas, the words are the runs of letters and digits (punctuation separates words);
- each formula (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) is one word: its letters and digits glued together, so any
  re-spacing inside it gives the same word (`$\\frac{m}{n}$` and `$\\frac mn$` are both `fracmn`).

- Chinese and Japanese, written without spaces between words, would come out as one "word" per clause, so two
  questions a few characters apart would share no word at all. Each Han, Hiragana or Katakana character is therefore
  a word of its own, and shingles of 3 words are runs of 3 characters there (Korean is written with spaces and keeps
  its words). `WORD_RULE` says so in the cards.

Gluing formulas (as open-r1's decontamination does by deleting punctuation) also keeps the math-template phrases
that recur across problems from spreading over many short words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError

if TYPE_CHECKING:
    from datasets import Dataset

# Named commands that change only how a formula is laid out. (The symbol ones, `\,` `\;` `\!` `\ ` `~`, need no rule:
# they hold no letter or digit, so they never become part of a word.)
_LAYOUT = re.compile(r"\\(?:left|right|[bB]igg?[lrm]?|displaystyle|textstyle|scriptstyle|quad|qquad)(?![a-zA-Z])")
_FRACTION = re.compile(r"\\[dt]frac(?![a-zA-Z])")
_FORMULA = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
# Scripts written without spaces: CJK ideographs (the unified block, extension A, the compatibility block, the
# supplementary planes' extensions) and the Japanese kana.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A word: one character of an unspaced script, or a run of other letters and digits; `_` (a subscript) separates.
_WORD = re.compile(f"[{_UNSPACED}]|[^\\W_{_UNSPACED}]+")
# The rule above in words, recorded with the hygiene counts so that a card says how its questions were compared.
WORD_RULE = "each Chinese or Japanese character counts as a word"
_NOT_WORD = re.compile(r"[\W_]+")
_OPENER = re.compile(r"\$\$|\$|\\\(|\\\[")  # where a formula starts


def _glue(match: re.Match) -> str:
    return " " + _NOT_WORD.sub("", match.group(match.lastindex)) + " "  # the formula, letters and digits only


def _normalise(text: str) -> str:
    return _LAYOUT.sub(" ", _FRACTION.sub(r"\\frac", text.lower()))


def question_words(text: str) -> list[str]:
    """The words of a question (see the module docstring): what n-grams and shingles are made of."""
    return _WORD.findall(_FORMULA.sub(_glue, _normalise(text)))


def question_words_cut(text: str) -> tuple[list[str], tuple[int, str] | None]:
    """question_words, and for a question that ends inside a formula (cut short: a formula opened and never closed)
    how many of its words come before that formula and the formula's start, letters and digits glued as a whole
    formula's word is (so a prefix of that word); None for a question that does not end so."""
    glued = _FORMULA.sub(_glue, _normalise(text))
    words = _WORD.findall(glued)
    opener = _OPENER.search(glued)  # whole formulas are glued: a delimiter left opens one that is never closed
    if opener is None:
        return words, None
    start = _NOT_WORD.sub("", glued[opener.end() :])
    if not start:
        return words, None
    return words, (len(words) - len(_WORD.findall(glued, opener.start())), start)


def word_ngrams(words: Sequence[str], n: int) -> list[str]:
    """Every run of n consecutive words, joined by one space."""
    return [" ".join(words[start : start + n]) for start in range(len(words) - n + 1)]


def check_question_source(dataset: Dataset, question_column: str | None) -> None:
    """Questions can be read from `dataset`: the named text column, else `messages` (from the schema alone)."""
    if question_column is None:
        if MESSAGES not in dataset.column_names:
            raise ColumnError(
                f"no {MESSAGES!r} column to read questions from; columns: {dataset.column_names}. Name the question "
                "column (question_column=...), or build the pool with an adapter (s2r_hf.load_pool)"
            )
        return
    if question_column not in dataset.column_names:
        raise ColumnError(f"question column {question_column!r} not in the dataset; columns: {dataset.column_names}")
    kind = dataset.features[question_column]
    if getattr(kind, "dtype", None) not in ("string", "large_string"):
        raise ColumnTypeError(f"question column {question_column!r} must hold text, got {kind}")


def batch_questions(batch: dict[str, list], question_column: str | None) -> list[Any]:
    """The questions of a batch: the named column (null as empty), else the first user turn of `messages`."""
    from s2r_hf.core.rows import question_of

    if question_column is None:
        return [question_of(messages) for messages in batch[MESSAGES]]
    return [text or "" for text in batch[question_column]]
