"""Decontamination: a question covering a benchmark problem (the default rule) or sharing one n-gram with it
(open-r1's any-ngram rule) is dropped, whatever its spacing, case or numbers."""

import re

import pytest
from datasets import Dataset

from s2r_hf import decontaminate
from s2r_hf.core.columns import ID
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.hygiene.text import question_words, question_words_cut
from s2r_hf.pool.benchmarks import load_benchmark


def tiny_benchmarks():
    return {
        "math500": Dataset.from_dict(
            {
                "id": ["m1", "m2"],
                "problem": [
                    "The quick brown fox jumps over the lazy dog twice. How many jumps?",
                    "Simplify $\\sqrt{242}$.",  # 2 words: shorter than n, matched only as a whole question
                ],
            }
        ),
        "aime24": Dataset.from_dict(
            {"id": ["a1"], "problem": ["Let $x$ be the number of ways to tile a 2 by 10 board. Find $x$."]}
        ),
    }


def test_normalisation_ignores_case_spacing_and_latex_layout():
    words = question_words("Let $\\frac{m}{n}$ be $x+1$, where  m\nand n are coprime.")
    assert words == ["let", "fracmn", "be", "x1", "where", "m", "and", "n", "are", "coprime"]
    for variant in (
        "LET $\\dfrac m n$ BE $ x + 1 $ , WHERE M AND N ARE COPRIME!",
        "let~$\\tfrac{m}{n}$\\,be $\\left. x\\ +\\;1 \\right.$ where m and n are coprime",
    ):
        assert question_words(variant) == words


def test_any_ngram_rule_hand_made_pool_exact_pairs_and_counts():
    # open-r1's rule, kept by name: one shared 8-gram (numbers kept) is a match; a problem shorter than 8 words
    # matches only a question that is exactly it.
    pool = Dataset.from_dict(
        {
            ID: ["p1", "p2", "p3", "p4", "p5", "p6"],
            "question": [
                "THE QUICK BROWN FOX JUMPS OVER THE LAZY CAT.",  # 8 shared words with m1
                "the quick brown fox jumps over the sleepy dog",  # 7 in a row at most: kept
                "simplify   $ \\sqrt{ 242 } $ .",  # m2 re-spaced: the whole question
                "Simplify $\\sqrt{242}$ and then add one.",  # holds m2 but is not it: kept
                "Number of ways to tile a 2 by 10 board? Also, the quick brown fox jumps over the lazy dog.",
                "An unrelated question about primes.",
            ],
        }
    )
    clean, report = decontaminate(pool, tiny_benchmarks(), rule="any-ngram", question_column="question")
    assert clean[ID] == ["p2", "p4", "p6"]
    assert report.rows_in == 6 and report.rows_dropped == 3 and report.ngram == 8
    assert (report.rule, report.threshold, report.boilerplate, report.numbers) == ("any-ngram", None, None, "kept")
    assert report.benchmarks == {
        "math500": {"problems": 2, "rows_dropped": 3},
        "aime24": {"problems": 1, "rows_dropped": 1},
    }
    fox = "the quick brown fox jumps over the lazy"  # 8 of m1's 13 words
    assert report.pairs == [
        {"pool_id": "p1", "benchmark": "math500", "benchmark_id": "m1", "coverage": 0.615, "shared": [fox]},
        {"pool_id": "p3", "benchmark": "math500", "benchmark_id": "m2", "coverage": 1.0,
         "shared": ["simplify sqrt242"]},
        {"pool_id": "p5", "benchmark": "aime24", "benchmark_id": "a1", "coverage": 0.625,  # 10 of 16 words
         "shared": ["number of ways to tile a 2 by 10 board"]},
        {"pool_id": "p5", "benchmark": "math500", "benchmark_id": "m1", "coverage": 0.692,  # 9 of 13
         "shared": ["the quick brown fox jumps over the lazy dog"]},
    ]  # fmt: skip
    # With n = 3, p2 shares "the quick brown" with m1; m2 (2 words) still matches only a question that is exactly it.
    clean, report = decontaminate(pool, tiny_benchmarks(), rule="any-ngram", ngram=3, question_column="question")
    assert clean[ID] == ["p4", "p6"]


def test_coverage_rule_hand_made_pool_shares_and_evidence():
    # The default: shared 5-grams must cover at least 0.6 of a problem's words; numbers are masked.
    pool = Dataset.from_dict(
        {
            ID: ["c1", "c2", "c3", "c4", "c5"],
            "question": [
                "THE QUICK BROWN FOX JUMPS OVER THE LAZY CAT.",  # words 0-7 of m1's 13: 0.615
                "the quick brown fox jumps over the sleepy dog",  # words 0-6: 0.538, kept
                "Number of ways to tile a 2 by 10 board? Also, the quick brown fox jumps over the lazy dog.",
                "Simplify $\\sqrt{242}$ and then add one.",  # holds all of m2 (2 words, shorter than n)
                "Let $x$ be the count of tilings of a 2 by 10 board.",  # 5 words in a row at most with a1
            ],
        }
    )
    clean, report = decontaminate(pool, tiny_benchmarks(), question_column="question")
    assert clean[ID] == ["c2", "c5"]
    assert (report.rule, report.ngram, report.threshold, report.boilerplate, report.numbers) == (
        "coverage",
        5,
        0.6,
        4,
        "masked",
    )
    assert report.pairs == [
        {"pool_id": "c1", "benchmark": "math500", "benchmark_id": "m1", "coverage": 0.615,
         "shared": ["the quick brown fox jumps over the lazy"]},
        # c3's first words cover "number of ways to tile a 0 by 0 board" of a1 (10 of 16 words): 0.625
        {"pool_id": "c3", "benchmark": "aime24", "benchmark_id": "a1", "coverage": 0.625,
         "shared": ["number of ways to tile a 0 by 0 board"]},
        {"pool_id": "c3", "benchmark": "math500", "benchmark_id": "m1", "coverage": 0.692,
         "shared": ["the quick brown fox jumps over the lazy dog"]},
        {"pool_id": "c4", "benchmark": "math500", "benchmark_id": "m2", "coverage": 1.0, "shared": ["simplify sqrt0"]},
    ]  # fmt: skip


def test_changed_numbers_are_caught_by_coverage_and_missed_by_any_ngram():
    benchmarks = {"math500": Dataset.from_dict({"id": ["n1", "n2"], "problem": [
        "Simplify $\\sqrt{242}$.",
        "A train leaves at 3 pm at 60 miles per hour; a car leaves at 4 pm at 80 miles per hour. When do they meet?",
    ]})}  # fmt: skip
    pool = Dataset.from_dict({ID: ["q1", "q2"], "question": [
        "Simplify $\\sqrt{ 98 }$.",
        "A train leaves at 5 pm at 45 miles per hour; a car leaves at 7 pm at 95.5 miles per hour. When do they meet?",
    ]})  # fmt: skip
    _, coverage = decontaminate(pool, benchmarks, question_column="question")
    assert [(pair["pool_id"], pair["benchmark_id"], pair["coverage"]) for pair in coverage.pairs] == [
        ("q1", "n1", 1.0),
        ("q2", "n2", 1.0),
    ]
    assert coverage.pairs[1]["shared"] == [
        "a train leaves at 0 pm at 0 miles per hour a car leaves at 0 pm at 0 miles per hour when do they meet"
    ]
    _, any_ngram = decontaminate(pool, benchmarks, rule="any-ngram", question_column="question")
    assert any_ngram.pairs == []  # no 8 words in a row survive the changed numbers


def test_a_question_cut_inside_a_formula_continues_the_problems_formula():
    formula = "$\\frac{(x + 5)(x + 2)(x - 7)(x + 11)(x - 13)(x + 17)}{x + 1}$"  # the word fracx0x0x0x0x0x0x0
    benchmarks = {"math500": Dataset.from_dict({"id": ["f1", "f2"], "problem": [
        f"Compute {formula}.",  # 2 words: the formula is most of the problem
        f"Find the minimum value of {formula} for all real numbers $x > 0$.",  # 11 words
    ]})}  # fmt: skip
    assert question_words_cut("Find the value of $\\frac{(x + 5)(x") == (
        ["find", "the", "value", "of", "frac", "x", "5", "x"],
        (4, "fracx5x"),
    )
    assert question_words_cut(f"Compute {formula}.")[1] is None
    pool = Dataset.from_dict({ID: ["k1", "k2", "k3", "k4", "k5"], "question": [
        "Compute $\\frac{(x + 5)(x + 2)(x -",  # a quarter of f1's formula word or more: a cut copy
        "Find the minimum value of\n\\[\\frac{(x+5)(x+2)(x - 7)",  # f2's words 0-5 of 11 (0.545): kept
        "Compute $\\frac",  # less than a quarter of the formula's word: its start, not evidence
        "Compute $\\frac{(y + 5)(x + 2)(x -",  # another formula
        "Evaluate $\\frac{(x + 5)(x + 2)(x -",  # another word before it
    ]})  # fmt: skip
    _, report = decontaminate(pool, benchmarks, question_column="question")
    assert [(pair["pool_id"], pair["benchmark_id"], pair["coverage"], pair["shared"]) for pair in report.pairs] == [
        ("k1", "f1", 1.0, ["compute fracx0x0x0x0x0x0x0"]),
    ]


def test_template_phrases_shared_by_many_problems_are_boilerplate():
    things = ("chance that a fair die shows six", "ratio of red to blue marbles", "area of the small square",
              "share of students who walk", "slope of the line")  # fmt: skip
    template = "is $\\frac{m}{n}$, where $m$ and $n$ are relatively prime positive integers. Find $m+n$."
    problems = [f"The {thing} {template}" for thing in things]
    benchmarks = {"aime24": Dataset.from_dict({"id": [str(i) for i in range(5)], "problem": problems})}
    # 13 template words of each problem's 18 to 20: 0.65 or more of every problem, by template alone
    pool = Dataset.from_dict({ID: ["t1"], "question": [f"The length of the longest chord {template}"]})
    clean, report = decontaminate(pool, benchmarks, question_column="question")
    assert clean[ID] == ["t1"] and report.pairs == []  # the template's 5-grams are in all 5 problems: not counted
    clean, report = decontaminate(pool, benchmarks, boilerplate=6, question_column="question")
    assert len(clean) == 0 and len(report.pairs) == 5  # in fewer problems than 6: counted, and they cover >= 0.6
    # A pool question that is one of those problems (its own words beside the template) is still caught.
    clean, report = decontaminate(
        Dataset.from_dict({ID: ["t2"], "question": [f"The slope of the line {template}"]}), benchmarks,
        question_column="question",
    )  # fmt: skip
    assert [(pair["benchmark_id"], pair["coverage"]) for pair in report.pairs] == [("4", 1.0)]


def test_a_long_context_shared_by_several_problems_is_content_not_a_template():
    from s2r_hf.hygiene.decontaminate import TEMPLATE_WORDS, _template_free

    # With n = 5, a run of 36 frequent 5-grams spans 40 words: a template; 37 span 41: a shared context, counted.
    assert TEMPLATE_WORDS == 40
    assert _template_free([True, *[False] * 36, True], 5) == [True, *[False] * 36, True]
    assert _template_free([True, *[False] * 37, True], 5) == [True] * 39
    context = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(60))  # 60 distinct words
    parts = ("What is the first answer?", "What is the second answer?", "What is the third?", "And the fourth?")
    benchmarks = {"olympiadbench": Dataset.from_dict({"id": ["1", "2", "3", "4"],
                                                      "problem": [f"{context} {part}" for part in parts]})}  # fmt: skip
    pool = Dataset.from_dict({ID: ["ctx"], "question": [context]})  # the context alone: 60 of each problem's ~65 words
    _, report = decontaminate(pool, benchmarks, question_column="question")
    assert [pair["benchmark_id"] for pair in report.pairs] == ["1", "2", "3", "4"]


@pytest.fixture(scope="module")
def benchmarks(benchmark_paths):
    return {name: load_benchmark(name, path) for name, path in benchmark_paths.items()}


def respace(text: str) -> str:
    """The same problem typed differently: other whitespace, spaces and LaTeX spacing inside formulas, \\dfrac."""
    text = re.sub(r"\s+", lambda _: "  \n\t ", text)
    return text.replace("=", " = \\, ").replace("+", "~+\\;").replace("\\frac", "\\dfrac")


def test_real_pool_with_injected_benchmark_problems_loses_exactly_those(real_pool_rows, benchmarks):
    rows = [{ID: str(row["id"]), "question": row["question"]} for row in real_pool_rows]
    # open-r1's rule drops 89 of LIMO's 291 questions for template phrases: pool question 3 ends "is $\tfrac{m}{n}$,
    # where $m$ and $n$ are relatively prime positive integers", as AIME 2024 problem 62 does.
    _, report = decontaminate(Dataset.from_list(rows), benchmarks, rule="any-ngram", question_column="question")
    assert report.rows_dropped == len({pair["pool_id"] for pair in report.pairs}) == 89
    assert any(
        pair["pool_id"] == "3" and pair["benchmark_id"] == "62" and "is fracmn where m and n are relatively" in run
        for pair in report.pairs
        for run in pair["shared"]
    )
    # The default keeps all but 3 (each a short problem whose own words are mostly a formula, its phrase shared:
    # "Find the number of ordered pairs $(a,b)$ of integers such that $|a + bi| \le 5.$").
    natural, report = decontaminate(Dataset.from_list(rows), benchmarks, question_column="question")
    natural_ids = {pair["pool_id"] for pair in report.pairs}
    assert [(pair["pool_id"], pair["benchmark"], pair["coverage"]) for pair in report.pairs] == [
        ("32", "math500", 0.75),
        ("95", "aime25", 0.642),
        ("221", "olympiadbench", 0.6),
    ]

    def problem(name, index):
        return benchmarks[name]["problem"][index], benchmarks[name]["id"][index]

    def renumber(text):
        return re.sub(r"\d+", lambda match: str(int(match.group()) + 7), text)

    injected = {  # pool id -> (question, benchmark id, benchmark)
        "inj-verbatim": (*problem("math500", 3), "math500"),
        "inj-respaced": (respace(problem("aime24", 0)[0]), problem("aime24", 0)[1], "aime24"),
        "inj-recased": (problem("olympiadbench", 5)[0].upper(), problem("olympiadbench", 5)[1], "olympiadbench"),
        "inj-short": ("SIMPLIFY  $\\sqrt{ 242 }$.", None, "math500"),
        "inj-minerva": ("Solve this: " + respace(problem("minerva", 7)[0]), problem("minerva", 7)[1], "minerva"),
        "inj-numbers": (renumber(problem("aime25", 4)[0]), problem("aime25", 4)[1], "aime25"),
        "inj-cut": (problem("amc23", 9)[0][: int(0.8 * len(problem("amc23", 9)[0]))], problem("amc23", 9)[1], "amc23"),
    }
    short_id = benchmarks["math500"]["id"][benchmarks["math500"]["problem"].index("Simplify $\\sqrt{242}$.")]
    injected["inj-short"] = (injected["inj-short"][0], short_id, "math500")
    polluted = list(rows)
    for offset, (pool_id, (question, _, _)) in enumerate(injected.items()):
        polluted.insert(40 * offset + 7, {ID: pool_id, "question": question})
    clean, report = decontaminate(Dataset.from_list(polluted), benchmarks, question_column="question")

    assert {pair["pool_id"] for pair in report.pairs} == natural_ids | set(injected)
    assert clean[ID] == natural[ID]  # the rest is untouched, in its order
    for pool_id, (_, benchmark_id, name) in injected.items():
        matched = {(pair["benchmark"], pair["benchmark_id"]) for pair in report.pairs if pair["pool_id"] == pool_id}
        assert (name, benchmark_id) in matched, pool_id


def test_num_proc_gives_the_same_rows(real_pool_rows, benchmarks):
    rows = Dataset.from_list([{ID: str(row["id"]), "question": row["question"]} for row in real_pool_rows[:120]])
    one, one_report = decontaminate(rows, benchmarks, question_column="question")
    two, two_report = decontaminate(rows, benchmarks, question_column="question", num_proc=2)
    assert one[ID] == two[ID] and one_report.pairs == two_report.pairs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"benchmarks": "math500,gsm9k"}, "unknown benchmark 'gsm9k' in --decontaminate; known: math500, aime24"),
        ({"benchmarks": "math500", "ngram": 2}, "ngram must be at least 3 words, got 2"),
        ({"benchmarks": "math500", "rule": "exact"}, "rule must be one of coverage, any-ngram, got 'exact'"),
        ({"benchmarks": "math500", "threshold": 0}, "threshold must be a share of a benchmark problem's words in"),
        ({"benchmarks": "math500", "threshold": 1.01}, "in (0, 1], got 1.01"),
        ({"benchmarks": "math500", "boilerplate": 1}, "boilerplate must be 0 (off) or at least 2 benchmark problems"),
        (
            {"benchmarks": "math500", "rule": "any-ngram", "threshold": 0.9},
            "threshold set the coverage rule, but the rule is 'any-ngram'",
        ),
        ({"benchmarks": "math500", "data": ["aime24=/nonexistent"]}, "'/nonexistent' does not exist"),
    ],
)
def test_bad_arguments(kwargs, message):
    pool = Dataset.from_dict({"question": ["q"]})
    with pytest.raises(InputError, match=re.escape(message)):
        decontaminate(pool, question_column="question", **kwargs)


def test_loaded_benchmarks_need_id_and_problem_columns():
    pool = Dataset.from_dict({"question": ["q"]})
    with pytest.raises(ColumnError, match=r"benchmark 'math500' has no column\(s\) \['id'\]"):
        decontaminate(pool, {"math500": Dataset.from_dict({"problem": ["p"]})}, question_column="question")
