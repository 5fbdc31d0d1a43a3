"""Whether two answers are the same: `answers_equal(first, second)` on their structures (s2r_hf.answers.structure).

The bar is zero false positives: when a comparison cannot be made with confidence, the answers are different.

- Equal normalised texts are equal, whatever they are.
- Lists, sets and `\\pm` values: the same number of items, matched one to one in any order. Tuples and intervals:
  the same brackets (open and closed ends matter), the same length, equal item by item. Matrices: same shape, equal
  cell by cell.
- Equations: with the same left side, the right sides are compared (`n = 1, 2, 3` against `n = 2, 3, 4` compares the
  lists); with different left sides, `lhs - rhs` of one must be a nonzero constant multiple of the other's
  (`2x+4y-3=0` equals `y=-\\frac{1}{2}x+\\frac{3}{4}`). An equation against a bare value: its right side is compared
  when its left side is a name (`x`, `a_1`, `f(2)`, `AB`, `(p, q)`), so `x = 3` equals `3`; any other left side is
  different.
- Relations with one operator (`>` turned into `<`): the same sides, or `lhs - rhs` a positive constant multiple of the
  other's (`-x > -1` is `x < 1`); `lo < x \\le hi` is the interval `(lo, hi]`; other relations by their text.
- A matrix against a matrix expression (`A + B` written with `pmatrix`): the evaluated matrix, cell by cell.
- Scalars on sympy (parsed by latex2sympy2_extended): exact numbers exactly (`27.0` equals `27`, `0.5` equals `1/2`);
  exact irrational values to 20 significant digits; a decimal against an exact value when they agree to a relative
  1e-9 (`\\sqrt{17}` and `4.123105625617661`), or, with at least three significant digits, when the exact value is not
  a terminating decimal and rounds to it (`0.333` for `1/3`, `3.14` for `\\pi`); expressions with symbols when they
  have the same symbols and sympy simplifies their difference to 0 (`(r+5)^2` and `(r+5)(r+5)`).
- Never equal on sympy: anything that parses to complex infinity or nan (`1:00`), an unevaluated sum, integral,
  product, limit or derivative (two sums with different bounds), text that fails to parse, a power too large to
  evaluate (`10^{10^{10}}`): those compare by normalised text only. Multiple-choice letters, text with `:` (times,
  ratios), numbers in another base (`52_{8}`) and words (`east`, which sympy would read as e*a*s*t, equal to `seat`)
  compare by text too.
- Each comparison has a time limit (TIME_LIMIT_SECONDS); past it, the answers are different.
"""

from __future__ import annotations

import logging
import random
import re
from functools import lru_cache
from typing import Any

from s2r_hf.answers.libraries import require_math_libraries
from s2r_hf.answers.structure import Node, key, read_answer
from s2r_hf.answers.time_limit import call_with_time_limit

logger = logging.getLogger(__name__)

TIME_LIMIT_SECONDS = 5.0  # one comparison of two answers, parsing included
EXACT_DIGITS = 20  # exact irrational values compared to this many significant digits
RELATIVE_TOLERANCE = 1e-9  # a decimal against another value
ROUNDED_MIN_DIGITS = 3  # significant digits a decimal needs to be read as a rounding of an exact value
LARGEST_EXPONENT = 10_000  # larger powers of numbers are not evaluated (their digits alone would take minutes)
LARGEST_FACTORIAL = 1_000

_BASE_NUMBER = re.compile(r"(?<![A-Za-z\\])\d+_\{")  # `4210_{5}`: digits in base 5, not the number 4210
_PLAIN_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)$")
_NAME = re.compile(
    r"^(?:[A-Za-z](?:_\{?[A-Za-z0-9]+\}?)?'*|\\[a-zA-Z]+(?:_\{?[A-Za-z0-9]+\}?)?|[A-Za-z]\w*\([^()]*\)|[A-Z]{1,3}|\|[A-Z]{1,3}\|)$"
)


def _sympy() -> Any:
    return require_math_libraries()


def answers_equal(first: str, second: str) -> bool:
    """Whether the answer texts `first` and `second` (already extracted: no `\\boxed{}` search) are the same answer."""
    if key(first) == key(second):
        return True
    try:
        return call_with_time_limit(TIME_LIMIT_SECONDS, _compare_texts, first, second)
    except TimeoutError:
        logger.debug("comparing %r and %r took over %s s: graded different", first, second, TIME_LIMIT_SECONDS)
        return False
    except _sympy_failures() as err:  # sympy gave up on this pair (an odd expression): not shown equal, so different
        logger.debug("comparing %r and %r failed in sympy (%s): graded different", first, second, err)
        return False


def _sympy_failures() -> tuple[type[BaseException], ...]:
    """The errors sympy raises on expressions it cannot evaluate or simplify (a matrix where a number was expected, a
    polynomial it cannot handle, a recursion too deep)."""
    from sympy.polys.polyerrors import BasePolynomialError

    return (TypeError, ValueError, ArithmeticError, NotImplementedError, RecursionError, BasePolynomialError)


def _compare_texts(first: str, second: str) -> bool:
    return nodes_equal(_structure(first), _structure(second))


@lru_cache(maxsize=4096)
def _structure(text: str) -> Node:
    return read_answer(text)


def nodes_equal(a: Node, b: Node) -> bool:
    if a.kind in ("scalar", "relation") and b.kind in ("scalar", "relation") and key(a.text) == key(b.text):
        return True
    if a.kind == "equation" and b.kind == "equation":
        if key(a.text) == key(b.text):
            return nodes_equal(a.items[0], b.items[0])
        return _equations_proportional(a, b)
    if a.kind == "equation" or b.kind == "equation":
        equation, other = (a, b) if a.kind == "equation" else (b, a)
        return _is_name(equation.text) and nodes_equal(equation.items[0], other)
    if a.kind in ("list", "set") and b.kind in ("list", "set"):
        return _match_unordered(a.items, b.items)
    if {a.kind, b.kind} == {"matrix", "scalar"}:  # `A + B` written with matrices, against the matrix it makes
        matrix, other = (a, b) if a.kind == "matrix" else (b, a)
        return _matrix_value_equal(matrix, other.text)
    if a.kind != b.kind:
        return False
    if a.kind == "tuple":
        return a.brackets == b.brackets and len(a.items) == len(b.items) and all(map(nodes_equal, a.items, b.items))
    if a.kind == "matrix":
        return a.shape == b.shape and all(map(nodes_equal, a.items, b.items))
    if a.kind == "scalar":
        return scalars_equal(a.text, b.text)
    if a.kind == "relation" and a.items and b.items and a.brackets == b.brackets:
        same = nodes_equal(a.items[0], b.items[0]) and nodes_equal(a.items[1], b.items[1])
        swapped = a.brackets == "\\neq" and nodes_equal(a.items[0], b.items[1]) and nodes_equal(a.items[1], b.items[0])
        return same or swapped or _relations_proportional(a, b)
    return False  # other relations: only by their text, compared above


def _is_name(text: str) -> bool:
    """Whether an equation's left side only names what its right side gives: `x`, `a_{37}`, `f(2)`, `(p, q)`,
    `|AB|`, `V_1:V_2`, `\\frac{NO}{BO}`: letters (and subscripts) only, no number outside a subscript or an argument."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return all(_NAME.match(part.strip()) for part in text[1:-1].split(","))
    if _NAME.match(text):
        return True
    bare = re.sub(r"_\{[^{}]*\}|_\w|\([^()]*\)", "", text)  # subscripts and arguments may hold numbers
    return re.search(r"[A-Za-z]", bare) is not None and re.fullmatch(r"(?:[A-Za-z|:/{}\s]|\\frac)+", bare) is not None


def _match_unordered(first: tuple[Node, ...], second: tuple[Node, ...]) -> bool:
    if len(first) != len(second):
        return False
    unused = list(second)
    for item in first:
        for index, candidate in enumerate(unused):
            if nodes_equal(item, candidate):
                del unused[index]
                break
        else:
            return False
    return True


# -- scalars on sympy --------------------------------------------------------------------------------------------------


def scalars_equal(first: str, second: str) -> bool:
    if key(first) == key(second):
        return True
    if any(_text_only(text) for text in (first, second)):
        return False
    a, b = value_of(first), value_of(second)
    if a is None or b is None:
        return False
    return _values_equal(a, b, _is_decimal(first), _is_decimal(second))


def _text_only(text: str) -> bool:
    """Answers compared by their text alone: times and ratios (`1:00`), multiple-choice letters, numbers in another
    base (`52_{8}`), and words (`east`, `Devon`), which sympy would read as products of letters (`east` = `seat`)."""
    if ":" in text or re.fullmatch(r"[A-Z]", text) or _BASE_NUMBER.search(text):
        return True
    return re.search(r"(?<![\\A-Za-z])[A-Za-z]{3,}", text) is not None


def _is_decimal(text: str) -> bool:
    return _PLAIN_NUMBER.match(text.strip()) is not None and "." in text


def _significant_digits(text: str) -> int:
    digits = re.sub(r"\D", "", text).lstrip("0")
    return len(digits)


@lru_cache(maxsize=8192)
def value_of(text: str) -> Any:
    """The sympy value of a scalar answer, evaluated; None when it does not parse or must not be compared on sympy."""
    sympy = _sympy()
    text = text.strip()
    if _PLAIN_NUMBER.match(text):
        return sympy.Rational(text.lstrip("+"))  # exact: a decimal literal is the rational it writes
    parsed = _parse_latex(text)
    if parsed is None or not isinstance(parsed, sympy.Expr) or not _safe_to_evaluate(parsed):
        return None
    forbidden = (sympy.Sum, sympy.Product, sympy.Integral, sympy.Limit, sympy.Derivative)
    if parsed.has(*forbidden):
        return None
    if any(symbol.name == "i" for symbol in parsed.free_symbols):  # the imaginary unit, as answers write it
        parsed = parsed.subs(sympy.Symbol("i"), sympy.I)
    value = parsed.doit()
    if (
        value.has(sympy.zoo, sympy.nan)
        or not isinstance(value, sympy.Expr)
        or value.is_Matrix
        or value.has(sympy.MatrixSymbol)
    ):
        return None
    return sympy.nsimplify(value, rational=True) if value.has(sympy.Float) else value


def _parse_latex(text: str) -> Any:
    from latex2sympy2_extended.latex2sympy2 import latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    config = NormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none", equations=False
    )
    try:
        return latex2sympy(text, normalization_config=config)
    # latex2sympy raises bare Exceptions (and sympy's own errors) on text it cannot read: all mean "not comparable".
    except Exception:
        return None


def _safe_to_evaluate(expr: Any) -> bool:
    """False when evaluating `expr` would compute a huge number (a power or factorial of a large exponent)."""
    sympy = _sympy()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow):
            base, exponent = node.args
            if exponent.free_symbols or base.free_symbols:
                continue
            if not _safe_to_evaluate(exponent):
                return False
            size = abs(complex(exponent.evalf(15)))
            if size > LARGEST_EXPONENT and abs(complex(base.evalf(15))) not in (0.0, 1.0):
                return False
        elif isinstance(node, sympy.factorial) and not node.args[0].free_symbols:
            argument = node.args[0]
            if not _safe_to_evaluate(argument) or abs(complex(argument.evalf(15))) > LARGEST_FACTORIAL:
                return False
    return True


def _values_equal(a: Any, b: Any, a_decimal: bool, b_decimal: bool) -> bool:
    sympy = _sympy()
    if a.free_symbols or b.free_symbols:
        if {s.name for s in a.free_symbols} != {s.name for s in b.free_symbols}:
            return False
        return _expressions_equal(a - b)
    if a.is_Rational and b.is_Rational and not (a_decimal or b_decimal):
        return a == b
    if a == b:
        return True
    if a.has(sympy.oo, -sympy.oo) or b.has(sympy.oo, -sympy.oo):
        return False  # infinities equal only when identical, above
    x, y = complex(a.evalf(EXACT_DIGITS + 10)), complex(b.evalf(EXACT_DIGITS + 10))
    scale = max(abs(x), abs(y), 1e-300)
    if a_decimal or b_decimal:
        if abs(x - y) <= RELATIVE_TOLERANCE * scale:
            return True
        decimal, exact = (a, b) if a_decimal else (b, a)
        return not (a_decimal and b_decimal) and _rounds_to(exact, decimal)
    precise_a, precise_b = a.evalf(EXACT_DIGITS + 10), b.evalf(EXACT_DIGITS + 10)
    return bool(abs(precise_a - precise_b) <= sympy.Float(10) ** (-EXACT_DIGITS) * max(abs(precise_a), 1))


def _rounds_to(exact: Any, decimal: Any) -> bool:
    """`decimal` (a Rational read from a decimal literal) is `exact` rounded to the decimal's places, `exact` being no
    terminating decimal, and the decimal has enough significant digits to be a rounding rather than a guess."""
    sympy = _sympy()
    if exact.is_Rational:
        denominator = int(exact.q)
        for prime in (2, 5):
            while denominator % prime == 0:
                denominator //= prime
        if denominator == 1:
            return False  # a terminating decimal is written exactly or it is another number
    elif not exact.is_real:
        return False
    text = format(float(decimal), ".15g")
    places = len(text.partition(".")[2]) if "." in text else 0
    if _significant_digits(text) < ROUNDED_MIN_DIGITS:
        return False
    rounded = sympy.Float(exact.evalf(EXACT_DIGITS + places + 5)).round(places)
    return abs(rounded - decimal) < sympy.Rational(1, 10 ** (places + 3))


def _expressions_equal(difference: Any) -> bool:
    sympy = _sympy()
    symbols = sorted(difference.free_symbols, key=lambda symbol: symbol.name)
    rng = random.Random(0)
    for _ in range(3):  # a cheap refutation first: simplify is slow, and most wrong answers differ at a point
        point = {symbol: sympy.Rational(rng.randint(11, 97), rng.randint(7, 13)) for symbol in symbols}
        try:
            at_point = complex(difference.subs(point).evalf(30))
        except (TypeError, ValueError, ZeroDivisionError):  # not a number there (a pole): no refutation
            continue
        if abs(at_point) > 1e-12:
            return False
    return sympy.simplify(difference) == 0


def _side_differences(a: Node, b: Node) -> tuple[Any, Any] | None:
    """`lhs - rhs` of two relations or equations (on sympy), None when a side is no scalar or does not parse."""
    sides = [
        a.text if a.kind == "equation" else a.items[0],
        a.items[-1],
        b.text if b.kind == "equation" else b.items[0],
    ]
    sides.append(b.items[-1])
    values = []
    for side in sides:
        if isinstance(side, Node) and side.kind != "scalar":
            return None
        values.append(value_of(side.text if isinstance(side, Node) else side))
    if any(value is None for value in values):
        return None
    return values[0] - values[1], values[2] - values[3]


def _relations_proportional(a: Node, b: Node) -> bool:
    """Two one-operator relations with the same operator (`>` already turned into `<`): `lhs - rhs` of one a positive
    constant multiple of the other's (`-x > -1` is `x < 1`); for `\\neq`, any nonzero multiple."""
    differences = _side_differences(a, b)
    if differences is None or not differences[0].free_symbols:
        return False
    ratio = _constant_ratio(*differences)
    return ratio is not None and (ratio > 0 or a.brackets == "\\neq")


def _constant_ratio(first: Any, second: Any) -> Any:
    """`first / second` when it is a finite nonzero number (the same symbols on both sides), else None."""
    if first.free_symbols != second.free_symbols:
        return None
    sympy = _sympy()
    ratio = sympy.simplify(first / second)
    if ratio.free_symbols or not ratio.is_number or ratio == 0 or ratio.is_finite is not True or not ratio.is_real:
        return None
    return ratio


def _matrix_value_equal(matrix: Node, text: str) -> bool:
    """A matrix against text that sympy evaluates to a matrix (`A + B`, `A B` written with matrices): cell by cell."""
    value = matrix_value_of(text)
    if value is None or value.shape != matrix.shape:
        return False
    cells = [value_of(cell.text) if cell.kind == "scalar" else None for cell in matrix.items]
    if any(cell is None for cell in cells):
        return False
    return all(_values_equal(cell, other, False, False) for cell, other in zip(cells, value))


@lru_cache(maxsize=1024)
def matrix_value_of(text: str) -> Any:
    """The explicit matrix sympy evaluates `text` to, None when it is no matrix expression."""
    sympy = _sympy()
    parsed = _parse_latex(text)
    if parsed is None or not getattr(parsed, "is_Matrix", False) or not _safe_to_evaluate(parsed):
        return None
    value = parsed.doit()
    explicit = value.as_explicit() if hasattr(value, "as_explicit") else value
    return explicit if isinstance(explicit, sympy.MatrixBase) else None


def _equations_proportional(a: Node, b: Node) -> bool:
    """Two equations with different left sides: `lhs - rhs` of one a nonzero constant multiple of the other's."""
    if a.items[0].kind != "scalar" or b.items[0].kind != "scalar":
        return False
    differences = _side_differences(a, b)
    if differences is None or not differences[0].free_symbols:
        return False
    return _constant_ratio(*differences) is not None
