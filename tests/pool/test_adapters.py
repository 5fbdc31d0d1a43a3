"""Pool adapters on OpenR1-shaped rows built here, and on generic datasets."""

import hashlib
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Dataset, DatasetDict

from s2r_hf.core.columns import ANSWER, GENERATION_INDEX, ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.pool.adapter_base import DUPLICATE, INCOMPLETE, NO_ANSWER, NOT_VERIFIED, TRUNCATED, UNANSWERED
from s2r_hf.pool.adapters import load_pool

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


def test_generic_messages_ending_with_an_unanswered_user_turn_are_dropped_and_counted():
    data = Dataset.from_dict(
        {
            MESSAGES: [
                [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "t"},
                    {"role": "user", "content": "?"},
                ],
                [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "t2"}],
            ],
        }
    )
    pool, report = load_pool(data)
    assert pool[MESSAGES] == [data[MESSAGES][1]] and report.dropped == {UNANSWERED: 1}


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


# ---------------------------------------------------------------------------------------------------------------------
# OpenR1-Math-220k as its card declares it: a parquet file written with the card's Arrow schema, read from disk.

CARD_SCHEMA = pa.schema(
    [
        ("problem", pa.string()),
        ("solution", pa.string()),
        ("answer", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("source", pa.string()),
        ("uuid", pa.string()),
        ("is_reasoning_complete", pa.list_(pa.bool_())),
        ("generations", pa.list_(pa.string())),
        ("correctness_math_verify", pa.list_(pa.bool_())),
        ("correctness_llama", pa.list_(pa.bool_())),
        ("finish_reasons", pa.list_(pa.string())),
        ("correctness_count", pa.int64()),
        ("messages", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
    ]
)
UUID_A = "0b9f6a3e-5a5e-5d64-9f0e-3c1c3a8d2b71"
UUID_F = "7d2c1e8a-9b4f-5a3d-8e6c-1f0a2b3c4d5e"


def trace(name):
    return f"<think>\nsteps of {name}\n</think>\nSo $\\boxed{{{name}}}$."


def card_row(uid, problem, generations, complete, verified, verified_trace, finish=None, llama=None):
    """A row as the card declares it; the flag lists are given as they are, of any length, or None."""
    return {
        "problem": problem,
        "solution": "reference solution",
        "answer": "7",
        "problem_type": "Algebra",
        "question_type": "math-word-problem",
        "source": "olympiads",
        "uuid": uid,
        "is_reasoning_complete": complete,
        "generations": generations,
        "correctness_math_verify": verified,
        "correctness_llama": llama,
        "finish_reasons": finish,
        "correctness_count": sum(bool(v) for v in verified or []),
        "messages": [{"content": problem, "role": "user"}, {"content": verified_trace, "role": "assistant"}],
    }


def content_id(question, text):
    """The documented content id, computed here independently: sha1 of question NUL trace, 20 hex digits."""
    return hashlib.sha1(f"{question}\0{text}".encode(), usedforsecurity=False).hexdigest()[:20]


B = [trace(f"b{i}") for i in range(6)]
B[4] = B[0]  # an exact repeat within the row
C = [trace("c0"), trace("c1")]
CARD_ROWS = [
    # one generation, a real uuid, whole-row nulls for finish_reasons and correctness_llama
    card_row(UUID_A, "problem a", [trace("a")], [True], [True], trace("a")),
    # six generations, no uuid, correctness_llama with 2 entries only
    card_row(
        None,
        "problem b",
        B,
        [True, True, False, True, True, True],
        [True, False, True, True, True, True],
        B[0],
        finish=["stop", "stop", "stop", "length", "stop", "stop"],
        llama=[True, False],
    ),
    # no uuid; flag lists shorter than generations; the verified trace is generation 1, past the flags
    card_row(None, "problem c", C, [True], [True], C[1]),
    # no uuid; the verified trace in messages is not among the generations
    card_row(None, "problem d", [trace("d0")], [False], [False], trace("d-verified")),
    # no uuid, the same content as row 2: the same example twice
    card_row(None, "problem c", C, [True], [True], C[1]),
    # a real uuid whose verified trace is flagged incomplete
    card_row(UUID_F, "problem f", [trace("f")], [False], [True], trace("f"), finish=["stop"]),
]


@pytest.fixture
def card_parquet(tmp_path):
    path = tmp_path / "openr1-card-schema.parquet"
    pq.write_table(pa.Table.from_pylist(CARD_ROWS, schema=CARD_SCHEMA), path)
    return path


def test_openr1_card_schema_problem_mode(card_parquet):
    pool, report = load_pool(card_parquet)
    assert report.adapter == "openr1" and report.mode == "problem"
    assert pool[ID] == [
        UUID_A,
        content_id("problem b", B[0]),
        content_id("problem c", C[1]),  # flags stop at generation 0: no evidence against generation 1
        content_id("problem d", trace("d-verified")),  # not among the generations: the card's verified trace
    ]
    assert report.rows_in == 6 and report.rows == 4
    assert report.dropped == {DUPLICATE: 1, INCOMPLETE: 1}  # row 4 repeats row 2; row 5 is incomplete
    assert [m[1]["content"] for m in pool[MESSAGES]] == [trace("a"), B[0], C[1], trace("d-verified")]
    assert [m[0] for m in pool[MESSAGES]] == [{"content": f"problem {x}", "role": "user"} for x in "abcd"]
    assert pool["uuid"] == [UUID_A, None, None, None]  # the original column is kept as it was
    assert pool["correctness_llama"] == [None, [True, False], None, None]


def test_openr1_card_schema_generations_mode(card_parquet):
    pool, report = load_pool(card_parquet, mode="generations")
    assert pool[ID] == [
        f"{UUID_A}#0",
        content_id("problem b", B[0]),
        content_id("problem b", B[5]),
        content_id("problem c", C[0]),
    ]
    assert pool[GENERATION_INDEX] == [0, 0, 5, 0]
    assert [m[1]["content"] for m in pool[MESSAGES]] == [trace("a"), B[0], B[5], C[0]]
    assert [m[0]["content"] for m in pool[MESSAGES]] == ["problem a", "problem b", "problem b", "problem c"]
    # b1 unverified, c1 and its copy past the verification flags; b2, d0, f0 incomplete; b3 cut by length;
    # b4 repeats b0 in its row, the copy of c0 repeats it across rows
    assert report.dropped == {DUPLICATE: 2, INCOMPLETE: 3, NOT_VERIFIED: 3, TRUNCATED: 1}
    assert report.rows_in == 6 and report.rows == 4


@pytest.mark.parametrize("mode", ["problem", "generations"])
def test_openr1_content_ids_do_not_depend_on_row_order(card_parquet, mode):
    pool, _ = load_pool(card_parquet, mode=mode)
    shuffled = Dataset.from_parquet(str(card_parquet)).select([4, 3, 5, 1, 0, 2])
    shuffled_pool, _ = load_pool(shuffled, mode=mode)
    assert sorted(shuffled_pool[ID]) == sorted(pool[ID])
    assert all("None" not in i for i in pool[ID])


def test_openr1_problem_mode_refuses_broken_messages():
    rows = [openr1_row(f"u{i}", [(GOOD, True, "stop", True)], 0) for i in range(3)]
    rows[1]["messages"] = [{"role": "user", "content": "problem u1"}]
    rows[2]["messages"][1]["content"] = None
    with pytest.raises(
        InputError,
        match=re.escape(
            "column 'messages' has 2 unusable rows of 3 (rows [1]: no assistant turn; "
            "rows [2]: a null assistant content (the trace))"
        ),
    ):
        load_pool(Dataset.from_list(rows))
    # generations mode builds its conversations from `problem`, which must then be there
    rows = [openr1_row(f"u{i}", [(GOOD, True, "stop", True)], 0) for i in range(2)]
    rows[0]["problem"] = None
    with pytest.raises(InputError, match=r"1 rows have a null or empty problem in column 'problem' \(rows \[0\]\)"):
        load_pool(Dataset.from_list(rows), mode="generations")


def test_openr1_with_nothing_usable_is_an_error():
    row = openr1_row("u1", [(GOOD, False, "stop", True)], 0)
    with pytest.raises(
        InputError, match=r"no usable rows are left out of 1 \(dropped: \{'incomplete reasoning': 1\}\)"
    ):
        load_pool(Dataset.from_list([row]))


def test_generic_messages_without_a_turn_or_with_nulls_are_named_by_row():
    user, assistant = {"role": "user", "content": "q"}, {"role": "assistant", "content": "t"}
    conversations = [
        [user, assistant],
        [user],  # no assistant turn
        [assistant],  # no user turn
        [{"role": "user", "content": None}, assistant],
        [user, {"role": "assistant", "content": None}],
        None,  # a null list
        [{"role": None, "content": "system text"}, user, assistant],
        [],
        [user, {"role": "assistant", "content": None}, {"role": "assistant", "content": "t2"}],  # last turn counts
    ]
    data = Dataset.from_dict({MESSAGES: conversations})
    expected = (
        "column 'messages' has 7 unusable rows of 9 (rows [5, 7]: no messages; rows [6]: a message with a null "
        "role; rows [2]: no user turn; rows [3]: a null user content (the question); rows [1]: no assistant turn; "
        "rows [4]: a null assistant content (the trace)). Every conversation needs a user question and an "
        "assistant trace: fix or remove those rows first, e.g. with Dataset.filter"
    )
    with pytest.raises(InputError) as caught:
        load_pool(data)
    assert str(caught.value) == expected
    pool, _ = load_pool(data.select([0, 8]))
    assert [m[-1]["content"] for m in pool[MESSAGES]] == ["t", "t2"]


def test_openr1_from_jsonl_with_columns_null_in_every_row(tmp_path):
    """From jsonl, a column that is null in every row is Arrow's null type, not a list: no finish reason anywhere."""
    rows = [dict(row, finish_reasons=None, correctness_llama=None) for row in CARD_ROWS]
    path = tmp_path / "openr1.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    pool, report = load_pool(path, mode="generations")
    assert pool[ID] == [
        f"{UUID_A}#0",
        content_id("problem b", B[0]),
        content_id("problem b", B[3]),  # no finish reason now: nothing says it was cut
        content_id("problem b", B[5]),
        content_id("problem c", C[0]),
    ]
    assert report.dropped == {DUPLICATE: 2, INCOMPLETE: 3, NOT_VERIFIED: 3}


def test_openr1_columns_of_the_wrong_type_and_sources_that_are_not_one_split():
    row = openr1_row("u1", [(GOOD, True, "stop", True)], 0)
    with pytest.raises(ColumnTypeError, match=r"column 'generations' must hold lists of string .* got string"):
        load_pool(Dataset.from_list([dict(row, generations=GOOD)]), adapter="openr1")
    with pytest.raises(ColumnTypeError, match=r"column 'is_reasoning_complete' must hold lists of bool .* got int64"):
        load_pool(Dataset.from_list([dict(row, is_reasoning_complete=1)]), adapter="openr1")
    whole = DatasetDict(train=Dataset.from_list([row]))
    with pytest.raises(InputError, match=r"got DatasetDict \(pick one split, e.g. dataset\['train'\]\)"):
        load_pool(whole)


def test_openr1_repeated_uuids_are_refused_with_advice_that_fits_the_adapter():
    rows = [openr1_row("u1", [(GOOD, True, "stop", True)], 0), openr1_row("u1", [(GOOD_2, True, "stop", True)], 0)]
    with pytest.raises(InputError, match=r"some repeat \(e.g. \['u1'\]\); some rows share a uuid: keep one of each"):
        load_pool(Dataset.from_list(rows))


def test_an_id_column_with_nulls_or_lists_is_refused_not_turned_into_text():
    rows = {"q": ["a", "b", "c"], "t": ["x", "y", "z"]}
    with pytest.raises(InputError, match=r"the id column 'uid' has 2 null ids \(rows \[0, 2\]\)"):
        load_pool(Dataset.from_dict({**rows, "uid": [None, "k", None]}), question_column="q", trace_column="t",
                  id_column="uid")  # fmt: skip
    with pytest.raises(ColumnTypeError, match="the id column 'uid' must hold one string or number per row; got list"):
        load_pool(Dataset.from_dict({**rows, "uid": [[1], [2], [3]]}), question_column="q", trace_column="t",
                  id_column="uid")  # fmt: skip


def test_messages_whose_content_or_role_is_not_text_are_refused():
    turns = [{"role": "user", "content": ["q"]}, {"role": "assistant", "content": ["t"]}]
    with pytest.raises(ColumnTypeError, match=r"the content of each message must be a string; .* list<item: string>"):
        load_pool(Dataset.from_dict({MESSAGES: [turns]}))
    turns = [{"role": 1, "content": "q"}, {"role": 2, "content": "t"}]
    with pytest.raises(ColumnTypeError, match=r"the role of each message must be a string; .* type int64"):
        load_pool(Dataset.from_dict({MESSAGES: [turns]}))
