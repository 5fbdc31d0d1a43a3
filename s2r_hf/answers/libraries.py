"""The libraries the grader computes with, imported on first use: `require_math_libraries()`.

sympy (it comes with torch) and latex2sympy2_extended (the `eval` extra) take about a second to import; the grader
imports them on its first comparison, not when s2r_hf.answers is imported.
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType


@lru_cache(maxsize=1)
def require_math_libraries() -> ModuleType:
    """sympy, once latex2sympy2_extended is known to import; MissingDependencyError naming the extra otherwise."""
    from s2r_hf.core.errors import MissingDependencyError
    from s2r_hf.core.extras import missing_extra_message

    try:
        import latex2sympy2_extended  # noqa: F401
        import sympy
    except ModuleNotFoundError as err:
        message = missing_extra_message(err)
        if message is None:  # sympy comes with torch; anything else missing is a broken install, whose trace helps
            raise
        raise MissingDependencyError(message) from err
    return sympy
