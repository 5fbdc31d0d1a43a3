"""Where the final answer sits in a completion: `extract_answer(text)`.

In order, the first that finds something:
1. the content of the last `\\boxed{...}` or `\\fbox{...}` (braces nested to any depth; `\\boxed 5` too), unless a
   statement of rule 2 comes after it (the model's last word wins);
2. what follows the last "final answer is", "answer is" or "answer:" (up to the end of its line or sentence; a `$...$`
   right after it is taken whole; in prose, what follows its last "is");
3. the whole text, when it is one math span (`$odd$`) or short and reads as an answer rather than prose
   (`28 percent`, `19, 46, and 82`);
4. in the last paragraph, the last math span (`$...$`, `\\(...\\)`, `\\[...\\]`) or the last number (with its sign,
   decimals, thousands separators, a `/` fraction; not part of a word), whichever comes later;
5. a multiple-choice letter (A to H) standing alone: the one opening the last paragraph ("D. because ..."), else its
   last ("it is not A, so B"); in a statement of rule 2, its first ("the answer is D, not A").
None when there is nothing (an empty completion, prose without a number).
"""

from __future__ import annotations

import re

_BOX = re.compile(r"\\(?:boxed|fbox)\s*")
_ANSWER_IS = re.compile(r"(?:final\s+answer|answer|réponse)\s*(?:is|est|:)\s*[:=]?\s*", re.IGNORECASE)
# A multiple-choice letter standing alone (A to H: `I` is a word, and later letters name points and sets).
_CHOICE = re.compile(r"(?<![\w\\'’])([A-H])(?![\w'’])")
_LEADING_CHOICE = re.compile(r"^\s*\(?([A-H])(?:[.)。:]|(?![A-Za-z0-9]))")
# A number standing alone: not part of a word (`AZYUK2A` holds none) or of a longer number.
_NUMBER = re.compile(r"(?<![A-Za-z\d.,])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?(?!\d)|(?<![\w.])-?\.\d+\b")
# `$...$` and its kin; `\\$` (a dollar sign in the answer) neither opens nor closes one.
_MATH_SPAN = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
# Words an answer may hold that are not prose: connectives of a list, percent and degree words.
_ANSWER_WORDS = {"and", "or", "percent", "percentage", "pct", "degrees", "degree"}
_BOX_SEPARATOR = re.compile(r"(?:\s|,|;|\$|\\quad|\\text\{\s*and\s*\}|\band\b|\\\(|\\\))*")
_SHORT_ANSWER = 80  # characters: longer text is prose, even without words


def last_braced(text: str, start: int) -> str | None:
    """The content of the brace group that opens at `text[start]` ('{'), None when it never closes."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{" and text[index - 1 : index] != "\\":
            depth += 1
        elif char == "}" and text[index - 1 : index] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index]
    return None


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """Every `\\boxed{}`/`\\fbox{}` that closes: (start, end, content); `\\boxed 5` gives `5`."""
    found = []
    for match in _BOX.finditer(text):
        end = match.end()
        if end < len(text) and text[end] == "{":
            content = last_braced(text, end)
            if content is not None:
                found.append((match.start(), end + len(content) + 2, content))
        elif end < len(text):
            bare = re.match(r"[^\s$.,{}]+", text[end:])  # `\boxed 5`: one token
            if bare:
                found.append((match.start(), end + bare.end(), bare.group()))
    return found


def last_boxed(text: str) -> str | None:
    """The content of the last `\\boxed{}`/`\\fbox{}` that closes; several boxes at the end separated only by commas,
    "and" or spaces (`\\boxed{-2} and \\boxed{1}`) are one answer, a list of their contents."""
    boxes = _boxes(text)
    if not boxes:
        return None
    kept = [boxes[-1]]
    for previous in reversed(boxes[:-1]):
        between = text[previous[1] : kept[0][0]]
        if not _BOX_SEPARATOR.fullmatch(between):
            break
        kept.insert(0, previous)
    return ", ".join(content.strip() for _, _, content in kept)


def _after_answer_is(text: str) -> str | None:
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :]
    span = _MATH_SPAN.match(rest)
    if span:
        return next(group for group in span.groups() if group is not None)
    line = rest.split("\n", 1)[0]
    sentence = re.split(r"\.(?:\s|$)", line, maxsplit=1)[0]  # a period ends it, a decimal point does not
    return sentence.strip() or None


def _strip_math_delimiters(text: str) -> str:
    text = text.strip()
    for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(opening) and text.endswith(closing) and len(text) >= len(opening) + len(closing):
            return text[len(opening) : len(text) - len(closing)].strip()
    return text


def _reads_as_answer(text: str) -> bool:
    if not text or len(text) > _SHORT_ANSWER or "\n" in text:
        return False
    if any(char.isalpha() and not char.isascii() and not "\u0370" <= char <= "\u03ff" for char in text):
        return False  # words of another script (Greek letters are math): prose
    # Words outside LaTeX commands and \text{}: an answer has none but connectives and units of percent or degree.
    bare = re.sub(r"\\[a-zA-Z]+(\{[^{}]*\})?", " ", text)
    words = [word.lower() for word in re.findall(r"[A-Za-z]{3,}", bare)]
    return all(word in _ANSWER_WORDS for word in words)


def _last_math_or_number(text: str) -> str | None:
    """The last math span or the last number of `text`, whichever ends later."""
    spans = [
        (match.end(), next(group for group in match.groups() if group is not None).strip())
        for match in _MATH_SPAN.finditer(text)
    ]
    spans = [span for span in spans if span[1]]
    numbers = [(match.end(), match.group()) for match in _NUMBER.finditer(text)]
    found = max(spans[-1:] + numbers[-1:], default=None)
    return found[1] if found else None


def _answer_in_statement(stated: str) -> str:
    """The answer in what follows "answer is": all of it when it reads as an answer, else what follows its last
    " is " ("The volume of $ABCD$ is 120"), else its last math span or number."""
    whole = _strip_math_delimiters(stated)
    if _reads_as_answer(whole):
        return whole
    tail = re.split(r"\s(?:is|are|equals|=)\s", stated)[-1].strip()
    if tail != stated.strip() and _reads_as_answer(_strip_math_delimiters(tail)):
        return _strip_math_delimiters(tail)
    choice = _CHOICE.search(stated)
    return _last_math_or_number(stated) or (choice.group(1) if choice else whole)


def _single_math_span(text: str) -> str | None:
    """The content of `text` when it is one math span and nothing else (`$odd$`, `\\(x+1\\)`)."""
    match = _MATH_SPAN.fullmatch(text.strip())
    if match is None:
        return None
    content = next(group for group in match.groups() if group is not None)
    return content.strip() if "$" not in content else None


def _last_paragraph(text: str) -> str:
    return re.split(r"\n\s*\n", text.rstrip())[-1]


def extract_answer(text: str) -> str | None:
    """The final answer written in `text` (see the module docstring for the order of the rules), or None."""
    if not text or not text.strip():
        return None
    boxes = _boxes(text)
    statements = list(_ANSWER_IS.finditer(text))
    stated_last = statements and (not boxes or statements[-1].start() > boxes[-1][1])
    if boxes and not stated_last:
        boxed = last_boxed(text)
        if boxed is not None and boxed.strip():
            return boxed.strip()
    stated = _after_answer_is(text)
    if stated:
        return _answer_in_statement(stated)
    single = _single_math_span(text)
    if single:
        return single
    whole = _strip_math_delimiters(text)
    if _reads_as_answer(whole):
        return whole
    # Only the last paragraph: a completion cut off mid-reasoning must not be graded by an expression it restated
    # from the problem pages earlier (which, for "simplify this" problems, equals the answer).
    last = _last_paragraph(text)
    found = _last_math_or_number(last)
    if found is not None:
        return found
    # A multiple-choice answer in prose: a letter that opens the text ("D. because ..."), else the last one standing
    # alone ("it is not A, so I think it's B").
    leading = _LEADING_CHOICE.match(last)
    choices = _CHOICE.findall(last)
    return leading.group(1) if leading else (choices[-1] if choices else None)


def gold_answer(text: str) -> str:
    """The answer a gold string holds: its last `\\boxed{}` when it has one (a worked solution), the answer it states
    ("the final answer is ..."), else the whole string without its math delimiters."""
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        return boxed.strip()
    whole = _strip_math_delimiters(text)
    if not _reads_as_answer(whole):
        stated = _after_answer_is(text)
        if stated:
            return _strip_math_delimiters(stated)
    return whole
