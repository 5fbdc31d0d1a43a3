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
is fetched once (`resolve_judge`) and named by its resolved commit. `check_judge_reachable` does the cheap part of both
up front, so a wrong judge fails in a second rather than after the rest of the scoring.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, ModelError, ResourceError
from s2r_hf.core.records import read_json_object
from s2r_hf.signals.judge.prompt import DEFAULT_JUDGE, DEFAULT_SYSTEM_PROMPT, encode_judge_prompts, verdict_token_ids

logger = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16", "float64")
# Files a tokenizer can be saved as; a judge folder needs at least one, and a chat template among these or its own file.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json")
CHAT_TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
# What a judge needs from a Hub repo: config, weights, tokenizer and chat template (not other formats' weights).
JUDGE_FILE_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken"]


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
        check_model_reference(model)
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
            raise ModelError(no_chat_template_message(model))
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


def check_model_reference(model: str, *, role: str = "judge") -> None:
    """A clear error for a local path that does not exist (rather than a confusing Hub lookup of a file path), and for
    a local folder that is not a usable chat model. `role` names the model in messages ("judge", "base model")."""
    if not isinstance(model, str) or not model.strip():
        raise InputError(f"the {role} must be a Hub model id or a local folder; got {model!r}")
    path = Path(model).expanduser()
    if path.exists():
        check_model_folder(path, model, role=role)
        return
    if looks_like_a_path(model):
        raise ModelError(
            f"the {role} folder {model!r} does not exist; give an existing folder (holding config.json, the weights "
            f"and the tokenizer) or a Hub model id such as {DEFAULT_JUDGE!r}"
        )


def looks_like_a_path(model: str) -> bool:
    """A name no Hub id can have: absolute or relative paths, home folders, or more than one '/'."""
    return model.startswith(("/", "./", "../", "~", ".\\")) or model.count("/") > 1 or "\\" in model


def check_model_folder(path: Path, model: str, *, role: str = "judge") -> None:
    """A local model folder holds a config, a tokenizer and a chat template: checked by file name, loading nothing."""
    if not path.is_dir():
        raise ModelError(
            f"the {role} {model!r} is a file; give the folder holding config.json, the weights and tokenizer"
        )
    names = sorted(p.name for p in path.iterdir())
    if "config.json" not in names:
        raise ModelError(
            f"the {role} folder {model!r} has no config.json (found: {names[:10]}); save the model there with "
            "save_pretrained"
        )
    if not any(name in names for name in TOKENIZER_FILES):
        raise ModelError(
            f"the {role} folder {model!r} has no tokenizer (none of {list(TOKENIZER_FILES)}; found: {names[:10]}); "
            "save the tokenizer beside the model with tokenizer.save_pretrained"
        )
    if not has_chat_template(path):
        raise ModelError(no_chat_template_message(model, role=role))


def has_chat_template(folder: Path) -> bool:
    """A saved tokenizer carries a chat template: a chat_template file, or tokenizer_config.json's chat_template."""
    return any((folder / name).is_file() for name in CHAT_TEMPLATE_FILES) or _config_has_chat_template(folder)


def _config_has_chat_template(folder: Path) -> bool:
    config = folder / "tokenizer_config.json"
    if not config.is_file():
        return False
    try:
        settings = read_json_object(config, what="a tokenizer config", fix="save the tokenizer again")
    except InputError as err:  # the model named by the user cannot serve
        raise ModelError(str(err)) from None
    return bool(settings.get("chat_template"))


def no_chat_template_message(model: str, *, role: str = "judge") -> str:
    return (
        f"the {role} {model!r} has no chat template, so the judge prompt (system + user turns + generation prompt) "
        "cannot be rendered. Use an instruct/chat model, or set tokenizer.chat_template and save the tokenizer beside "
        "the model"
    )


def root_cause(err: BaseException) -> BaseException:
    """The first exception of a chain (what a library wrapped: a refused connection, a timeout)."""
    while err.__cause__ is not None or err.__context__ is not None:
        err = err.__cause__ or err.__context__
    return err


def one_line(err: BaseException) -> str:
    """An exception's message on one line (library messages often span several)."""
    return " ".join(str(err).split()) or type(err).__name__


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


def fetch_model(model: str, revision: str | None = None, *, role: str = "judge") -> tuple[Path, str | None]:
    """(local folder, Hub commit) of a model: a local folder as it is (commit None), a Hub model downloaded once.

    Only what a judge needs is downloaded (config, safetensors weights, tokenizer, chat template). In offline mode
    (HF_HUB_OFFLINE=1) a cached copy is used; without one the error says so.
    """
    check_model_reference(model, role=role)
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), None
    from huggingface_hub import snapshot_download

    with hub_errors(model, revision, role=role):
        folder = Path(snapshot_download(repo_id=model, revision=revision, allow_patterns=JUDGE_FILE_PATTERNS))
    check_model_folder(folder, model, role=role)
    return folder, folder.name  # the snapshot folder is named by the commit it holds


def resolve_judge(model: str, revision: str | None = None) -> tuple[str, str]:
    """(local folder, identity) of a judge. The identity changes whenever the weights might have changed.

    Hub models are fetched once here, in the main process, so that workers load from the local cache instead of all
    downloading at once; their identity is the resolved commit. Local folders are identified by the names, sizes and
    modification times of their files, so that a model retrained in place is recomputed, not served from a stale cache.
    """
    folder, commit = fetch_model(model, revision)
    if commit is None:
        return str(folder), local_identity(folder)
    return str(folder), f"{model}@{commit}"


def check_judge_reachable(model: str, revision: str | None = None, *, role: str = "judge") -> None:
    """Fail now, in a second, if the judge cannot be used: a missing folder, a folder without config, tokenizer or chat
    template, a Hub model that does not exist or cannot be reached (offline with no cached copy, connection refused).

    Cheap: a local folder is checked from its file names; a Hub model costs one metadata request (its file list), plus
    its small tokenizer_config.json when the chat template is not a file of its own. Nothing is loaded and no weights
    are downloaded; `resolve_judge` does that later. Call it before any long step that precedes the judge.
    """
    check_model_reference(model, role=role)
    if Path(model).expanduser().exists():
        return
    from huggingface_hub import HfApi, constants, hf_hub_download, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    from s2r_hf.core.http_errors import transport_errors

    with hub_errors(model, revision, role=role):
        unreachable = None
        if not constants.HF_HUB_OFFLINE:
            try:
                info = HfApi().model_info(model, revision=revision)
            except transport_errors() as err:
                unreachable = err  # a cached copy still serves, as it does when the judge loads
        if constants.HF_HUB_OFFLINE or unreachable is not None:
            try:
                cached = snapshot_download(
                    repo_id=model, revision=revision, allow_patterns=JUDGE_FILE_PATTERNS, local_files_only=True
                )
            except LocalEntryNotFoundError as err:
                raise err from unreachable
            check_model_folder(Path(cached), model, role=role)
            return
        names = {sibling.rfilename for sibling in info.siblings or []}
        where = f"the Hub model {model!r} (revision {revision or 'default'})"
        if "config.json" not in names or not any(name.endswith(".safetensors") for name in names):
            raise ModelError(
                f"{where} has no config.json or no .safetensors weights (files: {sorted(names)[:10]}); choose a "
                "transformers causal LM saved with safetensors"
            )
        if not any(name in names for name in TOKENIZER_FILES):
            raise ModelError(f"{where} has no tokenizer (none of {list(TOKENIZER_FILES)})")
        if not any(name in names for name in CHAT_TEMPLATE_FILES):
            if "tokenizer_config.json" not in names:
                raise ModelError(no_chat_template_message(model, role=role))
            config = hf_hub_download(model, "tokenizer_config.json", revision=info.sha)
            if not _config_has_chat_template(Path(config).parent):
                raise ModelError(no_chat_template_message(model, role=role))


@contextmanager
def hub_errors(model: str, revision: str | None, *, role: str = "judge"):
    """Turn the ways a Hub model lookup fails into one ModelError that says which case it is and what to do."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from s2r_hf.core.http_errors import transport_errors

    name = f"the {role} {model!r}"
    try:
        yield
    except GatedRepoError as err:
        raise ModelError(
            f"{name} is gated on the Hub: accept its terms on its page and log in (`hf auth login` or HF_TOKEN)"
        ) from err
    except RepositoryNotFoundError as err:
        raise ModelError(
            f"{name} is neither a local folder nor a Hub model this token can see; check the name or the path, or "
            "log in for a private model"
        ) from err
    except RevisionNotFoundError as err:
        raise ModelError(f"{name} has no revision {revision!r} on the Hub; check the branch, tag or commit") from err
    except HFValidationError as err:
        raise ModelError(
            f"{name} is neither a local folder nor a valid Hub model id ({one_line(err)}); give an existing folder "
            "or an id such as 'org/name'"
        ) from err
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            why = "HF_HUB_OFFLINE is set and no copy of it is cached"
            fix = "unset HF_HUB_OFFLINE, or download it where there is network access and pass its local folder"
        else:
            cause = root_cause(err)
            why = f"the Hub at {constants.ENDPOINT} cannot be reached ({one_line(cause)}) and no copy is cached"
            fix = "check the connection (and HF_ENDPOINT), or download it elsewhere and pass its local folder"
        raise ModelError(f"could not fetch {name} (revision {revision or 'default'}): {why}; {fix}") from err
    except (HfHubHTTPError, *transport_errors()) as err:
        from huggingface_hub import constants

        raise ModelError(
            f"could not fetch {name} (revision {revision or 'default'}) from the Hub at {constants.ENDPOINT}: "
            f"{one_line(err)}; check the connection (and HF_ENDPOINT), or download it elsewhere and pass its local "
            "folder"
        ) from err
