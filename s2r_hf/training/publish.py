"""Publish a model `s2r train` finished to a Hugging Face model repo, through s2r_hf.hub.commit.commit_files.

`publish_model(output_dir, "s2r/qwen-select10")` makes the model repo hold what a user loads: the model files, the
tokenizer, the README.md model card and `s2r_training.json` (which data made the model, what training cost). What only
resuming or evaluating needs never leaves the machine: `checkpoint-*/` folders, `s2r_eval/`, optimizer, scheduler and
RNG state, caches (`PUSH_EXCLUDE`, also used by the checkpoint pushes of s2r_hf.training.callbacks).

One publish is one commit or none (identical content makes none). Files the repo holds but the folder no longer has
are deleted in the same commit, so the repo is the folder; evaluation results pushed into the card's `model-index` since
the last publish (s2r_hf.evaluation.publish) are carried over into the card, so a later publish does not erase them.

The training record `s2r_training.json` is read by its one reader, s2r_hf.training.provenance.read_provenance.
"""

from __future__ import annotations

import logging
import os
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from s2r_hf._version import __version__
from s2r_hf.core.cards import join_card, split_card
from s2r_hf.core.errors import InputError
from s2r_hf.hub.checks import check_publish_options, check_repo_id
from s2r_hf.hub.commit import CommitPlan, CommitResult, commit_files, count_changes, describe_changes
from s2r_hf.hub.retry import RetryPolicy, check_online
from s2r_hf.training.provenance import PROVENANCE_FILE, TRAINING_KIND, read_provenance

logger = logging.getLogger(__name__)

# Files of a checkpoint that only resuming needs (optimizer, scheduler, RNG and scaler state, DeepSpeed's sharded
# optimizer) or that evaluation leaves behind (lighteval's caches): never pushed.
PUSH_EXCLUDE = (
    "optimizer*",
    "scheduler.pt",
    "rng_state*",
    "scaler.pt",
    "global_step*",
    "global_step*/*",
    "latest",
    "zero_to_fp32.py",
    "*.lock",
    ".*",
    ".*/*",
    "lighteval*",
    "lighteval*/*",
    "*/lighteval*",
    "details/*",
    "results/*",
)
# Folders of a training output folder that are not the model: the intermediate checkpoints (each one is pushed to its
# own branch by the push_to_hub_revision callback, if at all), the evaluations run during training, trainer logs.
OUTPUT_EXCLUDE = ("checkpoint-*", "s2r_eval/*", "runs/*")
TRAINING_FILE = PROVENANCE_FILE
CARD_FILE = "README.md"

Folder = str | os.PathLike


def publish_model(
    folder: Folder,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    retry: RetryPolicy | None = None,
    commit_message: str | None = None,
) -> CommitResult:
    """Make the model repo `repo_id` hold the model `s2r train` finished in `folder`, in one commit (or none).

    `folder` is the output_dir of `s2r train` (it holds s2r_training.json with status "finished"); anything else is
    refused with an InputError. `private` applies when the repo is created; `token` defaults to HF_TOKEN or the
    stored login. Returns the `CommitResult` (`changed` is False when the repo already held this model).
    """
    check_online()
    check_repo_id(repo_id)
    check_publish_options(private=private, token=token, retry=retry)
    if commit_message is not None and not isinstance(commit_message, str):
        raise InputError(f"commit_message must be a string or None, got {type(commit_message).__name__}")
    folder = check_model_folder(folder)
    files: dict[str, Path | bytes] = {path: folder / path for path in model_files(folder)}
    name = repo_id.split("/")[-1]

    def message(plan: CommitPlan) -> tuple[str, str]:
        title = commit_message or f"{'Publish' if plan.first_commit else 'Update'} {name}: {count_changes(plan)}"
        return (
            title,
            f"Published with s2r-hf {_version()} from an `s2r train` output folder.\n\n{describe_changes(plan)}",
        )

    def check(plan: CommitPlan) -> None:
        _refuse_foreign_repo(plan)
        if CARD_FILE in plan.updated:
            card = files[CARD_FILE]
            local = card if isinstance(card, bytes) else card.read_bytes()
            carried = carry_model_index(local, plan.read_remote(CARD_FILE).decode("utf-8", errors="replace"))
            if carried != local:
                raise _CarriedIndex(carried)

    def publish(check) -> CommitResult:
        return commit_files(
            repo_id,
            files,
            repo_type="model",
            delete=("*",),  # the repo is the folder: files it no longer has go
            message=message,
            private=private,
            token=token,
            retry=retry,
            check=check,
        )

    try:
        return publish(check)
    except _CarriedIndex as carried:
        files[CARD_FILE] = carried.card
        return publish(_refuse_foreign_repo)


def read_training_record(folder: Folder) -> dict[str, Any]:
    """The `s2r_training.json` of a training output folder (read by `read_provenance`); an InputError when it has none
    or an unreadable one."""
    record = read_provenance(folder)
    if record is None:
        raise InputError(
            f"{str(folder)!r} is not an output folder of `s2r train` (no {TRAINING_FILE} in it); give the "
            "output_dir of a finished `s2r train` run (to push other files, use s2r_hf.commit_files)"
        )
    return record


def check_model_folder(folder: Folder) -> Path:
    """The resolved folder, when it holds a model `s2r train` finished; an InputError saying what is wrong otherwise."""
    if not isinstance(folder, (str, os.PathLike)):
        raise InputError(f"a model folder is a path, got {folder!r} ({type(folder).__name__})")
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{str(folder)!r} is not a folder; give the output_dir of a finished `s2r train` run")
    status = read_training_record(path).get("status")
    if status != "finished":
        raise InputError(
            f"the training run in {str(folder)!r} is not finished (its {TRAINING_FILE} says status {status!r}); "
            "finish it first (re-running the same `s2r train` command resumes it), then publish"
        )
    return path.resolve()


def model_files(folder: Path) -> list[str]:
    """The files of a training output folder to publish, as posix paths relative to it: never checkpoints, evaluation
    runs, optimizer or RNG state, caches or hidden files."""
    out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if any(fnmatch(relative, pattern) for pattern in (*PUSH_EXCLUDE, *OUTPUT_EXCLUDE)):
            continue
        if path.is_symlink():
            # s2r train writes no links; following one would publish whatever it points at.
            raise InputError(
                f"{path} is a symbolic link (to {os.readlink(path)!r}); copy the file in (or remove the link) and "
                "publish again"
            )
        if path.is_file():
            out.append(relative)
    return out


def carry_model_index(card: bytes, remote_card: str | None) -> bytes:
    """The card about to be published, with the `model-index` (evaluation results) of the card on the Hub when the new
    card has none; laid out as s2r_hf.evaluation.publish writes it (s2r_hf.core.cards.join_card), so that a re-publish
    of the same model is no change."""
    if not remote_card:
        return card
    try:
        old, _ = split_card(remote_card)
        new, body = split_card(card.decode("utf-8"))
    except InputError:
        return card
    if not old.get("model-index") or new.get("model-index"):
        return card
    new["model-index"] = old["model-index"]
    return join_card(new, body.lstrip()).encode()


class _CarriedIndex(Exception):
    """Raised from a commit check: the card to publish, with the model-index of the card on the Hub carried over."""

    def __init__(self, card: bytes):
        super().__init__("the card is re-rendered with the model-index on the Hub")
        self.card = card


def _refuse_foreign_repo(plan: CommitPlan) -> None:
    """A publish makes the repo the folder: files may be deleted only from a repo s2r published a model to (its card
    carries an s2r training record), never from a repo someone filled otherwise."""
    if not plan.deleted:
        return
    kind = None
    if CARD_FILE in plan.remote_paths:
        try:
            metadata, _ = split_card(plan.read_remote(CARD_FILE).decode("utf-8", errors="replace"))
        except InputError:
            metadata = {}
        s2r = metadata.get("s2r")
        kind = s2r.get("kind") if isinstance(s2r, dict) else None
    if kind != TRAINING_KIND:
        shown = ", ".join(plan.deleted[:5]) + (", ..." if len(plan.deleted) > 5 else "")
        raise InputError(
            f"{plan.repo_id} already holds files that s2r did not publish ({shown}), and publishing would delete them "
            "(its README.md card has no s2r training record); publish to a new repo, or remove those files yourself"
        )


def _version() -> str:
    return __version__
