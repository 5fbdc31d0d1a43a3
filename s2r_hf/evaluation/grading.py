"""Grade a completion against a gold answer, exactly as the evaluation tasks do: `grade_answer(completion, gold)`.

The tasks (s2r_hf.evaluation.tasks) score with lighteval's math extractive match: the answer is extracted from the
completion (the last `\\boxed{}` first, then LaTeX or plain expressions), parsed with latex2sympy, and compared with
the gold answer symbolically and numerically (`0.5` equals `\\frac{1}{2}`, `27.0` equals `27`). `grade_answer` builds
the very same metric object (`math_match_metric`) and applies it to one completion, so a user who grades in their own
loop gets the number the tasks would give.

lighteval is imported on the first call, not at import: it is in the `eval` extra (`pip install 's2r-hf[eval]'`), and
importing its metric code takes a few seconds. Only its metric modules are imported, never its model code (which turns
autograd off for the whole process), so grading inside a training loop is safe.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from functools import cache
from typing import Any

from s2r_hf.core.errors import InputError, MissingDependencyError
from s2r_hf.core.extras import missing_extra_message

# Numbers compared to this many decimal places (lighteval's pass@k math metric uses 6).
PRECISION = 6
# Seconds allowed for one extraction or comparison (sympy can hang on adversarial input).
TIMEOUT_SECONDS = 5


def require_lighteval() -> None:
    try:
        import lighteval  # noqa: F401
    except ModuleNotFoundError as err:
        message = missing_extra_message(err)
        if message is None:  # lighteval is there and a module it imports is not: a broken install, whose trace helps
            raise
        raise MissingDependencyError(f"{message} (lighteval[math] 0.13 or later)") from err


@cache
def math_match_metric():
    """lighteval's extractive match, configured as the tasks' pass@1 and maj@N use it (one shared definition)."""
    require_lighteval()
    from s2r_hf.evaluation.timeouts import install

    install()  # lighteval's timeouts use signal.alarm, refused outside the main thread; graders run in threads too
    from lighteval.metrics.dynamic_metrics import MultilingualExtractiveMatchMetric
    from lighteval.metrics.utils.extractive_match_utils import ExprExtractionConfig, LatexExtractionConfig
    from lighteval.utils.language import Language

    return MultilingualExtractiveMatchMetric(
        language=Language.ENGLISH,
        gold_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()),
        pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()),
        precision=PRECISION,
        timeout_seconds=TIMEOUT_SECONDS,
    )


def gold_choice(gold: Any) -> str:
    """The gold answer as the tasks put it in a Doc: boxed, so that LaTeX answers (`\\frac{1}{2}`) are extracted the
    same way as a model's final answer."""
    text = _text(gold, "gold")
    return f"\\boxed{{{text}}}"


def grade_answer(completion: str, gold: Any) -> bool:
    """True when the final answer of `completion` equals `gold` (a string or number), as the evaluation tasks grade."""
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    metric = math_match_metric()
    text = _text(completion, "completion", allow_empty=True)
    doc = Doc(query="", choices=[gold_choice(gold)], gold_index=0)
    return metric.compute(doc=doc, model_response=ModelResponse(text=[text])) == 1.0


def grade_answers(completions: Sequence[str], gold: Any) -> list[bool]:
    """`grade_answer` for several completions of one problem."""
    return [grade_answer(completion, gold) for completion in completions]


def majority_answer(completions: Sequence[str]) -> str | None:
    """The completion whose answer is the most common among `completions`, answers grouped by equivalence (so `0.5`
    and `\\frac{1}{2}` vote together); None when no completion has an answer. Ties go to the answer seen first."""
    groups: list[tuple[str, int]] = []  # (representative completion, votes)
    for completion in completions:
        if not _has_answer(completion):
            continue
        for index, (representative, votes) in enumerate(groups):
            if _same_answer(representative, completion):
                groups[index] = (representative, votes + 1)
                break
        else:
            groups.append((completion, 1))
    if not groups:
        return None
    best = max(votes for _, votes in groups)
    return next(representative for representative, votes in groups if votes == best)


def majority_correct(completions: Sequence[str], gold: Any) -> bool:
    """maj@N for one problem: whether the majority answer of the completions equals gold."""
    winner = majority_answer(completions)
    return winner is not None and grade_answer(winner, gold)


def pass_at_1(correct: Sequence[bool]) -> float:
    """pass@1 of one problem estimated from N samples: the fraction that are correct."""
    if not correct:
        raise InputError("pass@1 needs at least one sample")
    return sum(bool(flag) for flag in correct) / len(correct)


# -- helpers ------------------------------------------------------------------------------------------------------


def _extract(completion: str) -> list:
    from lighteval.metrics.utils.extractive_match_utils import extract_target_from_pred, get_extraction_regexes
    from lighteval.tasks.requests import Doc

    metric = math_match_metric()
    regexes = get_extraction_regexes(
        Doc(query="", choices=[""], gold_index=0), metric.pred_extraction_target, metric.language
    )
    return extract_target_from_pred(
        completion, regexes, metric.fallback_mode, metric.extraction_mode, metric.timeout_seconds
    )


def _has_answer(completion: str) -> bool:
    return bool(_extract(completion))


def _same_answer(first: str, second: str) -> bool:
    from lighteval.metrics.utils.math_comparison import compare_gold_target

    return bool(compare_gold_target(_extract(first), _extract(second), PRECISION, timeout_seconds=TIMEOUT_SECONDS))


def _text(value: Any, what: str, *, allow_empty: bool = False) -> str:
    if isinstance(value, bool) or value is None:
        raise InputError(f"{what} must be a string or a number, got {value!r}")
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise InputError(f"{what} must be a finite number, got {value!r}")
        from s2r_hf.pool.benchmarks import answer_text

        return answer_text(value) or ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string or a number, got {value!r} ({type(value).__name__})")
    if not allow_empty and not value.strip():
        raise InputError(f"{what} is empty")
    return value
