"""Train a difficulty-aware judge: fine-tune a small LM so that its P("1") predicts how rarely a question is solved.

The ACL version of Select2Reason replaces the prompted judge by a model fine-tuned on pass rates. Here the target of a
question is its difficulty, 1 - pass rate, taken from rollout verification flags (OpenR1's `correctness_math_verify`:
1 - mean(flags), a null flag counting as not verified-correct, as in the `rollout` scorer) or from a pass-rate column.

The prompt is the scorer's own (s2r_hf.signals.judge.prompt): the system turn, the question, then the chat template's
generation prompt. Training reads the logits of "0" and "1" at the last prompt position only (prompts are left-padded,
so `logits_to_keep=1` is that position for every row) and minimises binary cross-entropy between the softmax over those
two logits and the soft target. That softmax is exactly the score P("1") / (P("0") + P("1")), so the saved folder is a
judge the scorer loads like any other model: weights, tokenizer and chat template together.

A held-out split measures the Spearman correlation between the judge's scores and the targets, before and after
training; both go into the output folder's metadata and model card. One process, one device: the evaluation and the
atomic save are not written for multi-process launches.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError
from s2r_hf.core.folders import FolderOwner, check_writable, make_staging, move_into_place, remove_stale_staging
from s2r_hf.core.rows import arrow_column, question_of
from s2r_hf.core.stats import average_ranks
from s2r_hf.signals.judge.model import check_model_reference, fetch_model
from s2r_hf.signals.judge.prompt import DEFAULT_JUDGE, DEFAULT_SYSTEM_PROMPT, encode_judge_prompts

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset

logger = logging.getLogger(__name__)

METADATA_FILE = "s2r_judge_training.json"
# How an output folder is known as a judge `train_judge` wrote, which --overwrite may replace.
JUDGE_OWNER = FolderOwner.marked_by(METADATA_FILE, "s2r train-judge", "judge")
EVAL_PREDICTIONS_FILE = "eval_predictions.jsonl"
SAVE_DTYPES = ("auto", "float32", "bfloat16", "float16")
TARGET_FIELD = "target"  # the soft label's key in training batches; never a model input


@dataclass
class JudgeTrainingConfig:
    """Settings of `train_judge`; also the options of `s2r train-judge`."""

    output_dir: str = field(
        default="",
        metadata={"help": "Folder to write the trained judge to (model, tokenizer, chat template, metadata, card)."},
    )
    base_model: str = field(
        default=DEFAULT_JUDGE, metadata={"help": "Model to fine-tune: a Hub id or a local folder with its tokenizer."}
    )
    base_revision: str | None = field(default=None, metadata={"help": "Hub revision of the base model."})
    flags_column: str = field(
        default="correctness_math_verify",
        metadata={"help": "Column of per-rollout verification flags (lists of booleans); target = 1 - mean(flags)."},
    )
    pass_rate_column: str | None = field(
        default=None,
        metadata={"help": "Column of pass rates in [0, 1]; when set it replaces the flags: target = 1 - pass rate."},
    )
    question_column: str | None = field(
        default=None,
        metadata={"help": f"Column holding the question text; by default the first user turn of {MESSAGES!r}."},
    )
    system_prompt: str = field(
        default=DEFAULT_SYSTEM_PROMPT, metadata={"help": "System prompt of the judge; the scorer must use the same."}
    )
    max_question_tokens: int = field(
        default=4096, metadata={"help": "Questions longer than this many tokens are cut to it (counted and logged)."}
    )
    learning_rate: float = field(default=1e-5, metadata={"help": "Peak learning rate of AdamW."})
    num_train_epochs: float = field(default=1.0, metadata={"help": "Passes over the training split."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Questions per training step and device."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Micro-batches per optimizer step."})
    eval_batch_size: int = field(default=32, metadata={"help": "Questions per forward pass when scoring."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "transformers learning-rate schedule name."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Fraction of the steps spent warming up, in [0, 1)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    eval_fraction: float = field(
        default=0.1, metadata={"help": "Fraction of rows held out to measure Spearman correlation, in (0, 1)."}
    )
    min_eval_rows: int = field(
        default=20, metadata={"help": "Fewest held-out rows accepted; a correlation over fewer says little."}
    )
    seed: int = field(default=42, metadata={"help": "Seed of the train/eval split, data order and initialisation."})
    bf16: bool | None = field(
        default=None, metadata={"help": "bf16 mixed precision; default: on when a CUDA device supports it."}
    )
    gradient_checkpointing: bool = field(default=False, metadata={"help": "Trade compute for activation memory."})
    save_dtype: str = field(
        default="auto",
        metadata={"help": f"dtype of the saved weights, one of {SAVE_DTYPES}; auto = the base model's own dtype."},
    )
    logging_steps: int = field(default=10, metadata={"help": "Log the training loss every this many steps."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output folder."})

    def __post_init__(self):
        from s2r_hf.core.options import check_field_types

        # Types first (a numpy integer becomes an int, a Path a str; "false" for a bool or 2.0 for an int are refused),
        # so that the range checks below compare numbers, and the saved metadata holds plain JSON values.
        check_field_types(self)
        if not self.output_dir:
            raise InputError("output_dir is required: the folder the trained judge is written to")
        check_model_reference(self.base_model, role="base model")  # a local path that is not a model folder
        if self.pass_rate_column is None and not self.flags_column:
            raise InputError("name the target: flags_column (rollout verification flags) or pass_rate_column")
        for name in ("base_revision", "pass_rate_column", "question_column", "system_prompt", "lr_scheduler_type"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                fix = "give a non-empty value" + (" or leave it unset (None)" if name != "system_prompt" else "")
                raise InputError(f"{name} must not be empty or blank, got {value!r}; {fix}")
        positive = {
            "learning_rate": self.learning_rate,
            "num_train_epochs": self.num_train_epochs,
            "per_device_train_batch_size": self.per_device_train_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "eval_batch_size": self.eval_batch_size,
            "max_question_tokens": self.max_question_tokens,
            "logging_steps": self.logging_steps,
        }
        integers = {"per_device_train_batch_size", "gradient_accumulation_steps", "eval_batch_size"}
        integers |= {"max_question_tokens", "logging_steps", "min_eval_rows", "seed"}
        numeric = {**positive, "eval_fraction": self.eval_fraction, "warmup_ratio": self.warmup_ratio}
        numeric |= {"weight_decay": self.weight_decay, "min_eval_rows": self.min_eval_rows, "seed": self.seed}
        for name, value in numeric.items():
            number = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            if not number or (name in integers and not float(value).is_integer()):
                kind = "an integer" if name in integers else "a finite number"
                raise InputError(f"{name} must be {kind}, got {value!r}")
        for name, value in positive.items():
            if not value > 0:
                raise InputError(f"{name} must be > 0, got {value}")
        if not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be in [0, 2**32) (the range numpy and torch seeds take), got {self.seed}")
        if not 0 < self.eval_fraction < 1:
            raise InputError(f"eval_fraction must be in (0, 1), got {self.eval_fraction}")
        if not 0 <= self.warmup_ratio < 1:
            raise InputError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not self.weight_decay >= 0:
            raise InputError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.min_eval_rows < 3:
            raise InputError(
                f"min_eval_rows must be at least 3 for a rank correlation to mean anything, got {self.min_eval_rows}"
            )
        if self.save_dtype not in SAVE_DTYPES:
            raise InputError(f"save_dtype must be one of {SAVE_DTYPES}, got {self.save_dtype!r}")

    def target_description(self) -> dict[str, str]:
        if self.pass_rate_column is not None:
            return {"source": "pass_rate", "column": self.pass_rate_column, "formula": f"1 - {self.pass_rate_column}"}
        return {
            "source": "rollout_flags",
            "column": self.flags_column,
            "formula": f"1 - count(true in {self.flags_column}) / len({self.flags_column})",
        }


@dataclass
class JudgeTrainingResult:
    output_dir: Path
    spearman_before: float | None
    spearman_after: float | None
    train_rows: int
    eval_rows: int
    metadata: dict[str, Any]


# ---- Inputs: questions and targets ---------------------------------------------------------------------------------


def judge_targets(dataset: Dataset, config: JudgeTrainingConfig) -> np.ndarray:
    """Difficulty target per row, float64 in [0, 1]: 1 - pass rate, or 1 - mean of the rollout flags."""
    import numpy as np
    import pyarrow as pa

    description = config.target_description()
    name = description["column"]
    if name not in dataset.column_names:
        other = "--pass-rate-column" if description["source"] == "rollout_flags" else "--flags-column"
        raise ColumnError(
            f"the judge's training target needs column {name!r}, which is not in the dataset; columns: "
            f"{dataset.column_names}. Name the right one (or use {other})"
        )
    values = arrow_column(dataset, name)
    if description["source"] == "pass_rate":
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise ColumnTypeError(f"pass-rate column {name!r} must be numeric; got type {values.type}")
        rates = np.array([math.nan if v is None else float(v) for v in values.to_pylist()], dtype=np.float64)
        bad = np.isnan(rates) | (rates < 0) | (rates > 1)
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise InputError(
                f"pass-rate column {name!r} must hold numbers in [0, 1] with no nulls; {int(bad.sum())} rows do not "
                f"(first rows {rows}, values {[values[i].as_py() for i in rows]}). Rescale or filter them first"
            )
        return 1.0 - rates
    if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)) or not pa.types.is_boolean(
        values.type.value_type
    ):
        raise ColumnTypeError(
            f"flags column {name!r} must hold lists of booleans (one per rollout); got type {values.type}"
        )
    flags_per_row = values.to_pylist()
    empty = [i for i, flags in enumerate(flags_per_row) if not flags]
    if empty:
        raise InputError(
            f"{len(empty)} rows have no rollouts in {name!r} (an empty or null list; first rows {empty[:5]}), so their "
            "pass rate is undefined; filter them out first"
        )
    # A null flag is a rollout nobody verified correct: it counts as a failure, as in the `rollout` scorer.
    return np.array([1.0 - sum(1 for f in flags if f) / len(flags) for flags in flags_per_row], dtype=np.float64)


def read_questions(dataset: Dataset, config: JudgeTrainingConfig) -> list[str]:
    import pyarrow as pa

    if config.question_column is not None:
        if config.question_column not in dataset.column_names:
            raise ColumnError(
                f"question column {config.question_column!r} not in the dataset; columns: {dataset.column_names}"
            )
        column = arrow_column(dataset, config.question_column)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise ColumnTypeError(
                f"question column {config.question_column!r} must hold strings (the question text); got type "
                f"{column.type}. Name a text column, or leave question_column unset to read {MESSAGES!r}"
            )
        questions = column.to_pylist()
    elif MESSAGES in dataset.column_names:
        # In batches: a pool's messages hold the long traces too, which must not all sit in memory at once.
        questions = [
            question_of(messages)
            for batch in dataset.select_columns([MESSAGES]).iter(batch_size=1024)
            for messages in batch[MESSAGES]
        ]
    else:
        raise ColumnError(
            f"no question to judge: the dataset has no {MESSAGES!r} column and no question column was named; "
            f"columns: {dataset.column_names}. Pass question_column=... (--question-column)"
        )
    empty = [i for i, question in enumerate(questions) if not isinstance(question, str) or not question.strip()]
    if empty:
        raise InputError(
            f"{len(empty)} rows have an empty or missing question (first rows {empty[:5]}); filter them out"
        )
    return questions


def split_rows(num_rows: int, config: JudgeTrainingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random (train, eval) row indices, each sorted."""
    import numpy as np

    num_eval = round(num_rows * config.eval_fraction)
    if num_eval < config.min_eval_rows or num_rows - num_eval < 1:
        raise InputError(
            f"too few rows for the held-out split: {num_rows} rows with eval_fraction {config.eval_fraction} give "
            f"{num_eval} held-out and {num_rows - num_eval} training rows; need at least {config.min_eval_rows} "
            "held-out (min_eval_rows) and 1 training row. Supply more rows or raise eval_fraction"
        )
    order = np.random.default_rng(config.seed).permutation(num_rows)
    return np.sort(order[num_eval:]), np.sort(order[:num_eval])


def check_targets_vary(targets: np.ndarray, eval_rows: np.ndarray, config: JudgeTrainingConfig) -> None:
    """Refuse targets that teach nothing (all equal) or a held-out split whose Spearman is undefined (all equal)."""
    column = config.target_description()["column"]
    if targets.min() == targets.max():
        raise InputError(
            f"every row has the same difficulty target {float(targets[0])} (from {column!r}), so there is nothing to "
            "rank and the held-out Spearman is undefined; train on questions of varied pass rates"
        )
    held_out = targets[eval_rows]
    if held_out.min() == held_out.max():
        raise InputError(
            f"the {len(eval_rows)} held-out rows all have the target {float(held_out[0])}, so their Spearman "
            "correlation is undefined; raise eval_fraction, supply more varied rows, or change the seed"
        )


def spearman(x, y) -> float | None:
    """Spearman rank correlation (tied values share their mean rank); None when either side is constant."""
    import numpy as np

    x_ranks = average_ranks(np.asarray(x, dtype=np.float64), descending=False)
    y_ranks = average_ranks(np.asarray(y, dtype=np.float64), descending=False)
    if len(x_ranks) != len(y_ranks):
        raise InputError(f"spearman needs two sequences of one length; got {len(x_ranks)} and {len(y_ranks)}")
    x_centred, y_centred = x_ranks - x_ranks.mean(), y_ranks - y_ranks.mean()
    denominator = math.sqrt(float(x_centred @ x_centred) * float(y_centred @ y_centred))
    if denominator == 0:
        return None
    return float(x_centred @ y_centred) / denominator


# ---- Prompts, batches, scores --------------------------------------------------------------------------------------


def encode_prompts(tokenizer, questions: list[str], config: JudgeTrainingConfig) -> tuple[list[list[int]], int]:
    """Token ids of each judge prompt, and how many questions were cut to `max_question_tokens`.

    Built the way the scorer (s2r_hf.signals.judge.scorer) builds them, so a judge is trained on exactly the prompts it
    will
    score:
    the question cut where its last kept token ends, the chat template rendered to text, then tokenized without
    adding special tokens again (the template already holds them).
    """
    limit = config.max_question_tokens
    prompts, cut = encode_judge_prompts(tokenizer, list(questions), config.system_prompt, limit)
    truncated = sum(cut)
    if truncated:
        logger.warning("%d of %d questions cut to %d tokens", truncated, len(questions), limit)
    return prompts, truncated


def left_pad(sequences: list[list[int]], pad_id: int):
    """input_ids, attention_mask and position_ids for left-padded sequences: the last column is every prompt's end."""
    import torch

    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, width - len(ids) :] = 1
    # Positions count real tokens only, so a padded prompt sees the positions it would see alone.
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, attention_mask, position_ids


@dataclass
class JudgeCollator:
    pad_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        input_ids, attention_mask, position_ids = left_pad([f["input_ids"] for f in features], self.pad_id)
        targets = torch.tensor([f[TARGET_FIELD] for f in features], dtype=torch.float32)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "position_ids": position_ids,
            TARGET_FIELD: targets,
        }


def verdict_logits(model, verdict_ids: tuple[int, int], **batch):
    """Logits of "0" and "1" at the last position of left-padded prompts, shape (batch, 2)."""
    # logits_to_keep=1: the LM head runs at one position, not over the whole sequence.
    logits = model(**batch, logits_to_keep=1, use_cache=False).logits[:, -1, :]
    return logits[:, list(verdict_ids)]


def score_prompts(model, prompts: list[list[int]], verdict_ids: tuple[int, int], pad_id: int, batch_size: int):
    """P("1") / (P("0") + P("1")) for each prompt, in input order, as float64."""
    import numpy as np
    import torch

    device = next(model.parameters()).device
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)  # little padding
    scores = np.empty(len(prompts), dtype=np.float64)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            input_ids, attention_mask, position_ids = left_pad([prompts[i] for i in rows], pad_id)
            pair = verdict_logits(
                model,
                verdict_ids,
                input_ids=input_ids.to(device),
                attention_mask=attention_mask.to(device),
                position_ids=position_ids.to(device),
            )
            scores[rows] = torch.softmax(pair.double(), dim=-1)[:, 1].cpu().numpy()
    model.train(was_training)
    return scores


def _make_trainer(verdict_ids: tuple[int, int], **trainer_kwargs):
    # Defined on call so that importing this module (and `s2r --help`) never imports transformers.
    import torch
    from transformers import Trainer

    class JudgeTrainer(Trainer):
        """Binary cross-entropy between softmax("0", "1") at the last prompt position and the soft target."""

        # The loss is a mean over the micro-batch: Trainer divides it by the accumulation steps itself.
        loss_is_scaled_for_ga = False

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            targets = inputs.pop(TARGET_FIELD)
            pair = verdict_logits(model, verdict_ids, **inputs).float()
            # softmax([z0, z1])[1] == sigmoid(z1 - z0), so BCE-with-logits on the difference is the soft-label BCE.
            loss = torch.nn.functional.binary_cross_entropy_with_logits(pair[:, 1] - pair[:, 0], targets)
            return (loss, {"verdict_logits": pair}) if return_outputs else loss

    return JudgeTrainer(**trainer_kwargs)


# ---- The whole run -------------------------------------------------------------------------------------------------


def check_output_dir(config: JudgeTrainingConfig) -> Path:
    """The output folder: refused when it exists and overwrite is off, and never one s2r did not write.

    `overwrite` replaces only a judge an earlier `train_judge` wrote (it holds s2r_judge_training.json), so a mistyped
    `-o` can never delete a user's folder, the current directory or one above it (s2r_hf.core.folders.check_writable).
    """
    check_writable(config.output_dir, config.overwrite, owner=JUDGE_OWNER)
    return Path(config.output_dir).expanduser()


def train_judge(dataset: Dataset, config: JudgeTrainingConfig) -> JudgeTrainingResult:
    """Fine-tune `config.base_model` on `dataset` and write the judge to `config.output_dir`, all or nothing."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise InputError(
            "train_judge runs in one process on one device; it was launched with WORLD_SIZE="
            f"{os.environ['WORLD_SIZE']}. Run it without torchrun/accelerate launch"
        )
    output_dir = check_output_dir(config)

    # Everything that can be wrong with the data is checked before a model is loaded.
    targets = judge_targets(dataset, config)
    questions = read_questions(dataset, config)
    train_rows, eval_rows = split_rows(len(questions), config)
    check_targets_vary(targets, eval_rows, config)

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, TrainingArguments
    from transformers.trainer_utils import SchedulerType

    from s2r_hf._version import __version__
    from s2r_hf.signals.judge.prompt import verdict_token_ids

    schedules = [schedule.value for schedule in SchedulerType]
    if config.lr_scheduler_type not in schedules:  # checked here: the list is transformers', which loads torch
        raise InputError(f"lr_scheduler_type must be one of {schedules}, got {config.lr_scheduler_type!r}")
    # One local folder (a Hub model is fetched once, at one commit): tokenizer, config and weights all come from it.
    base_folder, base_commit = fetch_model(config.base_model, config.base_revision, role="base model")
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(
            f"the base model {config.base_model!r} has no chat template, so its judge prompt cannot be built; "
            "choose an instruct/chat model"
        )
    verdict_ids = verdict_token_ids(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if pad_id is None:
        raise InputError(f"the tokenizer of {config.base_model!r} has neither a pad nor an eos token to pad with")
    prompts, truncated = encode_prompts(tokenizer, questions, config)

    # float32 master weights; bf16 runs as mixed precision through TrainingArguments.
    # Read the dtype the base model is published in before loading: loading rewrites config.dtype.
    base_dtype = getattr(AutoConfig.from_pretrained(base_folder), "dtype", None)
    if isinstance(base_dtype, str):
        base_dtype = getattr(torch, base_dtype)
    base_dtype = base_dtype or torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32)
    save_dtype = base_dtype if config.save_dtype == "auto" else getattr(torch, config.save_dtype)
    use_cuda = torch.cuda.is_available()
    bf16 = config.bf16 if config.bf16 is not None else bool(use_cuda and torch.cuda.is_bf16_supported())
    device = torch.device("cuda" if use_cuda else "cpu")
    model.to(device)

    eval_prompts = [prompts[i] for i in eval_rows]
    eval_targets = targets[eval_rows]
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        scores_before = score_prompts(model, eval_prompts, verdict_ids, pad_id, config.eval_batch_size)
    spearman_before = spearman(scores_before, eval_targets)
    logger.info("held-out Spearman before training: %s (%d rows)", spearman_before, len(eval_rows))

    from datasets import Dataset as HFDataset

    train_data = HFDataset.from_dict(
        {"input_ids": [prompts[i] for i in train_rows], TARGET_FIELD: targets[train_rows].tolist()}
    )
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(output_dir)  # what a killed earlier run left beside it
    staging = make_staging(output_dir, "tmp")  # permissions from the umask, marked as s2r's until published
    published = False
    try:
        args = TrainingArguments(
            output_dir=str(staging / "trainer"),
            learning_rate=config.learning_rate,
            num_train_epochs=config.num_train_epochs,
            per_device_train_batch_size=config.per_device_train_batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps,
            lr_scheduler_type=config.lr_scheduler_type,
            weight_decay=config.weight_decay,
            seed=config.seed,
            bf16=bf16,
            use_cpu=not use_cuda,
            logging_steps=config.logging_steps,
            save_strategy="no",
            report_to="none",
            remove_unused_columns=False,  # the target is not a forward() argument
            label_names=[TARGET_FIELD],
            **_renamed_arguments(TrainingArguments, config),
        )
        model.config.use_cache = False
        trainer = _make_trainer(
            verdict_ids, model=model, args=args, train_dataset=train_data, data_collator=JudgeCollator(pad_id)
        )
        train_output = trainer.train()
        model = trainer.model
        model.config.use_cache = True
        # The "after" scores are those of the weights exactly as saved.
        model.to(save_dtype)
        scores_after = score_prompts(model, eval_prompts, verdict_ids, pad_id, config.eval_batch_size)
        spearman_after = spearman(scores_after, eval_targets)
        logger.info("held-out Spearman after training: %s (before: %s)", spearman_after, spearman_before)

        shutil.rmtree(staging / "trainer", ignore_errors=True)
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

        ids = arrow_column(dataset, ID).to_pylist() if ID in dataset.column_names else None
        with open(staging / EVAL_PREDICTIONS_FILE, "w", encoding="utf-8") as handle:
            for k, row in enumerate(eval_rows.tolist()):
                record = {"row": row, "target": float(eval_targets[k])}
                if ids is not None:
                    record[ID] = ids[row]
                record.update(score_before=float(scores_before[k]), score_after=float(scores_after[k]))
                handle.write(json.dumps(record) + "\n")

        metadata = {
            "s2r_hf_version": __version__,
            "base_model": config.base_model,
            "base_revision": config.base_revision,
            "base_commit": base_commit,
            "target": config.target_description(),
            "question": config.question_column or f"first user turn of {MESSAGES}",
            "system_prompt": config.system_prompt,
            "score": 'P("1") / (P("0") + P("1")) at the last prompt position',
            "verdict_token_ids": {"0": verdict_ids[0], "1": verdict_ids[1]},
            "max_question_tokens": config.max_question_tokens,
            "truncated_questions": truncated,
            "rows": {"total": len(questions), "train": len(train_rows), "eval": len(eval_rows)},
            "mean_target": {"train": float(targets[train_rows].mean()), "eval": float(eval_targets.mean())},
            "training": {
                **{k: v for k, v in asdict(config).items() if k not in {"output_dir", "overwrite"}},
                "bf16": bf16,
                "save_dtype": str(save_dtype).removeprefix("torch."),
                "steps": train_output.global_step,
                "train_loss": train_output.training_loss,
            },
            "evaluation": {
                "metric": "spearman(score, target) on the held-out rows",
                "eval_rows": len(eval_rows),
                "spearman_before": spearman_before,
                "spearman_after": spearman_after,
                "predictions": EVAL_PREDICTIONS_FILE,
                "predictions_row": "position of the question in the dataset given to train_judge",
            },
        }
        (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(render_judge_card(metadata), encoding="utf-8")
        check_output_dir(config)  # again: what is there now is what gets replaced
        move_into_place(staging, output_dir, config.overwrite)
        published = True
    finally:
        if not published:
            shutil.rmtree(staging, ignore_errors=True)
    logger.info("trained judge written to %s", output_dir)
    return JudgeTrainingResult(
        output_dir=output_dir,
        spearman_before=spearman_before,
        spearman_after=spearman_after,
        train_rows=len(train_rows),
        eval_rows=len(eval_rows),
        metadata=metadata,
    )


def _renamed_arguments(arguments_class, config: JudgeTrainingConfig) -> dict[str, Any]:
    """Arguments that transformers renamed: 5.x takes the warmup ratio as a float `warmup_steps` and calls gradient
    checkpointing `activation_checkpointing`; 4.x has `warmup_ratio` and `gradient_checkpointing`."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(arguments_class)}
    arguments: dict[str, Any] = {}
    if "warmup_ratio" in names:
        arguments["warmup_ratio"] = config.warmup_ratio
    else:
        arguments["warmup_steps"] = config.warmup_ratio  # a float in [0, 1) is read as a fraction of the steps
    if config.gradient_checkpointing:
        key = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
        arguments[key] = True
    return arguments


JUDGE_TAGS = ["s2r-hf", "select2reason", "difficulty-judge"]


def judge_card_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata: what the Hub reads (base model, library, tags) and the training facts as `s2r`."""
    card: dict[str, Any] = {}
    # The Hub reads `base_model` as a model id: a local folder's path would be a broken link there.
    if not Path(metadata["base_model"]).expanduser().exists():
        card["base_model"] = metadata["base_model"]
    card["library_name"] = "transformers"
    card["tags"] = JUDGE_TAGS
    card["s2r"] = {
        "kind": "judge",
        **metadata,
        "default_system_prompt": metadata["system_prompt"] == DEFAULT_SYSTEM_PROMPT,
        "settings_file": METADATA_FILE,
    }
    return card


def render_judge_card(metadata: dict[str, Any]) -> str:
    """The model card (README.md) of a trained judge, from hub_cards/judge.md: what it predicts, from what, how well."""
    from s2r_hf.core.cards import render_card

    return render_card("judge.md", judge_card_metadata(metadata))
