"""What a trained model says about itself: `s2r_training.json` in the output folder, and the model card made from it.

`new_record` and `data_record` build the record (the launcher, s2r_hf.training.sft, or a callback built in a script of
your own, s2r_hf.training.callbacks.SelectionReportCallback.from_reports). The JSON file is the single source: the card
(README.md, rendered from hub_cards/model.md) is re-rendered from it whenever it changes (training ended, an evaluation
came back), so the two never disagree. Its `status` tells a later `s2r train` what the folder holds: `running` (a run
started; resumable), `trained` (the loop ended), `finished` (the final model is saved: the folder is refused unless
--overwrite_output_dir).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from s2r_hf._version import __version__
from s2r_hf.core.cards import render_card
from s2r_hf.core.folders import TRAINING_RECORD, write_json_atomically, write_text_atomically
from s2r_hf.core.models import is_local_model
from s2r_hf.core.records import DATA_TOKENS, read_json_object, upgrade_token_keys
from s2r_hf.core.redaction import redact

# The training record, by which an output folder is known as one `s2r train` wrote (s2r_hf.core.folders.TRAINING_OWNER,
# in core beside the other commands' owners so that every output guard can name a training run).
PROVENANCE_FILE = TRAINING_RECORD
TRAINING_KIND = "s2r_training"  # the record's "kind"
CARD_FILE = "README.md"
# Who trained: the record's `trained_by` (a record written before this key existed was written by s2r train).
TRAINED_BY_COMMAND = "s2r train"
TRAINED_BY_SCRIPT = "a Python script"
# data.selected_by: a selection `select` made (noted on the Dataset given), one given to from_reports as
# `select_with_report`'s report, or a subset's card (`s2r select`)
SELECTED_IN_SCRIPT = "s2r_hf.select"
SELECTED_WITH_REPORT = "select_with_report"
SELECTED_BY_CARD = "s2r select (the subset's card)"


def new_record(
    *,
    base_model: str | None,
    data: dict[str, Any],
    name: str | None = None,
    recipe: dict[str, Any] | None = None,
    command: str | None = None,
    output_dir: str | None = None,
    trained_by: str = TRAINED_BY_COMMAND,
) -> dict[str, Any]:
    """A new run's provenance record: what it trains on and from, before any training (status `running`).

    `trained_by`: `s2r train` (TRAINED_BY_COMMAND: `command` is its command line), or a Python script of the user's
    (TRAINED_BY_SCRIPT: the record holds `python_call`, the calls that made the training data, instead).
    """
    record = {
        "kind": TRAINING_KIND,
        "status": "running",
        "name": name,
        "s2r_hf_version": __version__,
        "base_model": base_model,
        "data": data,
        "recipe": recipe,
        "training": None,
        "evaluations": [],
        "command": command,
        "output_dir": output_dir,
        "trained_by": trained_by,
    }
    if trained_by == TRAINED_BY_SCRIPT:
        record["python_call"] = python_call(data)
    return record


def python_call(data: dict[str, Any]) -> str:
    """The s2r-hf calls that make a script's training data again, from its data record (for the card's Reproduce)."""
    sft = data.get("sft") or {}
    source, selection = data.get("source"), data.get("selection")
    load = None
    if source and data.get("kind") in ("file", "folder", "hub"):  # not a name given to from_reports
        options = {key: data.get(key) for key in ("config", "split", "revision")}
        options = {key: value for key, value in options.items() if value and not (key == "split" and value == "train")}
        load = f"load_source({', '.join([repr(source), *(f'{key}={value!r}' for key, value in options.items())])})"
    pool_argument = ", pool=pool" if data.get("pool_tokens") else ""
    lines = []
    if selection and data.get("selected_by") in (SELECTED_IN_SCRIPT, SELECTED_WITH_REPORT):
        lines.append(f"pool = {load}" if load else f"pool = ...  # {_unrecorded(source)}")
        dataset = f"select(pool, {', '.join(_select_arguments(selection))})"
    else:
        if pool_argument:
            lines.append("pool = ...  # the pool the data was selected from")
        if not load:
            lines.append(f"dataset = ...  # {_unrecorded(source)}")
        dataset = load or "dataset"
    lines.append(f"train, report = prepare_sft_dataset({dataset}, tokenizer, {sft.get('max_length')}{pool_argument})")
    used = [name for name in ("load_source", "prepare_sft_dataset", "select") if f"{name}(" in "\n".join(lines)]
    return "\n".join([f"from s2r_hf import {', '.join(used)}", "", *lines])


def _unrecorded(source: str | None) -> str:
    return f"{source!r} (where it was loaded from was not recorded)" if source else "its source was not recorded"


def _select_arguments(selection: dict[str, Any]) -> list[str]:
    """`select`'s arguments for a recorded selection: only those its strategy uses (any other is refused)."""
    strategy = selection.get("strategy")
    if selection.get("token_budget") is not None:  # counted with the student's tokenizer, as the trainer counts
        given = [f"token_budget={selection['token_budget']!r}", "tokenizer=tokenizer"]
    elif selection.get("k") is not None:
        given = [f"k={selection['k']!r}"]
    else:
        given = [f"ratio={selection.get('ratio')!r}"]
    if strategy != "joint":
        given.append(f"strategy={strategy!r}")
    if strategy in ("joint", "quadrant"):
        given.append(f"weight={selection.get('weight')!r}")
    if strategy in ("random", "diverse"):
        given.append(f"seed={selection.get('seed')!r}")
    if strategy == "diverse":
        given.append(f"group_column={selection.get('group_column')!r}")
    if strategy == "quadrant" and isinstance(selection.get("quadrant"), dict):
        given.append(f"quadrant={selection['quadrant'].get('name')!r}")
    if selection.get("max_per_cluster") is not None:
        given.append(f"max_per_cluster={selection['max_per_cluster']!r}")
    return given


def data_record(
    *,
    source: str | None,
    kind: str,
    selection: dict[str, Any] | None,
    selected_by: str | None,
    sft_report,
    pool_tokens: int | None,
    config: str | None = None,
    split: str | None = None,
    revision: str | None = None,
    pool_tokens_note: str | None = None,
) -> dict[str, Any]:
    """Which data made the model: the source, the selection, and the tokens trained against the pool's."""
    sft = sft_report.describe() if hasattr(sft_report, "describe") else dict(sft_report)
    return {
        "source": source,
        "kind": kind,
        "config": config,
        "split": split,
        "revision": revision,
        "selected_by": selected_by,
        "selection": selection,
        "sft": sft,
        DATA_TOKENS: sft["tokens_kept"],  # tokens in the training data (one epoch); s2r_hf.core.records
        "pool_tokens": pool_tokens,
        "token_share": (sft["tokens_kept"] / pool_tokens) if pool_tokens else None,
        "pool_tokens_note": pool_tokens_note
        or (
            None if pool_tokens else "give the pool with --pool_dataset, or select on the fly with --selection_strategy"
        ),
    }


def read_provenance(output_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The training record of an s2r training folder (the one reader of `s2r_training.json`), or None when there is
    none; an InputError when the file is damaged or of another kind. The token counts are read under their names
    (`data.data_tokens`, `training.trained_tokens`: s2r_hf.core.records) whichever version wrote the record."""
    path = Path(output_dir) / PROVENANCE_FILE
    if not path.exists():
        return None
    record = read_json_object(
        path,
        what="an s2r training record",
        fix="it was not written whole, or not by s2r train: remove it, or choose another output_dir",
        kind=("kind", TRAINING_KIND),
    )
    return upgrade_token_keys(record)  # a record of an earlier version: its token counts under today's names


def write_provenance(output_dir: str | os.PathLike, record: dict[str, Any]) -> Path:
    """Write the record whole (a temporary file moved into place), then the model card from it.

    The record goes through the one rule for secrets first (`s2r_hf.core.redaction.redact`): whatever option or value
    carried a token into it, the file and the card hold `REDACTED`.
    """
    record = upgrade_token_keys(redact(record))  # a record built by an earlier version's code: today's token names
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_json_atomically(folder / PROVENANCE_FILE, record, default=str)
    write_model_card(folder, record)
    return path


def update_provenance(output_dir: str | os.PathLike, **changes: Any) -> dict[str, Any] | None:
    """Merge `changes` into the folder's record and write it again; None (nothing written) when there is none."""
    record = read_provenance(output_dir)
    if record is None:
        return None
    record.update(changes)
    write_provenance(output_dir, record)
    return record


def card_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML header: what the Hub reads (base model, datasets, tags), and the record itself."""
    metadata: dict[str, Any] = {"library_name": "transformers", "pipeline_tag": "text-generation"}
    base = record.get("base_model")
    if base and not is_local_model(str(base)):  # a local path means nothing on the Hub
        metadata["base_model"] = base
    data = record.get("data") or {}
    if data.get("kind") == "hub" and data.get("source"):
        metadata["datasets"] = [data["source"]]
    metadata["tags"] = ["s2r-hf", "select2reason", "trl", "sft", "long-cot"]
    metadata["s2r"] = record
    return metadata


def write_model_card(output_dir: str | os.PathLike, record: dict[str, Any]) -> Path:
    return write_text_atomically(Path(output_dir) / CARD_FILE, render_card("model.md", card_metadata(record)))
