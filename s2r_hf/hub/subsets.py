"""Publish subset folders to the Hugging Face Hub, through the commit engine of s2r_hf.hub.commit.

`publish_subset(folder, "s2r/openr1-select10")` makes a dataset repo hold exactly the folder `s2r select` wrote
(parquet shards under `data/`, the README.md card, the plots), so `load_dataset("s2r/openr1-select10")` needs no config
name: the Hub's default file patterns find `data/train-*.parquet` whether or not the card lists `configs:`.
`publish_subsets({"select10": folder, ...}, "s2r/openr1-select")` puts several subsets in one repo, one config each
(`load_dataset("s2r/openr1-select", "select10")`), under a card rendered from `hub_cards/subset.md` that lists them.

One publish is one commit or none (identical content), made as `commit_files` describes; its title names the card
facts that changed (`rows 4 -> 5`) and its description lists every file. Remote files the folder no longer has (a shard
of an earlier, larger subset) are deleted in the same commit.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf._version import __version__
from s2r_hf.core.cards import render_card, split_card
from s2r_hf.core.errors import DuplicateConfigError, InputError, PublishError
from s2r_hf.core.folders import CARD_FILE, DATA_DIR, SPLIT, read_card_metadata
from s2r_hf.hub.checks import check_publish_options, check_repo_id
from s2r_hf.hub.commit import CommitPlan, CommitResult, commit_files, count_changes, describe_changes
from s2r_hf.hub.retry import RetryPolicy, check_online

logger = logging.getLogger(__name__)

# The folder of a subset repo that publishing keeps: files pushed beside the subset after it was published (the
# results.json of each evaluation, s2r_hf.evaluation.publish), which the folder `s2r select` wrote does not have.
SUBSET_RESULTS_DIR = "results"
CONFIG_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Card facts named first in a commit title: the ones that change what a user trains on.
_FACT_ORDER = (
    "s2r.rows",
    "s2r.strategy",
    "s2r.ratio",
    "s2r.k",
    "s2r.weight",
    "s2r.seed",
    "s2r.group_column",
    "s2r.pool_rows",
    "s2r.pool.source.name",
    "s2r.pool.source.revision",
    "s2r.pool.difficulty.scorer",
    "s2r.pool.length.unit",
    "s2r.version",
)

Folder = str | os.PathLike
# Several subsets: folders (each named by its subset name), {config name: folder}, or (config name, folder) pairs.
Subsets = Sequence[Folder] | Mapping[str, Folder] | Sequence[tuple[str, Folder]]


# -- public API --------------------------------------------------------------------------------------------------------


def publish_subset(
    folder: Folder,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    retry: RetryPolicy | None = None,
) -> CommitResult:
    """Make the dataset repo `repo_id` hold exactly `folder` (a folder written by `s2r select`), in one commit.

    The subset is the repo's only config, so `load_dataset(repo_id)` needs no config name. `token` defaults to the
    environment (`HF_TOKEN`) or the stored login. `private` applies when the repo is created. `revision` is an
    existing branch (default `main`). Re-publishing identical content makes no commit.
    """
    check_online()
    check_repo_id(repo_id)  # before the folder is read or any warning about it is logged
    check_publish_options(private=private, token=token, retry=retry)
    if commit_message is not None and not isinstance(commit_message, str):
        raise InputError(f"commit_message must be a string or None, got {type(commit_message).__name__}")
    folder = _check_folder(folder)
    metadata = _card_metadata(folder)
    kind = (metadata.get("s2r") or {}).get("kind")
    if kind is not None and kind != "subset":
        what = "a scored pool written by `s2r score`" if kind == "scored_pool" else f"of kind {kind!r}"
        raise InputError(
            f"{folder} is {what}, not a subset (its card's s2r.kind is {kind!r}); publish the folder `s2r select` "
            "wrote from it (s2r_hf.commit_files can push other files)"
        )
    hint = (metadata.get("s2r") or {}).get("repo_hint")
    if hint and hint != repo_id:
        logger.warning(
            "the card's example loads %r but this publish goes to %r; the folder is pushed unchanged. To fix the "
            "card, re-run `s2r select ... --repo-id %s`",
            hint,
            repo_id,
            repo_id,
        )
    files = {path: folder / path for path in _folder_files(folder)}
    push = _Push(repo_id, _subset_name(metadata, folder), private, revision, token, commit_message, retry)
    return _publish(files, push)


def publish_subsets(
    folders: Subsets,
    repo_id: str,
    *,
    default: str | None = None,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    retry: RetryPolicy | None = None,
) -> CommitResult:
    """Publish several subset folders as the configs of one dataset repo, in one commit.

    `folders` maps config names to folders ({name: folder} or (name, folder) pairs); a plain list of folders names
    each config by the last `-`-separated part of its subset's name (`openr1-select10` -> `select10`). Config names
    must be distinct, also ignoring case (`DuplicateConfigError`). Config `c` holds `c/train-*.parquet` and its plots,
    so `load_dataset(repo_id, "c")` loads it; `default` (a config name) also makes `load_dataset(repo_id)` work. The
    card lists every config. The repo holds exactly these subsets: files of configs no longer given are deleted.
    """
    check_online()
    check_repo_id(repo_id)
    check_publish_options(private=private, token=token, retry=retry)
    if commit_message is not None and not isinstance(commit_message, str):
        raise InputError(f"commit_message must be a string or None, got {type(commit_message).__name__}")
    named = name_configs(folders)
    if default is not None and default not in named:
        raise InputError(f"default config {default!r} is not one of the configs {list(named)}")
    files: dict[str, Path | bytes] = {}
    subsets_metadata = []
    for config, folder in named.items():
        for path in _folder_files(folder):
            if path == CARD_FILE:
                continue
            target = f"{config}/{Path(path).name}" if path.startswith(f"{DATA_DIR}/") else f"{config}/{path}"
            files[target] = folder / path
        subsets_metadata.append((config, _card_metadata(folder, subset=True)))
    card = render_card("subset.md", collection_metadata(subsets_metadata, repo_id, default=default))
    files[CARD_FILE] = card.encode("utf-8")
    push = _Push(repo_id, repo_id.split("/")[-1], private, revision, token, commit_message, retry)
    return _publish(files, push)


def name_configs(folders: Subsets) -> dict[str, Path]:
    """Config name -> checked subset folder, in the order given; refuses repeated names (`DuplicateConfigError`)."""
    if isinstance(folders, (str, os.PathLike)):
        raise InputError(f"give several subset folders as a list or a mapping, got the single path {str(folders)!r}")
    if not isinstance(folders, Mapping):
        if not isinstance(folders, Iterable):
            raise InputError(f"give several subset folders as a list or a mapping, got {type(folders).__name__}")
        folders = list(folders)  # a generator is read once: by the check below, it would be empty after it
    explicit = isinstance(folders, Mapping) or any(isinstance(item, tuple) for item in folders)
    if isinstance(folders, Mapping):
        pairs = list(folders.items())
    elif explicit:
        pairs = [_pair(item) for item in folders]
    else:
        pairs = [(None, folder) for folder in folders]
    named: dict[str, Path] = {}
    seen: dict[str, str] = {}  # casefolded name -> name as given
    for config, folder in pairs:
        folder = _check_folder(folder)
        origin = ""
        if config is None:
            subset_name = _subset_name(_card_metadata(folder), folder)
            config, origin = subset_name.rsplit("-", 1)[-1], f" (the last '-' part of the subset name {subset_name!r})"
        elif not isinstance(config, str):
            raise InputError(f"config names are strings, got {config!r} ({type(config).__name__}) for {folder}")
        if not CONFIG_NAME_PATTERN.fullmatch(config) or config == DATA_DIR:
            raise InputError(
                f"invalid config name {config!r}{origin} for {folder}: use letters, digits, '_', '.', '-' "
                f"(and not {DATA_DIR!r}); name the configs explicitly"
            )
        previous = seen.get(config.casefold())
        if previous is not None:
            raise _duplicate(config, previous, named[previous], folder, explicit)
        seen[config.casefold()] = config
        named[config] = folder
    if not named:
        raise InputError("no subset folders given; pass at least one folder written by `s2r select`")
    return named


def collection_metadata(
    subsets: Sequence[tuple[str, Mapping[str, Any]]], repo_id: str, *, default: str | None = None
) -> dict[str, Any]:
    """Card metadata for a repo holding several subsets as configs: (config name, subset card metadata) pairs.

    Only the subsets' `license`, list-valued Hub fields and `s2r` blocks are read; their `configs:` entries (if any)
    describe their own folders and are replaced by one entry per config of this repo.
    """
    if not subsets:
        raise InputError("a collection needs at least one subset; received none")
    configs = []
    for config, _ in subsets:
        entry: dict[str, Any] = {"config_name": config, "data_files": [{"split": SPLIT, "path": f"{config}/{SPLIT}-*"}]}
        if config == default:
            entry["default"] = True
        configs.append(entry)
    first = subsets[0][1]
    out: dict[str, Any] = {"configs": configs}
    if "license" in first:
        out["license"] = first["license"]
    out["pretty_name"] = f"{repo_id.split('/')[-1]} (Select2Reason subsets)"
    for key in ("source_datasets", "task_categories", "size_categories", "tags"):
        merged: list[Any] = []
        for _, metadata in subsets:
            for value in metadata.get(key) or []:
                if value not in merged:
                    merged.append(value)
        if merged:
            out[key] = merged
    licenses = {metadata.get("license") for _, metadata in subsets}
    if len(licenses) > 1:
        raise InputError(f"the subsets have different licenses {sorted(map(str, licenses))}; publish them separately")
    first_s2r = first.get("s2r", {})
    out["s2r"] = {
        "kind": "collection",
        "name": repo_id.split("/")[-1],
        "version": first_s2r.get("version"),
        "repo_hint": repo_id,
        "default_config": default,
        "subsets": [{"config": config, **dict(metadata.get("s2r", {}))} for config, metadata in subsets],
    }
    return out


# -- the publish itself ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Push:
    """Where a publish goes and how: the repo, the name its commit titles give the subset(s), and the options the
    caller passed (`revision` None: main)."""

    repo_id: str
    name: str
    private: bool
    revision: str | None
    token: str | None
    commit_message: str | None
    retry: RetryPolicy | None


def _publish(files: Mapping[str, Path | bytes], push: _Push) -> CommitResult:
    def message(plan: CommitPlan) -> tuple[str, str]:
        title, description = _describe(plan, push.name, files.get(CARD_FILE))
        return (push.commit_message, f"{title}\n\n{description}") if push.commit_message else (title, description)

    def check(plan: CommitPlan) -> None:
        _refuse_foreign_repo(plan)
        # Results pushed to the card on the Hub since the last publish (s2r_hf.evaluation.publish) stay in it: the
        # card is re-rendered with them and the commit planned again.
        card = files.get(CARD_FILE)
        if card is not None and CARD_FILE in plan.remote_paths:
            local = card if isinstance(card, bytes) else Path(card).read_bytes()
            carried = carry_results(local, plan.read_remote(CARD_FILE).decode("utf-8", errors="replace"))
            if carried != local:
                raise _CarriedResults(carried)

    def publish(check) -> CommitResult:
        return commit_files(
            push.repo_id,
            files,
            repo_type="dataset",
            revision=push.revision or "main",
            delete=("*",),  # the repo holds exactly this subset (or these subsets)
            keep=(f"{SUBSET_RESULTS_DIR}/*",),  # and the results files pushed to it since
            message=message,
            private=push.private,
            token=push.token,
            retry=push.retry,
            check=check,
        )

    try:
        return publish(check)
    except _CarriedResults as carried:
        files = {**files, CARD_FILE: carried.card}
        return publish(_refuse_foreign_repo)


def carry_results(card: bytes, remote_card: str | None) -> bytes:
    """The card of a subset about to be republished, with the `s2r.results` of the card on the Hub carried over when
    the new card has none (results pushed to the card after the first publish, by s2r_hf.evaluation.publish, would
    otherwise vanish from it). An unreadable card on the Hub carries nothing over."""
    if not remote_card:
        return card
    new, _ = split_card(card.decode("utf-8"))
    try:
        old, _ = split_card(remote_card)
    except InputError:
        return card
    new_s2r, old_s2r = new.get("s2r"), old.get("s2r")
    if not isinstance(new_s2r, dict) or not isinstance(old_s2r, dict) or new_s2r.get("kind") != old_s2r.get("kind"):
        return card
    changed = False
    if new_s2r.get("kind") == "subset" and old_s2r.get("results") and not new_s2r.get("results"):
        new_s2r["results"] = old_s2r["results"]
        changed = True
    elif new_s2r.get("kind") == "collection":
        old_results = {entry.get("config"): entry.get("results") for entry in old_s2r.get("subsets") or []}
        for entry in new_s2r.get("subsets") or []:
            if old_results.get(entry.get("config")) and not entry.get("results"):
                entry["results"] = old_results[entry.get("config")]
                changed = True
    if not changed:
        return card
    return render_card("subset.md", new).encode("utf-8")


class _CarriedResults(Exception):
    """Raised from a commit check: the card to publish, with the results of the card on the Hub carried over."""

    def __init__(self, card: bytes):
        super().__init__("the card is re-rendered with the results on the Hub")
        self.card = card


def _refuse_foreign_repo(plan: CommitPlan) -> None:
    """A publish replaces the whole repo: only one that s2r published (its card has an s2r subset or collection block)
    may have files deleted, never a repo someone filled otherwise."""
    if not plan.deleted:
        return
    remote_card = (
        _card_yaml(plan.read_remote(CARD_FILE).decode("utf-8", "replace")) if CARD_FILE in plan.remote_paths else {}
    )
    kind = (remote_card.get("s2r") or {}).get("kind") if isinstance(remote_card.get("s2r"), dict) else None
    if kind not in ("subset", "collection"):
        shown = ", ".join(plan.deleted[:5]) + (", ..." if len(plan.deleted) > 5 else "")
        raise InputError(
            f"{plan.repo_id} already holds files that s2r did not publish ({shown}), and publishing would delete "
            "them (its README.md card has no s2r subset block); publish to a new repo, or remove those files yourself"
        )


def _describe(plan: CommitPlan, name: str, card: Path | bytes | None) -> tuple[str, str]:
    """A commit title saying what changed (card facts first, then files) and a description listing every change."""
    facts: list[tuple[str, Any, Any]] = []
    if card is not None and CARD_FILE in plan.updated:
        old = _flatten(_card_yaml(plan.read_remote(CARD_FILE).decode("utf-8", errors="replace")))
        new = _flatten(_card_yaml((card if isinstance(card, bytes) else card.read_bytes()).decode("utf-8")))
        changed = [key for key in set(old) | set(new) if old.get(key) != new.get(key)]
        changed.sort(key=lambda key: (_FACT_ORDER.index(key) if key in _FACT_ORDER else len(_FACT_ORDER), key))
        facts = [(key, old.get(key), new.get(key)) for key in changed]
    counts = count_changes(plan)
    if plan.first_commit:
        title = f"Publish {name}: {counts}"
    elif facts:
        shown = ", ".join(f"{_short_key(key)} {_short(old)} -> {_short(new)}" for key, old, new in facts[:3])
        more = f" (+{len(facts) - 3} more)" if len(facts) > 3 else ""
        title = f"Update {name}: {shown}{more}; {counts}"
    else:
        title = f"Update {name}: {counts}"
    lines = [f"Published with s2r-hf {_version()}."]
    if facts and not plan.first_commit:
        lines += ["", "Card changes:"] + [
            f"- {key}: {_short(old, 200)} -> {_short(new, 200)}" for key, old, new in facts
        ]
    return title, "\n".join([*lines, "", describe_changes(plan)])


# -- checks ------------------------------------------------------------------------------------------------------------


def _check_folder(folder: Folder) -> Path:
    if not isinstance(folder, (str, os.PathLike)):
        raise InputError(f"a subset folder is a path, got {folder!r} ({type(folder).__name__})")
    path = Path(folder)
    if not (path / CARD_FILE).is_file() or not list((path / DATA_DIR).glob("*.parquet")):
        raise PublishError(
            f"{str(folder)!r} is not a subset folder: expected {CARD_FILE} and {DATA_DIR}/*.parquet inside; "
            "make one with `s2r select`"
        )
    return path.resolve()


def _card_metadata(folder: Path, *, subset: bool = False) -> dict[str, Any]:
    """The folder card's metadata; with `subset=True`, only a card `s2r select` wrote (a collection lists subsets)."""
    metadata = read_card_metadata(folder)  # an unreadable card is one InputError naming it
    kind = (metadata.get("s2r") or {}).get("kind")
    if subset and kind != "subset":
        raise InputError(
            f"{folder} is not a subset written by `s2r select` (its card's s2r.kind is {kind!r}); a repo of several "
            "configs holds subsets only: publish this folder on its own"
        )
    return metadata


def _pair(item: Any) -> tuple[Any, Folder]:
    if not (isinstance(item, tuple) and len(item) == 2):
        raise InputError(
            f"mix of folders and (config name, folder) pairs: got {item!r}; give all pairs, or all plain folders"
        )
    return item


def _duplicate(config: str, previous: str, first: Path, second: Path, explicit: bool) -> DuplicateConfigError:
    folders = (first, second)
    if first == second:
        what = f"the folder {first} is given twice"
        fix = "give each folder once"
    elif config != previous:
        what = (
            f"config names {previous!r} ({first}) and {config!r} ({second}) differ only in case; their folders would "
            "collide in a download on a case-insensitive file system (macOS, Windows)"
        )
        fix = "choose names that differ in more than case"
    elif explicit:
        what = f"config name {config!r} is given twice ({first} and {second})"
        fix = "give each folder its own config name"
    else:
        what = (
            f"two subsets would both be config {config!r} ({first} and {second}): a config is named by the last "
            "'-' part of its subset's name"
        )
        fix = "pass a mapping {config name: folder} (or (config name, folder) pairs) instead of a list"
    return DuplicateConfigError(f"{what}; {fix}", names=(previous, config), folders=folders, explicit=explicit)


def _folder_files(folder: Path) -> list[str]:
    """The files to publish, as posix paths relative to `folder`; hidden files and folders are left out."""
    out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink():
            # s2r never writes links; following one would publish whatever it points at (a file outside the folder).
            raise InputError(
                f"{path} is a symbolic link (to {os.readlink(path)!r}); a subset folder holds only the files "
                "`s2r select` wrote. Remove the link (or copy the file in) and publish again"
            )
        if path.is_file():
            out.append(relative.as_posix())
    return out


def _subset_name(metadata: Mapping[str, Any], folder: Path) -> str:
    name = (metadata.get("s2r") or {}).get("name")
    return str(name) if name else folder.name


# -- small helpers -----------------------------------------------------------------------------------------------------


def _card_yaml(text: str) -> dict[str, Any]:
    """The metadata of a card on the Hub, or {} when it cannot be read (then the repo is not taken for one s2r wrote,
    and every fact of the new card counts as changed)."""
    try:
        return split_card(text)[0]
    except InputError:
        return {}


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = value
    return out


def _short_key(key: str) -> str:
    return key.removeprefix("s2r.")


def _short(value: Any, limit: int = 40) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _version() -> str:
    return __version__
