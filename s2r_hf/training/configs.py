"""The options of `s2r train`: TRL's own (`ScriptArguments`, `SFTConfig`, `ModelConfig`) plus ours, in a subclass.

Every TRL option keeps its TRL name, so a recipe written for `trl sft` or open-r1 reads the same here. Ours are the
selection applied on the fly, the callbacks, the benchmarks evaluated after training and the evaluation command.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

from trl import SFTConfig

from s2r_hf.core.errors import InputError, S2RError
from s2r_hf.pool.benchmarks import require_benchmark_names
from s2r_hf.selection import STRATEGIES, SelectConfig
from s2r_hf.training.callbacks import require_callback_names
from s2r_hf.training.eval_command import (
    DEFAULT_EVAL_COMMAND,
    EVAL_PLACEHOLDERS,
    check_eval_command,
    check_eval_program,
)


@dataclass
class S2RSFTConfig(SFTConfig):
    """TRL's SFTConfig, plus the selection, callbacks and evaluation of `s2r train`."""

    selection_strategy: str | None = field(
        default=None,
        metadata={
            "help": f"select from the dataset before training: one of {', '.join(STRATEGIES)}; none (default) when "
            "the dataset already is a subset"
        },
    )
    selection_ratio: float | None = field(default=0.1, metadata={"help": "selection: fraction of the pool to keep"})
    selection_k: int | None = field(default=None, metadata={"help": "selection: rows to keep (instead of the ratio)"})
    selection_weight: float = field(default=0.25, metadata={"help": "selection: weight on the difficulty rank"})
    selection_seed: int = field(default=0, metadata={"help": "selection: seed of the random and diverse strategies"})
    selection_group_column: str = field(
        default="problem_type", metadata={"help": "selection: the column the diverse strategy stratifies by"}
    )
    selection_quadrant: str | None = field(
        default=None, metadata={"help": "selection: the quadrant strategy's quadrant (long-hard, short-easy, ...)"}
    )
    selection_max_per_cluster: int | None = field(
        default=None, metadata={"help": "selection: at most this many rows per s2r_question_cluster"}
    )
    pool_dataset: str | None = field(
        default=None,
        metadata={
            "help": "the pool a ready-made subset was selected from (folder, file or Hub id): read only to count its "
            "tokens, so the card can state tokens trained against tokens in the whole pool"
        },
    )
    callbacks: list[str] = field(
        default_factory=lambda: ["selection_report"],
        metadata={
            "help": "callbacks by name: push_to_hub_revision, evaluate; selection_report (the provenance) is always on"
        },
    )
    benchmarks: list[str] = field(
        default_factory=list, metadata={"help": "benchmarks the evaluate callback runs, e.g. math500 aime24"}
    )
    eval_command: str = field(
        default=DEFAULT_EVAL_COMMAND,
        metadata={"help": f"evaluation command template; placeholders {{{'}, {'.join(EVAL_PLACEHOLDERS)}}}"},
    )
    eval_python: str | None = field(
        default=None, metadata={"help": "interpreter for {python} in eval_command (default: this one)"}
    )
    eval_every_save: bool = field(
        default=False, metadata={"help": "evaluate every saved checkpoint, not only the final model"}
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "train again, from the base model, into an output_dir that holds an s2r run (finished or not): "
            "its checkpoints and evaluations are removed once every other check passed"
        },
    )
    # TRL's default of 1024 would truncate long chains of thought: over-long examples are removed instead (see
    # s2r_hf.training.sft_data), and the length must be chosen for the data.
    max_length: int | None = field(
        default=16384, metadata={"help": "longest example in tokens; longer ones are removed, never truncated"}
    )

    def __post_init__(self):
        # The model card states the tokens trained and the throughput: count them (non-padding tokens; cheap).
        if self.include_num_input_tokens_seen in ("no", False):
            self.include_num_input_tokens_seen = "non_padding"
        super().__post_init__()
        check_training_lengths(self)
        if isinstance(self.selection_strategy, str) and self.selection_strategy.lower() in ("", "none"):
            self.selection_strategy = None
        if self.selection_strategy is not None and self.selection_strategy not in STRATEGIES:
            raise InputError(
                f"unknown selection_strategy {self.selection_strategy!r}; known: {', '.join(STRATEGIES)}, or none"
            )
        self.selection_config()  # checks ratio, k, weight and seed now, before anything loads
        self.callbacks = require_callback_names(self.callbacks)
        if "selection_report" not in self.callbacks:
            # A run never lacks its provenance: without it the card cannot say which data made the model, and a
            # later `s2r train` into the folder could not tell it was written by s2r.
            self.callbacks = ["selection_report", *self.callbacks]
        if self.max_length is None or self.max_length < 1:
            raise InputError(
                f"max_length must be a positive number of tokens, got {self.max_length}; long chains of thought "
                "need 16384 or more"
            )
        if self.benchmarks:
            self.benchmarks = require_benchmark_names(self.benchmarks, "--benchmarks")
        if "evaluate" in self.callbacks:
            if not self.benchmarks:
                raise InputError("the evaluate callback needs --benchmarks, e.g. --benchmarks math500 aime24")
            check_eval_command(self.eval_command)
            check_eval_program(self.eval_command, self.eval_python)
        if "push_to_hub_revision" in self.callbacks and not self.hub_model_id:
            raise InputError(
                "the push_to_hub_revision callback needs --hub_model_id (the model repo, e.g. me/qwen-s2r-10)"
            )

    def selection_config(self):
        """The SelectConfig of the on-the-fly selection (None when there is none)."""
        if self.selection_strategy is None:
            return None
        with train_flag_names():
            return SelectConfig(
                ratio=None if self.selection_k is not None else self.selection_ratio,
                k=self.selection_k,
                weight=self.selection_weight,
                strategy=self.selection_strategy,
                seed=self.selection_seed,
                group_column=self.selection_group_column,
                quadrant=self.selection_quadrant,
                max_per_cluster=self.selection_max_per_cluster,
            )


# The selection's own messages name `s2r select`'s flags; `s2r train` spells them with the selection_ prefix.
_SELECT_FLAGS = {
    "--strategy": "--selection_strategy",
    "--weight": "--selection_weight",
    "--seed": "--selection_seed",
    "--quadrant": "--selection_quadrant",
    "--group-column": "--selection_group_column",
    "--max-per-cluster": "--selection_max_per_cluster",
}


# SelectConfig's own checks start with the option's bare name ("ratio must be in (0, 1], got 0"): the flag a user of
# s2r train typed is that name with the selection_ prefix.
_SELECT_OPTION_FIRST = re.compile(rf"^({'|'.join(spec.name for spec in fields(SelectConfig))}) ")


@contextmanager
def train_flag_names():
    """Re-raise the selection's errors with the flag names of `s2r train`."""
    try:
        yield
    except S2RError as err:
        message = _SELECT_OPTION_FIRST.sub(r"--selection_\1 ", str(err))
        message = message.replace("give a ratio in (0, 1] or a number of rows k", _NO_SIZE)
        for select_flag, train_flag in _SELECT_FLAGS.items():
            message = message.replace(select_flag, train_flag)
        raise type(err)(message) from err


_NO_SIZE = "give --selection_ratio in (0, 1] or --selection_k, a number of rows"


def _number(config, name: str) -> float:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a number, got {value!r}")
    return value


def check_training_lengths(config) -> None:
    """Refuse the settings with which nothing would be trained, or which fail only once the model is loaded.

    transformers accepts a batch of 0, 0 or NaN epochs, a negative learning rate: it then fails deep in the loop, or
    "trains" 0 steps and saves the base model as if it were fine-tuned.
    """
    for spec in fields(config):  # `--num_train_epochs nan`, `--learning_rate inf`: any number option
        value = getattr(config, spec.name, None)
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{spec.name} must be a finite number, got {value!r}")
    for name in ("per_device_train_batch_size", "gradient_accumulation_steps"):
        value = _number(config, name)
        if value != int(value) or value < 1:
            raise InputError(f"{name} must be a whole number of at least 1, got {value!r}")
    max_steps = _number(config, "max_steps")
    if max_steps != int(max_steps) or max_steps < -1:
        raise InputError(
            f"max_steps must be a positive number of steps, or -1 to train num_train_epochs; got {max_steps!r}"
        )
    epochs = _number(config, "num_train_epochs")
    if not math.isfinite(epochs) or epochs < 0:
        raise InputError(f"num_train_epochs must be a finite number of epochs, at least 0; got {epochs!r}")
    if max_steps <= 0 and epochs == 0:
        raise InputError(
            f"num_train_epochs is 0 and max_steps is {max_steps}: nothing would be trained; give --num_train_epochs "
            "(e.g. 3) or --max_steps (a positive number of steps)"
        )
    for name in ("seed", "data_seed"):  # numpy's and torch's seeds; another value fails once the model is loaded
        value = getattr(config, name)
        if value is not None and (_number(config, name) != int(value) or not 0 <= value < 2**32):
            raise InputError(f"{name} must be a whole number from 0 to 2**32 - 1, got {value!r}")
    rate = _number(config, "learning_rate")
    if not math.isfinite(rate) or rate <= 0:
        raise InputError(f"learning_rate must be a positive finite number, got {rate!r}; e.g. --learning_rate 1e-5")
    if config.max_length is not None and _number(config, "max_length") < 1:
        raise InputError(f"max_length must be at least 1 token, got {config.max_length!r}")
    for name in ("warmup_ratio", "weight_decay", "max_grad_norm"):
        if getattr(config, name, None) is not None and _number(config, name) < 0:
            raise InputError(f"{name} cannot be negative, got {getattr(config, name)!r}")
