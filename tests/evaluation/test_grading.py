"""grade_answer: the tasks' extraction and equivalence, on the real benchmarks' gold answers; the evaluate metric; and
the proof that the tasks' pass@1 and maj@N grade through it.

The grader itself (s2r_hf.answers, its conventions and classes of answers) is tested in tests/answers; here, its
public face in the evaluation package. The test of the tasks' metric objects imports lighteval (about 20 s, once).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest
from fixtures.env import REPO_ROOT

from s2r_hf.core.errors import InputError
from s2r_hf.pool.benchmarks import load_benchmark

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grading():
    pytest.importorskip("latex2sympy2_extended")
    from s2r_hf.evaluation import grading

    return grading


@pytest.fixture(scope="module")
def golds(benchmark_paths) -> dict[str, list[str]]:
    """Every benchmark's gold answers, as its task reads them (normalised by load_benchmark)."""
    return {name: load_benchmark(name, path)["answer"] for name, path in benchmark_paths.items()}


def test_grading_leaves_autograd_on(grading):
    import torch

    assert grading.grade_answer("\\boxed{2}", "2")
    assert torch.is_grad_enabled()


def test_every_gold_answer_of_every_benchmark_grades_against_itself_boxed(grading, golds):
    failures = []
    for name, answers in golds.items():
        for answer in dict.fromkeys(answers):  # each distinct answer once
            if not grading.grade_answer(f"Let me think.\n\nThe final answer is \\boxed{{{answer}}}.", answer):
                failures.append((name, answer))
    assert failures == []
    assert sum(len(answers) for answers in golds.values()) == 500 + 30 + 30 + 40 + 272 + 675


def _number(answer: str) -> float | None:
    try:
        value = float(answer)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def test_numeric_golds_match_their_equivalent_forms_and_reject_wrong_answers(grading, golds):
    checked = 0
    for name in ("aime24", "aime25", "amc23"):
        for answer in golds[name]:
            value = _number(answer)
            assert value is not None, (name, answer)
            as_float = f"{value:.1f}" if value == int(value) else repr(value)
            assert grading.grade_answer(f"\\boxed{{{as_float}}}", answer), (name, answer)  # 27.0 for 27
            assert grading.grade_answer(
                f"The answer is \\boxed{{{int(value) if value == int(value) else value}}}.", value
            )  # a number as the gold
            assert not grading.grade_answer(f"\\boxed{{{value + 1:g}}}", answer), (name, answer)
            checked += 1
    assert checked == 100


@pytest.mark.parametrize(
    ("completion", "gold", "expected"),
    [
        ("so \\boxed{0.5}", "\\frac{1}{2}", True),
        ("so \\boxed{\\frac{1}{2}}", "0.5", True),
        ("\\boxed{27.0}", "27", True),
        ("\\boxed{27}", 27.0, True),
        ("\\boxed{25}", "025", True),  # AIME answers are zero-padded strings in some sources
        ("First \\boxed{5}. Wait, no: \\boxed{27}", "27", True),  # the last \boxed{} is the answer
        ("First \\boxed{5}. Wait, no: \\boxed{27}", "5", False),
        ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "(3,\\frac{\\pi}{2})", True),
        ("\\boxed{28}", "27", False),
        ("I do not know.", "27", False),
        ("", "27", False),
    ],
)
def test_grade_answer_cases(grading, completion, gold, expected):
    assert grading.grade_answer(completion, gold) is expected


def test_a_small_number_as_the_gold_grades_its_written_out_form_right(grading):
    # The gold 1e-7 was rendered `1e-07`, which never equalled \boxed{0.0000001}.
    assert grading.grade_answer("\\boxed{0.0000001}", 1e-7) is True
    assert grading.grade_answer("\\boxed{0.000002}", 1e-7) is False
    assert grading.grade_answer("\\boxed{25000000000000000}", 2.5e16) is True


@pytest.mark.parametrize("gold", [None, True, float("nan"), ["27"], "  "])
def test_bad_gold_answers_are_refused(grading, gold):
    with pytest.raises(InputError):
        grading.grade_answer("\\boxed{27}", gold)


def test_majority_vote_groups_equivalent_answers(grading):
    samples = ["\\boxed{5}"] * 3 + ["\\boxed{27}", "\\boxed{27.0}", "\\boxed{\\frac{54}{2}}", "\\boxed{27}"]
    assert grading.majority_answer(samples) == "\\boxed{27}"
    assert grading.majority_correct(samples, "27")
    assert not grading.majority_correct(samples, "5")
    assert grading.majority_answer(["no answer", "none either"]) is None
    assert grading.pass_at_1([True, False, False, True]) == 0.5


def test_grade_answer_is_public():
    import s2r_hf

    assert "grade_answer" in s2r_hf.__all__
    from s2r_hf.evaluation.grading import grade_answer

    assert s2r_hf.grade_answer is grade_answer


def test_the_readmes_evaluate_metric_snippet_runs_as_written_after_import_s2r_hf(tmp_path):
    """The README's grading snippet, read from the README and run in a fresh interpreter, offline: its
    `evaluate.load(s2r_hf.evaluation.metric.metric_path())` after a bare `import s2r_hf` raised AttributeError (the lazy
    package had not imported its evaluation package)."""
    pytest.importorskip("evaluate")
    from fixtures.readme import readme_block

    snippet = readme_block("Evaluating under the paper's protocol", "python").code  # as written, read from the README
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # The README's two prints: grade_answer's verdict, then the metric over one right and one wrong answer.
    assert done.stdout.strip().splitlines()[-2:] == ["True", "{'accuracy': 0.5}"]


# -- graders off the main thread (issue 16: "signal only works in main thread") ----------------------------------------


def test_grading_from_a_thread_pool_gives_the_main_threads_grades(grading):
    from concurrent.futures import ThreadPoolExecutor

    cases = [
        ("The answer is \\boxed{27}.", 27, True),
        ("Hence \\boxed{\\frac{54}{2}}.", "27", True),
        ("So we get \\boxed{27.0}.", "27", True),
        ("The answer is \\boxed{5}.", 27, False),
        ("no answer at all", "3", False),
        ("\\boxed{\\frac{1}{2}}", "0.5", True),
    ] * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        graded = list(pool.map(lambda case: grading.grade_answer(case[0], case[1]), cases))
        majority = pool.submit(grading.majority_correct, [case[0] for case in cases[:4]], 27).result()
    assert graded == [expected for _, _, expected in cases]
    assert majority is True  # 27, 27 (as 54/2) and 27.0 vote together against one 5


# -- one grader: the tasks' metric objects give grade_answer's verdicts ------------------------------------------------


def test_the_tasks_pass_at_1_and_maj_at_n_grade_through_grade_answer(grading):
    """The metric objects the s2r_aime24 task carries (lighteval's PassAtK with our sample scorer, and MajorityVote),
    given a lighteval Doc and ModelResponse as the task builds them, give the verdicts grade_answer gives, completion by
    completion; so pass@1 is their mean and maj@16 the vote of grade_answer's groups."""
    pytest.importorskip("lighteval")
    from lighteval.models.model_output import ModelResponse

    from s2r_hf.evaluation.presets import PRESETS
    from s2r_hf.evaluation.tasks import math_prompt, metrics_for

    gold = "\\frac{1}{2}"
    completions = [
        "so \\boxed{0.5}",
        "\\boxed{\\dfrac{1}{2}}",
        "The final answer is $\\frac{1}{2}$.",
        "\\boxed{\\frac{2}{4}}",
        "\\boxed{0.4}",
        "\\boxed{2}",
        "no answer",
        "\\boxed{\\frac{1}{3}}",
        "\\boxed{\\pm \\frac{1}{2}}",  # two values: wrong
        "\\boxed{x = \\frac{1}{2}}",  # a named value: right
        "\\boxed{1:2}",
        "\\boxed{50\\%}",  # percent reads as its number, 50: wrong
        "\\boxed{0.500}",
        "\\boxed{\\frac12}",
        "\\boxed{\\frac{1}{2}, 1}",
        "",
    ]
    doc = math_prompt({"id": "p1", "problem": "What is one half?", "answer": gold}, "s2r_aime24")
    pass_at_1, majority = metrics_for(PRESETS["paper"].settings_for("aime24"))
    assert (pass_at_1.metric_name, majority.metric_name) == ("pass@1", "maj@16")
    scorer = pass_at_1.sample_level_fn
    ours = grading.grade_answers(completions, gold)
    theirs = [scorer.compute_score(doc=doc, model_response=ModelResponse(text=[text])) == 1.0 for text in completions]
    assert theirs == ours
    assert ours == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    response = ModelResponse(text=completions)
    assert scorer.compute(doc=doc, model_response=response) == pytest.approx(sum(ours) / len(ours))
    assert majority.sample_level_fn.compute(doc=doc, model_response=response) == float(
        grading.majority_correct(completions, gold)
    )
    assert grading.majority_correct(completions, gold) is True  # 7 right answers vote together
