"""One atomic, idempotent, retried commit to a Hugging Face Hub repo of any type: the only code of s2r-hf that writes.

`commit_files(repo_id, {"path/in/repo": local_path_or_bytes, ...}, repo_type=..., revision=...)` makes the branch hold
those files, in one commit or none:

- The remote tree is compared first (git blob ids for regular files, sha256 for LFS files): identical content makes
  no commit at all. Otherwise one `HfApi.create_commit` carries every change, made against the head that was compared
  (`parent_commit`), so a concurrent push is reported (412) instead of overwritten.
- Remote files the mapping lacks are deleted only where `delete` says so (glob patterns: `("*",)` makes the branch
  hold exactly these files, `("results/*",)` owns one folder) and never where `keep` says so; `.gitattributes` is
  always kept.
- Rate limits (429), server errors (5xx) and dropped connections are retried with exponential backoff (`RetryPolicy`);
  the comparison is redone before each retry, so a commit whose answer was lost is not made twice. Other answers become
  a `PublishError` that says what failed, what the Hub answered and how to fix it (token, namespace, revision, ...).
- Offline mode (`HF_HUB_OFFLINE=1`), a missing token and a Hub that cannot be reached at all fail before any file is
  read (`check_push` runs these checks alone, before long work). The token is never logged, and files that contain
  it, or any string shaped like a Hub token (another token leaks as surely), are refused before any upload.

Callers build the commit message from a `CommitPlan` (what will change), and get a `CommitResult` back.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import math
import numbers
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.core.http_errors import transport_errors
from s2r_hf.core.redaction import find_hub_tokens

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = logging.getLogger(__name__)

T = TypeVar("T")

REPO_TYPES = ("model", "dataset", "space")
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
ALWAYS_KEPT = (".gitattributes",)  # the Hub's own bookkeeping: never deleted by a commit
_CHUNK_BYTES = 8 * 1024 * 1024
_URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_TOKEN_HELP = (
    "pass a token (--token on the command line, token= in Python), set HF_TOKEN, or run `hf auth login` "
    "(a token with write access: {endpoint}/settings/tokens)"
)

# What a repo file is made from: a local file (its path) or the bytes themselves.
FileSource = str | os.PathLike | bytes


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, retryable failures (429, 5xx, dropped connections) are retried."""

    attempts: int = field(default=5, metadata={"help": "tries in all, the first included"})
    base_delay: float = field(default=1.0, metadata={"help": "seconds before the first retry; doubled on each retry"})
    max_delay: float = field(default=30.0, metadata={"help": "the longest wait between two tries, in seconds"})

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, numbers.Integral) or self.attempts < 1:
            raise InputError(f"attempts must be an integer >= 1, got {self.attempts!r}")
        object.__setattr__(self, "attempts", int(self.attempts))  # a numpy integer becomes a plain int
        for name in ("base_delay", "max_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or value < 0:
                raise InputError(f"{name} must be a number of seconds >= 0, got {value!r}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (retry - 1))


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


def check_online() -> None:
    """Raise a PublishError when huggingface_hub's offline mode is on (it reads HF_HUB_OFFLINE at import)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise PublishError(
            "offline mode is on (HF_HUB_OFFLINE is set), and writing to the Hub needs the network; "
            "unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE) to publish"
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
    if not isinstance(create_branch, bool):
        raise InputError(f"create_branch must be True or False, got {create_branch!r}")
    if message is not None and not isinstance(message, str) and not callable(message):
        raise InputError(f"message must be a string or a function of the plan, got {type(message).__name__}")
    if repo_type not in REPO_TYPES:
        raise InputError(f"repo_type must be one of {list(REPO_TYPES)}, got {repo_type!r}")
    if not isinstance(revision, str) or not revision:
        raise InputError(f"revision must be a branch name, got {revision!r}")
    for name, patterns in (("delete", delete), ("keep", keep)):
        if not isinstance(patterns, Sequence):
            raise InputError(f"{name} takes a sequence of glob patterns, e.g. ('results/*',), got {patterns!r}")
        if isinstance(patterns, str):
            raise InputError(f"{name} takes a sequence of patterns, e.g. ({patterns!r},), not the string {patterns!r}")
        if not all(isinstance(pattern, str) for pattern in patterns):
            raise InputError(f"{name} patterns are strings (e.g. 'results/*'), got {list(patterns)!r}")
    if not isinstance(files, Mapping):
        raise InputError(f"files maps repo paths to local paths or bytes, got a {type(files).__name__}")
    local = {_check_repo_path(path): _LocalFile.of(path, source) for path, source in files.items()}
    retry = retry or RetryPolicy()
    token = token if token is not None else get_token()
    api = HfApi(token=token)
    whoami = _check_writer(api, token, retry, repo_id=repo_id, repo_type=repo_type, revision=revision)
    user = whoami.get("name", "?")
    orgs = [org for org in whoami.get("orgs", []) if org.get("name")]
    context = {
        "api": api,
        "repo_id": repo_id,
        "repo_type": repo_type,
        "revision": revision,
        "user": user,
        # Suggestions name only namespaces the user can write to; an org where the user only reads is reported as such.
        "namespaces": [user, *(org["name"] for org in orgs if org.get("roleInOrg") not in ("read", "contributor"))],
        "memberships": [org["name"] for org in orgs],
    }
    digests = _refuse_token_in_files(local, token)

    _call(
        retry,
        f"creating the {repo_type} repo {repo_id}",
        lambda: api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True),
        creating=True,
        **context,
    )
    _ensure_branch(api, retry, create_branch, context)

    sent: list[str] = []  # titles of commits sent by earlier attempts, whose answer may have been lost
    url = repo_url(api.endpoint, repo_id, repo_type, revision)

    def attempt() -> CommitResult:  # one comparison + one commit; retried as a whole
        info = api.repo_info(repo_id, repo_type=repo_type, revision=revision)
        if private and info.private is False:
            logger.warning("%s already exists and is public; `private` does not change an existing repo", repo_id)
        remote = {
            entry.path: entry
            for entry in api.list_repo_tree(repo_id, repo_type=repo_type, revision=info.sha, recursive=True)
            if getattr(entry, "blob_id", None) is not None and hasattr(entry, "size")
        }
        plan = _plan(local, digests, remote, delete, keep, api, context, info.sha)
        if plan.empty and sent:
            # An earlier attempt's commit landed although its answer was lost (e.g. a gateway timeout).
            logger.info("%s at %s holds this content: the commit sent by an earlier attempt landed", repo_id, info.sha)
            return CommitResult(repo_id, repo_type, revision, url, info.sha, None, changed=True, message=sent[-1])
        if plan.empty:
            logger.info("%s at %s already holds this content: no commit made", repo_id, info.sha)
            return CommitResult(repo_id, repo_type, revision, url, info.sha, None, changed=False)
        if check is not None:
            check(plan)
        title, description = _message(message, plan)
        sent.append(title)
        commit = api.create_commit(
            repo_id,
            _operations(local, plan),
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

    return _call(retry, f"committing to {repo_id}@{revision}", attempt, **context)


def check_push(
    repo_ids: Sequence[str], *, repo_type: str = "dataset", token: str | None = None, retry: RetryPolicy | None = None
) -> str:
    """Everything `commit_files` refuses before it reads a file, checked alone: offline mode, the repo ids, a token,
    the Hub accepting it and letting it write. A caller with long work before its push (`s2r evaluate
    --push-to-hub`) calls this first, so a doomed push fails in a second rather than after the work. Returns the user
    the token belongs to; raises PublishError or InputError."""
    from huggingface_hub import HfApi, get_token

    check_online()
    if isinstance(repo_ids, str) or not repo_ids:
        raise InputError(f"repo_ids is a non-empty list of repo ids, got {repo_ids!r}")
    for repo_id in repo_ids:
        check_repo_id(repo_id)
    check_publish_options(private=False, token=token, retry=retry)
    token = token if token is not None else get_token()
    api = HfApi(token=token)
    whoami = _check_writer(api, token, retry or RetryPolicy(), repo_id=repo_ids[0], repo_type=repo_type)
    return whoami.get("name", "?")


def _check_writer(
    api: HfApi, token: str | None, retry: RetryPolicy, *, repo_id: str, repo_type: str, revision: str = "main"
) -> dict[str, Any]:
    """The Hub's `whoami` for `token`, refusing a missing, rejected or read-only token before anything is written."""
    if not token:
        raise PublishError(f"no Hugging Face token found, and writing to the Hub needs one; {_token_help(api)}")
    whoami = _call(
        retry,
        f"checking the token with {api.endpoint}",
        api.whoami,
        first_contact=True,
        api=api,
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
    )
    # Read access needs no check here; everything after this writes, so a read-only token is refused before any upload.
    if ((whoami.get("auth") or {}).get("accessToken") or {}).get("role") == "read":
        user = whoami.get("name", "?")
        raise PublishError(f"the token of {user!r} is read-only (role 'read'); writing needs: {_token_help(api)}")
    return whoami


# -- local files -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LocalFile:
    path: Path | None
    content: bytes | None  # files made at commit time (a card, results) have content instead of a path

    @classmethod
    def of(cls, repo_path: str, source: FileSource) -> _LocalFile:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(None, bytes(source))
        if not isinstance(source, (str, os.PathLike)):
            raise InputError(
                f"{repo_path!r} maps to a {type(source).__name__}; give a local file path or the content as bytes"
            )
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{repo_path!r} maps to {str(path)!r}, which is not a file")
        return cls(path, None)

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

    def scan(self, needle: bytes) -> tuple[str, str, bool, bool]:
        """(sha256, git blob sha1, whether `needle` occurs, whether any Hub-token-shaped bytes occur), in one pass
        over the content. When a token-shaped string is found the pass stops there: the file is refused, so its
        digests are not needed."""
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\x00" % self.size)
        found, tail = False, b""

        def hashed() -> Iterator[bytes]:
            nonlocal found, tail
            for chunk in self.chunks():
                sha256.update(chunk)
                sha1.update(chunk)
                window = tail + chunk
                found = found or (bool(needle) and needle in window)
                tail = window[-(len(needle) - 1) :] if len(needle) > 1 else b""
                yield chunk

        shaped = find_hub_tokens(hashed())
        return sha256.hexdigest(), sha1.hexdigest(), found, shaped


def _refuse_token_in_files(files: Mapping[str, _LocalFile], token: str) -> dict[str, tuple[str, str]]:
    """Hash every file; refuse if any of them holds the push's token or any Hub-token-shaped string (another
    token, left in a record or a pickled argument, leaks as surely as this one). Returns path -> (sha256, blob sha1)."""
    digests, own, shaped = {}, [], []
    for path, local in files.items():
        sha256, sha1, found, looks_like_token = local.scan(token.encode("utf-8"))
        digests[path] = (sha256, sha1)
        if found:
            own.append(path)
        elif looks_like_token:
            shaped.append(path)
    if own or shaped:
        found_in = []
        if own:
            found_in.append(f"{', '.join(sorted(own))} contain(s) the Hub token given for this publish")
        if shaped:
            found_in.append(
                f"{', '.join(sorted(shaped))} contain(s) a Hub token (a string shaped like one: hf_ and 30 or more "
                "letters and digits)"
            )
        raise PublishError(
            f"refusing to publish: {'; '.join(found_in)}. Nothing was uploaded. Remove it from the files (e.g. "
            "re-run the command that wrote them without the token on its command line) and revoke the token if it "
            "was shared."
        )
    return digests


# -- the plan and the commit -------------------------------------------------------------------------------------------


def _plan(
    files: Mapping[str, _LocalFile],
    digests: Mapping[str, tuple[str, str]],
    remote: Mapping[str, Any],
    delete: Sequence[str],
    keep: Sequence[str],
    api: HfApi,
    context: Mapping[str, Any],
    parent: str,
) -> CommitPlan:
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
    kept = (*ALWAYS_KEPT, *keep)
    deleted = sorted(
        path
        for path in remote
        if path not in files
        and any(fnmatch.fnmatchcase(path, pattern) for pattern in delete)
        and not any(fnmatch.fnmatchcase(path, pattern) for pattern in kept)
    )
    repo_id, repo_type = context["repo_id"], context["repo_type"]

    def read(path: str) -> bytes:
        local = api.hf_hub_download(repo_id, path, repo_type=repo_type, revision=parent)
        return Path(local).read_bytes()

    return CommitPlan(
        repo_id=repo_id,
        repo_type=repo_type,
        revision=context["revision"],
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


def _operations(files: Mapping[str, _LocalFile], plan: CommitPlan) -> list[Any]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations: list[Any] = []
    for path in plan.added + plan.updated:
        local = files[path]
        source = local.content if local.content is not None else str(local.path)
        operations.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=source))
    operations.extend(CommitOperationDelete(path_in_repo=path) for path in plan.deleted)
    return operations


# -- checks ------------------------------------------------------------------------------------------------------------


def check_publish_options(*, private: Any, token: Any, retry: Any) -> None:
    """The keyword options every publish takes, checked before any folder is read or request is sent."""
    if not isinstance(private, bool):
        raise InputError(f"private must be True or False, got {private!r} ({type(private).__name__})")
    if token is not None and not isinstance(token, str):
        raise InputError(f"token must be a string (a Hub token) or None, got a {type(token).__name__}")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InputError(f"retry must be a RetryPolicy (s2r_hf.RetryPolicy(attempts=...)), got {type(retry).__name__}")


def check_repo_id(repo_id: Any) -> None:
    """Raise an InputError unless `repo_id` looks like `namespace/name`."""
    if not isinstance(repo_id, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo_id):
        raise InputError(f"repo_id must look like 'namespace/name' (e.g. 's2r/openr1-select10'), got {repo_id!r}")


def _check_repo_path(path: Any) -> str:
    parts = PurePosixPath(path).parts if isinstance(path, str) else ()
    if not parts or path.startswith("/") or "\\" in path or any(part in (".", "..", ".git") for part in parts):
        raise InputError(
            f"repo paths are relative posix paths inside the repo (e.g. 'data/x.parquet'; not under .git), got {path!r}"
        )
    return "/".join(parts)


def _ensure_branch(api: HfApi, retry: RetryPolicy, create: bool, context: dict[str, Any]) -> None:
    repo_id, repo_type, revision = context["repo_id"], context["repo_type"], context["revision"]
    refs = _call(
        retry,
        f"listing the branches of {repo_id}",
        lambda: api.list_repo_refs(repo_id, repo_type=repo_type),
        **context,
    )
    branches = sorted(branch.name for branch in refs.branches)
    if revision in branches:
        return
    if create:
        _call(
            retry,
            f"creating the branch {revision!r} of {repo_id}",
            lambda: api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True),
            **context,
        )
        logger.info("created the branch %r of %s", revision, repo_id)
        return
    raise PublishError(
        f"branch {revision!r} does not exist in {repo_id} (its branches: {branches}). Commit to an existing branch, "
        f"or create it first: `HfApi().create_branch({repo_id!r}, branch={revision!r}, repo_type={repo_type!r})` "
        "(in Python, commit_files(..., create_branch=True) does it)"
    )


# -- retries and errors ------------------------------------------------------------------------------------------------


def _connect_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client's "could not connect at all" errors (refused, unknown host), for httpx and httpx2."""
    errors = []
    for error in transport_errors():
        connect = getattr(import_module(error.__module__.split(".")[0]), "ConnectError", None)
        if connect is not None:
            errors.append(connect)
    return tuple(errors)


def call_hub(
    retry: RetryPolicy,
    doing: str,
    fn: Callable[[], T],
    *,
    api: HfApi,
    explain: Callable[[Any, int | None], PublishError],
    first_contact: bool = False,
) -> T:
    """`fn()` (one Hub request), retried like a commit (429, 5xx, dropped connections, with backoff); any other HTTP
    error answer becomes `explain(error, status)`, a PublishError the caller words for what it was doing (a
    collection, say, where the repo-centred wording of commit errors would mislead)."""
    return _call(retry, doing, fn, first_contact=first_contact, api=api, explain=explain)


def _call(
    retry: RetryPolicy,
    doing: str,
    fn: Callable[[], T],
    *,
    first_contact: bool = False,
    explain: Callable[[Any, int | None], PublishError] | None = None,
    **context: Any,
) -> T:
    """Run `fn`, retrying retryable failures with backoff; turn the rest into a PublishError that explains them.

    On the first contact with the Hub a connection that cannot be made at all (refused, unknown host) is not retried:
    nothing is under way yet, and it almost always means no network or a wrong HF_ENDPOINT.
    """
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    connection_errors = transport_errors()
    api = context["api"]
    for attempt in range(1, retry.attempts + 1):
        try:
            return fn()
        except OfflineModeIsEnabled:
            check_online()
            raise
        except HfHubHTTPError as error:
            status = error.response.status_code if error.response is not None else None
            if status not in RETRYABLE_STATUS:
                raise (explain(error, status) if explain else _explain(error, status, doing, **context)) from None
            failure: BaseException = error
            received = f"HTTP {status}"
        except connection_errors as error:
            if first_contact and isinstance(error, _connect_errors()):
                raise PublishError(
                    f"{doing}: cannot reach the Hub at {api.endpoint} ({type(error).__name__}: {error}). Check the "
                    "network connection, and HF_ENDPOINT if it is set; nothing was published"
                ) from None
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


def server_message(error: Any) -> str:
    """What the Hub said in an HTTP error answer (its X-Error-Message header or JSON `error`), or "no message"."""
    return _server_message(error)


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
    repo_type: str,
    revision: str,
    user: str | None = None,
    namespaces: Sequence[str] = (),
    memberships: Sequence[str] = (),
    creating: bool = False,
) -> PublishError:
    """A PublishError for a non-retryable answer: what failed, what the Hub said, how to fix it."""
    namespace, name = repo_id.split("/")
    code = error.response.headers.get("X-Error-Code") if error.response is not None else None
    said = f"the Hub answered {status} ({_server_message(error)})"
    example = f", e.g. {namespaces[0]}/{name}" if namespaces else ""
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
        yours = f"your namespaces are {list(namespaces)}" if namespaces else "check which namespaces you can write to"
        return PublishError(
            f"{doing}: {user or 'this token'} may not write to {repo_id}: namespace {namespace!r} belongs to someone "
            f"else ({said}); {yours}. Publish under one of them{example}, or ask an admin of {namespace!r} for "
            "write access."
        )
    if status == 404 and code == "RevisionNotFound":
        return PublishError(
            f"{doing}: revision {revision!r} does not exist in {repo_id} ({said}); commit to an existing branch or "
            "create it first with `HfApi().create_branch`"
        )
    if status == 404 and creating:
        return PublishError(
            f"{doing}: namespace {namespace!r} does not exist on {api.endpoint} ({said}). Create the organization "
            f"first, or publish under one of your namespaces {list(namespaces)}{example}"
        )
    if status == 404:
        return PublishError(
            f"{doing}: {repo_type} repo {repo_id} was not found ({said}); check the repo id and that the token can "
            "read it"
        )
    if status == 412:
        return PublishError(
            f"{doing}: {repo_id}@{revision} changed while publishing: someone else pushed a commit ({said}). Nothing "
            "was committed; re-run to compare against the new head."
        )
    return PublishError(f"{doing}: {said}. This is not retryable; check the request and the repo settings.")


def _token_help(api: HfApi) -> str:
    return _TOKEN_HELP.format(endpoint=api.endpoint)


def token_help(api: HfApi) -> str:
    """How to give a token with write access, naming the Hub at `api.endpoint`."""
    return _token_help(api)
