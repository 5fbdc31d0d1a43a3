"""The sampled rollout difficulty (s2r_hf.signals.sampled) on the tiny 2-layer Qwen2 built offline by the fixtures.

The tiny model writes gibberish and rarely ends on its own, so the model used here is the tiny one with a generation
config that stops at one token id in ten as well: most completions then end within a few tokens, some are capped, and
gibberish still has a last "answer" for the grader to extract. Gold answers are chosen from a first run's extracted
answers, so pass rates can be computed by hand from the completions.
"""

from __future__ import annotations

import json
import shutil

import pytest

from s2r_hf.core.columns import ANSWER, DIFFICULTY, ID, MESSAGES, PASS_RATE, ROLLOUTS_CAPPED
from s2r_hf.core.rows import make_messages
from s2r_hf.pipeline.score import sample_rows
from s2r_hf.signals.judge.store import question_key
from s2r_hf.signals.sampled import scorer as sampled_scorer
from s2r_hf.signals.sampled.config import SampledConfig
from s2r_hf.signals.sampled.generate import completion_seed
from s2r_hf.signals.sampled.scorer import ROLLOUTS_FIELD, sample_completions, sampled_difficulty_batch

QUESTIONS = [
    "What is 2 + 3?",
    "Find the smallest prime greater than 20.",
    "Solve for x: 3x = 12.",
    "How many sides has a hexagon?",
]
IMPOSSIBLE = "\\sqrt{98765431}"


@pytest.fixture(scope="module")
def stopping_model_dir(tiny_model_dir, tmp_path_factory):
    """The tiny model, stopping at its end token or at any id ending in 3 (a completion ends in ~10 tokens)."""
    folder = tmp_path_factory.mktemp("sampled") / "stopping_qwen2"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    stops = [config["eos_token_id"], *range(3, config["vocab_size"], 10)]
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": stops, "pad_token_id": 0}))
    return folder


def config_for(model, **changes) -> SampledConfig:
    settings = {"model": str(model), "rollouts": 4, "max_new_tokens": 16, "seed": 7, "device": "cpu"}
    return SampledConfig(**{**settings, **changes})


def batch_of(questions, golds):
    return {
        ID: [f"q{i}" for i in range(len(questions))],
        MESSAGES: [make_messages(q, "trace") for q in questions],
        ANSWER: list(golds),
    }


def test_pass_rates_equal_hand_graded_verdicts_and_capped_completions_count_wrong(stopping_model_dir):
    config = config_for(stopping_model_dir, keep_rollouts=True)
    first = sampled_difficulty_batch(batch_of(QUESTIONS, [IMPOSSIBLE] * 4), config=config)
    assert first[PASS_RATE] == [0.0] * 4 and first[DIFFICULTY] == [1.0] * 4
    rollouts = first[ROLLOUTS_FIELD]
    assert [[c["sample"] for c in row] for row in rollouts] == [[0, 1, 2, 3]] * 4
    assert first[ROLLOUTS_CAPPED] == [sum(c["capped"] for c in row) for row in rollouts]
    capped = [(r, c) for r, row in enumerate(rollouts) for c in row if c["capped"] and c["answer"] is not None]
    ended = [(r, c) for r, row in enumerate(rollouts) for c in row if not c["capped"] and c["answer"] is not None]
    assert capped and ended, rollouts  # this model both ends and hits the cap
    # Row A: the gold is the answer of one of its ended completions. Row B: the answer of a capped completion of
    # another row, which must not count for that completion. The other rows keep an answer nobody gives.
    (row_a, gold_a), (row_b, gold_b) = next(
        ((a, ca["answer"]), (b, cb["answer"])) for a, ca in ended for b, cb in capped if a != b
    )
    golds = [IMPOSSIBLE] * 4
    golds[row_a], golds[row_b] = gold_a, gold_b
    second = sampled_difficulty_batch(batch_of(QUESTIONS, golds), config=config)
    expected = [
        sum(1 for c in row if not c["capped"] and c["answer"] == golds[r]) / 4 for r, row in enumerate(rollouts)
    ]
    assert expected[row_a] >= 0.25
    assert second[PASS_RATE] == expected
    assert second[DIFFICULTY] == [1 - rate for rate in expected]
    verdicts = [[c["correct"] for c in row] for row in second[ROLLOUTS_FIELD]]
    assert verdicts == [[not c["capped"] and c["answer"] == golds[r] for c in row] for r, row in enumerate(rollouts)]
    # Same completions on the second run: the seeds are the question's, not the run's.
    assert [[c["completion"] for c in row] for row in second[ROLLOUTS_FIELD]] == [
        [c["completion"] for c in row] for row in rollouts
    ]


def test_a_question_gets_the_same_completions_alone_and_with_neighbours(stopping_model_dir):
    alone = sample_completions([QUESTIONS[2]], config_for(stopping_model_dir, batch_questions=1))
    together = sample_completions(QUESTIONS, config_for(stopping_model_dir, batch_questions=4))
    assert [c.text for c in together[2]] == [c.text for c in alone[0]]
    assert len({c.text for c in together[2]}) > 1  # k different samples, not one repeated
    # Each completion's seed is its own: another index or question gets another one.
    key = question_key(QUESTIONS[2])
    assert len({completion_seed(7, key, i) for i in range(4)} | {completion_seed(7, question_key("x"), 0)}) == 5


def test_the_resume_store_serves_finished_questions_without_generating(stopping_model_dir, tmp_path, monkeypatch):
    config = config_for(stopping_model_dir, work_dir=str(tmp_path / "work"))
    first = sample_completions(QUESTIONS[:2], config)
    generated = []
    sampler, _, _ = sampled_scorer.sampler_for(config)
    original = type(sampler).sample
    monkeypatch.setattr(
        type(sampler),
        "sample",
        lambda self, prompts, *a, **k: generated.append(len(prompts)) or original(self, prompts, *a, **k),
    )
    again = sample_completions(QUESTIONS, config)
    assert generated == [2]  # only the two questions the store lacked
    assert again[:2] == first
    assert again == sample_completions(QUESTIONS, config_for(stopping_model_dir))  # equal to a run without a store


def test_sample_picks_a_seeded_share_whatever_the_row_order():
    from datasets import Dataset

    pool = Dataset.from_dict({ID: [f"r{i}" for i in range(40)], "x": list(range(40))})
    chosen, record = sample_rows(pool, 0.25, 3)
    assert record == {"share": 0.25, "seed": 3, "rows_before": 40, "rows": 10}
    ids = chosen[ID]
    assert len(ids) == 10 and ids == sorted(ids, key=lambda i: int(i[1:]))  # pool order kept
    shuffled, _ = sample_rows(pool.shuffle(seed=1), 0.25, 3)
    assert sorted(shuffled[ID]) == sorted(ids)
    assert sample_rows(pool, 0.25, 3)[0][ID] == ids
    assert sorted(sample_rows(pool, 0.25, 4)[0][ID]) != sorted(ids)
    assert set(ids) <= set(sample_rows(pool, 0.5, 3)[0][ID])  # a larger share holds the smaller one
    assert sample_rows(pool, 1.0, 3)[0][ID] == pool[ID]
    assert sample_rows(pool, 0.001, 3)[1]["rows"] == 1


def test_the_vllm_backend_passes_the_settings_through_and_reads_capped_from_the_finish_reason(monkeypatch):
    """vLLM cannot be installed here (no GPU): a stand-in module records what the backend asks of it."""
    import sys
    import types

    from s2r_hf.signals.sampled.generate import Completion, VllmSampler

    asked = {}

    class SamplingParams:
        def __init__(self, **settings):
            self.settings = settings

    class LLM:
        def __init__(self, **options):
            asked["engine"] = options

        def get_tokenizer(self):
            return "tokenizer"

        def generate(self, requests, sampling_params, use_tqdm):
            asked["requests"], asked["params"] = requests, [p.settings for p in sampling_params]
            out = types.SimpleNamespace
            return [
                out(outputs=[out(text=f"r{i} \\boxed{{{j}}}", token_ids=[1] * (j + 2), finish_reason=reason)
                             for j, reason in enumerate(("stop", "length"))])
                for i in range(len(requests))
            ]  # fmt: skip

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=SamplingParams))
    sampler = VllmSampler("/models/m", dtype="bfloat16", tensor_parallel=2, data_parallel=4, seed=9)
    assert asked["engine"] == {"model": "/models/m", "tokenizer": "/models/m", "tensor_parallel_size": 2, "seed": 9,
                               "dtype": "bfloat16", "data_parallel_size": 4}  # fmt: skip
    seeds = [[11, 12], [21, 22]]
    result = sampler.sample([[1, 2], [3]], seeds, max_new_tokens=64, temperature=0.6, top_p=0.95, batch_questions=8)
    assert asked["requests"] == [{"prompt_token_ids": [1, 2]}, {"prompt_token_ids": [3]}]
    assert asked["params"] == [
        {"n": 2, "seed": first, "temperature": 0.6, "top_p": 0.95, "max_tokens": 64} for first in (11, 21)
    ]
    assert result[1] == [Completion("r1 \\boxed{0}", 2, False), Completion("r1 \\boxed{1}", 3, True)]


def test_backend_auto_is_transformers_without_vllm_and_a_bad_setting_is_refused():
    from s2r_hf.core.errors import InputError
    from s2r_hf.signals.sampled.config import vllm_installed

    if not vllm_installed():
        assert SampledConfig(backend="auto").resolved_backend() == "transformers"
    for settings, message in (
        ({"rollouts": 0}, r"rollouts \(--rollouts\) must be a positive integer, got 0"),
        ({"top_p": 0.0}, r"top_p \(--rollout-top-p\) must be in \(0, 1\], got 0.0"),
        ({"temperature": -1.0}, r"temperature \(--rollout-temperature\) must be 0 \(greedy\) or more"),
        ({"backend": "tgi"}, r"backend \(--rollout-backend\) must be one of \['auto', 'vllm', 'transformers'\]"),
    ):
        with pytest.raises(InputError, match=message):
            SampledConfig(**settings)
