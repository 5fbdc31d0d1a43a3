"""One atomic, idempotent, retried commit to a Hugging Face Hub repo of any type: the only code of s2r-hf that writes.

`commit_files(repo_id, {"path/in/repo": local_path_or_bytes, ...}, repo_type=..., revision=...)` makes the branch hold
those files, in one commit or none:

- The remote tree is compared first (git blob ids for regular files, sha256 for LFS files): identical content makes
  no commit at all. Otherwise one `HfApi.create_commit` carries every change, made against the head that was compared
  (`parent_commit`), so a concurrent push is reported (412) instead of overwritten.
- Remote files the mapping lacks are deleted only where `delete` says so (glob patterns: `("*",)` makes the branch
  hold exactly these files, `("results/*",)` owns one folder) and never where `keep` says so; `.gitattributes` is
  always kept.
- Rate limits (429), server errors (5xx) and dropped connections are retried with exponential backoff (`RetryPolicy`,
  s2r_hf.hub.retry); the comparison is redone before each retry, so a commit whose answer was lost is not made twice.
  Other answers become a `PublishError` that says what failed, what the Hub answered and how to fix it (token,
  namespace, revision, ...).
- Offline mode (`HF_HUB_OFFLINE=1`), a missing token and a Hub that cannot be reached at all fail before any file is
  read (s2r_hf.hub.checks; `check_push` runs these checks alone, before long work). The token is never logged, and
  files that contain it, or any string shaped like a Hub token (another token leaks as surely), are refused before
  any upload.

Callers build the commit message from a `CommitPlan` (what will change), and get a `CommitResult` back.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.checks import (
    Writer,
    check_commit_options,
    check_publish_options,
    check_repo_id,
    check_repo_path,
    check_writer,
    refuse_tokens_in_files,
)
from s2r_hf.hub.local_files import FileSource, LocalFile
from s2r_hf.hub.retry import RetryPolicy, call_hub, check_online, explain_refusal

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = logging.getLogger(__name__)

T = TypeVar("T")

ALWAYS_KEPT = (".gitattributes",)  # the Hub's own bookkeeping: never deleted by a commit
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass(frozen=True)
class CommitPlan:
    """What a commit is about to change; handed to the commit message builder.

    `parent_commit` is the head the plan was compared against; `remote_paths` the files it holds. `read_remote(path)`
    returns a remote file's content at that head (e.g. the old card, to say which facts changed).
    """

    repo_id: str
    repo_type: str
    revision: str
    parent_commit: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    deleted: tuple[str, ...]
    remote_paths: tuple[str, ...]
    sizes: Mapping[str, int] = field(repr=False)  # local file sizes in bytes, by repo path
    _read: Callable[[str], bytes] = field(repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.deleted)

    @property
    def first_commit(self) -> bool:
        """Whether the branch held nothing but the Hub's bookkeeping before this commit."""
        return not (set(self.remote_paths) - set(ALWAYS_KEPT))

    def read_remote(self, path: str) -> bytes:
        return self._read(path)


@dataclass(frozen=True)
class CommitResult:
    """What a commit did: where the repo is, the commit the branch now points at, and the files it changed.

    `changed` is False when the branch already held the content (no commit made; `commit` is the existing head).
    """

    repo_id: str
    repo_type: str
    revision: str
    url: str
    commit: str
    commit_url: str | None
    changed: bool
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    message: str | None = None


MessageBuilder = Callable[[CommitPlan], "tuple[str, str]"]


def describe_changes(plan: CommitPlan) -> str:
    """A commit description listing every file added, updated (with its size) and deleted."""
    lines: list[str] = []
    for heading, paths in (("Added", plan.added), ("Updated", plan.updated), ("Deleted", plan.deleted)):
        if paths:
            lines += ["", f"{heading}:"] if lines else [f"{heading}:"]
            lines += [f"- {path}" + (f" ({plan.sizes[path]} bytes)" if path in plan.sizes else "") for path in paths]
    return "\n".join(lines)


def count_changes(plan: CommitPlan) -> str:
    """`add 2 files, delete 1 file`: the counts of a plan, for a commit title."""
    return ", ".join(
        f"{verb} {len(paths)} file{'s' if len(paths) != 1 else ''}"
        for verb, paths in (("add", plan.added), ("update", plan.updated), ("delete", plan.deleted))
        if paths
    )


def repo_url(endpoint: str, repo_id: str, repo_type: str = "dataset", revision: str = "main") -> str:
    """The page of a repo (of a branch other than main) on the Hub at `endpoint`."""
    url = f"{endpoint.rstrip('/')}/{_URL_PREFIX[repo_type]}{repo_id}"
    return url if revision == "main" else f"{url}/tree/{revision}"


def commit_files(
    repo_id: str,
    files: Mapping[str, FileSource],
    *,
    repo_type: str = "dataset",
    revision: str = "main",
    create_branch: bool = False,
    delete: Sequence[str] = (),
    keep: Sequence[str] = (),
    message: str | MessageBuilder | None = None,
    private: bool = False,
    token: str | None = None,
    retry: RetryPolicy | None = None,
    check: Callable[[CommitPlan], None] | None = None,
) -> CommitResult:
    """Make branch `revision` of `repo_id` hold `files` (repo path -> local path or bytes), in one commit or none.

    The repo is created if missing (`private` applies then). `create_branch=True` creates a missing branch from the
    head of the default branch; otherwise a missing branch is an error. Remote files absent from `files` are deleted
    when their path matches a pattern of `delete` (fnmatch; `*` also matches `/`) and none of `keep`.

    `message` is the commit title, or a function of the `CommitPlan` returning (title, description); by default the
    title counts the changes and the description lists them. `token` defaults to HF_TOKEN or the stored login.
    `check`, when given, sees the plan before anything is committed and raises to refuse it (e.g. a repo that holds
    files this caller did not write).
    Returns a `CommitResult`; raises `PublishError` (the Hub refused or could not be reached) or `InputError`.
    """
    from huggingface_hub import HfApi, get_token

    check_online()
    check_repo_id(repo_id)
    check_publish_options(private=private, token=token, retry=retry)
    check_commit_options(
        repo_type=repo_type, revision=revision, create_branch=create_branch, delete=delete, keep=keep, message=message
    )
    if not isinstance(files, Mapping):
        raise InputError(f"files maps repo paths to local paths or bytes, got a {type(files).__name__}")
    local = {check_repo_path(path): LocalFile.of(path, source) for path, source in files.items()}
    retry = retry or RetryPolicy()
    token = token if token is not None else get_token()
    api = HfApi(token=token)
    writer = check_writer(api, token, retry, repo_id=repo_id, repo_type=repo_type, revision=revision)
    request = _Commit(
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
        files=local,
        digests=refuse_tokens_in_files(local, token),
        delete=tuple(delete),
        keep=tuple(keep),
        message=message,
        check=check,
        private=private,
        create_branch=create_branch,
    )

    _call(
        request,
        writer,
        retry,
        f"creating the {repo_type} repo {repo_id}",
        lambda: api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True),
        creating=True,
    )
    _ensure_branch(request, writer, retry)
    sent: list[str] = []  # titles of commits sent by earlier attempts, whose answer may have been lost
    return _call(
        request, writer, retry, f"committing to {repo_id}@{revision}", lambda: _commit_once(request, writer, sent)
    )


# -- the plan and the commit -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Commit:
    """One commit to make: what (the files, with their digests), where (repo, type, branch) and how (which remote files
    it deletes and keeps, its message, the caller's check, and what a missing repo or branch becomes)."""

    repo_id: str
    repo_type: str
    revision: str
    files: Mapping[str, LocalFile]
    digests: Mapping[str, tuple[str, str]]  # repo path -> (sha256, git blob sha1)
    delete: tuple[str, ...]
    keep: tuple[str, ...]
    message: str | MessageBuilder | None
    check: Callable[[CommitPlan], None] | None
    private: bool
    create_branch: bool


def _call(
    request: _Commit, writer: Writer, retry: RetryPolicy, doing: str, fn: Callable[[], T], *, creating: bool = False
) -> T:
    """`fn()` under the retry policy, a refusal worded for this commit's repo and this writer."""
    explain = partial(
        explain_refusal,
        doing=doing,
        api=writer.api,
        repo_id=request.repo_id,
        repo_type=request.repo_type,
        revision=request.revision,
        user=writer.user,
        namespaces=writer.namespaces,
        memberships=writer.memberships,
        creating=creating,
    )
    return call_hub(retry, doing, fn, api=writer.api, explain=explain)


def _commit_once(request: _Commit, writer: Writer, sent: list[str]) -> CommitResult:
    """One comparison with the branch's head and, if anything differs, one commit against that head; retried as a
    whole. `sent` collects the titles of the commits sent, for a retry to recognize one whose answer was lost."""
    api, repo_id, repo_type, revision = writer.api, request.repo_id, request.repo_type, request.revision
    url = repo_url(api.endpoint, repo_id, repo_type, revision)
    info = api.repo_info(repo_id, repo_type=repo_type, revision=revision)
    if request.private and info.private is False:
        logger.warning("%s already exists and is public; `private` does not change an existing repo", repo_id)
    remote = {
        entry.path: entry
        for entry in api.list_repo_tree(repo_id, repo_type=repo_type, revision=info.sha, recursive=True)
        if getattr(entry, "blob_id", None) is not None and hasattr(entry, "size")
    }
    plan = _plan(request, remote, api, info.sha)
    if plan.empty and sent:
        # An earlier attempt's commit landed although its answer was lost (e.g. a gateway timeout).
        logger.info("%s at %s holds this content: the commit sent by an earlier attempt landed", repo_id, info.sha)
        return CommitResult(repo_id, repo_type, revision, url, info.sha, None, changed=True, message=sent[-1])
    if plan.empty:
        logger.info("%s at %s already holds this content: no commit made", repo_id, info.sha)
        return CommitResult(repo_id, repo_type, revision, url, info.sha, None, changed=False)
    if request.check is not None:
        request.check(plan)
    title, description = _message(request.message, plan)
    sent.append(title)
    commit = api.create_commit(
        repo_id,
        _operations(request.files, plan),
        commit_message=title,
        commit_description=description,
        repo_type=repo_type,
        revision=revision,
        parent_commit=info.sha,
    )
    logger.info("committed to %s@%s: %s (%s)", repo_id, revision, commit.oid, title)
    return CommitResult(
        repo_id,
        repo_type,
        revision,
        url,
        commit.oid,
        commit.commit_url,
        changed=True,
        added=plan.added,
        updated=plan.updated,
        deleted=plan.deleted,
        message=title,
    )


def _plan(request: _Commit, remote: Mapping[str, Any], api: HfApi, parent: str) -> CommitPlan:
    """What committing `request` against the head `parent` (whose files are `remote`) adds, updates and deletes."""
    files = request.files
    added, updated = [], []
    for path in sorted(files):
        entry = remote.get(path)
        if entry is None:
            added.append(path)
            continue
        sha256, blob_id = request.digests[path]
        lfs = getattr(entry, "lfs", None)
        remote_sha256 = getattr(lfs, "sha256", None) if lfs is not None else None
        same = remote_sha256 == sha256 if remote_sha256 else entry.blob_id == blob_id
        if not same or entry.size != files[path].size:
            updated.append(path)
    kept = (*ALWAYS_KEPT, *request.keep)
    deleted = sorted(
        path
        for path in remote
        if path not in files
        and any(fnmatch.fnmatchcase(path, pattern) for pattern in request.delete)
        and not any(fnmatch.fnmatchcase(path, pattern) for pattern in kept)
    )
    repo_id, repo_type = request.repo_id, request.repo_type

    def read(path: str) -> bytes:
        local = api.hf_hub_download(repo_id, path, repo_type=repo_type, revision=parent)
        return Path(local).read_bytes()

    return CommitPlan(
        repo_id=repo_id,
        repo_type=repo_type,
        revision=request.revision,
        parent_commit=parent,
        added=tuple(added),
        updated=tuple(updated),
        deleted=tuple(deleted),
        remote_paths=tuple(sorted(remote)),
        sizes={path: local.size for path, local in files.items()},
        _read=read,
    )


def _message(message: str | MessageBuilder | None, plan: CommitPlan) -> tuple[str, str]:
    if callable(message):
        built = message(plan)
        if not (isinstance(built, tuple) and len(built) == 2 and all(isinstance(text, str) for text in built)):
            raise InputError(f"a message function returns (title, description), two strings; it returned {built!r}")
        title, description = built
    elif message:
        title, description = str(message), describe_changes(plan)
    else:
        verb = "Create" if plan.first_commit else "Update"
        title, description = f"{verb} {plan.repo_id.split('/')[-1]}: {count_changes(plan)}", describe_changes(plan)
    return title[:300], description  # the Hub truncates long titles; keep the full story in the description


def _operations(files: Mapping[str, LocalFile], plan: CommitPlan) -> list[Any]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations: list[Any] = []
    for path in plan.added + plan.updated:
        local = files[path]
        source = local.content if local.content is not None else str(local.path)
        operations.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=source))
    operations.extend(CommitOperationDelete(path_in_repo=path) for path in plan.deleted)
    return operations


def _ensure_branch(request: _Commit, writer: Writer, retry: RetryPolicy) -> None:
    api, repo_id, repo_type, revision = writer.api, request.repo_id, request.repo_type, request.revision
    refs = _call(
        request,
        writer,
        retry,
        f"listing the branches of {repo_id}",
        lambda: api.list_repo_refs(repo_id, repo_type=repo_type),
    )
    branches = sorted(branch.name for branch in refs.branches)
    if revision in branches:
        return
    if request.create_branch:
        _call(
            request,
            writer,
            retry,
            f"creating the branch {revision!r} of {repo_id}",
            lambda: api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True),
        )
        logger.info("created the branch %r of %s", revision, repo_id)
        return
    raise PublishError(
        f"branch {revision!r} does not exist in {repo_id} (its branches: {branches}). Commit to an existing branch, "
        f"or create it first: `HfApi().create_branch({repo_id!r}, branch={revision!r}, repo_type={repo_type!r})` "
        "(in Python, commit_files(..., create_branch=True) does it)"
    )
