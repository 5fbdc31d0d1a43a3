"""The benchmark registry and loader shared by evaluation and decontamination."""

import json

import pytest

from s2r_hf.core.errors import InputError
from s2r_hf.pool.benchmarks import (
    BENCHMARKS,
    answer_text,
    check_benchmark,
    last_boxed,
    load_benchmark,
    parse_data_overrides,
    require_benchmark_names,
)

# (rows, first answer, last answer) of each real file, read by hand from ../shared/data/benchmarks
EXPECTED = {
    "math500": (500, "\\left( 3, \\frac{\\pi}{2} \\right)", "106^\\circ"),
    "aime24": (30, "204", "902"),  # stored zero-padded ("025") in other rows: kept as written
    "aime25": (30, "70", "240"),  # stored as int
    "amc23": (40, "27", "8"),  # stored as float 27.0
    "minerva": (272, "1.6", "10.1"),  # no answer field: the last \boxed{} of the solution
    "olympiadbench": (675, "2", "11"),  # a list written as a string: "['2']"
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_real_benchmark_file_loads_with_its_answers(benchmark_paths, name):
    for path in (benchmark_paths[name], benchmark_paths[name].parent):  # the file, and the folder holding it
        dataset = load_benchmark(name, path)
        rows, first, last = EXPECTED[name]
        assert dataset.column_names == ["id", "problem", "answer"]
        assert len(dataset) == rows
        assert (dataset[0]["answer"], dataset[-1]["answer"]) == (first, last)
        assert all(problem.strip() for problem in dataset["problem"])


def test_answer_forms_are_normalised():
    assert answer_text(27.0) == "27"
    assert answer_text(0.5) == "0.5"
    assert answer_text(70) == "70"
    assert answer_text("['2', '3']") == "2, 3"
    assert answer_text(" 025 ") == "025"
    assert answer_text(None) is None and answer_text(float("nan")) is None
    assert last_boxed("so \\boxed{1} then \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert last_boxed("\\boxed{a{b}c} and \\boxed{unclosed") == "a{b}c"
    assert last_boxed("no box") is None


def test_numeric_golds_are_written_out_so_equal_numbers_compare_equal():
    """1e-07 was the gold of 0.0000001: scientific notation, which the grader's LaTeX parser does not read as that
    number. Numbers are written out positionally with their shortest digits; integers stay integers."""
    import numpy as np

    assert answer_text(1e-7) == "0.0000001"
    assert answer_text(-1.5e-10) == "-0.00000000015"
    assert answer_text(np.float32(1e-7)) == "0.0000001"  # numpy's float32, by its own shortest digits
    assert answer_text(2.5e16) == "25000000000000000" and answer_text(1e20) == "100000000000000000000"
    assert answer_text(1 / 3) == "0.3333333333333333" and answer_text(0.1) == "0.1"
    assert answer_text(np.int64(7)) == "7" and answer_text(np.float64(27.0)) == "27"
    assert answer_text(float("inf")) is None


def test_a_file_without_an_answer_field_is_refused_naming_its_fields(tmp_path):
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"problem": "1+1?", "result": "2"}) + "\n")
    with pytest.raises(InputError, match=r"no recognisable answer field.*its fields: problem, result"):
        load_benchmark("math500", path)


def test_check_benchmark_reads_a_local_file_so_a_missing_problem_field_fails_before_any_pool(tmp_path):
    # `s2r experiment` checks every input first (s2r_hf.experiment.preflight): a local benchmark file is read there.
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"statement": "1+1?", "answer": "2"}) + "\n")
    with pytest.raises(InputError, match=r"has no problem field \(one of problem, question, input\); its fields: "):
        check_benchmark("math500", path)


def test_a_row_without_an_answer_is_refused_not_dropped(tmp_path):
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"problem": "a", "answer": "1"}) + "\n" + json.dumps({"problem": "b", "answer": None}))
    with pytest.raises(InputError, match="row 1 has no answer"):
        load_benchmark("aime24", path)


def test_names_and_overrides_are_checked(tmp_path):
    assert require_benchmark_names("math500, aime24") == ["math500", "aime24"]
    with pytest.raises(InputError, match="unknown benchmark 'math_500'.*known: " + ", ".join(BENCHMARKS)):
        require_benchmark_names("math_500")
    with pytest.raises(InputError, match="named twice"):
        require_benchmark_names(["aime24", "aime24"])
    with pytest.raises(InputError, match="NAME=PATH"):
        parse_data_overrides(["math500"])
    with pytest.raises(InputError, match="does not exist"):
        parse_data_overrides(["math500=/nope/x.jsonl"])
    path = tmp_path / "m.jsonl"
    path.write_text("{}")
    assert parse_data_overrides([f"math500={path}"]) == {"math500": str(path)}
    with pytest.raises(InputError, match="twice"):
        parse_data_overrides([f"math500={path}", f"math500={path}"])
