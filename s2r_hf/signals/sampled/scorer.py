"""The sampled difficulty: `s2r_difficulty` = 1 - the share of k sampled completions whose final answer equals the
pool's gold answer (s2r_hf.answers.grade). A completion cut at `max_new_tokens` counts as wrong and is counted as
capped (`s2r_rollouts_capped`); the pass rate itself is kept as `s2r_pass_rate`.

Three ways to run it, one code path:
- `SampledDifficulty(model=...).add_difficulty(pool, num_proc=n_gpus)`: the registered scorer ("sampled");
- `pool.map(sampled_difficulty_batch, batched=True, with_rank=True, fn_kwargs={"config": SampledConfig(...)})` in a
  user's pipeline or an engine's actor (the model loads once per process);
- `s2r score POOL -o OUT --difficulty sampled --rollout-model M`.

Resuming: with `work_dir`, each chunk's completions go to the resume store (s2r_hf.signals.sampled.store) as soon as
they exist; a rerun generates only the questions it lacks, and grades every completion again from the gold answers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ANSWER, DIFFICULTY, ID, MESSAGES, PASS_RATE, ROLLOUTS_CAPPED
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, OptionTypeError
from s2r_hf.core.models import check_model_reachable, fetch_model
from s2r_hf.core.prompts import REASONING_SYSTEM_PROMPT
from s2r_hf.core.rows import arrow_column, question_of
from s2r_hf.signals.difficulty import BatchStep, DifficultyScorer, check_scorer_options
from s2r_hf.signals.judge.model import resolve_device, resolve_dtype
from s2r_hf.signals.judge.store import question_key, stable_digest
from s2r_hf.signals.sampled.config import SampledConfig
from s2r_hf.signals.sampled.generate import (
    Completion,
    TransformersSampler,
    VllmSampler,
    completion_seed,
    encode_prompts,
)
from s2r_hf.signals.sampled.store import CompletionStore

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The completions of each row, returned by the map only with keep_rollouts, moved to the rollouts table, then dropped.
ROLLOUTS_FIELD = "_s2r_sampled_rollouts"
# A share of capped completions from which `s2r score` warns: the pass rates then measure the cap more than the model.
CAPPED_WARNING_SHARE = 0.1
GRADER = "s2r_hf.answers.grade (final answer of the completion against s2r_answer)"


# ---- the model's identity and the per-process sampler ------------------------------------------------------------


def local_model_identity(folder: Path) -> str:
    """A local model named by its weights' digest (s2r_hf.core.weights) and its tokenizer and template files' bytes."""
    from s2r_hf.core.weights import weights_digest

    small = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".json", ".jinja", ".txt", ".model") and not path.name.startswith("."):
            small.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"local:weights-sha256:{weights_digest(folder)}+files:{small.hexdigest()[:16]}"


def resolve_rollout_model(model: str, revision: str | None) -> tuple[str, str]:
    """(local folder, identity): a Hub model downloaded once and named by its commit; a local one by its digests."""
    folder, commit = fetch_model(model, revision, role="rollout model")
    if commit is None:
        return str(folder), local_model_identity(folder)
    return str(folder), f"{model}@{commit}"


_SAMPLERS: dict[tuple, TransformersSampler | VllmSampler] = {}


def sampler_for(config: SampledConfig, rank: int | None = None) -> tuple[TransformersSampler | VllmSampler, str, str]:
    """The sampler of `config` on this process's device, loaded once per process; with its backend and dtype."""
    backend = config.resolved_backend()
    device = resolve_device(config.device, rank) if backend == "transformers" else "cuda"
    dtype = resolve_dtype(config.dtype, device)
    folder = Path(config.model).expanduser()
    # File stamps in the key: a model rewritten in place is loaded again, not served from this cache.
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir())) if folder.is_dir() else None
    key = (config.model, config.revision, stamp, backend, device, dtype, config.tensor_parallel, config.data_parallel)
    if key not in _SAMPLERS:
        source = str(folder) if folder.is_dir() else fetch_model(config.model, config.revision, role="rollout model")[0]
        if backend == "vllm":
            _SAMPLERS[key] = VllmSampler(
                str(source),
                dtype=dtype,
                tensor_parallel=config.tensor_parallel,
                data_parallel=config.data_parallel,
                seed=config.seed,
            )
        else:
            _SAMPLERS[key] = TransformersSampler.load(str(source), device=device, dtype=dtype)
    return _SAMPLERS[key], backend, dtype


# ---- sampling with the resume store, and grading ------------------------------------------------------------------


def sample_completions(
    questions: Sequence[str], config: SampledConfig, *, rank: int | None = None, identity: str | None = None
) -> list[list[Completion]]:
    """k completions per question; with `work_dir`, those already in the resume store are read, not generated."""
    sampler, backend, dtype = sampler_for(config, rank)
    keys = [question_key(question) for question in questions]
    known: dict[str, list[Completion]] = {}
    store = None
    if config.work_dir is not None:
        identity = identity or f"{config.model}@{config.revision}"
        store = CompletionStore.for_model(config.work_dir, identity, config.sample_settings(backend, dtype))
        known = store.known()
    todo: dict[str, str] = {}
    for key, question in zip(keys, questions, strict=True):
        if key not in known:
            todo.setdefault(key, question)  # a question asked twice is sampled once
    if todo:
        prompts = encode_prompts(sampler.tokenizer, list(todo.values()), config.model)
        seeds = [[completion_seed(config.seed, key, i) for i in range(config.rollouts)] for key in todo]
        generated = sampler.sample(
            prompts,
            seeds,
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
            batch_questions=config.batch_questions,
        )
        fresh = dict(zip(todo, generated, strict=True))
        if store is not None:
            store.add(fresh)
        known = {**known, **fresh}
    return [known[key] for key in keys]


def grade_completions(completions: Sequence[Completion], gold: str) -> list[tuple[str | None, bool]]:
    """(extracted answer, correct) of each completion; a capped completion is wrong whatever it says."""
    from s2r_hf.answers import answers_equal, extract_answer, gold_answer

    reference = gold_answer(gold)
    verdicts = []
    for completion in completions:
        answer = extract_answer(completion.text)
        correct = not completion.capped and answer is not None and answers_equal(reference, answer)
        verdicts.append((answer, correct))
    return verdicts


def questions_of(batch: Mapping[str, list]) -> list[str]:
    if MESSAGES not in batch:
        raise ColumnError(f"the sampled difficulty reads the question from {MESSAGES!r}; columns: {sorted(batch)}")
    not_lists = [i for i, messages in enumerate(batch[MESSAGES]) if not isinstance(messages, list)]
    if not_lists:
        raise ColumnTypeError(
            f"{len(not_lists)} rows have {MESSAGES!r} that is not a list of chat turns (first value "
            f"{batch[MESSAGES][not_lists[0]]!r}); filter them out (one row? map with batched=True)"
        )
    return [question_of(messages) for messages in batch[MESSAGES]]


def sampled_difficulty_batch(
    batch: dict[str, list],
    rank: int | None = None,
    *,
    config: SampledConfig,
    identity: str | None = None,
    num_workers: int | None = None,
) -> dict[str, list]:
    """Batched `Dataset.map` function: `s2r_difficulty`, `s2r_pass_rate` and `s2r_rollouts_capped` of pool rows.

    Reads the question from `messages` and the gold answer from `s2r_answer`. Use with `batched=True,
    with_rank=True`; the model loads lazily, once per process (an engine's actor calls this the same way). With
    `config.keep_rollouts`, the completions come back too, in the private column `_s2r_sampled_rollouts`.
    """
    if not isinstance(config, SampledConfig):
        raise OptionTypeError(
            f"config must be a SampledConfig (s2r_hf.signals.sampled.config.SampledConfig(model=...)), got "
            f"{type(config).__name__}; pass fn_kwargs={{'config': SampledConfig(...)}} to Dataset.map"
        )
    if config.model is None:
        raise InputError("the sampled difficulty needs a model: SampledConfig(model=...) (--rollout-model)")
    if not isinstance(batch, Mapping) or any(not isinstance(values, list) for values in batch.values()):
        raise InputError("sampled_difficulty_batch takes a batch (column -> list); call Dataset.map with batched=True")
    if ANSWER not in batch:
        raise ColumnError(f"the sampled difficulty grades against {ANSWER!r}, not in the batch; got {sorted(batch)}")
    golds = batch[ANSWER]
    missing = [i for i, gold in enumerate(golds) if gold is None]
    if missing:
        where = [batch[ID][i] for i in missing[:5]] if ID in batch else missing[:5]
        raise InputError(f"{len(missing)} rows have no gold answer in {ANSWER!r} (first {where}); filter them out")
    questions = questions_of(batch)
    if num_workers and config.resolved_backend() == "transformers" and resolve_device(config.device, rank) == "cpu":
        import torch

        # Several CPU workers each using every core would fight over them.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // num_workers))
    completions = sample_completions(questions, config, rank=rank, identity=identity)
    out: dict[str, list] = {DIFFICULTY: [], PASS_RATE: [], ROLLOUTS_CAPPED: []}
    kept: list[list[dict[str, Any]]] = []
    for row, gold in zip(completions, golds, strict=True):
        verdicts = grade_completions(row, str(gold))
        pass_rate = sum(correct for _, correct in verdicts) / len(row)
        out[PASS_RATE].append(pass_rate)
        out[DIFFICULTY].append(1.0 - pass_rate)
        out[ROLLOUTS_CAPPED].append(sum(c.capped for c in row))
        kept.append(
            [
                {"sample": i, "completion": c.text, "answer": answer, "correct": correct, "capped": c.capped,
                 "new_tokens": c.new_tokens}
                for i, (c, (answer, correct)) in enumerate(zip(row, verdicts, strict=True))
            ]
        )  # fmt: skip
    if config.keep_rollouts:
        out[ROLLOUTS_FIELD] = kept
    return out


# ---- the registered scorer ----------------------------------------------------------------------------------------


class SampledDifficulty(DifficultyScorer):
    """Difficulty = 1 - pass rate of k completions sampled from a model, graded against the pool's gold answers."""

    name = "sampled"
    config_class = SampledConfig

    def __init__(self, **options: Any):
        check_scorer_options(type(self), options)
        self.config = SampledConfig(**options)
        if self.config.model is None:
            raise InputError(
                "--difficulty sampled needs the model that answers: --rollout-model MODEL (a Hub id or a local folder "
                "with a chat template; the student you will train is the natural choice)"
            )
        self.identity: str | None = None
        self.summary: dict[str, Any] = {}
        self.rollouts: Dataset | None = None

    def check_reachable(self) -> None:
        """Fail now if the model is missing, unreachable or has no chat template (no weights are loaded)."""
        check_model_reachable(self.config.model, self.config.revision, role="rollout model")

    def check(self, pool: Dataset) -> None:
        from s2r_hf.answers import require_math_libraries

        if MESSAGES not in pool.column_names:
            raise ColumnError(f"the sampled difficulty reads questions from {MESSAGES!r}; columns: {pool.column_names}")
        answers = arrow_column(pool, ANSWER) if ANSWER in pool.column_names else None
        if answers is None or answers.null_count == len(pool):
            raise InputError(
                f"the sampled difficulty grades completions against the pool's gold answers ({ANSWER!r}), and this "
                "pool has none; read the source with --adapter generic --answer-column NAME (the column holding each "
                "question's final answer), or use another --difficulty"
            )
        if answers.null_count:
            raise InputError(
                f"{answers.null_count} of {len(pool)} rows have no gold answer in {ANSWER!r}, so their pass rate is "
                "undefined; filter those rows out of the source first (e.g. Dataset.filter on the answer column), or "
                "fill their answers"
            )
        require_math_libraries()

    def describe(self) -> dict[str, Any]:
        config = self.config
        backend = config.resolved_backend()
        return {
            "scorer": self.name,
            "model": config.model,
            "revision": config.revision,
            "resolved": self.identity,
            "formula": "1 - correct completions / completions; a completion cut at max_new_tokens is wrong",
            "rollouts": config.rollouts,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_new_tokens": config.max_new_tokens,
            "seed": config.seed,
            "seeding": "one seed per completion from (seed, question, index)",
            "backend": backend,
            "dtype": config.dtype or "auto (bfloat16 on GPU, float32 on CPU)",
            "system_prompt": REASONING_SYSTEM_PROMPT,
            "prompt_layout": "chat template: system prompt, user question, generation prompt",
            "grader": GRADER,
            **({"tensor_parallel": config.tensor_parallel, "data_parallel": config.data_parallel}
               if backend == "vllm" else {}),
            **self.summary,
        }  # fmt: skip

    def fingerprint(self, pool: Dataset) -> str:
        """datasets fingerprint of the scored pool: the pool's, the model's identity and what changes completions."""
        backend = self.config.resolved_backend()
        dtype = resolve_dtype(self.config.dtype, resolve_device(self.config.device) if backend != "vllm" else "cuda")
        payload = {
            "pool": pool._fingerprint,
            "identity": self.identity,
            **self.config.sample_settings(backend, dtype),
            "keep_rollouts": self.config.keep_rollouts,
        }
        return f"s2r-sampled-{stable_digest(payload)[:32]}"

    def batch_step(self, pool: Dataset) -> BatchStep:
        """`sampled_difficulty_batch` with these settings: what `add_difficulty` maps and the Ray engine runs."""
        self.check(pool)
        folder, self.identity = resolve_rollout_model(self.config.model, self.config.revision)
        worker_config = dataclasses.replace(self.config, model=folder, revision=None)
        outputs = [DIFFICULTY, PASS_RATE, ROLLOUTS_CAPPED] + ([ROLLOUTS_FIELD] if self.config.keep_rollouts else [])
        return BatchStep(
            function=sampled_difficulty_batch,
            fn_kwargs={"config": worker_config, "identity": self.identity},
            input_columns=[MESSAGES, ANSWER] + ([ID] if ID in pool.column_names else []),
            output_columns=outputs,
            batch_rows=self.config.chunk_rows,
            device=self.config.device,
            # vLLM spreads one model over tensor_parallel x data_parallel GPUs: one Ray worker holds them all.
            gpus_per_worker=self.config.tensor_parallel * self.config.data_parallel,
        )

    def add_difficulty(self, pool: Dataset, *, num_proc: int | None = None) -> Dataset:
        return self.map_batch_step(
            pool,
            num_proc=num_proc,
            desc=f"Sampled difficulty ({Path(self.config.model).name}, k={self.config.rollouts})",
        )

    def finish_batches(self, scored: Dataset) -> Dataset:
        completions = len(scored) * self.config.rollouts
        capped = int(sum(arrow_column(scored, ROLLOUTS_CAPPED).to_pylist()))
        pass_rates = arrow_column(scored, PASS_RATE).to_pylist()
        self.summary = {
            "rows_scored": len(scored),
            "completions": completions,
            "capped_completions": capped,
            "mean_pass_rate": round(sum(pass_rates) / len(pass_rates), 6) if pass_rates else None,
            "unsolved_rows": sum(1 for rate in pass_rates if rate == 0),
            "solved_by_all_rows": sum(1 for rate in pass_rates if rate == 1),
        }
        if completions and capped / completions >= CAPPED_WARNING_SHARE:
            logger.warning(
                "%d of %d completions (%.0f%%) were cut at --rollout-max-new-tokens %d and counted wrong; raise it, or "
                "the pass rates measure the cap more than the model",
                capped,
                completions,
                100 * capped / completions,
                self.config.max_new_tokens,
            )
        if self.config.keep_rollouts:
            self.rollouts = rollouts_table(scored)
            scored = scored.remove_columns(ROLLOUTS_FIELD)
        return scored


def rollouts_table(scored: Dataset) -> Dataset:
    """One row per kept completion: s2r_id, sample index, completion, extracted answer, correct, capped, new tokens."""
    from datasets import Dataset

    columns: dict[str, list] = {ID: [], "sample": [], "completion": [], "answer": [], "correct": [], "capped": [],
                                "new_tokens": []}  # fmt: skip
    ids = arrow_column(scored, ID).to_pylist()
    for row_id, row in zip(ids, arrow_column(scored, ROLLOUTS_FIELD).to_pylist(), strict=True):
        for completion in row:
            columns[ID].append(row_id)
            for name in ("sample", "completion", "answer", "correct", "capped", "new_tokens"):
                columns[name].append(completion[name])
    return Dataset.from_dict(columns)
