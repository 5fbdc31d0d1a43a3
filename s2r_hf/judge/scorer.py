"""The LLM-judge difficulty: `s2r_difficulty` = P("1") / (P("0") + P("1")) of an instruct model's first answer token.

How the score is computed (exact, not the reference code's top-2-logprobs approximation):
- each question is rendered with the judge's chat template (s2r_hf.judge.prompt) and, when longer than
  `max_question_tokens`, cut to that many tokens first (counted, and logged as a warning);
- prompts are sorted by length and grouped into batches whose padded size stays within `batch_tokens`, so almost no
  compute goes to padding; padding is on the right, so causal attention never lets a real token see a pad and a
  question scores the same whatever its neighbours;
- one forward pass of the decoder per batch; the chat-template header that every prompt starts with (system prompt
  included) runs once per batch and the rows continue from its keys and values; the output head is applied only at
  each prompt's last real position (never full-vocabulary logits at every position); the two logits of the exact token
  ids of "0" and "1" are soft-maxed in float64.
- a prompt longer than the model's context (`max_position_embeddings`) after the cut is an error naming the fix
  (a lower `max_question_tokens`), never a silent truncation of the template.

Datasets workers are started with "spawn" (see `spawned_workers`); scripts calling `add_difficulty(num_proc=...)` keep
their top-level code under `if __name__ == "__main__":`.

Three ways to run it, one code path:
- `JudgeDifficulty(...).add_difficulty(pool, num_proc=n_gpus)`: the registered scorer ("judge");
- `pool.map(judge_difficulty_batch, batched=True, with_rank=True, num_proc=n, fn_kwargs={"config": JudgeConfig(...)})`
  in a user's own pipeline (the config is in datasets' fingerprint: a changed model, revision or prompt recomputes);
- `LoadedJudge.load(...).score(questions)` for a plain list of strings, and s2r_hf.judge.distributed for torchrun.

Resuming: with `work_dir` set, every scored batch is written at once as a small parquet file of (question hash, score)
under a folder keyed by the judge, its revision, the prompt and the settings that change scores. A rerun after a crash
reads those and scores only what is missing. The pool's column itself only ever comes out of a completed `map`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import os
import uuid
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.columns import DIFFICULTY, ID, MESSAGES
from s2r_hf.difficulty import DifficultyScorer
from s2r_hf.judge.prompt import (
    DEFAULT_JUDGE,
    DEFAULT_SYSTEM_PROMPT,
    encode_judge_prompts,
    verdict_token_ids,
)
from s2r_hf.pool import question_of

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# Bump when a change here can change scores: it is part of every cache key (datasets fingerprint and resume store).
SCORER_VERSION = "1"
# A private per-row flag returned by the map next to the score, summed for the summary and then dropped.
_TRUNCATED = "_s2r_judge_truncated"
_DTYPES = ("float32", "bfloat16", "float16", "float64")


@dataclass
class JudgeConfig:
    """Settings of the LLM-judge difficulty scorer."""

    model: str = field(
        default=DEFAULT_JUDGE, metadata={"help": "Judge model: a Hub model id or a local folder (weights + tokenizer)."}
    )
    revision: str | None = field(
        default=None, metadata={"help": "Hub revision (branch, tag or commit) of the judge; None = the default branch."}
    )
    system_prompt: str = field(
        default=DEFAULT_SYSTEM_PROMPT, metadata={"help": "System turn asking the judge for a 0/1 difficulty verdict."}
    )
    max_question_tokens: int = field(
        default=4096,
        metadata={"help": "Questions longer than this many judge tokens are cut to it (counted and logged)."},
    )
    batch_tokens: int | None = field(
        default=None,
        metadata={
            "help": "Token budget per forward pass (rows x longest prompt of a batch); None = 2048 on CPU (batches "
            "that stay in cache run fastest there), 32768 on GPU."
        },
    )
    device: str | None = field(
        default=None,
        metadata={"help": "'cpu', 'cuda' or 'cuda:N'; None = cuda:{rank % n_gpus} when CUDA is available, else cpu."},
    )
    dtype: str | None = field(
        default=None, metadata={"help": f"One of {_DTYPES}; None = bfloat16 on GPU, float32 on CPU."}
    )
    work_dir: str | None = field(
        default=None,
        metadata={"help": "Folder for resumable partial results; None = no resume (a crash loses the run's work)."},
    )
    chunk_rows: int = field(
        default=4096,
        metadata={
            "help": "Rows per map batch: prompts are length-sorted within it, and it is the unit of work saved to "
            "work_dir (at most this much is redone after a crash)."
        },
    )
    question_column: str | None = field(
        default=None,
        metadata={"help": "Read questions from this string column instead of the first user turn of `messages`."},
    )

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must be a Hub id or a local folder, got {self.model!r}")
        if not isinstance(self.system_prompt, str) or not self.system_prompt.strip():
            raise ValueError(f"system_prompt must be a non-empty string, got {self.system_prompt!r}")
        for name in ("max_question_tokens", "batch_tokens", "chunk_rows"):
            value = getattr(self, name)
            if name == "batch_tokens" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.dtype is not None and self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES} or None (auto), got {self.dtype!r}")
        if self.device is not None and not (self.device == "cpu" or self.device.split(":")[0] in ("cuda", "mps")):
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or None (auto), got {self.device!r}")

    def score_settings(self) -> dict[str, Any]:
        """What, besides the judge's weights, changes the scores (the batch budget and device placement do not)."""
        return {
            "system_prompt": self.system_prompt,
            "max_question_tokens": self.max_question_tokens,
            "dtype": self.dtype,
            "scorer_version": SCORER_VERSION,
        }


@dataclass
class ScoreResult:
    """Scores of a list of questions and what it took to compute them."""

    scores: list[float]
    truncated: list[bool]
    prompt_tokens: int = 0  # tokens of all prompts
    real_tokens: int = 0  # prompt tokens run through the model (a prefix shared by a batch runs once)
    padded_tokens: int = 0  # padding tokens run through the model next to them
    batches: int = 0

    @property
    def padding_fraction(self) -> float:
        total = self.real_tokens + self.padded_tokens
        return self.padded_tokens / total if total else 0.0


def plan_batches(lengths: Sequence[int], batch_tokens: int) -> list[list[int]]:
    """Group prompt indices, longest first, so that rows x longest prompt of every batch stays within `batch_tokens`.

    A prompt longer than the whole budget gets a batch of its own. Sorting makes neighbours nearly equal in length, so
    right padding wastes little; ties keep their input order, so the plan is deterministic.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        # The first row of a batch is its longest, so the padded size is rows * lengths[current[0]].
        if current and (len(current) + 1) * lengths[current[0]] > batch_tokens:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def resolve_device(device: str | None, rank: int | None = None) -> str:
    import torch

    if device is None:
        if torch.cuda.is_available():
            return f"cuda:{(rank or 0) % torch.cuda.device_count()}"
        return "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was asked for but torch sees no CUDA device; use device=None or 'cpu'")
        return f"cuda:{(rank or 0) % torch.cuda.device_count()}"
    return device


def default_batch_tokens(device: str) -> int:
    return 2048 if device == "cpu" else 32768


def resolve_dtype(dtype: str | None, device: str) -> str:
    if dtype is not None:
        return dtype
    # bf16 halves memory and doubles matmul throughput on GPUs; CPUs compute float32 fastest and exactly.
    return "float32" if device == "cpu" else "bfloat16"


class LoadedJudge:
    """A judge model and tokenizer on one device, ready to score questions."""

    def __init__(self, model, tokenizer, device: str, dtype: str, source: str):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.source = source
        self.zero_id, self.one_id = verdict_token_ids(tokenizer)
        self.decoder = model.get_decoder()
        self.head = model.get_output_embeddings()
        if self.head is None or self.decoder is model:
            raise ValueError(
                f"{source}: {type(model).__name__} has no separate decoder and output head; the judge must be a causal "
                "LM such as Qwen2ForCausalLM or LlamaForCausalLM"
            )
        # Gemma-style models squash logits before the softmax; the two-token softmax must see the same values.
        self.softcap = getattr(model.config, "final_logit_softcapping", None)
        self.context = _context_length(model.config)
        # transformers 5 names the key/value cache `cache`; earlier versions `past_key_values`. Without either, every
        # prompt runs in full.
        parameters = inspect.signature(self.decoder.forward).parameters
        self._cache_argument = next((n for n in ("cache", "past_key_values") if n in parameters), None)
        self._prefix_kv: tuple[tuple[int, ...], Any] | None = None

    @classmethod
    def load(
        cls, model: str, revision: str | None = None, *, device: str | None = None, dtype: str | None = None
    ) -> LoadedJudge:
        """Load a judge from a local folder or the Hub; checks the chat template and the "0"/"1" tokens."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_model_reference(model)
        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device)
        tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"the judge tokenizer of {model!r} has no chat template, so the judge prompt (system + user turns + "
                "generation prompt) cannot be rendered. Use an instruct/chat model, or set tokenizer.chat_template "
                "and save the tokenizer beside the model"
            )
        verdict_token_ids(tokenizer)  # fail before loading weights when "0"/"1" are not single tokens
        network = AutoModelForCausalLM.from_pretrained(model, revision=revision, dtype=getattr(torch, dtype))
        network.to(device)
        network.eval()
        return cls(network, tokenizer, device, dtype, source=model)

    def encode(
        self, questions: Sequence[str], system_prompt: str = DEFAULT_SYSTEM_PROMPT, max_question_tokens: int = 4096
    ) -> tuple[list[list[int]], list[bool]]:
        """Token ids of each question's judge prompt, the question cut to `max_question_tokens`; and which were cut."""
        check_questions(questions)
        prompts, truncated = encode_judge_prompts(self.tokenizer, list(questions), system_prompt, max_question_tokens)
        too_long = [i for i, ids in enumerate(prompts) if self.context is not None and len(ids) > self.context]
        if too_long:
            first = too_long[0]
            raise ValueError(
                f"{len(too_long)} judge prompts are longer than the model's context of {self.context} tokens (the "
                f"first has {len(prompts[first])} tokens{', its question cut' if truncated[first] else ''}); lower "
                f"max_question_tokens (now {max_question_tokens}) below the context minus the prompt template"
            )
        return prompts, truncated

    def score(
        self,
        questions: Sequence[str],
        *,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        max_question_tokens: int = 4096,
        batch_tokens: int | None = None,
    ) -> ScoreResult:
        """Difficulty of each question, in input order."""
        prompts, truncated = self.encode(questions, system_prompt, max_question_tokens)
        result = self.score_prompts(prompts, batch_tokens=batch_tokens)
        result.truncated = truncated
        return result

    def score_prompts(self, prompts: Sequence[Sequence[int]], *, batch_tokens: int | None = None) -> ScoreResult:
        """P("1") / (P("0") + P("1")) after each prompt (token ids, chat template already applied), in input order."""
        import torch

        if batch_tokens is None:
            batch_tokens = default_batch_tokens(self.device)

        lengths = [len(p) for p in prompts]
        if any(length == 0 for length in lengths):
            raise ValueError("a judge prompt has no tokens; every prompt needs at least one token to score")
        scores = [0.0] * len(prompts)
        result = ScoreResult(scores=scores, truncated=[False] * len(prompts))
        pending = [(batch, batch_tokens) for batch in plan_batches(lengths, batch_tokens)]
        while pending:
            batch, budget = pending.pop()
            batch_prompts = [prompts[i] for i in batch]
            out_of_memory = False
            try:
                outcome = self._forward(batch_prompts)
            except torch.cuda.OutOfMemoryError as err:
                rows, longest = len(batch), max(lengths[i] for i in batch)
                if budget < batch_tokens or len(batch) == 1:
                    raise RuntimeError(
                        f"out of GPU memory on a batch of {rows} prompts x {longest} tokens ({rows * longest} padded "
                        f"tokens, budget {budget}) on {self.device}; lower batch_tokens (now {batch_tokens}) or "
                        "max_question_tokens"
                    ) from err
                out_of_memory = True
            if out_of_memory:
                # Retry outside the except block: the traceback would otherwise keep the failed batch's tensors alive.
                if self.device.startswith("cuda"):
                    torch.cuda.empty_cache()
                half = budget // 2
                logger.warning(
                    "out of GPU memory on %d prompts; retrying them at half the token budget (%d)", rows, half
                )
                sub_lengths = [lengths[i] for i in batch]
                pending.extend(([batch[j] for j in sub], half) for sub in plan_batches(sub_lengths, half))
                continue
            probabilities, real, padded = outcome
            for index, probability in zip(batch, probabilities, strict=True):
                scores[index] = probability
            result.prompt_tokens += sum(lengths[i] for i in batch)
            result.real_tokens += real
            result.padded_tokens += padded
            result.batches += 1
        return result

    def _forward(self, prompts: Sequence[Sequence[int]]) -> tuple[list[float], int, int]:
        """Scores of one batch, and the real and padding tokens run through the model."""
        import torch

        rows = len(prompts)
        shared = shared_prefix_length(prompts) if rows > 1 and self._cache_argument else 0
        if shared < MIN_SHARED_PREFIX:
            shared = 0
        suffixes = [p[shared:] for p in prompts]
        longest = max(len(p) for p in suffixes)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((rows, longest), pad_id, dtype=torch.long)
        for row, suffix in enumerate(suffixes):
            input_ids[row, : len(suffix)] = torch.as_tensor(suffix, dtype=torch.long)
        last = torch.as_tensor([len(p) - 1 for p in suffixes], dtype=torch.long)
        input_ids, last = input_ids.to(self.device), last.to(self.device)
        real = sum(len(p) for p in suffixes)
        with torch.inference_mode():
            # No attention mask, on purpose: padding is on the right, so under the causal mask no real token can see a
            # pad, and positions 0..n-1 are already right. Scores are those of each prompt alone, and attention runs
            # as plain causal attention (no (rows x L x L) mask to build, flash kernels on GPU).
            inputs = {"input_ids": input_ids}
            if shared:
                # Every prompt starts with the same chat-template header and system prompt: run it once, then let each
                # row continue from its keys and values. Exact: under causal attention the prefix never sees the rest.
                inputs[self._cache_argument] = self._prefix_cache(prompts[0][:shared], rows)
                inputs["position_ids"] = torch.arange(shared, shared + longest, device=self.device).expand(rows, -1)
                real += shared
            hidden = self.decoder(**inputs, use_cache=bool(shared)).last_hidden_state
            final = hidden[torch.arange(rows, device=hidden.device), last]  # (rows, hidden): one position per prompt
            logits = self.head(final).double()
            if self.softcap:
                logits = torch.tanh(logits / self.softcap) * self.softcap
            pair = logits[:, [self.zero_id, self.one_id]]
            probabilities = torch.softmax(pair, dim=-1)[:, 1].tolist()
        return probabilities, real, rows * longest - sum(len(p) for p in suffixes)

    def _prefix_cache(self, prefix: Sequence[int], rows: int):
        """Keys and values of `prefix`, repeated for `rows` rows (computed once per distinct prefix)."""
        import copy

        import torch

        key = tuple(prefix)
        if self._prefix_kv is None or self._prefix_kv[0] != key:
            ids = torch.as_tensor([prefix], dtype=torch.long, device=self.device)
            output = self.decoder(input_ids=ids, use_cache=True)
            self._prefix_kv = (key, getattr(output, self._cache_argument))
        cache = copy.deepcopy(self._prefix_kv[1])  # the batch appends its own keys and values to its copy
        cache.batch_repeat_interleave(rows)
        return cache


MIN_SHARED_PREFIX = 4  # below this, running a prefix separately costs more than it saves


def shared_prefix_length(prompts: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix common to all prompts, leaving at least one token of each to run with the batch."""
    first = prompts[0]
    length = min(len(p) for p in prompts) - 1
    for prompt in prompts[1:]:
        position = 0
        while position < length and prompt[position] == first[position]:
            position += 1
        length = position
        if length == 0:
            break
    return max(length, 0)


def _context_length(config) -> int | None:
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return getattr(text_config, "max_position_embeddings", None)


def check_model_reference(model: str) -> None:
    """A clear error for a local path that does not exist (rather than a confusing Hub lookup of a file path)."""
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(
                f"the judge model {model!r} is a file; give the folder holding config.json and the weights"
            )
        if not (path / "config.json").exists():
            raise FileNotFoundError(
                f"the judge folder {model!r} has no config.json (found: {sorted(p.name for p in path.iterdir())[:10]})"
                "; "
                "save the model there with save_pretrained"
            )
        return
    looks_local = model.startswith(("/", "./", "../", "~")) or model.count("/") > 1 or os.sep + os.sep in model
    if looks_local:
        raise FileNotFoundError(
            f"the judge model folder {model!r} does not exist; give an existing folder or a Hub id such as "
            f"{DEFAULT_JUDGE!r}"
        )


def check_questions(questions: Sequence[Any], ids: Sequence[str] | None = None) -> None:
    bad = [i for i, q in enumerate(questions) if not isinstance(q, str) or not q.strip()]
    if bad:
        where = [ids[i] for i in bad[:5]] if ids is not None else bad[:5]
        raise ValueError(
            f"{len(bad)} questions are empty or not strings (first rows: {where}, values: "
            f"{[questions[i] for i in bad[:3]]!r}); the judge cannot rate an empty question. Filter them out first"
        )


# ---- the per-process judge and the resume store ----------------------------------------------------------------

_JUDGES: dict[tuple, LoadedJudge] = {}


def judge_for(config: JudgeConfig, rank: int | None = None) -> LoadedJudge:
    """The judge of `config` on this process's device, loaded once per process (datasets workers stay alive)."""
    device = resolve_device(config.device, rank)
    # The folder's file stamps are in the key: a judge retrained in place must not be served from this cache.
    stamp = local_identity(Path(config.model)) if Path(config.model).is_dir() else None
    key = (config.model, config.revision, stamp, device, resolve_dtype(config.dtype, device))
    if key not in _JUDGES:
        _JUDGES[key] = LoadedJudge.load(config.model, config.revision, device=device, dtype=config.dtype)
    return _JUDGES[key]


def question_key(question: str) -> str:
    return hashlib.blake2b(question.encode("utf-8"), digest_size=16).hexdigest()


class ScoreStore:
    """Finished scores of one judge setting, as small parquet files written atomically one per scored batch.

    Scores depend on the question text and the judge alone, so they are keyed by a hash of the question: a rerun finds
    them whatever the batching, the number of workers or the row order, and duplicate questions are scored once.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._known: dict[str, tuple[float, bool]] | None = None

    @classmethod
    def for_judge(cls, work_dir: str | Path, identity: str, settings: dict[str, Any]) -> ScoreStore:
        digest = stable_digest({"identity": identity, **settings})
        folder = Path(work_dir) / f"judge-{digest[:24]}"
        folder.mkdir(parents=True, exist_ok=True)
        info = folder / "judge.json"
        if not info.exists():
            _write_atomic_text(info, json.dumps({"identity": identity, **settings}, indent=2))
        return cls(folder)

    def known(self) -> dict[str, tuple[float, bool]]:
        if self._known is None:
            import pyarrow.parquet as pq

            self._known = {}
            for part in sorted(self.folder.glob("part-*.parquet")):
                table = pq.read_table(part).to_pydict()
                for key, score, cut in zip(table["key"], table["difficulty"], table["truncated"], strict=True):
                    self._known[key] = (score, cut)
        return self._known

    def add(self, keys: Sequence[str], scores: Sequence[float], truncated: Sequence[bool]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {"key": list(keys), "difficulty": pa.array(scores, pa.float64()), "truncated": list(truncated)}
        )
        path = self.folder / f"part-{uuid.uuid4().hex}.parquet"
        temporary = path.with_name(f".tmp-{path.name}")
        pq.write_table(table, temporary)
        os.replace(temporary, path)  # a killed run leaves at most a hidden temp file, never a partial part
        known = self.known()
        for key, score, cut in zip(keys, scores, truncated, strict=True):
            known[key] = (score, cut)
        return path


def stable_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _write_atomic_text(path: Path, text: str) -> None:
    temporary = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def score_questions(
    questions: Sequence[str], config: JudgeConfig, *, rank: int | None = None, identity: str | None = None
) -> ScoreResult:
    """Score questions with the judge of `config`, reusing and extending its resume store when `work_dir` is set."""
    judge = judge_for(config, rank)
    check_questions(questions)
    if config.work_dir is None:
        return judge.score(
            questions,
            system_prompt=config.system_prompt,
            max_question_tokens=config.max_question_tokens,
            batch_tokens=config.batch_tokens,
        )
    settings = {**config.score_settings(), "dtype": judge.dtype}
    store = ScoreStore.for_judge(config.work_dir, identity or f"{config.model}@{config.revision}", settings)
    keys = [question_key(q) for q in questions]
    known = store.known()
    todo: dict[str, str] = {}
    for key, question in zip(keys, questions, strict=True):
        if key not in known:
            todo.setdefault(key, question)
    result = ScoreResult(scores=[], truncated=[])
    if todo:
        result = judge.score(
            list(todo.values()),
            system_prompt=config.system_prompt,
            max_question_tokens=config.max_question_tokens,
            batch_tokens=config.batch_tokens,
        )
        store.add(list(todo), result.scores, result.truncated)
    result.scores = [known[key][0] for key in keys]
    result.truncated = [known[key][1] for key in keys]
    return result


def judge_difficulty_batch(
    batch: dict[str, list],
    rank: int | None = None,
    *,
    config: JudgeConfig,
    identity: str | None = None,
    num_workers: int | None = None,
) -> dict[str, list]:
    """Batched `Dataset.map` function: adds `s2r_difficulty` (and a private truncation flag) to a batch of pool rows.

    Use with `batched=True, with_rank=True, num_proc=<number of GPUs>` (and `multiprocess.set_start_method("spawn")` in
    `__main__` when on CUDA). The judge loads lazily, once per worker process, on `cuda:{rank % n_gpus}` or the CPU.
    """
    if num_workers and resolve_device(config.device, rank) == "cpu":
        import torch

        # Several CPU workers each using every core would fight over them.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // num_workers))
    if config.question_column is not None:
        if config.question_column not in batch:
            raise KeyError(f"question column {config.question_column!r} not in the batch; columns: {sorted(batch)}")
        questions = batch[config.question_column]
    else:
        if MESSAGES not in batch:
            raise KeyError(
                f"the judge reads the question from {MESSAGES!r}, which is not in the batch; columns: {sorted(batch)}. "
                "Set question_column to read a plain string column instead"
            )
        questions = [question_of(messages) for messages in batch[MESSAGES]]
    check_questions(questions, batch.get(ID))
    result = score_questions(questions, config, rank=rank, identity=identity)
    return {DIFFICULTY: result.scores, _TRUNCATED: result.truncated}


# ---- the registered scorer ----------------------------------------------------------------------------------------


@contextmanager
def spawned_workers():
    """Make datasets start its map workers with "spawn" for the duration of the block.

    Forking a process whose torch has already run (OpenMP thread pools, an initialised CUDA context) can deadlock the
    children or break CUDA in them; spawned workers start clean and load the judge themselves. As with any spawn,
    a calling script must keep its top-level work under `if __name__ == "__main__":`.
    """
    import multiprocess

    previous = multiprocess.get_start_method(allow_none=True)
    multiprocess.set_start_method("spawn", force=True)
    try:
        yield
    finally:
        multiprocess.set_start_method(previous, force=True)


def local_identity(folder: Path) -> str:
    """Names a local judge by its path and its files' names, sizes and modification times (cheap: no hashing)."""
    stamps = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
    return f"local:{folder.resolve()}#{stable_digest(stamps)[:16]}"


def resolve_judge(model: str, revision: str | None = None) -> tuple[str, str]:
    """(local folder, identity) of a judge. The identity changes whenever the weights might have changed.

    Hub models are fetched once here, in the main process, so that workers load from the local cache instead of all
    downloading at once; their identity is the resolved commit. Local folders are identified by the names, sizes and
    modification times of their files, so that a model retrained in place is recomputed, not served from a stale cache.
    """
    check_model_reference(model)
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path.resolve()), local_identity(path)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    from s2r_hf.http_errors import transport_errors

    try:
        folder = snapshot_download(
            repo_id=model,
            revision=revision,
            allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken"],
        )
    except RepositoryNotFoundError as err:
        raise FileNotFoundError(
            f"the judge {model!r} is neither a local folder nor a Hub model this token can see ({err}); check the "
            "name, or log in for a gated or private model"
        ) from err
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, *transport_errors()) as err:
        raise OSError(
            f"could not fetch the judge {model!r} (revision {revision or 'default'}) from the Hub: {err}. Without "
            "network access, download it elsewhere and pass its local folder"
        ) from err
    return folder, f"{model}@{Path(folder).name}"


class JudgeDifficulty(DifficultyScorer):
    """Difficulty = P("1") / (P("0") + P("1")) of an instruct LLM asked whether the question is difficult."""

    name = "judge"
    config_class = JudgeConfig

    def __init__(self, **options: Any):
        # Every JudgeConfig field is a keyword here, from the one definition (question_column included).
        if isinstance(options.get("work_dir"), os.PathLike):
            options["work_dir"] = str(options["work_dir"])
        self.config = JudgeConfig(**options)
        self.identity: str | None = None
        self.summary: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        config = self.config
        return {
            "scorer": self.name,
            "model": config.model,
            "revision": config.revision,
            "resolved": self.identity,
            "system_prompt": config.system_prompt,
            "prompt_layout": "chat template: system prompt, user question, generation prompt",
            "formula": 'P("1") / (P("0") + P("1")) at the first answer token, from the exact token logits',
            "max_question_tokens": config.max_question_tokens,
            "batch_tokens": config.batch_tokens or "auto (2048 on CPU, 32768 on GPU)",
            "device": config.device or "auto (cuda:{rank % n_gpus} when available, else cpu)",
            "dtype": config.dtype or "auto (bfloat16 on GPU, float32 on CPU)",
            "scorer_version": SCORER_VERSION,
            **self.summary,
        }

    def fingerprint(self, pool: Dataset) -> str:
        """datasets fingerprint of the scored pool: the pool's plus the judge's identity and score settings.

        At most 49 characters (datasets appends a per-worker suffix and checks 64); batch size and device are left out
        because they do not change the scores.
        """
        dtype = resolve_dtype(self.config.dtype, resolve_device(self.config.device))
        payload = {
            "pool": pool._fingerprint,
            "identity": self.identity,
            **self.config.score_settings(),
            "dtype": dtype,
        }
        return f"s2r-judge-{stable_digest(payload)[:32]}"

    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        question_column = self.config.question_column or MESSAGES
        if question_column not in pool.column_names:
            raise KeyError(
                f"the judge reads questions from {question_column!r}, not in the pool; columns: {pool.column_names}"
            )
        folder, self.identity = resolve_judge(self.config.model, self.config.revision)
        # Workers load the resolved folder: no Hub traffic from them, and the fingerprint names exactly what they load.
        worker_config = dataclasses.replace(self.config, model=folder, revision=None)
        with spawned_workers():
            scored = pool.map(
                judge_difficulty_batch,
                batched=True,
                batch_size=self.config.chunk_rows,
                with_rank=True,
                num_proc=num_proc,
                fn_kwargs={"config": worker_config, "identity": self.identity, "num_workers": num_proc},
                new_fingerprint=self.fingerprint(pool),
                desc=f"Judge difficulty ({Path(self.config.model).name})",
            )
        truncated = sum(scored[_TRUNCATED])
        self.summary = {"rows_scored": len(scored), "truncated_questions": truncated}
        if truncated:
            logger.warning(
                "%d of %d questions were longer than %d judge tokens and were cut to that length before scoring",
                truncated,
                len(scored),
                self.config.max_question_tokens,
            )
        return scored.remove_columns(_TRUNCATED)
