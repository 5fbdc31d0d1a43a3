"""The one grader (s2r_hf.answers): each class of issue 19's section 1, wrong answers it must reject and right answers
it must accept, and each convention it chose (docs/evaluation.md states them).

No lighteval here: the grader imports sympy and latex2sympy2_extended only.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from fixtures.env import REPO_ROOT

from s2r_hf.answers import answers_equal, extract_answer, grade, same_answer

# -- wrong answers graded correct before (issue 19, section 1) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("n=1, 2, 3", "n=2, 3, 4"),  # an equation whose right side is a list: the lists are compared
        ("x=1, 2", "x=3, 4"),
        ("D = (0, 1.5)", "D = (0, 1)"),  # an equation whose right side is an interval
        ("1:00", "12:00"),  # both parse to complex infinity on sympy
        ("21, 36, and 82", "19, 46, and 82"),  # a list is not its last item
        ("2021", "\\pm 2021"),  # \pm is two values
        ("F_n = \\sum_{k=0}^{n-2} F_k F_{n-k-2}", "F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}"),  # sums, other bounds
        ("\\sum_{k=1}^{10} k", "\\sum_{k=1}^{11} k"),
        ("\\int_0^1 x\\,dx", "\\int_0^2 x\\,dx"),
    ],
)
def test_wrong_answers_that_lighteval_passed_are_wrong(prediction, gold):
    assert grade(f"The answer is $\\boxed{{{prediction}}}$.", gold) is False
    assert answers_equal(gold, prediction) is False


# -- right answers missed before ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "gold"),
    [
        ("\\boxed{10\\%}", "10"),  # MATH-500 test/prealgebra/1233 asks "by what percent"
        ("The answer is 10%", "10"),
        ("The answer is 28 pct", "28"),
        ("The answer is 28 percent", "28"),
        ("\\boxed{2021, -2021}", "\\pm 2021"),
        ("\\boxed{-2021, 2021}", "\\pm 2021"),
        ("\\boxed{2x+4y-3=0}", "y=-\\frac{1}{2}x+\\frac{3}{4}"),  # the same line
        ("\\boxed{x^2+y^2-4=0}", "2x^2+2y^2=8"),  # the same conic
        ("\\boxed{4.123105625617661}", "\\sqrt{17}"),
    ],
)
def test_right_answers_that_lighteval_missed_are_right(completion, gold):
    assert grade(completion, gold) is True


# -- structure ---------------------------------------------------------------------------------------------------------


def test_lists_split_at_top_level_commas_and_and_and_are_unordered():
    assert answers_equal("19, 46, and 82", "82, 19, 46")
    assert answers_equal("19, 46, and 82", "19, 46, \\text{ and } 82")
    assert not answers_equal("19, 46, and 82", "19, 46")  # one missing
    assert not answers_equal("1, 2", "1, 2, 2")  # a repeated item counts


def test_tuples_and_intervals_are_ordered_and_their_brackets_matter():
    assert answers_equal("(1, \\frac{9}{2})", "(1, 4.5)")
    assert not answers_equal("(1, 2)", "(2, 1)")
    assert not answers_equal("(0, 1)", "[0, 1)")  # open and closed ends differ
    assert not answers_equal("[0, 1)", "[0, 1]")
    assert answers_equal("(-\\infty, 3] \\cup (5, \\infty)", "(5, \\infty) \\cup (-\\infty, 3]")  # a union is a set
    assert answers_equal("(-793, 10)", "-793 < a < 10")  # an inequality is its interval


def test_sets_are_unordered():
    assert answers_equal("\\{1, 2, 3\\}", "\\{3, 1, 2\\}")
    assert not answers_equal("\\{1, 2, 3\\}", "\\{1, 2, 4\\}")


def test_equations_compare_right_sides_and_a_named_left_side_equals_a_bare_value():
    assert answers_equal("x = 3", "x=3.0")
    assert not answers_equal("x = 3", "y = 3")  # another unknown
    assert answers_equal("x = 3", "3")  # the convention: `name = value` against a bare value compares the value
    assert answers_equal("y = x^2+2x+1", "2x+1+x^2")
    assert not answers_equal("2x + 1 = 5", "5")  # a left side that is no name: different
    assert answers_equal("34x+45y-20z+100=0", "-34x-45y+20z-100=0")  # proportional: the same plane
    assert not answers_equal("x + y = 1", "x + y = 2")


def test_relations_compare_as_the_same_set_of_solutions():
    assert answers_equal("x \\geq 5", "x >= 5")
    assert answers_equal("5 \\geq x", "x \\leq 5")  # written the other way round
    assert answers_equal("-x > -1", "x < 1")  # multiplied by a negative number, the operator turned
    assert not answers_equal("x < 1", "x \\leq 1")
    assert not answers_equal("x < 1", "x < 2")
    assert not answers_equal("-x < -1", "x < 1")


def test_plus_minus_expands_to_two_values():
    assert answers_equal("\\pm 2021", "2021, -2021")
    assert answers_equal("1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}")
    assert not answers_equal("\\pm 2021", "2021")
    assert not answers_equal("\\pm 2021", "-2021")


def test_matrices_compare_cell_by_cell_whatever_their_brackets():
    pmatrix = "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}"
    assert answers_equal(pmatrix, "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}")
    assert not answers_equal(pmatrix, "\\begin{pmatrix}1 & 2 \\\\ 4 & 3\\end{pmatrix}")
    assert not answers_equal(pmatrix, "\\begin{pmatrix}1 & 2 & 3 & 4\\end{pmatrix}")
    # matrices written as a sum or a product, against the matrix they make
    sum_of_two = "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}"
    assert answers_equal("\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}", sum_of_two)
    assert not answers_equal("\\begin{pmatrix}6 & 8 \\\\ 10 & 13\\end{pmatrix}", sum_of_two)


# -- scalars -----------------------------------------------------------------------------------------------------------


def test_numbers_exact_and_decimal():
    assert answers_equal("27", "27.0")
    assert answers_equal("\\frac{1}{2}", "0.5")
    assert answers_equal("025", "25")
    assert not answers_equal("25000000000000000", "25000000000000001")  # integers exactly, however large
    assert not answers_equal("2", "2.000001")  # a decimal within 1e-9 relative only
    assert not answers_equal("52_8", "52_9")  # numbers in another base: by their text
    assert answers_equal("4210_{5}", "4210_5")


def test_a_decimal_with_three_significant_digits_is_a_rounding_of_a_non_terminating_value():
    assert answers_equal("\\frac{1}{3}", "0.333")
    assert answers_equal("\\pi", "3.14")
    assert not answers_equal("\\frac{1}{3}", "0.33")  # two digits: too few to tell a rounding from a guess
    assert not answers_equal("\\frac{1}{12}", "0.1")
    assert not answers_equal("\\frac{1}{8}", "0.13")  # 0.125 terminates: it is written exactly or it is wrong


def test_symbolic_expressions():
    assert answers_equal("(r+5)^2", "(r+5)(r+5)")
    assert answers_equal("\\tan^2(y)+1", "\\sec^2(y)")
    assert answers_equal("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}")
    assert not answers_equal("x^2+2x+1", "x^3+2x+1")
    assert not answers_equal("f(x)", "f(y)")  # variables are not renamed
    assert answers_equal("3+4i", "4i+3")  # i is the imaginary unit


def test_complex_infinity_and_nan_are_never_equal_on_sympy():
    assert not answers_equal("\\frac{1}{0}", "\\frac{2}{0}")
    assert not answers_equal("0^0 \\cdot \\frac{1}{0}", "\\frac{1}{0}")
    assert answers_equal("1:00", "1:00")  # the same text is the same answer


def test_text_units_degrees_and_spacing_are_ignored():
    assert answers_equal("10\\text{ cm}", "10")
    assert answers_equal("\\frac{1}{3} \\text{ meters}", "\\frac{1}{3}")
    assert answers_equal("30^\\circ", "30")
    assert answers_equal("30^{\\circ}", "30")
    assert answers_equal("\\dfrac{1}{2}", "\\tfrac{1}{2}")
    assert answers_equal("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})")
    assert answers_equal("\\text{Devon}", "Devon")
    assert not answers_equal("\\text{east}", "\\text{seat}")  # words are text, not products of letters
    assert answers_equal("\\$10", "10")
    assert answers_equal("35 cm", "35") and answers_equal("2.5cm", "2.5") and answers_equal("12 inches", "12")
    assert not answers_equal("2t", "2")  # a letter against a number is a product, not a unit
    assert not answers_equal("2ab", "2")
    assert not answers_equal("2 ab", "2")
    assert not answers_equal("f \\circ g", "fg")  # \circ is a degree only after a number


def test_thousands_separators_versus_lists():
    assert answers_equal("1,000", "1000")  # a comma followed by exactly three digits, no space: thousands
    assert answers_equal("7,425,000", "7425000")
    assert answers_equal("11,\\!111", "11111")
    assert not answers_equal("1, 000", "1000")  # a space after the comma: a list
    assert not answers_equal("1,5", "1.5")  # a comma is never a decimal separator: the list 1, 5
    assert answers_equal("1,5", "5, 1")


def test_multiple_choice_letters():
    assert answers_equal("(B)", "B")
    assert answers_equal("\\text{(B)}", "B")
    assert answers_equal("(D) Alina", "D")
    assert not answers_equal("B", "b")  # case matters: b may be a variable
    assert not answers_equal("(B)", "C")


# -- extraction --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completion", "answer"),
    [
        ("so \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("\\boxed{\\frac{\\sqrt{\\frac{1}{2}}}{2}}", "\\frac{\\sqrt{\\frac{1}{2}}}{2}"),  # nested braces
        ("\\fbox{12}", "12"),
        ("First \\boxed{5}. Wait, no: \\boxed{27}", "27"),  # the last box
        ("The integers are \\boxed{-2} and \\boxed{1}.", "-2, 1"),  # boxes side by side: one list
        ("\\boxed{255} so in total $10,455. The final answer is $10,455$.", "10,455"),  # the last word wins
        ("Thus the final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
        ("Final Answer: The largest $n$ is 34.", "34"),
        ("$\\frac{1}{2}$", "\\frac{1}{2}"),
        ("28 percent", "28 percent"),
        ("the probability that Alice wins is 2/3. <|im_start|>user", "2/3"),
        ("It is not A because that fails, so I think it's B", "B"),  # a multiple-choice letter in prose: the last
        ("D. it can't be A or B", "D"),  # ... or the one opening the answer
        ("The answer is for sure D, it can't be A or B", "D"),  # ... or the first of a statement
        ("AZYUK2A", None),  # a digit inside a word is no answer
        ("I do not know.", None),
        ("", None),
    ],
)
def test_extraction(completion, answer):
    assert extract_answer(completion) == answer


def test_majority_groups_equivalent_answers():
    assert same_answer("\\boxed{0.5}", "so \\boxed{\\frac{1}{2}}")
    assert not same_answer("\\boxed{0.5}", "no answer here")


# -- time limits and speed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "gold"),
    [
        ("10^{10^{10}}", "10^{10^{10}+1}"),
        ("2^{3^{4^{5}}}", "2"),
        ("99999!", "1"),
        ("(" * 60 + "1" + ")" * 60, "2"),
    ],
)
def test_adversarial_answers_are_refused_fast_not_evaluated(prediction, gold):
    start = time.monotonic()
    assert answers_equal(gold, prediction) is False
    assert time.monotonic() - start < 5


def test_a_comparison_that_never_ends_is_cut_at_its_limit_in_any_thread(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from s2r_hf.answers import equivalence

    def forever(*args, **kwargs):  # pure-Python work with no end, as sympy on an adversarial expression
        while True:
            pass

    monkeypatch.setattr(equivalence, "TIME_LIMIT_SECONDS", 1.0)
    monkeypatch.setattr(equivalence, "_compare_texts", forever)
    start = time.monotonic()
    assert equivalence.answers_equal("1", "2") is False  # the main thread
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(lambda _: equivalence.answers_equal("1", "2"), "ab")) == [False, False]
    assert 2 <= time.monotonic() - start < 20  # each ran until its limit, and no longer


def test_the_time_limit_never_fires_after_the_call_returned():
    from concurrent.futures import ThreadPoolExecutor

    from s2r_hf.answers.time_limit import call_with_time_limit

    def busy(seconds: float) -> str:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass
        return "done"

    def in_thread() -> tuple:
        quick = [call_with_time_limit(1, busy, 0.001) for _ in range(200)]
        try:
            call_with_time_limit(1, busy, 30)
        except TimeoutError:
            slow = "timed out"
        time.sleep(1.5)  # a late timer would raise here
        return quick[-1], slow

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(in_thread).result(timeout=60) == ("done", "timed out")


def test_the_grader_imports_no_lighteval_and_no_higher_floor():
    code = (
        "import sys; from s2r_hf.answers import grade; assert grade('\\\\boxed{0.5}', '\\\\frac{1}{2}'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'lighteval', 'datasets', 'torch'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_a_missing_latex2sympy_names_the_eval_extra(monkeypatch):
    import builtins

    from s2r_hf.answers import libraries
    from s2r_hf.core.errors import MissingDependencyError

    real_import = builtins.__import__

    def without_latex2sympy(name, *args, **kwargs):
        if name.startswith("latex2sympy2_extended"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    libraries.require_math_libraries.cache_clear()
    monkeypatch.setattr(builtins, "__import__", without_latex2sympy)
    monkeypatch.setattr("s2r_hf.core.extras.is_importable", lambda package: False)
    try:
        with pytest.raises(MissingDependencyError, match=r"pip install 's2r-hf\[eval\]'"):
            libraries.require_math_libraries()
    finally:
        monkeypatch.undo()
        libraries.require_math_libraries.cache_clear()
