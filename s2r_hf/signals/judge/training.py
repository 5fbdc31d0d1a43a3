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

`train_judge` runs the steps, each in a module of its own: the settings (training_config), the targets, questions and
split (targets), the base model, prompts, loss and Trainer (training_loop), and the folder written (judge_folder).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import follow_umask, staged_folder
from s2r_hf.core.stats import spearman
from s2r_hf.signals.judge.judge_folder import (
    EVAL_PREDICTIONS_FILE,
    check_output_dir,
    held_out_key,
    judge_metadata,
    write_eval_predictions,
    write_judge_files,
)
from s2r_hf.signals.judge.targets import check_targets_vary, judge_targets, read_questions, split_rows
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig
from s2r_hf.signals.judge.training_loop import encode_prompts, load_base, score_prompts, train, training_dataset

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)


@dataclass
class JudgeTrainingResult:
    """What `train_judge` wrote: the folder, the held-out Spearman before and after training, the rows on each side
    of the split, and the metadata saved with the judge."""

    output_dir: Path
    spearman_before: float | None
    spearman_after: float | None
    train_rows: int
    eval_rows: int
    metadata: dict[str, Any]


def train_judge(
    dataset: Dataset, config: JudgeTrainingConfig, *, pool: dict[str, Any] | None = None
) -> JudgeTrainingResult:
    """Fine-tune `config.base_model` on `dataset` and write the judge to `config.output_dir`, all or nothing.

    `pool` says what `dataset` is (source, split, its files' digest or Hub commit: `s2r train-judge` gives it); it is
    recorded with the held-out rows, which eval_predictions.jsonl names by s2r_id (or question key without one)."""
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

    base = load_base(config)
    prompts, truncated = encode_prompts(base.tokenizer, questions, config)
    eval_prompts = [prompts[i] for i in eval_rows]
    eval_targets = targets[eval_rows]
    with torch.autocast(base.device.type, dtype=torch.bfloat16, enabled=base.bf16):
        scores_before = score_prompts(base.model, eval_prompts, base.verdict_ids, base.pad_id, config.eval_batch_size)
    spearman_before = spearman(scores_before, eval_targets)
    logger.info("held-out Spearman before training: %s (%d rows)", spearman_before, len(eval_rows))

    train_data = training_dataset(prompts, targets, train_rows)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    # Staged beside the output (permissions from the umask) and moved into place whole; removed if anything fails.
    with staged_folder(output_dir, config.overwrite) as staging:
        train_output, model = train(base, train_data, staging / "trainer", config)
        # The "after" scores are those of the weights exactly as saved.
        model.to(base.save_dtype)
        scores_after = score_prompts(model, eval_prompts, base.verdict_ids, base.pad_id, config.eval_batch_size)
        spearman_after = spearman(scores_after, eval_targets)
        logger.info("held-out Spearman after training: %s (before: %s)", spearman_after, spearman_before)

        shutil.rmtree(staging / "trainer", ignore_errors=True)
        model.save_pretrained(staging)
        follow_umask(staging, "*.safetensors")  # safetensors writes owner-only whatever the umask
        base.tokenizer.save_pretrained(staging)
        write_eval_predictions(
            staging / EVAL_PREDICTIONS_FILE, dataset, questions, eval_rows, eval_targets, scores_before, scores_after
        )
        metadata = judge_metadata(
            config,
            base,
            truncated=truncated,
            targets=targets,
            train_rows=train_rows,
            eval_rows=eval_rows,
            train_output=train_output,
            spearman_before=spearman_before,
            spearman_after=spearman_after,
            held_out_key=held_out_key(dataset),
            pool=pool,
        )
        write_judge_files(staging, metadata)
        check_output_dir(config)  # again: what is there now is what gets replaced
    logger.info("trained judge written to %s", output_dir)
    return JudgeTrainingResult(
        output_dir=output_dir,
        spearman_before=spearman_before,
        spearman_after=spearman_after,
        train_rows=len(train_rows),
        eval_rows=len(eval_rows),
        metadata=metadata,
    )
