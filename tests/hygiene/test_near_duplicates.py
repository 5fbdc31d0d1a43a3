"""Near-duplicate questions: MinHash+LSH clusters with an exact Jaccard check (keeping the best row per cluster is
tests/test_selection_clusters.py's)."""

from collections import defaultdict

import pytest
from datasets import Dataset

from s2r_hf import cluster_questions, load_pool
from s2r_hf.core.cards import render_body
from s2r_hf.core.columns import ID, QUESTION_CLUSTER
from s2r_hf.core.errors import ColumnError, InputError
from s2r_hf.hygiene.text import question_words
from s2r_hf.pool.demo import DEMO_POOL_FILE

A = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo " \
    "sierra tango"  # fmt: skip  # 20 different words: 18 shingles
B = A.replace("tango", "uniform")  # 17 of 19 shingles (3 words) shared with A: Jaccard 0.895
C = B.replace("alpha", "victor")  # 0.895 with B, 16/20 = 0.8 with A
D = A.replace("juliet", "whiskey")  # a changed middle word costs 3 shingles: 15/21 = 0.714 with A
E = "  ALPHA Bravo\ncharlie, delta: echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec " \
    "romeo sierra TANGO!"  # fmt: skip  # A, re-spaced and re-cased: the same words
F = "how many primes are there below one hundred"


def hand_made():
    return Dataset.from_dict({ID: ["q3", "q1", "q5", "q2", "q4", "q0"], "question": [A, B, C, D, E, F]})


@pytest.mark.parametrize(
    ("threshold", "clusters"),
    [
        (0.8, ["q1", "q1", "q1", "q2", "q1", "q0"]),  # A~B~C as a chain (A~C is exactly 0.8), E is A
        (0.85, ["q1", "q1", "q1", "q2", "q1", "q0"]),  # A~C (0.8) is below, but the chain through B holds
        (0.9, ["q3", "q1", "q5", "q2", "q3", "q0"]),  # only the identical A and E
        (0.7, ["q1", "q1", "q1", "q1", "q1", "q0"]),  # D~A (0.714) joins
        (1.0, ["q3", "q1", "q5", "q2", "q3", "q0"]),
    ],
)
def test_hand_made_clusters(threshold, clusters):
    clustered, report = cluster_questions(hand_made(), threshold=threshold, question_column="question")
    assert clustered[QUESTION_CLUSTER] == clusters
    assert report.rows == 6 and report.largest_cluster == max(clusters.count(name) for name in clusters)
    assert report.clusters == sum(1 for name in set(clusters) if clusters.count(name) > 1)


def test_cluster_names_do_not_depend_on_row_order():
    clustered, _ = cluster_questions(hand_made(), question_column="question")
    shuffled, _ = cluster_questions(hand_made().shuffle(seed=3), question_column="question")
    assert dict(zip(shuffled[ID], shuffled[QUESTION_CLUSTER])) == dict(zip(clustered[ID], clustered[QUESTION_CLUSTER]))


def test_openr1_generations_of_one_problem_share_a_cluster():
    pool, _ = load_pool(str(DEMO_POOL_FILE), adapter="openr1", mode="generations")
    clustered, _ = cluster_questions(pool, threshold=1.0)
    by_problem = defaultdict(set)
    for row_id, cluster in zip(clustered[ID], clustered[QUESTION_CLUSTER]):
        by_problem[row_id.split("#")[0]].add(cluster)
    assert all(len(clusters) == 1 for clusters in by_problem.values())
    assert len(set(clustered[QUESTION_CLUSTER])) <= len(by_problem) < len(clustered)


def test_bad_input():
    with pytest.raises(InputError, match=r"threshold must be a Jaccard similarity in \(0, 1\], got 0"):
        cluster_questions(hand_made(), threshold=0, question_column="question")
    with pytest.raises(InputError, match=r"in \(0, 1\], got 1.5"):
        cluster_questions(hand_made(), threshold=1.5, question_column="question")
    with pytest.raises(ColumnError, match="no 'messages' column to read questions from"):
        cluster_questions(hand_made())


# Unspaced Chinese: "the sequence's first term is one, each next term is twice the previous plus one; find the general
# term and the sum of the first ten terms" (55 characters), the same with "three times" (one character changed), and an
# unrelated question (two balls drawn from a bag). Cut into words at punctuation only, each clause would be one word,
# and the first two would share no shingle at all.
ZH_SEQUENCE = (
    "已知数列的首项为一，且对任意正整数都有后一项等于前一项的两倍加一，求这个数列的通项公式，并求出它的前十项之和。"
)
ZH_SEQUENCE_EDITED = ZH_SEQUENCE.replace("两倍", "三倍")
ZH_BALLS = (
    "一个袋子里有五个红球和三个白球，从中随机取出两个球，求取出的两个球颜色相同的概率，并求至少有一个红球的概率。"
)


def test_chinese_questions_a_character_apart_share_a_cluster_and_the_card_says_how():
    # Each Chinese character is a word, so shingles are runs of 3 characters: 48 each, 45 shared of 51 (Jaccard 0.88).
    questions = Dataset.from_dict({ID: ["z1", "z2", "z3"], "question": [ZH_SEQUENCE, ZH_SEQUENCE_EDITED, ZH_BALLS]})
    clustered, report = cluster_questions(questions, question_column="question")
    assert clustered[QUESTION_CLUSTER] == ["z1", "z1", "z3"]
    assert (report.clusters, report.rows_in_clusters) == (1, 2)
    shingles = "3-word shingles (each Chinese or Japanese character counts as a word)"
    assert report.describe()["shingles"] == shingles
    card = render_body("hygiene.md", hygiene={"near_duplicates": {**report.describe(), "mode": "cluster"}})
    assert f"Jaccard of {shingles} at least 0.8" in card


def test_chinese_and_japanese_characters_are_words_korean_and_latin_words_stay_whole():
    text = "求$x+1$的值：東京タワー has 2 words, 한국어 단어"
    assert question_words(text) == [
        "求",
        "x1",
        "的",
        "值",
        "東",
        "京",
        "タ",
        "ワ",
        "ー",
        "has",
        "2",
        "words",
        "한국어",
        "단어",
    ]
