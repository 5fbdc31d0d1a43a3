"""An answer's text, normalised, and read as a structure: `read_answer(text) -> Node`.

Normalisation (`normalise`) removes what never changes an answer's value: math delimiters, `\\left`/`\\right`, spacing
commands, `\\displaystyle`; `\\dfrac`/`\\tfrac` become `\\frac`; units in `\\text{}` after a number, degree signs,
percent signs and words (`10\\%`, `10%`, `10 percent`, `10 pct` all read `10`), currency signs, a trailing period;
thousands separators (`7,425,000`: a comma followed by exactly three digits and no space is one); everything after
`\\approx`. A comma is never a decimal separator: `1,22` is the list 1, 22.

The structure (`read_answer`): `\\pm` expands to the set of its two values; top-level commas, semicolons, "and", "or"
and `\\quad` make a list (unordered); `\\{...\\}` and `\\cup` make sets (unordered); `(a, b)`, `[a, b]`, `(a, b]` are
tuples/intervals (ordered, and their brackets must match); `lhs = rhs` (or `lhs \\in rhs`) is an equation, and
`n = 1, 2, 3` an equation whose right side is a list; `\\begin{pmatrix}` and the other matrix environments are
matrices; `<`, `\\le`, ... make a relation (`b > a` read as `a < b`; `lo < x \\le hi` as the interval `(lo, hi]`);
anything else is a scalar, compared on sympy by s2r_hf.answers.equivalence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s2r_hf.answers.extraction import last_braced

_SPACING = re.compile(r"(?<!\\)\\[,:; ]|\\q?quad\b|~|\\displaystyle|\\limits")
_NEGATIVE_SPACE = re.compile(r"(?<!\\)\\!\s*")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])\s*\.?")
# `\\circ` alone is a degree only after a number (`f \\circ g` is a composition).
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|(?<=\d)\s*\\circ|°|\\degree|\s+degrees?\b")
_PERCENT = re.compile(r"\\%|%|\s*\b(?:percentage|percent|pct)\b")
_CURRENCY = re.compile(r"\\\$|\$|€|£|\\euro")
_WRAPPERS = (
    "text",
    "textnormal",
    "textbf",
    "textit",
    "textrm",
    "mathrm",
    "mathbf",
    "mathit",
    "mbox",
    "boldsymbol",
    "mathsf",
)
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_THOUSANDS_SPACED = re.compile(r"(?<![\d.])\d{1,3}(?:(?:\{,\}|\\ | )\d{3})+(?![\d])")
# A unit after a number: a word of three letters or more after a space (`12 inches`), or a usual unit, with or without
# a space (`35 cm`, `2.5cm`, `1,000.99m²`): `2ab`, `2 ab` or `3n` is a product, not 2 or 3 with a unit.
_UNIT_AFTER_NUMBER = re.compile(r"^(-?[\d.]+)(?:\s+([a-zA-Z]{3,12}(?:\^?[23²³])?)|\s*([a-zA-Z]{1,3}(?:\^?[23²³])?))$")
_GLUED_UNITS = {"cm", "mm", "km", "kg", "mg", "ml", "ft", "mph", "m²", "m³", "cm²", "cm³", "km²", "m^2", "m^3", "cm^2"}
_NOT_UNITS = {
    "and",
    "or",
    "i",
    "e",
    "x",
    "y",
    "z",
    "n",
    "k",
    "a",
    "b",
    "c",
    "d",
    "pi",
    "ln",
    "sin",
    "cos",
    "tan",
    "log",
}
_LETTER_CHOICE = re.compile(r"^(?:\(([A-Z])\)(?:\s+[A-Za-z][A-Za-z ]*)?|([A-Z])(?:[.:]|(?:\s+[A-Z][a-z]+)+)?)$")
_RELATION = re.compile(r"\\(?:le|ge|leq|geq|lt|gt|ne|neq|leqslant|geqslant)(?![a-zA-Z])|<|>|≤|≥|≠")
_MATRIX = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.DOTALL)
_LIST_WORDS = re.compile(r"\\text\{\s*(?:and|or)\s*\}|\s+(?:and|or)\s+|\\quad|\\qquad")
# Spellings of one relation, made one (longest first: `>=` before `>`).
_RELATION_SPELLINGS = (
    (">=", "\\geq "),
    ("<=", "\\leq "),
    ("!=", "\\neq "),
    ("≥", "\\geq "),
    ("≤", "\\leq "),
    ("≠", "\\neq "),
    ("\\geqslant", "\\geq"),
    ("\\leqslant", "\\leq"),
)
_PM = re.compile(r"\\pm(?![a-zA-Z])|±")
_MP = re.compile(r"\\mp(?![a-zA-Z])|∓")


@dataclass(frozen=True)
class Node:
    """One part of an answer: kind is scalar, relation, list, set, tuple, equation or matrix."""

    kind: str
    text: str = ""  # scalar, relation: the normalised text; equation: the left side
    items: tuple[Node, ...] = ()  # list, set, tuple; an equation's right side is items[0]; a matrix's cells, row-major
    brackets: str = ""  # tuple: its opening and closing bracket, e.g. "(]"
    shape: tuple[int, int] = (0, 0)  # matrix: rows, columns


def key(text: str) -> str:
    """The normalised text without any space: two answers with equal keys are equal."""
    return re.sub(r"\s+", "", text)


def _unwrap_commands(text: str) -> str:
    r"""`\text{...}` and its kin: a unit after a number goes (`10\text{ cm}`), any other content stays, unwrapped."""
    pattern = re.compile(r"\\(?:" + "|".join(_WRAPPERS) + r")\s*\{")
    while True:
        match = pattern.search(text)
        if match is None:
            return text
        content = last_braced(text, match.end() - 1)
        if content is None:
            return text[: match.start()] + text[match.end() :]
        before, after = text[: match.start()], text[match.end() + len(content) + 1 :]
        is_unit = re.fullmatch(r"\s*[a-zA-Z][a-zA-Z ]*(?:\^?\{?[23]\}?)?\s*", content) is not None
        if is_unit and content.strip().lower() not in _NOT_UNITS and re.search(r"[\d}]\s*$", before):
            text = before + after
        else:
            text = before + content + after


def _strip_delimiters(text: str) -> str:
    while True:
        stripped = text.strip()
        for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            if stripped.startswith(opening) and stripped.endswith(closing) and len(stripped) > 1:
                stripped = stripped[len(opening) : len(stripped) - len(closing)]
                break
        if stripped.strip() == text.strip():
            return stripped.strip()
        text = stripped


def normalise(text: str) -> str:
    """The answer text without what never changes its value (see the module docstring)."""
    text = _strip_delimiters(text)
    if "\\begin{" not in text:  # `\\le` written for `\le` (an escaped string); a matrix's `\\` ends a row
        text = re.sub(r"\\\\(?=[a-zA-Z])", r"\\", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\\dbinom", "\\binom").replace("\\tbinom", "\\binom")
    text = _SIZING.sub("", text)
    text = _NEGATIVE_SPACE.sub("", text)
    text = re.sub(r"\\lt(?![a-zA-Z])", "<", re.sub(r"\\gt(?![a-zA-Z])", ">", text))
    text = _SPACING.sub(" ", text)
    for written, canonical in _RELATION_SPELLINGS:
        text = text.replace(written, canonical)
    text = re.sub(r"\\(ge|le|ne)(?![a-zA-Z])", r"\\\1q", text)
    if "\\approx" in text:  # `a \approx b`: the exact value a, unless a is only the name of what b approximates
        left, _, right = text.partition("\\approx")
        text = right if not left.strip() or re.fullmatch(r"\s*[A-Za-z]\s*", left) else left
    text = _unwrap_commands(text)
    text = _DEGREES.sub("", text)
    text = _PERCENT.sub("", text)
    text = _CURRENCY.sub("", text)
    text = _THOUSANDS.sub(lambda match: match.group().replace(",", ""), text)
    text = _THOUSANDS_SPACED.sub(lambda match: re.sub(r"\{,\}|\\ | ", "", match.group()), text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"_(\w)(?![\w{])", r"_{\1}", text)  # `x_1` and `x_{1}`, `52_8` and `52_{8}` are one spelling
    text = re.sub(r"(?:\.|\\\\|\\)+$", "", text).strip()  # a trailing period or backslash
    unit = _UNIT_AFTER_NUMBER.match(text)
    if unit and (unit.group(2) or "").lower() not in _NOT_UNITS and (unit.group(2) or unit.group(3) in _GLUED_UNITS):
        text = unit.group(1)
    choice = _LETTER_CHOICE.match(text)
    if choice:  # a multiple-choice letter: `(B)`, `B.`, `(B) Alina`, `B Alina` all read `B`
        text = choice.group(1) or choice.group(2)
    return text


# -- structure ---------------------------------------------------------------------------------------------------------

_OPEN, _CLOSE = "([{", ")]}"


def split_top_level(text: str, separators: re.Pattern) -> list[str]:
    """`text` cut at each match of `separators` outside every bracket, brace and parenthesis."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] in ("{", "}"):
            depth += 1 if text[index + 1] == "{" else -1
            index += 2
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif depth == 0:
            match = separators.match(text, index)
            if match and match.end() > index:
                parts.append(text[start:index])
                start = index = match.end()
                continue
        index += 1
    parts.append(text[start:])
    return parts


def _closing_of_first(text: str) -> int:
    """Index of the bracket closing the one that opens `text` (any of ([{ closed by any of )]}), -1 when none."""
    depth = 0
    for index, char in enumerate(text):
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth == 0:
                return index
    return -1


_LIST_SEPARATORS = re.compile(r"\s*(?:,|;|\\text\{\s*(?:and|or)\s*\}|\band\b|\bor\b|\\quad|\\qquad)\s*")
_EQUALS = re.compile(r"\s*(?:=|\\in(?![a-zA-Z]))\s*")
_UNION = re.compile(r"\s*\\cup(?![a-zA-Z])\s*")


def read_answer(text: str) -> Node:
    """The structure of a normalised answer (see the module docstring)."""
    return _read(normalise(text))


def _read(text: str) -> Node:
    text = text.strip()
    for sign, (first, second) in ((_PM, ("+", "-")), (_MP, ("-", "+"))):
        if len(sign.findall(text)) == 1:
            return Node("set", items=(_read(sign.sub(first, text)), _read(sign.sub(second, text))))
    matrix = _MATRIX.match(text)
    if matrix:
        rows = [row for row in re.split(r"\\\\", matrix.group(2)) if row.strip()]
        cells = [[_read(cell) for cell in row.split("&")] for row in rows]
        if cells and all(len(row) == len(cells[0]) for row in cells):
            return Node("matrix", items=tuple(cell for row in cells for cell in row), shape=(len(cells), len(cells[0])))
        return Node("scalar", text=text)
    parts = [part for part in split_top_level(text, _LIST_SEPARATORS) if part.strip()]
    if len(parts) > 1:
        with_equals = [len(split_top_level(part, _EQUALS)) > 1 for part in parts]
        if with_equals[0] and not any(with_equals[1:]):  # `n = 1, 2, 3`: one equation, a list on its right
            sides = split_top_level(parts[0], _EQUALS)
            rest = Node("list", items=tuple(_read(part) for part in [sides[-1], *parts[1:]]))
            return Node("equation", text=sides[0].strip(), items=(rest,))
        return Node("list", items=tuple(_read(part) for part in parts))
    union = split_top_level(text, _UNION)
    if len(union) > 1:
        return Node("set", items=tuple(_read(part) for part in union))
    sides = split_top_level(text, _EQUALS)
    if len(sides) > 1 and sides[0].strip() and sides[-1].strip():
        return Node("equation", text=sides[0].strip(), items=(_read(sides[-1]),))
    if _RELATION.search(text):
        return _read_relation(text)
    if text.startswith("\\{") and text.endswith("\\}"):
        inner = text[2:-2]
        return Node(
            "set", items=tuple(_read(part) for part in split_top_level(inner, _LIST_SEPARATORS) if part.strip())
        )
    if len(text) > 1 and text[0] in _OPEN and text[-1] in _CLOSE and _closing_of_first(text) == len(text) - 1:
        inner = text[1:-1]
        parts = split_top_level(inner, re.compile(r"\s*[,;]\s*"))
        if len(parts) > 1 and text[0] == "{":  # `{2, 3, 5}`: braces around a list, as sets are written loosely
            return Node("set", items=tuple(_read(part) for part in parts))
        if len(parts) > 1:
            return Node("tuple", items=tuple(_read(part) for part in parts), brackets=text[0] + text[-1])
        if text[0] + text[-1] in ("()", "{}") or inner.lstrip().startswith("\\begin{"):  # grouping only
            return _read(inner)
    return Node("scalar", text=text)


_RELATION_OPERATOR = re.compile(r"\s*(\\leq|\\geq|\\neq|<|>)\s*")
_FLIPPED = {">": "<", "\\geq": "\\leq", "<": ">", "\\leq": "\\geq", "\\neq": "\\neq"}


def _read_relation(text: str) -> Node:
    """`a < b` (written either way round: `b > a` is the same relation), or `lo < x \\leq hi`, which is the interval
    `(lo, hi]`; any other relation is compared by its text alone."""
    pieces = split_top_level(text, _RELATION_OPERATOR)
    operators = [match.group(1) for match in _RELATION_OPERATOR.finditer(text)]
    if len(pieces) != len(operators) + 1 or not all(piece.strip() for piece in pieces):
        return Node("relation", text=text)
    if operators[0] in (">", "\\geq") and all(op in (">", "\\geq") for op in operators):
        pieces, operators = pieces[::-1], [_FLIPPED[op] for op in operators[::-1]]
    if len(operators) == 1:
        return Node("relation", text=text, brackets=operators[0], items=(_read(pieces[0]), _read(pieces[1])))
    if len(operators) == 2 and all(op in ("<", "\\leq") for op in operators):
        brackets = ("(" if operators[0] == "<" else "[") + (")" if operators[1] == "<" else "]")
        variable = Node("relation", text=pieces[1].strip())  # the name the interval is of: `x` in `0 < x < 1`
        return Node("tuple", text=variable.text, items=(_read(pieces[0]), _read(pieces[2])), brackets=brackets)
    return Node("relation", text=text)
