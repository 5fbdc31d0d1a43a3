"""Trace length, rethink count and the model-free difficulty scorers."""

import pytest
from datasets import Dataset

from s2r_hf.core.columns import DIFFICULTY, MESSAGES, RETHINK_COUNT, TRACE_LENGTH
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, OptionTypeError
from s2r_hf.core.rows import make_messages
from s2r_hf.signals.difficulty import add_difficulty, make_difficulty_scorer
from s2r_hf.signals.length import add_trace_columns, count_rethinks, drop_repeated_steps

TRACE = "Step one.\n\nWait, step two.\n\nStep one.\n  \nStep  one.\n\nMaybe done. However Waiting is not a marker."


def pool_of(traces):
    return Dataset.from_dict({MESSAGES: [make_messages(f"q{i}", t) for i, t in enumerate(traces)]})


def test_rethink_markers_are_whole_capitalised_words():
    assert count_rethinks(TRACE) == 3  # Wait, Maybe, However; not "Waiting"
    assert count_rethinks("wait, maybe; Alternatively, WAIT") == 1


def test_repeated_steps_are_counted_once_whitespace_aside():
    assert drop_repeated_steps(TRACE) == "Step one.\n\nWait, step two.\n\nMaybe done. However Waiting is not a marker."


def test_character_lengths():
    scored = add_trace_columns(pool_of([TRACE, "abc"]))
    assert scored[TRACE_LENGTH] == [len(TRACE), 3]
    assert scored[RETHINK_COUNT] == [3, 0]
    discounted = add_trace_columns(pool_of([TRACE]), discount_repeated_steps=True)
    assert discounted[TRACE_LENGTH] == [len(drop_repeated_steps(TRACE))]
    assert discounted[RETHINK_COUNT] == [3]  # rethinking is counted on the whole trace


def test_token_lengths_match_the_tokenizer_and_num_proc(tiny_tokenizer_dir, real_pool_rows):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    traces = [row["solution"] for row in real_pool_rows[:40]]
    expected = [len(tokenizer(trace, add_special_tokens=False)["input_ids"]) for trace in traces]
    assert add_trace_columns(pool_of(traces), str(tiny_tokenizer_dir), batch_size=7)[TRACE_LENGTH] == expected
    assert add_trace_columns(pool_of(traces), tokenizer, num_proc=2)[TRACE_LENGTH] == expected
    assert all(e < len(t) for e, t in zip(expected, traces))  # tokens, not characters


def flags_pool(flags):
    return Dataset.from_dict({"correctness_math_verify": flags})


def test_rollout_difficulty_is_one_minus_the_verified_share():
    scored = add_difficulty(flags_pool([[True, True], [True, False, False, False], [False, False, None], [True, None]]))
    assert scored[DIFFICULTY] == [0.0, 0.75, 1.0, 0.5]  # a null verdict is not a verified-correct rollout


def test_rollout_difficulty_refuses_undefined_rows_and_wrong_types():
    with pytest.raises(InputError, match="1 rows have no rollouts"):
        add_difficulty(flags_pool([[True], []]))
    with pytest.raises(ColumnError, match="'correctness_math_verify', which is not in the pool"):
        add_difficulty(Dataset.from_dict({"x": [1]}))
    with pytest.raises(ColumnTypeError, match="must hold lists of booleans"):
        add_difficulty(Dataset.from_dict({"flags": [[1, 0]]}), flags_column="flags")


def test_column_difficulty_copies_and_validates():
    scored = add_difficulty(Dataset.from_dict({"pass": [0.25, 1.0]}), "column:pass")
    assert scored[DIFFICULTY] == [0.25, 1.0]
    with pytest.raises(InputError, match=r"found 0 nulls, 0 NaN and 1 values outside \[0, 1\] \(min 0.5, max 92"):
        add_difficulty(Dataset.from_dict({"score": [0.5, 92]}), "column:score")
    with pytest.raises(InputError, match="found 1 nulls"):
        add_difficulty(Dataset.from_dict({"score": [0.5, None]}), "column:score")
    with pytest.raises(ColumnTypeError, match="must be numeric"):
        add_difficulty(Dataset.from_dict({"score": ["hard"]}), "column:score")


def test_scorer_registry_names_what_it_knows():
    with pytest.raises(InputError, match=r"unknown difficulty scorer 'oracle'; known: \["):
        make_difficulty_scorer("oracle")
    with pytest.raises(InputError, match="needs a column name"):
        make_difficulty_scorer("column")
    with pytest.raises(InputError, match="takes no ':' argument"):
        make_difficulty_scorer("rollout:x")
    assert make_difficulty_scorer("column:p").describe() == {"scorer": "column", "column": "p"}


def test_add_difficulty_and_add_trace_columns_name_a_wrong_argument():
    pool = Dataset.from_dict({MESSAGES: [make_messages("q", "t")], "d": [0.5]})
    known = r"\['column', 'judge', 'rollout', 'sampled'\]"
    with pytest.raises(OptionTypeError, match=r"scorer must be a scorer name \(" + known):
        add_difficulty(pool, None)
    with pytest.raises(OptionTypeError, match=r"the pool must be a datasets\.Dataset, got NoneType"):
        add_difficulty(None, "column:d")
    with pytest.raises(OptionTypeError, match="num_proc must be a positive integer or None, got '2' \\(str\\)"):
        add_difficulty(pool, "column:d", num_proc="2")
    with pytest.raises(OptionTypeError, match="tokenizer must be a tokenizer, a Hub id or folder, or None"):
        add_trace_columns(pool, 5)
    with pytest.raises(OptionTypeError, match="discount_repeated_steps must be True or False, got 'yes'"):
        add_trace_columns(pool, discount_repeated_steps="yes")
    with pytest.raises(InputError, match="num_proc must be at least 1, got 0"):
        add_trace_columns(pool, num_proc=0)
    with pytest.raises(ColumnError, match=r"the pool has no 'messages' column .* s2r_hf\.load_pool first"):
        add_trace_columns(Dataset.from_dict({"question": ["q"], "trace": ["t"]}))
