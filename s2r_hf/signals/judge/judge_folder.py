"""What a trained judge's folder holds and how it is written: the output folder's guard, the held-out predictions,
the metadata (every setting and both Spearman correlations, `s2r_judge_training.json`) and the model card rendered from
hub_cards/judge.md."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.folders import JUDGE_OWNER, JUDGE_RECORD, check_writable
from s2r_hf.core.models import is_local_model
from s2r_hf.core.rows import arrow_column
from s2r_hf.signals.judge.prompt import DEFAULT_SYSTEM_PROMPT
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset

    from s2r_hf.signals.judge.training_loop import BaseJudge

# How an output folder is known as a judge `train_judge` wrote, which --overwrite may replace: this record
# (s2r_hf.core.folders.JUDGE_OWNER).
METADATA_FILE = JUDGE_RECORD
EVAL_PREDICTIONS_FILE = "eval_predictions.jsonl"
JUDGE_TAGS = ["s2r-hf", "select2reason", "difficulty-judge"]


def check_output_dir(config: JudgeTrainingConfig) -> Path:
    """The output folder: refused when it exists and overwrite is off, and never one s2r did not write.

    `overwrite` replaces only a judge an earlier `train_judge` wrote (it holds s2r_judge_training.json), so a mistyped
    `-o` can never delete a user's folder, the current directory or one above it (s2r_hf.core.folders.check_writable).
    """
    check_writable(config.output_dir, config.overwrite, owner=JUDGE_OWNER)
    return Path(config.output_dir).expanduser()


# What names a held-out row in eval_predictions.jsonl besides its position: its s2r_id when the training pool has one
# (then `s2r score --judge` finds the row in a scored pool: s2r_hf.signals.judge.held_out), else this key of its
# question text (s2r_hf.signals.judge.store.question_key).
QUESTION_KEY = "question_key"


def held_out_key(dataset: Dataset) -> str:
    """The field that names each held-out row in eval_predictions.jsonl: s2r_id when the dataset has it."""
    return ID if ID in dataset.column_names else QUESTION_KEY


def write_eval_predictions(
    path: Path,
    dataset: Dataset,
    questions: list[str],
    eval_rows: np.ndarray,
    eval_targets: np.ndarray,
    scores_before: np.ndarray,
    scores_after: np.ndarray,
) -> None:
    """One JSON line per held-out row: its position in the dataset and its s2r_id (or, without one, the key of its
    question), its target and the judge's score before (the untrained base judge) and after training."""
    from s2r_hf.signals.judge.store import question_key

    ids = arrow_column(dataset, ID).to_pylist() if held_out_key(dataset) == ID else None
    with open(path, "w", encoding="utf-8") as handle:
        for k, row in enumerate(eval_rows.tolist()):
            record = {"row": row, "target": float(eval_targets[k])}
            if ids is not None:
                record[ID] = ids[row]
            else:
                record[QUESTION_KEY] = question_key(questions[row])
            record.update(score_before=float(scores_before[k]), score_after=float(scores_after[k]))
            handle.write(json.dumps(record) + "\n")


def write_judge_files(staging: Path, metadata: dict[str, Any]) -> None:
    """The metadata file and the model card, beside the weights and tokenizer already saved in `staging`."""
    (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (staging / "README.md").write_text(render_judge_card(metadata), encoding="utf-8")


def judge_metadata(
    config: JudgeTrainingConfig,
    base: BaseJudge,
    *,
    truncated: int,
    targets: np.ndarray,
    train_rows: np.ndarray,
    eval_rows: np.ndarray,
    train_output: Any,
    spearman_before: float | None,
    spearman_after: float | None,
    held_out_key: str = ID,
    pool: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The facts of a training run, as `s2r_judge_training.json` and the card's `s2r` block hold them: the base model
    at its commit, the target, the prompt, the rows, every setting, and the held-out Spearman before and after."""
    from s2r_hf._version import __version__

    return {
        "s2r_hf_version": __version__,
        "base_model": config.base_model,
        "base_revision": config.base_revision,
        "base_commit": base.commit,
        "target": config.target_description(),
        "question": config.question_column or f"first user turn of {MESSAGES}",
        "system_prompt": config.system_prompt,
        "score": 'P("1") / (P("0") + P("1")) at the last prompt position',
        "verdict_token_ids": {"0": base.verdict_ids[0], "1": base.verdict_ids[1]},
        "max_question_tokens": config.max_question_tokens,
        "truncated_questions": truncated,
        "rows": {"total": len(targets), "train": len(train_rows), "eval": len(eval_rows)},
        # The training pool as it was read (source, split, the digest of its files or its Hub commit), when known.
        "pool": pool,
        "mean_target": {"train": float(targets[train_rows].mean()), "eval": float(targets[eval_rows].mean())},
        "training": {
            **{k: v for k, v in asdict(config).items() if k not in {"output_dir", "overwrite"}},
            "bf16": base.bf16,
            "save_dtype": str(base.save_dtype).removeprefix("torch."),
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
            "predictions_key": held_out_key,  # s2r_id, or question_key when the training pool had no s2r_id
        },
    }


def judge_card_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata: what the Hub reads (base model, library, tags) and the training facts as `s2r`."""
    card: dict[str, Any] = {}
    # The Hub reads `base_model` as a model id: a local folder's path would be a broken link there.
    if not is_local_model(metadata["base_model"]):
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
