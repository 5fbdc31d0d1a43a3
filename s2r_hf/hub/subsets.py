"""Publish subset folders to the Hugging Face Hub: the one module of s2r-hf that writes to the network.

`publish_subset(folder, "s2r/openr1-select10")` makes a dataset repo hold exactly the folder `s2r select` wrote
(parquet shards under `data/`, the README.md card, the plots), so `load_dataset("s2r/openr1-select10")` needs no config
name. `publish_subsets({"select10": folder, ...}, "s2r/openr1-select")` puts several subsets in one repo, one config
each (`load_dataset("s2r/openr1-select", "select10")`), under a card rendered from `hub_cards/subset.md`.

What a maintainer of a Hub dataset can rely on:

- One publish is one commit (`HfApi.create_commit` with every file), made against the branch head that was compared,
  so a concurrent push is detected (412) instead of overwritten.
- The remote tree is compared first (git blob ids, LFS sha256): identical content makes no commit at all; a change
  makes one commit whose message lists the card facts and files that changed. Remote files that the folder no longer
  has (e.g. a shard from an earlier, larger subset) are deleted in the same commit; `.gitattributes` is kept.
- Rate limits (429), server errors (5xx) and connection failures are retried with exponential backoff; other 4xx are
  not retried, and become errors that say what failed, what the Hub answered and how to fix it.
- The token is never logged, printed or written anywhere, and a folder whose files contain it is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from s2r_hf.errors import InputError, S2RError
from s2r_hf.folders import CARD_FILE, DATA_DIR, SPLIT, read_card_metadata
from s2r_hf.http_errors import transport_errors

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = logging.getLogger(__name__)

T = TypeVar("T")

REPO_TYPE = "dataset"
_CHUNK_BYTES = 8 * 1024 * 1024
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
KEPT_REMOTE_FILES = frozenset({".gitattributes"})  # the Hub's own bookkeeping: never deleted by a publish
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
_TOKEN_HELP = (
    "pass --token, set HF_TOKEN, or run `hf auth login` (a token with write access: {endpoint}/settings/tokens)"
)


class PublishError(S2RError, RuntimeError):
    """Publishing failed; the message says what, what the Hub answered, and how to fix it."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, retryable failures (429, 5xx, connection errors) are retried."""

    attempts: int = field(default=5, metadata={"help": "tries in all, the first included"})
    base_delay: float = field(default=1.0, metadata={"help": "seconds before the first retry; doubled on each retry"})
    max_delay: float = field(default=30.0, metadata={"help": "the longest wait between two tries, in seconds"})

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(f"delays must be >= 0, got base_delay={self.base_delay}, max_delay={self.max_delay}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (retry - 1))


@dataclass(frozen=True)
class PublishResult:
    """What a publish did: the repo's URL, the commit the branch points at, and the files it changed."""

    repo_id: str
    revision: str
    url: str
    commit: str
    commit_url: str | None
    changed: bool
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class _LocalFile:
    path: Path | None
    content: bytes | None  # files made at publish time (the collection card) have content instead of a path

    def read(self) -> bytes:
        return self.content if self.content is not None else self.path.read_bytes()

    def chunks(self) -> Iterator[bytes]:
        """The content in pieces, so that shards of hundreds of MB are never held in memory whole."""
        if self.content is not None:
            yield self.content
            return
        with open(self.path, "rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                yield chunk

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else self.path.stat().st_size

    def scan(self, needle: bytes) -> tuple[str, str, bool]:
        """(sha256, git blob sha1, whether `needle` occurs) in one pass over the content."""
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\x00" % self.size)
        found, tail = False, b""
        for chunk in self.chunks():
            sha256.update(chunk)
            sha1.update(chunk)
            window = tail + chunk
            found = found or (bool(needle) and needle in window)
            tail = window[-(len(needle) - 1) :] if len(needle) > 1 else b""
        return sha256.hexdigest(), sha1.hexdigest(), found


@dataclass
class _Plan:
    added: list[str]
    updated: list[str]
    deleted: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.deleted)


# -- public API --------------------------------------------------------------------------------------------------------


def publish_subset(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    retry: RetryPolicy | None = None,
) -> PublishResult:
    """Make the dataset repo `repo_id` hold exactly `folder` (a folder written by `s2r select`), in one commit.

    The default config is the subset, so `load_dataset(repo_id)` needs no config name. `token` defaults to the
    environment (`HF_TOKEN`) or the stored login. `private` applies when the repo is created. `revision` is an
    existing branch (default `main`). Re-publishing identical content makes no commit.
    """
    folder = _check_folder(folder)
    metadata = read_card_metadata(folder)
    files = {path: _LocalFile(folder / path, None) for path in _folder_files(folder)}
    name = _subset_name(metadata, folder)
    hint = (metadata.get("s2r") or {}).get("repo_hint")
    if hint and hint != repo_id:
        logger.warning(
            "the card's example loads %r but this publish goes to %r; the folder is pushed unchanged. To fix the "
            "card, re-run `s2r select ... --repo-id %s`",
            hint,
            repo_id,
            repo_id,
        )
    return _publish(
        files,
        repo_id,
        name,
        private=private,
        revision=revision,
        token=token,
        commit_message=commit_message,
        retry=retry,
    )


def publish_subsets(
    folders: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike],
    repo_id: str,
    *,
    default: str | None = None,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    retry: RetryPolicy | None = None,
) -> PublishResult:
    """Publish several subset folders as the configs of one dataset repo, in one commit.

    `folders` maps config names to folders; a plain list names each config by the last `-`-separated part of the
    subset's name (`openr1-select10` -> `select10`). Config `c` holds `c/train-*.parquet` and its plots, so
    `load_dataset(repo_id, "c")` loads it; `default` (a config name) also makes `load_dataset(repo_id)` work. The card
    lists every config. The repo holds exactly these subsets: files of configs no longer given are deleted.
    """
    from s2r_hf.cards import render_card

    named = _name_configs(folders)
    if default is not None and default not in named:
        raise InputError(f"default config {default!r} is not one of the configs {sorted(named)}")
    files: dict[str, _LocalFile] = {}
    subsets_metadata = []
    for config, folder in named.items():
        metadata = read_card_metadata(folder)
        for path in _folder_files(folder):
            if path == CARD_FILE:
                continue
            target = f"{config}/{Path(path).name}" if path.startswith(f"{DATA_DIR}/") else f"{config}/{path}"
            files[target] = _LocalFile(folder / path, None)
        subsets_metadata.append((config, metadata))
    card = render_card("subset.md", collection_metadata(subsets_metadata, repo_id, default=default))
    files[CARD_FILE] = _LocalFile(None, card.encode("utf-8"))
    name = repo_id.split("/")[-1]
    return _publish(
        files,
        repo_id,
        name,
        private=private,
        revision=revision,
        token=token,
        commit_message=commit_message,
        retry=retry,
    )


def collection_metadata(
    subsets: Sequence[tuple[str, Mapping[str, Any]]], repo_id: str, *, default: str | None = None
) -> dict[str, Any]:
    """Card metadata for a repo holding several subsets as configs: (config name, subset card metadata) pairs."""
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


def _publish(
    files: dict[str, _LocalFile],
    repo_id: str,
    name: str,
    *,
    private: bool,
    revision: str | None,
    token: str | None,
    commit_message: str | None,
    retry: RetryPolicy | None,
) -> PublishResult:
    from huggingface_hub import HfApi, get_token

    retry = retry or RetryPolicy()
    _check_repo_id(repo_id)
    revision = revision or "main"
    token = token if token is not None else get_token()
    api = HfApi(token=token)
    if not token:
        raise PublishError(f"no Hugging Face token found, and publishing needs one; {_token_help(api)}")
    digests = _refuse_token_in_files(files, token)

    whoami = _call(retry, f"checking the token with {api.endpoint}", lambda: api.whoami(), api=api, repo_id=repo_id)
    user = whoami.get("name", "?")
    orgs = [org for org in whoami.get("orgs", []) if org.get("name")]
    # Suggestions name only namespaces the user can write to; an org where the user only reads is reported as such.
    namespaces = [user, *(org["name"] for org in orgs if org.get("roleInOrg") not in ("read", "contributor"))]
    memberships = [org["name"] for org in orgs]
    role = ((whoami.get("auth") or {}).get("accessToken") or {}).get("role")
    if role == "read":
        raise PublishError(f"the token of {user!r} is read-only (role 'read'); publishing writes: {_token_help(api)}")

    _call(
        retry,
        f"creating the dataset repo {repo_id}",
        lambda: api.create_repo(repo_id, repo_type=REPO_TYPE, private=private, exist_ok=True),
        api=api,
        repo_id=repo_id,
        user=user,
        namespaces=namespaces,
        memberships=memberships,
        creating=True,
    )
    context = {
        "api": api,
        "repo_id": repo_id,
        "user": user,
        "namespaces": namespaces,
        "memberships": memberships,
        "revision": revision,
    }
    _check_branch(api, repo_id, revision, retry, context)

    sent: list[str] = []  # titles of commits sent by earlier attempts, whose answer may have been lost

    def attempt() -> PublishResult:  # one comparison + one commit; retried as a whole
        info = api.repo_info(repo_id, repo_type=REPO_TYPE, revision=revision)
        if private and info.private is False:
            logger.warning("%s already exists and is public; --private does not change an existing repo", repo_id)
        remote = {
            entry.path: entry
            for entry in api.list_repo_tree(repo_id, repo_type=REPO_TYPE, revision=info.sha, recursive=True)
            if getattr(entry, "blob_id", None) is not None and hasattr(entry, "size")
        }
        plan = _plan(files, digests, remote)
        url = _repo_url(api, repo_id, revision)
        if plan.empty and sent:
            # An earlier attempt's commit landed although its answer was lost (e.g. a gateway timeout).
            logger.info("%s at %s holds this content: the commit sent by an earlier attempt landed", repo_id, info.sha)
            return PublishResult(repo_id, revision, url, info.sha, None, changed=True, message=sent[-1])
        if plan.empty:
            logger.info("%s at %s already holds this content: no commit made", repo_id, info.sha)
            return PublishResult(repo_id, revision, url, info.sha, None, changed=False)
        title, description = _describe(api, repo_id, info.sha, name, files, remote, plan)
        if commit_message:
            title, description = commit_message, f"{title}\n\n{description}"
        sent.append(title)
        commit = api.create_commit(
            repo_id,
            _operations(files, plan),
            commit_message=title,
            commit_description=description,
            repo_type=REPO_TYPE,
            revision=revision,
            parent_commit=info.sha,
        )
        logger.info("published %s to %s: commit %s (%s)", name, repo_id, commit.oid, title)
        return PublishResult(
            repo_id,
            revision,
            url,
            commit.oid,
            commit.commit_url,
            changed=True,
            added=tuple(plan.added),
            updated=tuple(plan.updated),
            deleted=tuple(plan.deleted),
            message=title,
        )

    return _call(retry, f"publishing to {repo_id}@{revision}", attempt, **context)


def _plan(files: Mapping[str, _LocalFile], digests: Mapping[str, tuple[str, str]], remote: Mapping[str, Any]) -> _Plan:
    added, updated = [], []
    for path in sorted(files):
        entry = remote.get(path)
        if entry is None:
            added.append(path)
            continue
        sha256, blob_id = digests[path]
        lfs = getattr(entry, "lfs", None)
        remote_sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
        same = remote_sha256 == sha256 if remote_sha256 else entry.blob_id == blob_id
        if not same or entry.size != files[path].size:
            updated.append(path)
    deleted = sorted(path for path in remote if path not in files and path not in KEPT_REMOTE_FILES)
    return _Plan(added, updated, deleted)


def _operations(files: Mapping[str, _LocalFile], plan: _Plan) -> list[Any]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations: list[Any] = []
    for path in plan.added + plan.updated:
        local = files[path]
        source = local.content if local.content is not None else str(local.path)
        operations.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=source))
    operations.extend(CommitOperationDelete(path_in_repo=path) for path in plan.deleted)
    return operations


def _describe(
    api: HfApi,
    repo_id: str,
    parent: str,
    name: str,
    files: Mapping[str, _LocalFile],
    remote: Mapping[str, Any],
    plan: _Plan,
) -> tuple[str, str]:
    """A commit title saying what changed (card facts first, then files) and a description listing every change."""
    first_publish = not (set(remote) - KEPT_REMOTE_FILES)
    facts: list[tuple[str, Any, Any]] = []
    if CARD_FILE in plan.updated:
        old = _flatten(_card_yaml(_download_text(api, repo_id, CARD_FILE, parent)))
        new = _flatten(_card_yaml(files[CARD_FILE].read().decode("utf-8")))
        changed = [key for key in set(old) | set(new) if old.get(key) != new.get(key)]
        changed.sort(key=lambda key: (_FACT_ORDER.index(key) if key in _FACT_ORDER else len(_FACT_ORDER), key))
        facts = [(key, old.get(key), new.get(key)) for key in changed]
    counts = [
        f"{verb} {len(paths)} file{'s' if len(paths) != 1 else ''}"
        for verb, paths in (("add", plan.added), ("update", plan.updated), ("delete", plan.deleted))
        if paths
    ]
    if first_publish:
        title = f"Publish {name}: {', '.join(counts)}"
    elif facts:
        shown = ", ".join(f"{_short_key(key)} {_short(old)} -> {_short(new)}" for key, old, new in facts[:3])
        more = f" (+{len(facts) - 3} more)" if len(facts) > 3 else ""
        title = f"Update {name}: {shown}{more}; {', '.join(counts)}"
    else:
        title = f"Update {name}: {', '.join(counts)}"
    lines = [f"Published with s2r-hf {_version()}."]
    if facts and not first_publish:
        lines += ["", "Card changes:"] + [
            f"- {key}: {_short(old, 200)} -> {_short(new, 200)}" for key, old, new in facts
        ]
    for heading, paths in (("Added", plan.added), ("Updated", plan.updated), ("Deleted", plan.deleted)):
        if paths:
            lines += ["", f"{heading}:"]
            lines += [f"- {path}" + (f" ({files[path].size} bytes)" if path in files else "") for path in paths]
    return title[:300], "\n".join(lines)


# -- checks ------------------------------------------------------------------------------------------------------------


def _check_folder(folder: str | os.PathLike) -> Path:
    folder = Path(folder)
    if not (folder / CARD_FILE).is_file() or not list((folder / DATA_DIR).glob("*.parquet")):
        raise PublishError(
            f"{str(folder)!r} is not a subset folder: expected {CARD_FILE} and {DATA_DIR}/*.parquet inside; "
            "make one with `s2r select`"
        )
    return folder.resolve()


def _folder_files(folder: Path) -> list[str]:
    """The files to publish, as posix paths relative to `folder`; hidden files and folders are left out."""
    out = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            out.append(relative.as_posix())
    return out


def _subset_name(metadata: Mapping[str, Any], folder: Path) -> str:
    name = (metadata.get("s2r") or {}).get("name")
    return str(name) if name else folder.name


def _name_configs(folders: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike]) -> dict[str, Path]:
    if isinstance(folders, Mapping):
        named = {str(config): _check_folder(folder) for config, folder in folders.items()}
    else:
        named = {}
        for folder in map(_check_folder, folders):
            config = _subset_name(read_card_metadata(folder), folder).rsplit("-", 1)[-1]
            if config in named:
                raise InputError(
                    f"two subsets would both be config {config!r} ({named[config]} and {folder}); "
                    "pass a mapping {config name: folder} instead of a list"
                )
            named[config] = folder
    if not named:
        raise InputError("no subset folders given; pass at least one folder written by `s2r select`")
    for config in named:
        if not CONFIG_NAME_PATTERN.fullmatch(config) or config == DATA_DIR:
            raise InputError(
                f"invalid config name {config!r}: use letters, digits, '_', '.', '-' (and not {DATA_DIR!r})"
            )
    return named


def _check_repo_id(repo_id: str) -> str:
    if not isinstance(repo_id, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo_id):
        raise InputError(f"repo_id must look like 'namespace/name' (e.g. 's2r/openr1-select10'), got {repo_id!r}")
    return repo_id.split("/")[0]


def _refuse_token_in_files(files: Mapping[str, _LocalFile], token: str) -> dict[str, tuple[str, str]]:
    """Hash every file; refuse if any of them holds the token. Returns path -> (sha256, git blob sha1)."""
    digests, leaking = {}, []
    for path, local in files.items():
        sha256, sha1, found = local.scan(token.encode("utf-8"))
        digests[path] = (sha256, sha1)
        if found:
            leaking.append(path)
    if leaking:
        raise PublishError(
            f"refusing to publish: {', '.join(sorted(leaking))} contain(s) the Hub token given for this publish. "
            "Remove it from the folder (re-run `s2r select` without passing the token on its command line) "
            "and revoke the token if it was shared."
        )
    return digests


def _check_branch(api: HfApi, repo_id: str, revision: str, retry: RetryPolicy, context: dict[str, Any]) -> None:
    refs = _call(
        retry, f"listing the branches of {repo_id}", lambda: api.list_repo_refs(repo_id, repo_type=REPO_TYPE), **context
    )
    branches = sorted(branch.name for branch in refs.branches)
    if revision not in branches:
        raise PublishError(
            f"branch {revision!r} does not exist in {repo_id} (its branches: {branches}). Publish to an existing "
            f"branch, or create it first: `HfApi().create_branch({repo_id!r}, branch={revision!r}, "
            f"repo_type='dataset')`"
        )


# -- retries and errors ------------------------------------------------------------------------------------------------


def _call(retry: RetryPolicy, doing: str, fn: Callable[[], T], **context: Any) -> T:
    """Run `fn`, retrying retryable failures with backoff; turn the rest into a PublishError that explains them."""
    from huggingface_hub.errors import HfHubHTTPError

    connection_errors = transport_errors()
    for attempt in range(1, retry.attempts + 1):
        try:
            return fn()
        except HfHubHTTPError as error:
            status = error.response.status_code if error.response is not None else None
            if status not in RETRYABLE_STATUS:
                raise _explain(error, status, doing, **context) from None
            failure: BaseException = error
            received = f"HTTP {status}"
        except connection_errors as error:
            failure, received = error, f"{type(error).__name__} ({error})"
        if attempt == retry.attempts:
            raise PublishError(
                f"{doing} failed {retry.attempts} times; the last answer was {received}. The Hub may be down or "
                "rate-limiting: try again later. Re-running is safe: content already published makes no new commit."
            ) from failure
        wait = retry.delay(attempt)
        logger.warning(
            "%s: %s; retrying in %.2fs (attempt %d of %d)", doing, received, wait, attempt + 1, retry.attempts
        )
        time.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def _server_message(error: Any) -> str:
    response = error.response
    message = response.headers.get("X-Error-Message") if response is not None else None
    if not message and response is not None:
        try:
            message = response.json().get("error")
        except ValueError:
            message = None
    return str(message) if message else "no message"


def _explain(
    error: Any,
    status: int | None,
    doing: str,
    *,
    api: HfApi,
    repo_id: str,
    user: str | None = None,
    namespaces: Sequence[str] = (),
    memberships: Sequence[str] = (),
    revision: str | None = None,
    creating: bool = False,
) -> PublishError:
    """A PublishError for a non-retryable answer: what failed, what the Hub said, how to fix it."""
    namespace = repo_id.split("/")[0]
    code = error.response.headers.get("X-Error-Code") if error.response is not None else None
    said = f"the Hub answered {status} ({_server_message(error)})"
    name = repo_id.split("/")[-1]
    if status == 401:
        return PublishError(
            f"{doing}: {api.endpoint} rejected the token: {said}. It is invalid, expired or revoked; {_token_help(api)}"
        )
    if status == 403 and namespace in memberships:
        return PublishError(
            f"{doing}: {user} is a member of {namespace!r} but may not write to {repo_id} ({said}). Ask an admin of "
            f"{namespace!r} for the write role, or use a token with write access: {_token_help(api)}"
        )
    if status == 403:
        others = f"your namespaces are {list(namespaces)}" if namespaces else "check which namespaces you can write to"
        suggestion = f"e.g. --repo-id {namespaces[0]}/{name}" if namespaces else "a namespace you own"
        return PublishError(
            f"{doing}: {user or 'this token'} may not write to {repo_id}: namespace {namespace!r} belongs to someone "
            f"else ({said}); {others}. Publish under one of them ({suggestion}), or ask an admin of {namespace!r} "
            "for write access."
        )
    if status == 404 and code == "RevisionNotFound":
        return PublishError(
            f"{doing}: revision {revision!r} does not exist in {repo_id} ({said}); publish to an "
            "existing branch or create it first with `HfApi().create_branch`"
        )
    if status == 404 and creating:
        return PublishError(
            f"{doing}: namespace {namespace!r} does not exist on {api.endpoint} ({said}). Create the organization "
            f"first, or publish under one of your namespaces {list(namespaces)}"
            + (f", e.g. --repo-id {namespaces[0]}/{name}" if namespaces else "")
        )
    if status == 404:
        return PublishError(
            f"{doing}: {repo_id} was not found ({said}); check the repo id and that the token can read it"
        )
    if status == 412:
        return PublishError(
            f"{doing}: {repo_id}@{revision} changed while publishing: someone else pushed a commit ({said}). Nothing "
            "was committed; re-run the publish to compare against the new head."
        )
    return PublishError(f"{doing}: {said}. This is not retryable; check the request and the repo settings.")


def _token_help(api: HfApi) -> str:
    return _TOKEN_HELP.format(endpoint=api.endpoint)


# -- small helpers -----------------------------------------------------------------------------------------------------


def _repo_url(api: HfApi, repo_id: str, revision: str) -> str:
    url = f"{api.endpoint}/datasets/{repo_id}"
    return url if revision == "main" else f"{url}/tree/{revision}"


def _download_text(api: HfApi, repo_id: str, path: str, revision: str) -> str:
    local = api.hf_hub_download(repo_id, path, repo_type=REPO_TYPE, revision=revision)
    return Path(local).read_text(encoding="utf-8")


def _card_yaml(text: str) -> dict[str, Any]:
    import yaml

    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, flags=re.DOTALL)
    if not match:
        return {}
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


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
    from s2r_hf._version import __version__

    return __version__
