"""The judge's runtime: finding and loading a judge model, and scoring prompts with it on one device.

How a batch of prompts is scored (exact, not the reference code's top-2-logprobs approximation):
- prompts are sorted by length and grouped into batches whose padded size stays within `batch_tokens`, so almost no
  compute goes to padding; padding is on the right, so causal attention never lets a real token see a pad and a
  question scores the same whatever its neighbours;
- one forward pass of the decoder per batch; the chat-template header that every prompt starts with (system prompt
  included) runs once per batch and the rows continue from its keys and values; the output head is applied only at
  each prompt's last real position (never full-vocabulary logits at every position); the two logits of the exact token
  ids of "0" and "1" are soft-maxed in float64;
- a prompt longer than the model's context (`max_position_embeddings`) after the cut is an error naming the fix
  (a lower `max_question_tokens`), never a silent truncation of the template;
- out of GPU memory, a batch is retried at half the token budget once, then fails naming the settings to lower.

Finding a judge: a local folder is checked for its config, tokenizer and chat template before anything loads; a Hub id
is fetched once (`resolve_judge`) and named by its resolved commit. The checks are every model's
(s2r_hf.core.models); `check_model_reachable` does the cheap part of both up front, so a wrong judge fails in a second
rather than after the rest of the scoring.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, ModelError, ResourceError
from s2r_hf.core.models import check_model_reference, fetch_model, no_chat_template_message, one_line
from s2r_hf.signals.judge.prompt import DEFAULT_SYSTEM_PROMPT, encode_judge_prompts, verdict_token_ids

logger = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16", "float64")


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


def check_device(device: str | None) -> None:
    """'cpu', 'mps', 'cuda' or 'cuda:N' (N a GPU index), or None for automatic; anything else in words."""
    if device is None or device in ("cpu", "mps", "cuda"):
        return
    if isinstance(device, str) and re.fullmatch(r"cuda:\d+", device):
        return
    raise InputError(f"device must be 'cpu', 'cuda', 'cuda:N' or None (auto), or 'mps' (N: GPU index); got {device!r}")


def resolve_device(device: str | None, rank: int | None = None) -> str:
    import torch

    check_device(device)

    if device is None:
        if torch.cuda.is_available():
            return f"cuda:{(rank or 0) % torch.cuda.device_count()}"
        return "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InputError("device='cuda' was asked for but torch sees no CUDA device; use device=None or 'cpu'")
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
            raise ModelError(
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

        if isinstance(model, os.PathLike):  # a local judge folder given as a pathlib.Path
            model = os.fspath(model)
        check_model_reference(model, role="judge")
        if dtype is not None and dtype not in DTYPES:
            raise InputError(f"dtype must be one of {list(DTYPES)} or None (auto), got {dtype!r}")
        if Path(model).expanduser().is_dir():
            model = str(Path(model).expanduser())  # transformers would read an unexpanded "~/..." as a Hub id
        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
        except (OSError, ValueError) as err:  # how transformers says it cannot read a tokenizer there
            raise ModelError(f"could not load the judge's tokenizer from {model!r}: {one_line(err)}") from err
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(no_chat_template_message(model, role="judge"))
        verdict_token_ids(tokenizer)  # fail before loading weights when "0"/"1" are not single tokens
        try:
            network = AutoModelForCausalLM.from_pretrained(model, revision=revision, dtype=getattr(torch, dtype))
        except OSError as err:  # no weights in the folder, or a download that failed
            raise ModelError(f"could not load the judge's weights from {model!r}: {one_line(err)}") from err
        network.to(device)
        network.eval()
        return cls(network, tokenizer, device, dtype, source=model)

    def encode(
        self, questions: Sequence[str], system_prompt: str = DEFAULT_SYSTEM_PROMPT, max_question_tokens: int = 4096
    ) -> tuple[list[list[int]], list[bool]]:
        """Token ids of each question's judge prompt, the question cut to `max_question_tokens`; and which were cut."""
        check_positive_integer("max_question_tokens", max_question_tokens)
        if not isinstance(system_prompt, str) or not system_prompt.strip():
            raise InputError(f"system_prompt must be a non-empty string, got {system_prompt!r}")
        check_questions(questions)
        if not questions:
            return [], []
        prompts, truncated = encode_judge_prompts(self.tokenizer, list(questions), system_prompt, max_question_tokens)
        too_long = [i for i, ids in enumerate(prompts) if self.context is not None and len(ids) > self.context]
        if too_long:
            first = too_long[0]
            raise InputError(
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
        check_positive_integer("batch_tokens", batch_tokens)

        self.check_prompts(prompts)
        lengths = [len(p) for p in prompts]
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
                    raise ResourceError(
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

    def check_prompts(self, prompts: Sequence[Sequence[int]]) -> None:
        """Each prompt is a non-empty list of token ids of this judge's vocabulary (not an index error in torch)."""
        if isinstance(prompts, (str, bytes)) or not isinstance(prompts, Sequence):
            raise InputError(f"prompts are a list of token id lists, got {type(prompts).__name__}")
        vocabulary = self.model.get_input_embeddings().num_embeddings
        for position, prompt in enumerate(prompts):
            if isinstance(prompt, (str, bytes)) or not isinstance(prompt, Sequence) or not prompt:
                raise InputError(
                    f"prompt {position} is {prompt!r}; every prompt is a non-empty list of token ids (to score text, "
                    "use score(questions))"
                )
            if not all(is_integer(token) and 0 <= token < vocabulary for token in prompt):
                bad = next(token for token in prompt if not (is_integer(token) and 0 <= token < vocabulary))
                raise InputError(
                    f"prompt {position} holds {bad!r}, not a token id of the judge's vocabulary [0, {vocabulary}); "
                    "encode prompts with this judge's tokenizer (LoadedJudge.encode)"
                )

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


def is_integer(value: Any) -> bool:
    """An int or a numpy integer, not a bool; a float only when whole (an int written as 4096.0), never NaN."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return hasattr(value, "__index__")


def check_positive_integer(name: str, value: Any) -> None:
    if not is_integer(value) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")


def check_questions(questions: Sequence[Any], ids: Sequence[str] | None = None) -> None:
    if isinstance(questions, str) or not isinstance(questions, Sequence):
        raise InputError(
            f"questions are a list of strings, got {type(questions).__name__} {_short_repr(questions)}; to score one "
            "question, pass [question]"
        )
    bad = [i for i, q in enumerate(questions) if not isinstance(q, str) or not q.strip()]
    if bad:
        where = [ids[i] for i in bad[:5]] if ids is not None else bad[:5]
        raise InputError(
            f"{len(bad)} questions are empty or not strings (first rows: {where}, values: "
            f"{[questions[i] for i in bad[:3]]!r}); the judge cannot rate an empty question. Filter them out first"
        )


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def local_identity(folder: Path) -> str:
    """Names a local judge by its path and its files' names, sizes and modification times (cheap: no hashing)."""
    stamps = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
    # The same digest as s2r_hf.signals.judge.store.stable_digest (this module sits below the store and cannot import
    # it).
    digest = hashlib.sha256(json.dumps(stamps, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return f"local:{folder.resolve()}#{digest[:16]}"


def resolve_judge(model: str, revision: str | None = None) -> tuple[str, str]:
    """(local folder, identity) of a judge. The identity changes whenever the weights might have changed.

    Hub models are fetched once here, in the main process, so that workers load from the local cache instead of all
    downloading at once; their identity is the resolved commit. Local folders are identified by the names, sizes and
    modification times of their files, so that a model retrained in place is recomputed, not served from a stale cache.
    """
    folder, commit = fetch_model(model, revision, role="judge")
    if commit is None:
        return str(folder), local_identity(folder)
    return str(folder), f"{model}@{commit}"
