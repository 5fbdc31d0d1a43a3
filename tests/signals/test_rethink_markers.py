"""Rethinking markers: a list per language (en, zh) or given; CJK markers match with no word boundaries."""

import json

import pytest

from s2r_hf.core.columns import RETHINK_COUNT, ROLLOUT_DIFFICULTY
from s2r_hf.core.errors import InputError
from s2r_hf.pipeline.score import ScoreConfig, score_pool
from s2r_hf.signals.length import RETHINK_MARKERS, RETHINK_MARKERS_ZH, count_rethinks, parse_rethink_markers


def test_chinese_markers_match_inside_text_and_english_ones_as_words():
    # 等等 x2, 不对 x1, 等一下 x1, 检查一下 x1; "等" alone is no marker.
    assert count_rethinks("嗯。等等，不对。等一下，再检查一下。等等！他等了", RETHINK_MARKERS_ZH) == 5
    assert count_rethinks("Wait, Waiting; maybe. However", RETHINK_MARKERS) == 2
    # A mixed list: boundaries where the marker ends in an ASCII letter only.
    assert count_rethinks("Hmm,Hmmm 等等等", ("Hmm", "等等")) == 2


def test_a_marker_inside_another_counts_once():
    assert count_rethinks("Let me check again. check", ("check", "Let me check")) == 2


@pytest.mark.parametrize("given", ["", " , ", []])
def test_an_empty_marker_list_is_refused(given):
    with pytest.raises(InputError, match="no rethink markers"):
        parse_rethink_markers(given)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return str(path)


CHINESE_ROWS = [  # the pool's columns (some of them), plus a difficulty to score by
    {"input": "问题一", "reasoning_content": "等等，不对。Wait", "content": "答案", "repo_name": "x", "score": 9},
    {"input": "问题二", "reasoning_content": "也许是这样。或者那样", "content": "答", "repo_name": "x", "score": 8},
]


def test_the_chinese_pool_counts_chinese_markers_and_the_card_records_them(tmp_path):
    source = write_jsonl(tmp_path / "zh.jsonl", [{**row, "hardness": 0.5} for row in CHINESE_ROWS])
    pool, s2r = score_pool(ScoreConfig(source=source, difficulty="column:hardness"))
    assert s2r["adapter"]["name"] == "chinese-distill"
    assert pool[RETHINK_COUNT] == [2, 2]  # "Wait" is not a Chinese marker
    assert s2r["length"]["rethink_language"] == "zh"
    assert s2r["length"]["rethink_markers"] == list(RETHINK_MARKERS_ZH)
    # the English list on request, or the user's own
    pool, s2r = score_pool(ScoreConfig(source=source, difficulty="column:hardness", rethink_language="en"))
    assert pool[RETHINK_COUNT] == [1, 0]
    pool, s2r = score_pool(ScoreConfig(source=source, difficulty="column:hardness", rethink_markers="或者, Wait"))
    assert pool[RETHINK_COUNT] == [1, 1]
    assert (s2r["length"]["rethink_markers"], s2r["length"]["rethink_language"]) == (["或者", "Wait"], None)
    assert ROLLOUT_DIFFICULTY not in pool.column_names


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rethink_markers": " ,"}, "no rethink markers in ' ,'"),
        ({"rethink_language": "fr"}, "rethink_language"),
        ({"rethink_markers": "Wait", "rethink_language": "en"}, "not both"),
        ({"adapter": "s1k", "question_column": "q", "trace_column": "t"}, "do not apply to the s1k adapter"),
    ],
)
def test_bad_marker_and_adapter_options_fail_before_any_work(kwargs, message):
    with pytest.raises(InputError, match=message):
        ScoreConfig(source="pool.jsonl", **kwargs).adapter_options(kwargs.get("adapter", "generic"))
