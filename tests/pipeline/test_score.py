"""score_pool checks what it can before the expensive steps: the scorer's columns, the tokenizer, the judge."""

import json
import re

import pytest

import s2r_hf.signals.length
from s2r_hf.core.columns import DIFFICULTY, TRACE_LENGTH
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, ModelError, OptionTypeError
from s2r_hf.pipeline.score import ScoreConfig, score_pool

ROWS = [
    {"q": f"question {i}", "t": "step. " * (i + 1), "flags": [True, i % 2 == 0], "hardness": i / 10, "label": "x"}
    for i in range(6)
]


@pytest.fixture
def pool_file(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return path


@pytest.fixture
def trace_pass_calls(monkeypatch):
    """Records every trace-length pass score_pool starts (the real one still runs)."""
    calls = []
    real = s2r_hf.signals.length.add_trace_columns

    def recording(pool, *args, **kwargs):
        calls.append(len(pool))
        return real(pool, *args, **kwargs)

    monkeypatch.setattr(s2r_hf.signals.length, "add_trace_columns", recording)
    return calls


def config(pool_file, **kwargs):
    return ScoreConfig(source=str(pool_file), question_column="q", trace_column="t", **kwargs)


def test_a_good_pool_is_scored_with_one_trace_pass(pool_file, trace_pass_calls):
    pool, metadata = score_pool(config(pool_file, rollout={"flags_column": "flags"}))
    assert trace_pass_calls == [6]
    assert pool[DIFFICULTY] == [0.0, 0.5, 0.0, 0.5, 0.0, 0.5]
    assert pool[TRACE_LENGTH] == [len("step. " * (i + 1)) for i in range(6)]
    assert metadata["difficulty"]["flags_column"] == "flags"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ColumnError, "'correctness_math_verify', which is not in the pool; columns: \\['q', 't', 'flags'"),
        ({"rollout": {"flags_column": "label"}}, ColumnTypeError, "'label' must hold lists of booleans"),
        ({"difficulty": "column:nope"}, ColumnError, "difficulty column 'nope' not in pool"),
        ({"difficulty": "column:label"}, ColumnTypeError, "difficulty column 'label' must be numeric; got type string"),
        ({"difficulty": "column:t"}, ColumnTypeError, "difficulty column 't' must be numeric"),
    ],
)
def test_scorer_columns_are_checked_before_the_trace_length_pass(pool_file, trace_pass_calls, kwargs, error, message):
    with pytest.raises(error, match=message):
        score_pool(config(pool_file, **kwargs))
    assert trace_pass_calls == []


def test_out_of_range_difficulty_column_fails_before_the_trace_pass(tmp_path, trace_pass_calls):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({**row, "hardness": row["hardness"] * 3}) + "\n" for row in ROWS))
    with pytest.raises(InputError, match=r"found 0 nulls, 0 NaN and 2 values outside \[0, 1\] \(min 0.0, max 1.5"):
        score_pool(config(path, difficulty="column:hardness"))
    assert trace_pass_calls == []


def test_a_missing_local_tokenizer_is_named_before_the_source_is_read(tmp_path, trace_pass_calls):
    # The source does not exist either: the tokenizer is checked first, so its error is the one reported.
    missing = tmp_path / "no" / "tokenizer"
    with pytest.raises(InputError, match=re.escape(f"the tokenizer folder '{missing}' does not exist")):
        score_pool(ScoreConfig(source=str(tmp_path / "missing.jsonl"), tokenizer=str(missing)))
    with pytest.raises(InputError, match=re.escape("the tokenizer folder './no/tokenizer' does not exist")):
        score_pool(ScoreConfig(source=str(tmp_path / "missing.jsonl"), tokenizer="./no/tokenizer"))


def test_a_tokenizer_file_or_empty_folder_is_refused(pool_file, tmp_path, trace_pass_calls):
    with pytest.raises(InputError, match=re.escape("is a file; give the folder that holds tokenizer.json")):
        score_pool(config(pool_file, tokenizer=str(pool_file)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=re.escape(f"could not load the tokenizer folder '{tmp_path / 'empty'}'")):
        score_pool(config(pool_file, tokenizer=str(tmp_path / "empty")))
    assert trace_pass_calls == []


def test_an_unreachable_hub_tokenizer_is_one_line(pool_file, trace_pass_calls):
    # HF_ENDPOINT points at a loopback port (tests/fixtures/env.py): nothing there has this tokenizer.
    with pytest.raises(InputError, match=r"could not load the tokenizer 'some-org/no-tokenizer' from the Hub") as info:
        score_pool(config(pool_file, tokenizer="some-org/no-tokenizer"))
    assert "\n" not in str(info.value)
    assert trace_pass_calls == []


def test_a_tokenizer_that_loads_counts_tokens(pool_file, tiny_tokenizer_dir, trace_pass_calls):
    pool, metadata = score_pool(config(pool_file, tokenizer=str(tiny_tokenizer_dir), rollout={"flags_column": "flags"}))
    assert metadata["length"]["unit"] == "tokens" and trace_pass_calls == [6]
    assert pool[TRACE_LENGTH] != [len(row["t"]) for row in ROWS]


def test_a_missing_judge_is_named_before_the_source_is_read(tmp_path, trace_pass_calls):
    with pytest.raises(ModelError, match=re.escape("the judge folder './no/judge' does not exist")):
        score_pool(
            ScoreConfig(source=str(tmp_path / "missing.jsonl"), difficulty="judge", judge={"model": "./no/judge"})
        )
    with pytest.raises(ModelError, match=re.escape("has no config.json")):
        score_pool(
            ScoreConfig(source=str(tmp_path / "missing.jsonl"), difficulty="judge", judge={"model": str(tmp_path)})
        )


def test_an_unreachable_hub_judge_is_one_line(pool_file, trace_pass_calls):
    with pytest.raises(ModelError, match="'some-org/no-judge'") as info:
        score_pool(config(pool_file, difficulty="judge", judge={"model": "some-org/no-judge"}))
    assert "\n" not in str(info.value)
    assert trace_pass_calls == []


def test_the_judge_question_column_reaches_the_scorer(pool_file, tiny_model_dir):
    pool, metadata = score_pool(
        config(pool_file, difficulty="judge", judge={"model": str(tiny_model_dir), "question_column": "q"})
    )
    assert metadata["difficulty"]["scorer"] == "judge"
    assert len(set(pool[DIFFICULTY])) > 1 and all(0 < value < 1 for value in pool[DIFFICULTY])


def test_score_pool_and_score_config_name_a_wrong_argument(tmp_path):
    with pytest.raises(OptionTypeError, match=r"score_pool takes a ScoreConfig, got dict; e\.g\. score_pool\("):
        score_pool({"source": "pool.jsonl"})
    with pytest.raises(OptionTypeError, match=r"judge got unknown setting\(s\) \['nope'\]; JudgeConfig takes \["):
        ScoreConfig(source="pool.jsonl", difficulty="judge", judge={"nope": 1})
    with pytest.raises(InputError, match="split must name a split such as 'train'"):
        ScoreConfig(source="pool.jsonl", split=" ")
