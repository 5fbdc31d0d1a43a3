"""The LLM-judge difficulty: `s2r_difficulty` = P("1") / (P("0") + P("1")) of an instruct model's first answer token.

Each question is rendered with the judge's chat template (s2r_hf.signals.judge.prompt) and, when longer than
`max_question_tokens`, cut to that many tokens first (counted, and logged as a warning); s2r_hf.signals.judge.model
scores the
prompts in length-sorted batches, exactly. This module holds the settings (`JudgeConfig`), the batched map function and
the registered scorer.

Datasets workers are started with "spawn" (see s2r_hf.signals.difficulty.spawned_workers); scripts calling
`add_difficulty(num_proc=...)` keep their top-level code under `if __name__ == "__main__":`.

Three ways to run it, one code path:
- `JudgeDifficulty(...).add_difficulty(pool, num_proc=n_gpus)`: the registered scorer ("judge");
- `pool.map(judge_difficulty_batch, batched=True, with_rank=True, num_proc=n, fn_kwargs={"config": JudgeConfig(...)})`
  in a user's own pipeline (the config is in datasets' fingerprint: a changed model, revision or prompt recomputes);
- `LoadedJudge.load(...).score(questions)` for a plain list of strings, and s2r_hf.signals.judge.distributed for
  torchrun.

Resuming: with `work_dir` set, finished scores go to the resume store (s2r_hf.signals.judge.store) as they are
computed, and a
rerun after a crash scores only what is missing. The pool's column itself only ever comes out of a completed `map`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import DIFFICULTY, ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, OptionTypeError
from s2r_hf.core.models import check_model_reachable, check_model_reference
from s2r_hf.core.rows import question_of
from s2r_hf.signals.difficulty import BatchStep, DifficultyScorer
from s2r_hf.signals.judge.model import (
    DTYPES,
    LoadedJudge,
    ScoreResult,
    check_device,
    check_questions,
    is_integer,
    local_identity,
    resolve_device,
    resolve_dtype,
    resolve_judge,
)
from s2r_hf.signals.judge.prompt import DEFAULT_JUDGE, DEFAULT_SYSTEM_PROMPT
from s2r_hf.signals.judge.store import ScoreStore, question_key, stable_digest

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# Bump when a change here can change scores: it is part of every cache key (datasets fingerprint and resume store).
SCORER_VERSION = "1"
# A private per-row flag returned by the map next to the score, summed for the summary and then dropped.
_TRUNCATED = "_s2r_judge_truncated"


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
        default=None, metadata={"help": f"One of {DTYPES}; None = bfloat16 on GPU, float32 on CPU."}
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
        # Every surface (the CLI, the builder, the Python API, distributed) builds this config: one place to check.
        if isinstance(self.model, os.PathLike):  # a local judge folder given as a pathlib.Path
            self.model = os.fspath(self.model)
        for name in ("model", "system_prompt"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{name} must be a non-empty string, got {value!r}")
        for name in ("revision", "work_dir", "question_column", "device", "dtype"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike) and name == "work_dir":
                self.work_dir = value = os.fspath(value)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{name} must be a non-empty string or None, got {value!r}")
        for name in ("max_question_tokens", "batch_tokens", "chunk_rows"):
            value = getattr(self, name)
            if name == "batch_tokens" and value is None:
                continue
            if not is_integer(value) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
            setattr(self, name, int(value))  # numpy integers become plain ints (JSON, fingerprints)
        if self.dtype is not None and self.dtype not in DTYPES:
            raise InputError(f"dtype must be one of {list(DTYPES)} or None (auto), got {self.dtype!r}")
        check_device(self.device)
        work_dir = None if self.work_dir is None else Path(self.work_dir).expanduser()
        if work_dir is not None and work_dir.exists() and not work_dir.is_dir():
            raise InputError(f"work_dir {self.work_dir!r} is a file; give a folder for the judge's resume store")
        # A local path is checked here (cheap, no network): a missing folder fails when the settings are made.
        check_model_reference(self.model, role="judge")

    def score_settings(self) -> dict[str, Any]:
        """What, besides the judge's weights, changes the scores (the batch budget and device placement do not)."""
        return {
            "system_prompt": self.system_prompt,
            "max_question_tokens": self.max_question_tokens,
            "dtype": self.dtype,
            "scorer_version": SCORER_VERSION,
        }


# ---- the per-process judge and its resumable scoring ------------------------------------------------------------

_JUDGES: dict[tuple, LoadedJudge] = {}


def judge_for(config: JudgeConfig, rank: int | None = None) -> LoadedJudge:
    """The judge of `config` on this process's device, loaded once per process (datasets workers stay alive)."""
    device = resolve_device(config.device, rank)
    # The folder's file stamps are in the key: a judge retrained in place must not be served from this cache.
    folder = Path(config.model).expanduser()
    stamp = local_identity(folder) if folder.is_dir() else None
    key = (config.model, config.revision, stamp, device, resolve_dtype(config.dtype, device))
    if key not in _JUDGES:
        _JUDGES[key] = LoadedJudge.load(config.model, config.revision, device=device, dtype=config.dtype)
    return _JUDGES[key]


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
    if not isinstance(config, JudgeConfig):
        raise OptionTypeError(
            f"config must be a JudgeConfig (s2r_hf.JudgeConfig(model=...)), got {type(config).__name__}; pass "
            "fn_kwargs={'config': JudgeConfig(...)} to Dataset.map"
        )
    if not isinstance(batch, Mapping) or any(not isinstance(values, list) for values in batch.values()):
        raise InputError(
            "judge_difficulty_batch takes a batch (column name -> list of values); call Dataset.map with batched=True"
        )
    if num_workers and resolve_device(config.device, rank) == "cpu":
        import torch

        # Several CPU workers each using every core would fight over them.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // num_workers))
    if config.question_column is not None:
        if config.question_column not in batch:
            raise ColumnError(f"question column {config.question_column!r} not in the batch; columns: {sorted(batch)}")
        questions = batch[config.question_column]
    else:
        if MESSAGES not in batch:
            raise ColumnError(
                f"the judge reads the question from {MESSAGES!r}, which is not in the batch; columns: {sorted(batch)}. "
                "Set question_column to read a plain string column instead"
            )
        not_lists = [i for i, messages in enumerate(batch[MESSAGES]) if not isinstance(messages, list)]
        if not_lists:
            first = batch[MESSAGES][not_lists[0]]
            where = [batch[ID][i] for i in not_lists[:5]] if ID in batch else not_lists[:5]
            raise ColumnTypeError(
                f"{len(not_lists)} rows have {MESSAGES!r} that is not a list of chat turns (first rows {where}, first "
                f"value {first!r}); filter them out, or set question_column to read a plain string column (one "
                "row? map with batched=True)"
            )
        questions = [question_of(messages) for messages in batch[MESSAGES]]
    check_questions(questions, batch.get(ID))
    result = score_questions(questions, config, rank=rank, identity=identity)
    return {DIFFICULTY: result.scores, _TRUNCATED: result.truncated}


# ---- the registered scorer ----------------------------------------------------------------------------------------


class JudgeDifficulty(DifficultyScorer):
    """Difficulty = P("1") / (P("0") + P("1")) of an instruct LLM asked whether the question is difficult."""

    name = "judge"
    config_class = JudgeConfig

    def __init__(self, **options: Any):
        # Every JudgeConfig field is a keyword here, from the one definition (question_column included).
        known = [spec.name for spec in dataclasses.fields(JudgeConfig)]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise OptionTypeError(f"JudgeDifficulty takes no option(s) {unknown}; its options are {known}")
        self.config = JudgeConfig(**options)
        self.identity: str | None = None
        self.folder: str | None = None  # the local folder the judge was loaded from, once it has scored
        self.summary: dict[str, Any] = {}

    def check_reachable(self) -> None:
        """Fail now if the judge is missing, unreachable or not a chat model (cheap: no weights are loaded).

        Scoring a pool runs the other columns first; calling this before them turns a wrong judge into a one-line error
        in a second instead of after the whole trace-length pass. See s2r_hf.core.models.check_model_reachable.
        """
        check_model_reachable(self.config.model, self.config.revision, role="judge")

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

    def batch_step(self, pool: Dataset) -> BatchStep:
        """`judge_difficulty_batch` with this judge's settings: what `add_difficulty` maps and the Ray engine runs."""
        question_column = self.config.question_column or MESSAGES
        if question_column not in pool.column_names:
            raise ColumnError(
                f"the judge reads questions from {question_column!r}, not in the pool; columns: {pool.column_names}"
            )
        feature = pool.features[question_column]
        is_text = getattr(feature, "dtype", None) in ("string", "large_string")
        if self.config.question_column is not None and not is_text:
            raise ColumnTypeError(
                f"question column {question_column!r} must hold strings (the question text); its type is {feature}"
            )
        folder, self.identity = resolve_judge(self.config.model, self.config.revision)
        self.folder = folder
        # Workers load the resolved folder: no Hub traffic from them, and the fingerprint names exactly what they load.
        worker_config = dataclasses.replace(self.config, model=folder, revision=None)
        return BatchStep(
            function=judge_difficulty_batch,
            fn_kwargs={"config": worker_config, "identity": self.identity},
            input_columns=[question_column] + ([ID] if ID in pool.column_names else []),
            output_columns=[DIFFICULTY, _TRUNCATED],
            batch_rows=self.config.chunk_rows,
            device=self.config.device,
        )

    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        return self.map_batch_step(pool, num_proc=num_proc, desc=f"Judge difficulty ({Path(self.config.model).name})")

    def finish_batches(self, scored: Dataset) -> Dataset:
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
