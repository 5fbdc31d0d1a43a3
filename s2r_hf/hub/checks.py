"""What a push is refused for before anything is written, and the token scan of the files it would upload.

The options and repo ids are checked before any folder is read or request sent; the token is then checked with the
Hub (`whoami`: missing, rejected, read-only), and `check_push` runs these checks alone, so that a caller with long
work before its push fails in a second rather than after the work. Last, every file is scanned for the push's token
and for anything shaped like a Hub token, and refused before any upload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.local_files import LocalFile
from s2r_hf.hub.retry import RetryPolicy, call_hub, check_online, explain_refusal, token_help

if TYPE_CHECKING:
    from huggingface_hub import HfApi

REPO_TYPES = ("model", "dataset", "space")


@dataclass(frozen=True)
class Writer:
    """Who a write is sent as: the client, and the user its token belongs to with the namespaces that user may write
    to and the orgs it is a member of (so that a refusal names where to publish instead)."""

    api: HfApi
    user: str
    namespaces: tuple[str, ...]
    memberships: tuple[str, ...]


def check_publish_options(*, private: Any, token: Any, retry: Any) -> None:
    """The keyword options every publish takes, checked before any folder is read or request is sent."""
    if not isinstance(private, bool):
        raise InputError(f"private must be True or False, got {private!r} ({type(private).__name__})")
    if token is not None and not isinstance(token, str):
        raise InputError(f"token must be a string (a Hub token) or None, got a {type(token).__name__}")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InputError(f"retry must be a RetryPolicy (s2r_hf.RetryPolicy(attempts=...)), got {type(retry).__name__}")


def check_commit_options(
    *,
    repo_type: Any,
    revision: Any,
    create_branch: Any,
    delete: Any,
    keep: Any,
    message: Any,
) -> None:
    """The options of `commit_files` beyond those every publish takes, checked before any file is read."""
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


def check_repo_id(repo_id: Any) -> None:
    """Raise an InputError unless `repo_id` looks like `namespace/name`."""
    if not isinstance(repo_id, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", repo_id):
        raise InputError(f"repo_id must look like 'namespace/name' (e.g. 's2r/openr1-select10'), got {repo_id!r}")


def check_repo_path(path: Any) -> str:
    """`path` as a clean relative posix path inside a repo; an InputError for an absolute path, `..`, `.git`, ..."""
    parts = PurePosixPath(path).parts if isinstance(path, str) else ()
    if not parts or path.startswith("/") or "\\" in path or any(part in (".", "..", ".git") for part in parts):
        raise InputError(
            f"repo paths are relative posix paths inside the repo (e.g. 'data/x.parquet'; not under .git), got {path!r}"
        )
    return "/".join(parts)


def check_writer(
    api: HfApi, token: str | None, retry: RetryPolicy, *, repo_id: str, repo_type: str, revision: str = "main"
) -> Writer:
    """Who `token` belongs to (the Hub's `whoami`), refusing a missing, rejected or read-only token before anything is
    written."""
    if not token:
        raise PublishError(f"no Hugging Face token found, and writing to the Hub needs one; {token_help(api)}")
    doing = f"checking the token with {api.endpoint}"
    explain = partial(explain_refusal, doing=doing, api=api, repo_id=repo_id, repo_type=repo_type, revision=revision)
    whoami = call_hub(retry, doing, api.whoami, api=api, explain=explain, first_contact=True)
    user = whoami.get("name", "?")
    # Read access needs no check here; everything after this writes, so a read-only token is refused before any upload.
    if ((whoami.get("auth") or {}).get("accessToken") or {}).get("role") == "read":
        raise PublishError(f"the token of {user!r} is read-only (role 'read'); writing needs: {token_help(api)}")
    orgs = [org for org in whoami.get("orgs", []) if org.get("name")]
    return Writer(
        api=api,
        user=user,
        # Suggestions name only namespaces the user can write to; an org where the user only reads is reported as such.
        namespaces=(user, *(org["name"] for org in orgs if org.get("roleInOrg") not in ("read", "contributor"))),
        memberships=tuple(org["name"] for org in orgs),
    )


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
    return check_writer(api, token, retry or RetryPolicy(), repo_id=repo_ids[0], repo_type=repo_type).user


def refuse_tokens_in_files(files: Mapping[str, LocalFile], token: str) -> dict[str, tuple[str, str]]:
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
