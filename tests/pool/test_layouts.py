"""The adapters of s2r_hf.pool.layouts on rows written in each source's real column layout, good rows and bad."""

import hashlib

import pytest
from datasets import Dataset

from s2r_hf.core.columns import ANSWER, ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.pool.adapter_base import DUPLICATE, UNANSWERED
from s2r_hf.pool.adapters import detect_adapter, load_pool
from s2r_hf.pool.layouts import EMPTY_REASONING, EMPTY_TRACE, NO_ANSWER_TEXT


def content_id(question: str, trace: str) -> str:
    return hashlib.sha1(question.encode() + b"\x00" + trace.encode()).hexdigest()[:20]


# ---- Congliu/Chinese-DeepSeek-R1-Distill-data-110k ------------------------------------------------------------------


def chinese_row(question, reasoning, content, **extra):
    """The dataset's columns, in its order."""
    return {
        "input": question,
        "content": content,
        "reasoning_content": reasoning,
        "repo_name": "coig/neo",
        "prompt_tokens_len": 12,
        "reasoning_content_tokens_len": 300,
        "content_tokens_len": 40,
        "score": 9,
        **extra,
    }


CHINESE = [
    chinese_row("1+1等于几？", "嗯，1+1。等等，应该是2。不对吗？检查一下：是2。", "答案是 2。"),
    chinese_row("写一首诗", "好的，写诗。也许用五言。", "春眠不觉晓。"),
    chinese_row("空推理", "   ", "答案"),
    chinese_row("没有答案", "思考了很久", None),
    chinese_row("1+1等于几？", "嗯，1+1。等等，应该是2。不对吗？检查一下：是2。", "答案是 2。"),  # exact repeat
]


def test_chinese_distill_trace_is_think_block_then_answer():
    dataset = Dataset.from_list(CHINESE)
    assert detect_adapter(dataset.column_names) == "chinese-distill"
    pool, report = load_pool(dataset)
    trace = "<think>\n嗯，1+1。等等，应该是2。不对吗？检查一下：是2。\n</think>\n\n答案是 2。"
    assert pool[MESSAGES][0] == [{"role": "user", "content": "1+1等于几？"}, {"role": "assistant", "content": trace}]
    assert pool[ID] == [
        content_id("1+1等于几？", trace),
        content_id("写一首诗", "<think>\n好的，写诗。也许用五言。\n</think>\n\n春眠不觉晓。"),
    ]
    assert pool[ANSWER] == [None, None]
    assert report.adapter == "chinese-distill" and report.rows_in == 5 and report.rows == 2
    assert report.dropped == {DUPLICATE: 1, EMPTY_REASONING: 1, NO_ANSWER_TEXT: 1}
    assert pool["score"] == [9, 9]  # the source's columns are kept


def test_chinese_distill_bad_rows_are_one_line_errors():
    with pytest.raises(InputError, match=r"1 rows have a null or empty question in column 'input' \(rows \[1\]"):
        load_pool(Dataset.from_list([CHINESE[0], chinese_row(None, "想", "答")]), adapter="chinese-distill")
    with pytest.raises(ColumnTypeError, match="'reasoning_content' must hold strings; got int64"):
        load_pool(Dataset.from_list([chinese_row("问", 3, "答")]), adapter="chinese-distill")
    with pytest.raises(ColumnError, match=r"\['reasoning_content'\] not in the pool"):
        load_pool(Dataset.from_dict({"input": ["q"], "content": ["a"]}), adapter="chinese-distill")
    with pytest.raises(InputError, match=r"no usable rows are left out of 2 \(dropped: \{'empty reasoning': 2\}\)"):
        load_pool(Dataset.from_list([chinese_row("问", None, "答"), chinese_row("问二", "", "答")]))


# ---- ShareGPT: open-thoughts/OpenThoughts-114k --------------------------------------------------------------------

SYSTEM = "Your role as an assistant involves thoroughly exploring questions through a systematic long thinking process"
THOUGHT = (
    "<|begin_of_thought|>\n\nOkay, 2+2. Wait, is it 4? Yes.\n\n<|end_of_thought|>\n\n"
    "<|begin_of_solution|>\n\n\\boxed{4}\n\n<|end_of_solution|>"
)


def sharegpt_row(turns, system=SYSTEM):
    return {"system": system, "conversations": [{"from": role, "value": text} for role, text in turns]}


def test_sharegpt_keeps_turns_and_text_as_they_are():
    rows = [
        sharegpt_row([("user", "What is 2+2?"), ("assistant", THOUGHT)]),
        sharegpt_row([("system", "be brief"), ("human", "Hi"), ("gpt", "Hello"), ("human", "2+3?"), ("gpt", "5")]),
        sharegpt_row([("user", "blank"), ("assistant", "  ")]),
    ]
    dataset = Dataset.from_list(rows)
    assert detect_adapter(dataset.column_names) == "sharegpt"
    pool, report = load_pool(dataset)
    assert pool[MESSAGES][0] == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": THOUGHT},
    ]
    assert [m["role"] for m in pool[MESSAGES][1]] == ["system", "user", "assistant", "user", "assistant"]
    # the question is the first user turn, the trace the last assistant turn
    assert pool[ID] == [content_id("What is 2+2?", THOUGHT), content_id("Hi", "5")]
    assert report.dropped == {EMPTY_TRACE: 1} and report.rows == 2
    assert pool["system"] == [SYSTEM, SYSTEM]


def test_sharegpt_bad_rows_are_one_line_errors():
    with pytest.raises(InputError, match=r"unknown roles \['bot'\] \(rows \[1\]\); known roles"):
        load_pool(
            Dataset.from_list(
                [sharegpt_row([("user", "q"), ("gpt", "a")]), sharegpt_row([("user", "q"), ("bot", "a")])]
            )
        )
    with pytest.raises(InputError, match=r"rows \[0\]: no assistant turn"):
        load_pool(Dataset.from_list([sharegpt_row([("user", "q")]), sharegpt_row([("user", "q2"), ("gpt", "a")])]))
    with pytest.raises(InputError, match=r"rows \[0\]: a null user content \(the question\)"):
        load_pool(Dataset.from_list([sharegpt_row([("user", None), ("gpt", "a")])]))
    with pytest.raises(ColumnTypeError, match="must have string fields 'from' and 'value'"):
        load_pool(Dataset.from_dict({"conversations": [[{"role": "user", "content": "q"}]]}), adapter="sharegpt")
    with pytest.raises(ColumnTypeError, match=r"'conversations' must hold lists of \{from, value\} turns"):
        load_pool(Dataset.from_dict({"conversations": ["user: hi"]}), adapter="sharegpt")


def test_sharegpt_conversation_ending_with_an_unanswered_user_turn_is_dropped_and_counted():
    rows = [
        sharegpt_row([("human", "2+2?"), ("gpt", THOUGHT), ("human", "and 3+3?")]),  # the last question unanswered
        sharegpt_row([("human", "2+2?"), ("gpt", THOUGHT), ("human", "and 3+3?"), ("gpt", "6")]),
        sharegpt_row([("human", "1+1?"), ("gpt", "2"), ("system", "now stop")]),  # a trailing system turn too
    ]
    pool, report = load_pool(Dataset.from_list(rows))
    assert [m[-1]["role"] for m in pool[MESSAGES]] == ["assistant"]
    assert pool[ID] == [content_id("2+2?", "6")]
    assert report.dropped == {UNANSWERED: 2} and (report.rows_in, report.rows) == (3, 1)


# ---- simplescaling/s1K --------------------------------------------------------------------------------------------


def s1k_row(question, trajectories, attempt, solution="So the answer is $\\boxed{12}$."):
    return {
        "solution": solution,
        "question": question,
        "cot_type": "math",
        "source_type": "AI-MO/NuminaMath-CoT/aops_forum",
        "metadata": "{'source': 'aops_forum'}",
        "cot": None,
        "thinking_trajectories": trajectories,
        "attempt": attempt,
    }


def test_s1k_joins_trajectories_and_reads_the_boxed_answer():
    rows = [
        s1k_row("Find x.", ["First step.", "Second step."], "x = 12"),
        s1k_row("No reasoning.", [], "x = 1"),
        s1k_row("Null reasoning.", None, "x = 1"),
        s1k_row("No attempt.", ["thinking"], " "),
        s1k_row("Plain solution.", ["t"], "a", solution="Twelve."),
    ]
    dataset = Dataset.from_list(rows)
    assert detect_adapter(dataset.column_names) == "s1k"
    pool, report = load_pool(dataset)
    trace = "<think>\nFirst step.\nSecond step.\n</think>\n\nx = 12"
    assert pool[MESSAGES][0][1]["content"] == trace
    assert pool[ID][0] == content_id("Find x.", trace)
    assert pool[ANSWER] == ["12", None]
    assert report.dropped == {EMPTY_REASONING: 2, NO_ANSWER_TEXT: 1}


def test_s1k_bad_columns_are_one_line_errors():
    with pytest.raises(ColumnTypeError, match="'thinking_trajectories' must hold lists of string"):
        load_pool(Dataset.from_list([{**s1k_row("q", ["t"], "a"), "thinking_trajectories": "t"}]), adapter="s1k")
    with pytest.raises(InputError, match="null or empty question"):
        load_pool(Dataset.from_list([s1k_row("q", ["t"], "a"), s1k_row(None, ["t"], "a")]), adapter="s1k")
    with pytest.raises(InputError, match="already has a 'messages' column"):
        load_pool(Dataset.from_list([{**s1k_row("q", ["t"], "a"), "messages": [{"role": "user", "content": "q"}]}]))


def test_detection_and_explicit_names():
    assert detect_adapter(["conversations", "messages"]) == "generic"  # messages are used as they are
    assert detect_adapter(["question", "answer"]) == "generic"
    with pytest.raises(InputError, match=r"unknown adapter 'sharegpt2'; known: \['chinese-distill', 'generic'"):
        load_pool(Dataset.from_list(CHINESE), adapter="sharegpt2")
