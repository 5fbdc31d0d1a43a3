"""Decontamination: a question sharing a word n-gram with a benchmark problem is dropped, whatever its spacing."""

import re

import pytest
from datasets import Dataset

from s2r_hf import decontaminate
from s2r_hf.core.columns import ID
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.hygiene.text import question_words
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


def test_hand_made_pool_exact_pairs_and_counts():
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
    clean, report = decontaminate(pool, tiny_benchmarks(), question_column="question")
    assert clean[ID] == ["p2", "p4", "p6"]
    assert report.rows_in == 6 and report.rows_dropped == 3 and report.ngram == 8
    assert report.benchmarks == {
        "math500": {"problems": 2, "rows_dropped": 3},
        "aime24": {"problems": 1, "rows_dropped": 1},
    }
    fox = "the quick brown fox jumps over the lazy"
    assert report.pairs == [
        {"pool_id": "p1", "benchmark": "math500", "benchmark_id": "m1", "ngram": fox},
        {"pool_id": "p3", "benchmark": "math500", "benchmark_id": "m2", "ngram": "simplify sqrt242"},
        {"pool_id": "p5", "benchmark": "aime24", "benchmark_id": "a1", "ngram": "number of ways to tile a 2 by"},
        {"pool_id": "p5", "benchmark": "math500", "benchmark_id": "m1", "ngram": fox},
    ]
    # With n = 3, p2 shares "the quick brown" with m1; m2 (2 words) still matches only a question that is exactly it.
    clean, report = decontaminate(pool, tiny_benchmarks(), ngram=3, question_column="question")
    assert clean[ID] == ["p4", "p6"]


@pytest.fixture(scope="module")
def benchmarks(benchmark_paths):
    return {name: load_benchmark(name, path) for name, path in benchmark_paths.items()}


def respace(text: str) -> str:
    """The same problem typed differently: other whitespace, spaces and LaTeX spacing inside formulas, \\dfrac."""
    text = re.sub(r"\s+", lambda _: "  \n\t ", text)
    return text.replace("=", " = \\, ").replace("+", "~+\\;").replace("\\frac", "\\dfrac")


def test_real_pool_with_injected_benchmark_problems_loses_exactly_those(real_pool_rows, benchmarks):
    rows = [{ID: str(row["id"]), "question": row["question"]} for row in real_pool_rows]
    natural, report = decontaminate(Dataset.from_list(rows), benchmarks, question_column="question")
    natural_ids = {pair["pool_id"] for pair in report.pairs}
    # LIMO's questions share template phrases with competition benchmarks at n = 8: pool question 3 ends
    # "is $\tfrac{m}{n}$, where $m$ and $n$ are relatively prime positive integers", as AIME 2024 problem 62 does.
    assert report.rows_dropped == len(natural_ids) == 89
    shared = "is fracmn where m and n are relatively"
    assert {"pool_id": "3", "benchmark": "aime24", "benchmark_id": "62", "ngram": shared} in report.pairs

    def problem(name, index):
        return benchmarks[name]["problem"][index], benchmarks[name]["id"][index]

    injected = {  # pool id -> (question, benchmark, benchmark id)
        "inj-verbatim": (*problem("math500", 3), "math500"),
        "inj-respaced": (respace(problem("aime24", 0)[0]), problem("aime24", 0)[1], "aime24"),
        "inj-recased": (problem("olympiadbench", 5)[0].upper(), problem("olympiadbench", 5)[1], "olympiadbench"),
        "inj-short": ("SIMPLIFY  $\\sqrt{ 242 }$.", None, "math500"),
        "inj-minerva": ("Solve this: " + respace(problem("minerva", 7)[0]), problem("minerva", 7)[1], "minerva"),
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
