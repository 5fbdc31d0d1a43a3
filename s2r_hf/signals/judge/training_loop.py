"""The model side of a judge's training: the base model loaded once, the prompts encoded and batched (left-padded, so
the last position is every prompt's end), the loss (binary cross-entropy on the softmax over the logits of "0" and "1"
there), the transformers Trainer that minimises it, and the scores P("1") of held-out prompts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.models import fetch_model
from s2r_hf.signals.judge.prompt import encode_judge_prompts, verdict_token_ids
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

if TYPE_CHECKING:
    import numpy as np
    import torch
    from datasets import Dataset

logger = logging.getLogger(__name__)

TARGET_FIELD = "target"  # the soft label's key in training batches; never a model input


@dataclass
class BaseJudge:
    """The base model as training starts: a local folder at one commit, its tokenizer, the model (float32 master
    weights, on the device) and how training and saving use them."""

    folder: str
    commit: str | None
    tokenizer: Any
    model: Any
    verdict_ids: tuple[int, int]
    pad_id: int
    save_dtype: torch.dtype  # the base model's own dtype unless save_dtype says otherwise
    bf16: bool
    device: torch.device


def load_base(config: JudgeTrainingConfig) -> BaseJudge:
    """The base model, its tokenizer and the precision to train and save in; a model that cannot judge (no chat
    template, nothing to pad with) or an unknown schedule is refused before the weights load."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.trainer_utils import SchedulerType

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
    return BaseJudge(base_folder, base_commit, tokenizer, model, verdict_ids, pad_id, save_dtype, bf16, device)


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


def training_dataset(prompts: list[list[int]], targets: np.ndarray, rows: np.ndarray) -> Dataset:
    """The training rows as the Trainer reads them: prompt token ids and the soft target."""
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [prompts[i] for i in rows], TARGET_FIELD: targets[rows].tolist()})


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


def make_trainer(verdict_ids: tuple[int, int], **trainer_kwargs):
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


def train(base: BaseJudge, train_data: Dataset, trainer_dir: Path, config: JudgeTrainingConfig):
    """Fine-tune `base.model` on `train_data`, the Trainer's own files in `trainer_dir`; returns the Trainer's
    output (steps, training loss) and the trained model."""
    from transformers import TrainingArguments

    args = TrainingArguments(
        output_dir=str(trainer_dir),
        learning_rate=config.learning_rate,
        num_train_epochs=config.num_train_epochs,
        per_device_train_batch_size=config.per_device_train_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        lr_scheduler_type=config.lr_scheduler_type,
        weight_decay=config.weight_decay,
        seed=config.seed,
        bf16=base.bf16,
        use_cpu=base.device.type != "cuda",
        logging_steps=config.logging_steps,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,  # the target is not a forward() argument
        label_names=[TARGET_FIELD],
        **_renamed_arguments(TrainingArguments, config),
    )
    base.model.config.use_cache = False
    trainer = make_trainer(
        base.verdict_ids,
        model=base.model,
        args=args,
        train_dataset=train_data,
        data_collator=JudgeCollator(base.pad_id),
    )
    train_output = trainer.train()
    model = trainer.model
    model.config.use_cache = True
    return train_output, model


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
