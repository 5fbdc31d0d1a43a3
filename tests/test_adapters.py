"""Pool adapters on OpenR1-shaped rows built here, and on generic datasets."""

import pytest
from datasets import Dataset

from s2r_hf.adapters import DUPLICATE, INCOMPLETE, NO_ANSWER, NOT_VERIFIED, TRUNCATED, load_pool
from s2r_hf.columns import ANSWER, GENERATION_INDEX, ID, MESSAGES
from s2r_hf.errors import ColumnError, ColumnTypeError, InputError

GOOD = "<think>\nsteps\n</think>\nSo $\\boxed{4}$."
GOOD_2 = "<think>\nother steps\n</think>\nThus $\\boxed{4}$."
WRONG = "<think>\nbad\n</think>\n$\\boxed{5}$."
CUT = "<think>\nsteps that never"


def openr1_row(uid, generations, verified):
    """generations: list of (text, complete, finish_reason, correct); `verified` indexes the one in messages."""
    texts = [g[0] for g in generations]
    return {
        "problem": f"problem {uid}",
        "solution": "ref",
        "answer": "4",
        "problem_type": "Algebra",
        "question_type": "math-word-problem",
        "source": "test",
        "uuid": uid,
        "is_reasoning_complete": [g[1] for g in generations],
        "generations": texts,
        "correctness_math_verify": [g[3] for g in generations],
        "correctness_llama": [None for _ in generations],
        "finish_reasons": [g[2] for g in generations],
        "correctness_count": sum(g[3] for g in generations),
        "messages": [
            {"role": "user", "content": f"problem {uid}"},
            {"role": "assistant", "content": texts[verified]},
        ],
    }


@pytest.fixture
def openr1():
    rows = [
        openr1_row("u1", [(GOOD, True, "stop", True), (WRONG, True, "stop", False)], 0),
        openr1_row("u2", [(WRONG, True, "stop", False), (GOOD, False, "stop", True)], 1),  # verified but incomplete
        openr1_row("u3", [(GOOD, True, "stop", True), (GOOD, True, "stop", True), (CUT, False, "length", False)], 0),
        openr1_row("u4", [(GOOD_2, True, None, True), (GOOD, True, "length", True)], 0),
        openr1_row("u5", [(GOOD, True, "stop", True), (GOOD_2, True, "stop", True)], 1),
    ]
    return Dataset.from_list(rows)


def test_openr1_problem_mode_keeps_verified_complete_traces(openr1):
    pool, report = load_pool(openr1, adapter="openr1")
    assert pool[ID] == ["u1", "u3", "u4", "u5"]
    assert report.rows_in == 5 and report.rows == 4
    assert report.dropped == {INCOMPLETE: 1}
    assert pool[ANSWER] == ["4"] * 4
    assert pool[MESSAGES][3][1]["content"] == GOOD_2
    assert set(openr1.column_names) <= set(pool.column_names)  # nothing the user had is lost


def test_openr1_generations_mode_one_row_per_verified_generation(openr1):
    pool, report = load_pool(openr1, adapter="openr1", mode="generations")
    # u1#0; u2#1 incomplete; u3#0 (u3#1 duplicate, u3#2 truncated); u4#0 (None finish reason is not truncation),
    # u4#1 truncated by length; u5#0, u5#1.
    assert pool[ID] == ["u1#0", "u3#0", "u4#0", "u5#0", "u5#1"]
    assert pool[GENERATION_INDEX] == [0, 0, 0, 0, 1]
    assert report.dropped == {DUPLICATE: 1, INCOMPLETE: 2, NOT_VERIFIED: 2, TRUNCATED: 1}
    assert report.rows_in == 5 and report.rows == 5
    assert [m[1]["content"] for m in pool[MESSAGES]] == [GOOD, GOOD, GOOD_2, GOOD, GOOD_2]
    assert pool["uuid"] == ["u1", "u3", "u4", "u5", "u5"]  # original columns repeated per generation


def test_openr1_trace_without_boxed_answer_is_dropped():
    row = openr1_row("u9", [("<think>no answer</think>", True, "stop", True)], 0)
    pool, report = load_pool(Dataset.from_list([row, openr1_row("u8", [(GOOD, True, "stop", True)], 0)]))
    assert report.adapter == "openr1"  # detected from the columns
    assert report.dropped == {NO_ANSWER: 1} and pool[ID] == ["u8"]


def test_generic_question_and_trace_columns():
    data = Dataset.from_dict(
        {"instruction": ["q1", "q2", "q1"], "output": ["t1 \\boxed{1}", "t2", "t1 \\boxed{1}"], "gold": [1, 2, 1]}
    )
    pool, report = load_pool(data, question_column="instruction", trace_column="output", answer_column="gold")
    assert report.adapter == "generic"
    assert pool[MESSAGES][1] == [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "t2"}]
    assert pool[ANSWER] == ["1", "2"]
    assert report.dropped == {DUPLICATE: 1}  # identical question and trace: one content id, kept once
    assert len(set(pool[ID])) == 2 and all(len(i) == 20 for i in pool[ID])
    strict, strict_report = load_pool(
        data, question_column="instruction", trace_column="output", require_final_answer=True
    )
    assert strict_report.dropped == {DUPLICATE: 1, NO_ANSWER: 1} and len(strict) == 1


def test_generic_ids_do_not_depend_on_row_order():
    data = Dataset.from_dict({"q": ["a", "b", "c"], "t": ["x", "y", "z"]})
    pool, _ = load_pool(data, question_column="q", trace_column="t")
    reversed_pool, _ = load_pool(data.select([2, 1, 0]), question_column="q", trace_column="t")
    assert sorted(pool[ID]) == sorted(reversed_pool[ID])
    assert dict(zip(pool["q"], pool[ID])) == dict(zip(reversed_pool["q"], reversed_pool[ID]))


def test_generic_messages_column_and_id_column():
    data = Dataset.from_dict(
        {
            "key": [10, 11],
            MESSAGES: [
                [
                    {"role": "system", "content": "s"},
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "t"},
                ],
                [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "t2"}],
            ],
        }
    )
    pool, _ = load_pool(data, id_column="key")
    assert pool[ID] == ["10", "11"]


def test_real_pool_question_and_solution(real_pool_rows):
    pool, report = load_pool(
        Dataset.from_list(real_pool_rows),
        question_column="question",
        trace_column="solution",
        answer_column="gold_answer",
        id_column="id",
        require_final_answer=True,
    )
    assert report.rows_in == 291 and report.rows == 291 and report.dropped == {}
    assert pool[MESSAGES][0][0]["content"] == real_pool_rows[0]["question"]


def test_bad_generic_input_is_explained():
    data = Dataset.from_dict({"q": ["a", "b"], "t": ["x", None], "n": [1, 2]})
    with pytest.raises(ColumnError, match=r"column\(s\) \['trace'\] not in the pool; columns: \['q', 't', 'n'\]"):
        load_pool(data, question_column="q", trace_column="trace")
    with pytest.raises(InputError, match=r"1 rows have a null or empty trace in column 't' \(rows \[1\]\)"):
        load_pool(data, question_column="q", trace_column="t")
    with pytest.raises(ColumnTypeError, match="column 'n' must hold strings; got int64"):
        load_pool(data, question_column="q", trace_column="n")
    with pytest.raises(ColumnError, match="no 'messages' column and no question/trace columns were named"):
        load_pool(data)
    with pytest.raises(InputError, match="name both the question and the trace column"):
        load_pool(data, question_column="q")
    blank = Dataset.from_dict({"q": ["a", "b"], "t": ["x", "   "]})
    with pytest.raises(InputError, match=r"rows \[1\]"):
        load_pool(blank, question_column="q", trace_column="t")
    repeated = Dataset.from_dict({"q": ["a", "b"], "t": ["x", "y"], "key": [1, 1]})
    with pytest.raises(InputError, match="ids must be unique"):
        load_pool(repeated, question_column="q", trace_column="t", id_column="key")


def test_openr1_adapter_on_other_data_names_missing_columns():
    openr1_like = Dataset.from_list([openr1_row("u1", [(GOOD, True, "stop", True)], 0)])
    with pytest.raises(ColumnError, match="not in the pool"):
        load_pool(Dataset.from_dict({"q": ["a"]}), adapter="openr1")
    with pytest.raises(InputError, match=r"the openr1 adapter takes the options \['mode'\], not \['question_column'\]"):
        load_pool(openr1_like, question_column="problem")
    with pytest.raises(InputError, match="unknown OpenR1 mode 'per-row'"):
        load_pool(Dataset.from_dict({"q": ["a"]}), adapter="openr1", mode="per-row")
