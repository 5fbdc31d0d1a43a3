"""The LLM-judge difficulty scorer (s2r_hf.signals.judge.scorer), on the tiny 2-layer Qwen2 judge built offline by
conftest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from fixtures.env import REPO_ROOT
from fixtures.judge_data import make_pool, random_questions, reference_scores

from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES
from s2r_hf.core.errors import InputError, ModelError, ResourceError
from s2r_hf.core.rows import make_messages
from s2r_hf.signals.difficulty import make_difficulty_scorer
from s2r_hf.signals.judge.model import LoadedJudge, plan_batches, shared_prefix_length
from s2r_hf.signals.judge.prompt import DEFAULT_SYSTEM_PROMPT
from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty, judge_difficulty_batch
from s2r_hf.signals.judge.store import ScoreStore


@pytest.fixture(scope="module")
def judge(tiny_model_dir) -> LoadedJudge:
    return LoadedJudge.load(str(tiny_model_dir))


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return random_questions(40, seed=3)


@pytest.fixture(scope="module")
def expected(tiny_model_dir, questions) -> list[float]:
    return reference_scores(tiny_model_dir, questions)


def test_plan_batches_respects_the_budget_longest_first():
    # Sorted longest first (ties in input order): 2, 4 (8 tokens), 0 (5), 1 (3), 3 (2).
    # [2, 4] costs 2 * 8 = 16; adding 0 would cost 3 * 8 = 24 > 16. [0, 1, 3] costs 3 * 5 = 15.
    assert plan_batches([5, 3, 8, 2, 8], batch_tokens=16) == [[2, 4], [0, 1, 3]]
    # A prompt longer than the whole budget still gets a batch of its own.
    assert plan_batches([20, 1, 1], batch_tokens=10) == [[0], [1, 2]]
    assert plan_batches([], batch_tokens=10) == []


def test_scores_equal_float64_reference(judge, questions, expected):
    result = judge.score(questions, batch_tokens=4096)
    assert result.batches > 1  # several batches, each padded: the comparison covers batching and padding
    assert result.padded_tokens > 0
    # The chat-template header shared by every prompt ran once per batch, not once per prompt.
    assert result.real_tokens < result.prompt_tokens
    assert max(abs(a - b) for a, b in zip(result.scores, expected, strict=True)) < 1e-6
    # The random tiny judge still tells questions apart well beyond the tolerance, so the check has teeth.
    assert max(expected) - min(expected) > 1e-3


def test_shared_prefix_length():
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5, 6, 7], [1, 2, 3]]) == 2
    # At least one token of every prompt is left to run with the batch.
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2
    assert shared_prefix_length([[5], [5]]) == 0
    assert shared_prefix_length([[1, 2], [3, 2]]) == 0


def test_prompts_with_and_without_a_shared_prefix_score_exactly(judge, tiny_model_dir):
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(tiny_model_dir).double().eval()
    generator = torch.Generator().manual_seed(0)
    header = torch.randint(0, 500, (12,), generator=generator).tolist()
    unrelated = [torch.randint(0, 500, (n,), generator=generator).tolist() for n in (3, 17, 40, 8)]
    prefixed = [header + tail for tail in unrelated]
    for prompts in (unrelated, prefixed):
        result = judge.score_prompts(prompts, batch_tokens=10_000)
        assert result.batches == 1
        with torch.no_grad():
            expected = [
                torch.softmax(reference(torch.tensor([p])).logits[0, -1, [judge.zero_id, judge.one_id]], -1)[1].item()
                for p in prompts
            ]
        assert result.scores == pytest.approx(expected, abs=1e-6)
    assert result.real_tokens == result.prompt_tokens - 3 * 12  # the header ran once for the four prompts


def test_score_does_not_depend_on_batch_neighbours(judge, questions):
    short = "Find x such that 2x = 4?"
    alone = judge.score([short]).scores[0]
    among_similar = judge.score([short, *random_questions(5, seed=9, max_words=6)]).scores[0]
    long_neighbours = random_questions(6, seed=11, max_words=400)
    padded = judge.score([*long_neighbours, short], batch_tokens=1_000_000)
    assert padded.batches == 1  # one batch: the short prompt is padded up to the longest neighbour
    assert padded.padded_tokens > 1000
    assert abs(alone - among_similar) < 1e-5
    assert abs(alone - padded.scores[-1]) < 1e-5
    # The order of the input does not matter either.
    reordered = judge.score(list(reversed(questions)), batch_tokens=700).scores
    assert max(abs(a - b) for a, b in zip(reversed(reordered), judge.score(questions).scores, strict=True)) < 1e-5


def test_long_questions_are_cut_at_a_token_boundary_and_counted(judge, tiny_model_dir):
    long_question = " ".join(["é∑ polynomial root"] * 200)
    tokens = judge.tokenizer(long_question, add_special_tokens=False, return_offsets_mapping=True)
    assert len(tokens["input_ids"]) > 64
    result = judge.score([long_question, "short?"], max_question_tokens=64)
    assert result.truncated == [True, False]
    # The cut question is exactly the text of its first 64 tokens.
    kept = long_question[: tokens["offset_mapping"][63][1]]
    assert len(judge.tokenizer(kept, add_special_tokens=False)["input_ids"]) == 64
    assert abs(result.scores[0] - reference_scores(tiny_model_dir, [kept])[0]) < 1e-6


def test_prompt_beyond_the_context_is_a_clear_error(judge):
    # The tiny judge has a context of 4096 positions.
    huge = " ".join(["x"] * 6000)
    with pytest.raises(InputError, match=r"longer than the model's context of 4096 tokens.*lower max_question_tokens"):
        judge.score([huge], max_question_tokens=10_000)
    assert judge.score([huge], max_question_tokens=4000).truncated == [True]


def test_empty_questions_are_rejected(judge):
    with pytest.raises(InputError, match="2 questions are empty"):
        judge.score(["fine?", "", "   "])


def _judge_copy(model_dir: Path, folder: Path, tokenizer) -> Path:
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / name, folder / name)
    tokenizer.save_pretrained(folder)
    return folder


def test_missing_chat_template_is_a_clear_error(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = None
    folder = _judge_copy(tiny_model_dir, tmp_path / "no_template", tokenizer)
    assert AutoTokenizer.from_pretrained(folder).chat_template is None
    with pytest.raises(ModelError, match="has no chat template"):
        LoadedJudge.load(str(folder))


def test_verdicts_that_are_not_single_tokens_are_a_clear_error(tiny_model_dir, judge):
    from tokenizers import Tokenizer, normalizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_file(str(tiny_model_dir / "tokenizer.json"))
    backend.normalizer = normalizers.Replace("0", "0 0")  # "0" now always encodes to two tokens
    # Built in memory: AutoTokenizer would rebuild a Qwen2 tokenizer from the vocabulary and drop the normalizer.
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template="{{ 'x' }}"
    )
    assert len(tokenizer.encode("0", add_special_tokens=False)) == 2
    with pytest.raises(ModelError, match="splits '0' into 2 tokens"):
        LoadedJudge(judge.model, tokenizer, device="cpu", dtype="float32", source="split-zero")


def test_model_paths_that_do_not_exist_are_clear_errors(tmp_path, hub):
    with pytest.raises(ModelError, match="does not exist"):
        LoadedJudge.load(str(tmp_path / "nowhere" / "judge"))
    with pytest.raises(ModelError, match="does not exist"):
        JudgeDifficulty(model="./no/such/judge")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"has no config\.json"):
        LoadedJudge.load(str(tmp_path / "empty"))
    # A Hub id the Hub does not have (the loopback Hub answers 404 RepoNotFound).
    with pytest.raises(ModelError, match=r"the judge 'some-org/some-judge' is neither a local folder nor a Hub model"):
        JudgeDifficulty(model="some-org/some-judge").add_difficulty(make_pool(["q?"], tmp_path / "pool2"))
    # A Hub id while the Hub cannot be reached (every connection is dropped unanswered).
    hub.inject_disconnect("/api/models/", times=100)
    with pytest.raises(ModelError, match=r"(?s)could not fetch the judge 'some-org/some-judge'.*pass its local folder"):
        JudgeDifficulty(model="some-org/some-judge").add_difficulty(make_pool(["q?"], tmp_path / "pool3"))


def test_config_validation_names_the_bad_value():
    with pytest.raises(ValueError, match="batch_tokens must be a positive integer, got 0"):
        JudgeConfig(batch_tokens=0)
    with pytest.raises(ValueError, match="dtype must be one of"):
        JudgeConfig(dtype="fp8")
    with pytest.raises(ValueError, match="system_prompt must be a non-empty string"):
        JudgeConfig(system_prompt=" ")


def test_out_of_memory_retries_at_half_budget_then_fails_with_the_batch_size(judge, questions, expected):
    lengths = [len(p) for p in judge.encode(questions)[0]]
    limit = 2 * max(lengths) + 1  # any forward pass over more padded tokens than this "runs out of memory"

    def fake_oom(module, args, kwargs):
        if kwargs["input_ids"].numel() > limit:
            raise torch.cuda.OutOfMemoryError(f"CUDA out of memory (test: {kwargs['input_ids'].shape})")

    handle = judge.decoder.register_forward_pre_hook(fake_oom, with_kwargs=True)
    try:
        # Planned at 2 * limit, a failing batch is retried at half budget, = limit, where every batch fits.
        result = judge.score(questions, batch_tokens=2 * limit)
        assert max(abs(a - b) for a, b in zip(result.scores, expected, strict=True)) < 1e-6
        # Planned at 8 * limit, the retries at 4 * limit still hold batches over the limit: a clear failure.
        with pytest.raises(ResourceError, match=r"out of GPU memory on a batch of \d+ prompts x \d+ tokens"):
            judge.score(questions, batch_tokens=8 * limit)
    finally:
        handle.remove()


def test_registered_scorer_adds_the_column_and_caches_by_judge_prompt(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    scorer = make_difficulty_scorer("judge", model=str(tiny_model_dir), max_question_tokens=30)
    assert isinstance(scorer, JudgeDifficulty)
    scored = scorer.add_difficulty(pool)
    assert scored.column_names == [*pool.column_names, DIFFICULTY]
    cut = LoadedJudge.load(str(tiny_model_dir)).score(questions, max_question_tokens=30)
    assert max(abs(a - b) for a, b in zip(scored[DIFFICULTY], cut.scores, strict=True)) < 1e-6
    description = scorer.describe()
    assert description["truncated_questions"] == sum(cut.truncated) > 0
    assert description["model"] == str(tiny_model_dir)
    assert description["system_prompt"] == DEFAULT_SYSTEM_PROMPT
    assert description["resolved"].startswith(f"local:{Path(tiny_model_dir).resolve()}#")
    json.dumps(description)

    # Same judge, same prompt: datasets serves the cached column.
    again = make_difficulty_scorer("judge", model=str(tiny_model_dir), max_question_tokens=30).add_difficulty(pool)
    assert again._fingerprint == scored._fingerprint
    assert again.cache_files == scored.cache_files
    # Another prompt or another question budget: a new fingerprint, recomputed.
    other_prompt = JudgeDifficulty(model=str(tiny_model_dir), system_prompt="Is this hard? Answer 1 or 0.")
    reprompted = other_prompt.add_difficulty(pool)
    assert reprompted._fingerprint != scored._fingerprint
    assert reprompted[DIFFICULTY] == pytest.approx(
        reference_scores(tiny_model_dir, questions, "Is this hard? Answer 1 or 0."), abs=1e-6
    )
    assert JudgeDifficulty(model=str(tiny_model_dir)).fingerprint(pool) != scorer.fingerprint(pool)
    assert len(scorer.fingerprint(pool)) <= 49


def test_retrained_judge_in_the_same_folder_is_recomputed(tiny_model_dir, tmp_path, questions):
    from fixtures.tiny_models import build_qwen2
    from transformers import AutoTokenizer

    folder = tmp_path / "judge"
    shutil.copytree(tiny_model_dir, folder)
    pool = make_pool(questions[:10], tmp_path / "pool")
    first = JudgeDifficulty(model=str(folder)).add_difficulty(pool)
    build_qwen2(AutoTokenizer.from_pretrained(folder), folder, seed=1)  # new weights, same path
    second = JudgeDifficulty(model=str(folder)).add_difficulty(pool)
    assert second._fingerprint != first._fingerprint
    assert second[DIFFICULTY] == pytest.approx(reference_scores(folder, questions[:10]), abs=1e-6)
    assert second[DIFFICULTY] != pytest.approx(first[DIFFICULTY], abs=1e-6)


def test_plain_map_function_with_rank(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    config = JudgeConfig(model=str(tiny_model_dir), batch_tokens=2048)
    scored = pool.map(judge_difficulty_batch, batched=True, with_rank=True, fn_kwargs={"config": config})
    assert scored[DIFFICULTY] == pytest.approx(expected, abs=1e-6)
    # The config is part of the fingerprint datasets computes: another prompt is another cache entry.
    other = JudgeConfig(model=str(tiny_model_dir), batch_tokens=2048, system_prompt="Hard? 1 or 0.")
    rescored = pool.map(judge_difficulty_batch, batched=True, with_rank=True, fn_kwargs={"config": other})
    assert rescored._fingerprint != scored._fingerprint
    # A plain string column works as well.
    plain = pool.map(lambda row: {"problem": row[MESSAGES][0]["content"]}, remove_columns=[MESSAGES])
    by_column = plain.map(
        judge_difficulty_batch,
        batched=True,
        with_rank=True,
        fn_kwargs={"config": JudgeConfig(model=str(tiny_model_dir), question_column="problem")},
    )
    assert by_column[DIFFICULTY] == pytest.approx(expected, abs=1e-6)


@pytest.mark.slow
def test_two_workers_equal_one(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    one = JudgeDifficulty(model=str(tiny_model_dir), chunk_rows=8).add_difficulty(pool, num_proc=1)
    pool_copy = make_pool(questions, tmp_path / "pool_copy")  # its own cache: num_proc is not in the fingerprint
    two = JudgeDifficulty(model=str(tiny_model_dir), chunk_rows=8).add_difficulty(pool_copy, num_proc=2)
    assert one[ID] == two[ID]
    # Other shards mean other batches and thread counts: float32 sums in another order, equal well within 1e-7.
    assert two[DIFFICULTY] == pytest.approx(one[DIFFICULTY], abs=1e-7)
    assert one[DIFFICULTY] == pytest.approx(expected, abs=1e-6)


# A crash at a known point, for real: in the subprocesses of these tests, a sitecustomize wraps the scorer's store so
# that the process saving its Nth chunk kills itself (SIGKILL, no cleanup) right after. It runs in every interpreter the
# test starts, so it reaches datasets' spawned map workers too.
CRASH_AFTER_CHUNKS = """
import os, signal

if os.environ.get("S2R_TEST_DIE_AFTER_CHUNKS"):
    from s2r_hf.signals.judge import store

    _limit = int(os.environ["S2R_TEST_DIE_AFTER_CHUNKS"])
    _original_add = store.ScoreStore.add
    _saved = []

    def _add_then_die(self, *args, **kwargs):
        path = _original_add(self, *args, **kwargs)
        _saved.append(path)
        if len(_saved) == _limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return path

    store.ScoreStore.add = _add_then_die
"""

SCORING_RUN = """
import sys
from datasets import Dataset
from s2r_hf.signals.judge.scorer import JudgeDifficulty

if __name__ == "__main__":
    pool_dir, model_dir, work_dir, num_proc = sys.argv[1:5]
    scorer = JudgeDifficulty(model=model_dir, work_dir=work_dir, chunk_rows=8)
    scorer.add_difficulty(Dataset.load_from_disk(pool_dir), num_proc=None if num_proc == "0" else int(num_proc))
    print("FINISHED")
"""


def _stored_rows(work_dir: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(part).num_rows for part in work_dir.glob("judge-*/part-*.parquet"))


def _run_crashing(tmp_path: Path, pool_dir: Path, model_dir: Path, work_dir: Path, num_proc: int, die_after: int):
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(CRASH_AFTER_CHUNKS)
    script = tmp_path / "scoring_run.py"
    script.write_text(SCORING_RUN)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(inject), str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        "S2R_TEST_DIE_AFTER_CHUNKS": str(die_after),
    }
    return subprocess.run(
        [sys.executable, str(script), str(pool_dir), str(model_dir), str(work_dir), str(num_proc)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_killed_run_resumes_without_rescoring(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    work_dir = tmp_path / "work"
    crashed = _run_crashing(tmp_path, tmp_path / "pool", tiny_model_dir, work_dir, num_proc=0, die_after=2)
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    assert "FINISHED" not in crashed.stdout
    assert _stored_rows(work_dir) == 16  # two chunks of 8 rows were saved before the crash
    scorer = JudgeDifficulty(model=str(tiny_model_dir), work_dir=work_dir, chunk_rows=8)
    # The crash left no complete-looking result behind: datasets has no cache file for the finished column.
    assert not list((tmp_path / "pool").glob(f"cache-{scorer.fingerprint(pool)}*.arrow"))
    resumed = scorer.add_difficulty(pool)
    assert resumed[DIFFICULTY] == pytest.approx(expected, abs=1e-6)
    # Every question was scored exactly once across the two runs: nothing finished was redone.
    assert _stored_rows(work_dir) == len(set(questions)) == 40


@pytest.mark.slow
def test_a_dying_worker_fails_the_run_loudly_and_resume_completes_it(tiny_model_dir, tmp_path, questions, expected):
    pool = make_pool(questions, tmp_path / "pool")
    work_dir = tmp_path / "work"
    # Each of the two workers dies right after saving its first chunk.
    crashed = _run_crashing(tmp_path, tmp_path / "pool", tiny_model_dir, work_dir, num_proc=2, die_after=1)
    assert crashed.returncode == 1, crashed.stderr[-2000:]
    assert "FINISHED" not in crashed.stdout
    assert "abruptly died" in crashed.stderr
    assert 8 <= _stored_rows(work_dir) < 40
    resumed = JudgeDifficulty(model=str(tiny_model_dir), work_dir=work_dir, chunk_rows=8).add_difficulty(pool)
    assert resumed[DIFFICULTY] == pytest.approx(expected, abs=1e-6)
    assert _stored_rows(work_dir) == 40


def test_store_reuses_scores_across_batching(tiny_model_dir, tmp_path, questions, expected):
    config = JudgeConfig(model=str(tiny_model_dir), work_dir=str(tmp_path / "work"))
    first = judge_difficulty_batch({MESSAGES: [make_messages(q, "t") for q in questions[:25]]}, config=config)
    # Overlapping rows, in another order and batch: only the 15 new questions are scored.
    batch = {MESSAGES: [make_messages(q, "t") for q in reversed(questions)]}
    second = judge_difficulty_batch(batch, config=config)
    assert first[DIFFICULTY] == pytest.approx(expected[:25], abs=1e-6)
    assert second[DIFFICULTY] == pytest.approx(list(reversed(expected)), abs=1e-6)
    assert _stored_rows(tmp_path / "work") == 40
    (folder,) = (tmp_path / "work").glob("judge-*")
    assert len(ScoreStore(folder).known()) == 40
    assert json.loads((folder / "judge.json").read_text())["system_prompt"] == DEFAULT_SYSTEM_PROMPT
