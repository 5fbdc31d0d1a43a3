"""Grade a completion against a gold answer, exactly as the evaluation tasks do: `grade_answer(completion, gold)`.

Every grade s2r-hf gives goes through one grader, s2r_hf.answers (its module docstrings state the rules): this
module's functions, the tasks' pass@1 (`score_sample`, lighteval's PassAtK sample scorer) and maj@N
(`majority_correct`), and the `evaluate` metric module. So a score from `s2r evaluate` and a user's own loop never
differ. The final answer is extracted from the completion (the last `\\boxed{}` first), and compared with the gold
answer structurally (lists, sets, intervals, equations, `\\pm`) and on sympy (`0.5` equals `\\frac{1}{2}`, `27.0` equals
`27`), every doubt graded wrong.

Nothing here imports lighteval: grading needs sympy and latex2sympy2_extended (the `eval` extra), imported on the first
comparison, and works in any thread (a TRL reward function, a thread pool).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from s2r_hf.answers import extract_answer, grade, require_math_libraries, same_answer
from s2r_hf.core.errors import InputError


def gold_choice(gold: Any) -> str:
    """The gold answer as the tasks put it in a Doc: boxed, so that lighteval's own views of the Doc (its logs, the
    details files) show the answer a completion is graded against."""
    text = _text(gold, "gold")
    return f"\\boxed{{{text}}}"


def grade_answer(completion: str, gold: Any) -> bool:
    """True when the final answer of `completion` equals `gold` (a string or number), as the evaluation tasks grade."""
    require_math_libraries()
    return grade(_text(completion, "completion", allow_empty=True), _text(gold, "gold"))


def grade_answers(completions: Sequence[str], gold: Any) -> list[bool]:
    """`grade_answer` for several completions of one problem (the gold is read once and cached)."""
    return [grade_answer(completion, gold) for completion in completions]


def score_sample(doc: Any, model_response: Any, **kwargs: Any) -> float:
    """lighteval's sample scorer (PassAtK's `sample_scoring_function`): 1.0 when the response's first text answers the
    Doc's gold choice, else 0.0 -- `grade_answer` on lighteval's objects."""
    gold = doc.choices[doc.gold_index if isinstance(doc.gold_index, int) else doc.gold_index[0]]
    texts = model_response.final_text
    return float(bool(texts) and grade_answer(texts[0] or "", gold))


def majority_answer(completions: Sequence[str]) -> str | None:
    """The completion whose answer is the most common among `completions`, answers grouped by equivalence (so `0.5`
    and `\\frac{1}{2}` vote together); None when no completion has an answer. Ties go to the answer seen first."""
    require_math_libraries()
    groups: list[tuple[str, int]] = []  # (representative completion, votes)
    for completion in completions:
        if extract_answer(completion) is None:
            continue
        for index, (representative, votes) in enumerate(groups):
            if same_answer(representative, completion):
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
