"""`token_budget`: rows in the strategy's order while the subset's trainer tokens stay within the budget.

The trainer tokens are checked against an independent count: the chat template applied by transformers itself, one
conversation at a time, summed here.
"""

import pytest
from datasets import Dataset

from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES, QUESTION_CLUSTER, TRACE_LENGTH
from s2r_hf.core.errors import InputError
from s2r_hf.selection import SelectConfig, rows_within_budget, select, select_with_report

# Six rows; the joint order at weight 0.25 (tests/test_selection.py): f, b, d, c, a, e.
ROWS = {
    ID: ["a", "b", "c", "d", "e", "f"],
    DIFFICULTY: [0.9, 0.5, 0.5, 0.1, 0.9, 0.3],
    TRACE_LENGTH: [100, 300, 200, 300, 50, 400],
    QUESTION_CLUSTER: ["ca", "cb", "cc", "cb", "ce", "cf"],
}
JOINT_ORDER = ["f", "b", "d", "c", "a", "e"]


def _conversation(row_id: str, words: int) -> list[dict]:
    trace = " ".join(f"step{row_id} {index}" for index in range(words))
    return [{"role": "user", "content": f"Problem {row_id}?"}, {"role": "assistant", "content": trace}]


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


@pytest.fixture(scope="module")
def pool():
    words = {"a": 3, "b": 12, "c": 7, "d": 20, "e": 1, "f": 9}
    return Dataset.from_dict({**ROWS, MESSAGES: [_conversation(row, words[row]) for row in ROWS[ID]]})


def independent_tokens(tokenizer, conversations) -> list[int]:
    """The chat template rendered by transformers, then the text encoded, one row at a time (what TRL's SFTTrainer
    tokenizes: no special tokens added, no EOS appended to a conversation)."""
    texts = [tokenizer.apply_chat_template(conversation, tokenize=False) for conversation in conversations]
    return [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]


def tokens_by_id(tokenizer, pool) -> dict[str, int]:
    return dict(zip(pool[ID], independent_tokens(tokenizer, pool[MESSAGES])))


def test_token_budget_takes_the_longest_prefix_within_the_budget(pool, tokenizer):
    tokens = tokens_by_id(tokenizer, pool)
    # A budget that ends inside the third row (d): f and b are taken, d would cross it, and nothing after d is taken
    # in its place even though c and a are small enough (the subset is a prefix of the joint order).
    budget = tokens["f"] + tokens["b"] + tokens["d"] - 1
    assert tokens["c"] < tokens["d"]
    subset, report = select_with_report(pool, SelectConfig(token_budget=budget), tokenizer=tokenizer)
    assert subset[ID] == ["f", "b"]
    assert report.tokens_taken == tokens["f"] + tokens["b"]
    assert report.tokens_taken == sum(independent_tokens(tokenizer, subset[MESSAGES]))
    assert (report.rows, report.token_budget, report.ratio, report.k) == (2, budget, None, None)
    assert report.tokenizer == tokenizer.name_or_path
    assert f"{budget:,}" in report.rule and f"{report.tokens_taken:,} tokens" in report.rule


def test_token_budget_exactly_reached_includes_the_row_that_reaches_it(pool, tokenizer):
    tokens = tokens_by_id(tokenizer, pool)
    budget = tokens["f"] + tokens["b"] + tokens["d"]
    subset = select(pool, token_budget=budget, tokenizer=tokenizer)
    assert subset[ID] == ["f", "b", "d"]


def test_token_budget_follows_each_strategy_order(pool, tokenizer):
    tokens = tokens_by_id(tokenizer, pool)
    # hardest: a, e, b, c, f, d
    subset = select(pool, token_budget=tokens["a"] + tokens["e"], strategy="hardest", tokenizer=tokenizer)
    assert subset[ID] == ["a", "e"]
    whole = select(pool, k=6, strategy="random", seed=3)[ID]
    random_subset = select(pool, token_budget=tokens[whole[0]], strategy="random", seed=3, tokenizer=tokenizer)
    assert random_subset[ID] == whole[:1]


def test_token_budget_with_a_cluster_cap_skips_rows_past_the_cap(pool, tokenizer):
    tokens = tokens_by_id(tokenizer, pool)
    # b and d share cluster cb: with one per cluster, d is skipped and c follows b.
    budget = tokens["f"] + tokens["b"] + tokens["c"]
    subset = select(pool, token_budget=budget, max_per_cluster=1, tokenizer=tokenizer)
    assert subset[ID] == ["f", "b", "c"]


def test_token_budget_loads_the_tokenizer_by_name(pool, tokenizer, tiny_tokenizer_dir):
    tokens = tokens_by_id(tokenizer, pool)
    subset = select(pool, token_budget=tokens["f"], tokenizer=str(tiny_tokenizer_dir))
    assert subset[ID] == ["f"]


def test_token_budget_counts_in_batches_across_batch_boundaries(tokenizer, monkeypatch):
    import numpy as np

    import s2r_hf.selection as selection

    monkeypatch.setattr(selection, "_FIRST_BUDGET_BATCH", 1)
    monkeypatch.setattr(selection, "_LAST_BUDGET_BATCH", 3)
    conversations = [_conversation(str(index), index % 5 + 1) for index in range(11)]
    data = Dataset.from_dict({MESSAGES: conversations})
    counts = independent_tokens(tokenizer, conversations)
    order = np.array([10, 3, 7, 0, 1, 2, 4, 5, 6, 8, 9])
    ordered = [counts[index] for index in order]
    for taken in (1, 2, 3, 5, 6, 10, 11):
        budget = sum(ordered[:taken])
        assert rows_within_budget(data, order, budget, tokenizer) == (taken, budget)
        if taken < 11:
            assert rows_within_budget(data, order, budget + ordered[taken] - 1, tokenizer) == (taken, budget)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"token_budget": 0}, "token_budget must be a positive integer number of tokens, got 0"),
        ({"token_budget": -5}, "token_budget must be a positive integer number of tokens, got -5"),
        ({"token_budget": 100, "k": 3}, "token_budget 100 and k 3 both set the subset's size"),
        ({"token_budget": 100, "ratio": 0.5}, "token_budget 100 and ratio 0.5 both set the subset's size"),
        ({"token_budget": 100, "strategy": "diverse"}, "token_budget does not apply to the diverse strategy"),
    ],
)
def test_token_budget_bad_settings_are_refused(settings, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SelectConfig(**settings)


def test_token_budget_not_an_integer_is_refused():
    from s2r_hf.core.errors import OptionTypeError

    with pytest.raises(OptionTypeError, match="token_budget must be an integer"):
        SelectConfig(token_budget=1.5)


def test_token_budget_below_the_first_row_is_refused(pool, tokenizer):
    first = tokens_by_id(tokenizer, pool)["f"]
    with pytest.raises(InputError, match=f"below the first row's {first:,} trainer tokens.*at least {first:,}"):
        select(pool, token_budget=first - 1, tokenizer=tokenizer)


def test_token_budget_above_the_pool_is_refused(pool, tokenizer):
    total = sum(tokens_by_id(tokenizer, pool).values())
    assert select(pool, token_budget=total, tokenizer=tokenizer)[ID] == JOINT_ORDER
    with pytest.raises(InputError, match=f"more than the {total:,} trainer tokens of all 6 rows.*at most {total:,}"):
        select(pool, token_budget=total + 1, tokenizer=tokenizer)


def test_token_budget_without_a_tokenizer_is_refused(pool):
    with pytest.raises(InputError, match="token_budget counts the tokens the trainer will see"):
        select(pool, token_budget=10)


@pytest.mark.parametrize("strategy", ["joint", "longest", "hardest", "random"])
def test_token_budget_tokens_taken_are_the_subset_tokens_with_and_without_a_cluster_cap(pool, tokenizer, strategy):
    total = sum(tokens_by_id(tokenizer, pool).values())
    for cap in (None, 1):
        for budget in (total // 3, total // 2, (2 * total) // 3):
            try:
                subset, report = select_with_report(
                    pool, SelectConfig(token_budget=budget, strategy=strategy, max_per_cluster=cap), tokenizer=tokenizer
                )
            except InputError:
                continue  # a budget below the first row of this order, or above what the cap leaves
            taken = sum(independent_tokens(tokenizer, subset[MESSAGES]))
            assert report.tokens_taken == taken <= budget
            within_cap = select(pool, k=6 if cap is None else 5, strategy=strategy, max_per_cluster=cap)
            assert subset[ID] == within_cap[ID][: len(subset)]  # a prefix of the (capped) order
