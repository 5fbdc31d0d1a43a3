"""How numbers are written for people (the commands' summaries, the cards, the pool report): never in scientific
notation.

A trace length of 1,080 characters printed as `1.08e+03`, or a median of 23,456 tokens as `2.346e+04`, makes the
reader decode what is a plain count. So a whole number is written with thousands separators (`1,080`), and any other
value as a plain decimal with `digits` significant digits, to at least one place after the point, also with
separators (`0.343`, `605.4`, `12,345.5`). Not for files that programs read back (JSON keeps the exact values).
"""

from __future__ import annotations

import math
import numbers


def plain_number(value: object, digits: int = 3) -> str:
    """`value` for people: `1,080`, `605.4`, `0.343`, `0.000012`; None as `-`; anything not a number as `str`."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number.is_integer():
        return f"{int(number):,}"
    # Places after the point: enough for `digits` significant digits, and at least one.
    magnitude = math.floor(math.log10(abs(number)))
    places = max(1, digits - 1 - magnitude)
    text = f"{number:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
