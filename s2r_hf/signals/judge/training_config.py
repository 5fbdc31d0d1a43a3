"""The settings of a judge's training (`JudgeTrainingConfig`), checked when made: also the options of
`s2r train-judge`."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import InputError
from s2r_hf.core.models import check_model_reference
from s2r_hf.signals.judge.prompt import DEFAULT_JUDGE, DEFAULT_SYSTEM_PROMPT

SAVE_DTYPES = ("auto", "float32", "bfloat16", "float16")


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
