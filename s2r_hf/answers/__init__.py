"""Math answers: find the final answer of a completion and decide whether it equals the gold answer.

    from s2r_hf.answers import grade
    grade("... so the answer is \\boxed{\\frac{1}{2}}", "0.5")  # True

This is s2r-hf's one grader: `s2r_hf.grade_answer`, the evaluation tasks' pass@1 and maj@N and the `evaluate` metric
all call it. It lives on floor 1, below every layer that grades (evaluation; sampled rollouts in signals), and imports
no lighteval: only sympy and latex2sympy2_extended (the `eval` extra), on the first comparison.

Why our own comparison, rather than lighteval's or Math-Verify's: lighteval 0.13's math comparison passes wrong answers
(an equation whose right side is a list equal to any other, `1:00` equal to `12:00` as both parse to complex infinity,
`\\pm 2021` equal to `2021`), and guards around it would have to undo its normalisation case by case; Math-Verify 0.9
pins latex2sympy2_extended 1.11 while lighteval 0.13 pins 1.0.6, so it cannot share the environment `pip install
's2r-hf[eval]'` makes, and grading in a second environment would split one score across two processes. Here the
structure of an answer (lists, sets, tuples, intervals, equations, matrices, `\\pm`) is read by our own code
(s2r_hf.answers.structure) and latex2sympy only parses scalars, with every doubt resolved as "different"
(s2r_hf.answers.equivalence). Its agreement with other projects' stated cases is measured by
tests/answers/test_peer_cases.py and benchmarks/bench_grader.py.
"""

from __future__ import annotations

from s2r_hf.answers.equivalence import answers_equal
from s2r_hf.answers.extraction import extract_answer, gold_answer
from s2r_hf.answers.libraries import require_math_libraries

__all__ = ["answers_equal", "extract_answer", "gold_answer", "grade", "require_math_libraries", "same_answer"]


def grade(completion: str, gold: str) -> bool:
    """True when the final answer of `completion` equals the answer `gold` holds (a bare answer, or a solution with a
    `\\boxed{}`); False when the completion has no answer."""
    answer = extract_answer(completion)
    return answer is not None and answers_equal(gold_answer(gold), answer)


def same_answer(first: str, second: str) -> bool:
    """Whether two completions give the same final answer (False when either has none): majority votes group by it."""
    a, b = extract_answer(first), extract_answer(second)
    return a is not None and b is not None and answers_equal(a, b)
