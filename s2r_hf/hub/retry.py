"""How every Hub request of s2r-hf is retried, and how a refusal is put into words.

Rate limits (429), server errors (5xx), request timeouts (408) and dropped connections are retried with exponential
backoff (`RetryPolicy`); `call_hub` runs one request under that policy. Any other HTTP error answer becomes a
`PublishError` worded by the caller (`explain`); `explain_refusal` is the wording for a write to a repo (what failed,
what the Hub said, how to fix it: the token, the namespace, the revision, ...).

Offline mode is checked here too (`check_online`): huggingface_hub refuses a request in offline mode with its own
error, which the retry loop turns into the same PublishError a caller gets from checking before any request.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.core.http_errors import transport_errors

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TOKEN_HELP = (
    "pass a token (--token on the command line, token= in Python), set HF_TOKEN, or run `hf auth login` "
    "(a token with write access: {endpoint}/settings/tokens)"
)

# How a caller words a non-retryable HTTP error answer (the error, its status) for what it was doing.
Explain = Callable[[Any, "int | None"], "PublishError"]


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


def check_online() -> None:
    """Raise a PublishError when huggingface_hub's offline mode is on (it reads HF_HUB_OFFLINE at import)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise PublishError(
            "offline mode is on (HF_HUB_OFFLINE is set), and writing to the Hub needs the network; "
            "unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE) to publish"
        )


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
    explain: Explain,
    first_contact: bool = False,
) -> T:
    """Run `fn()` (one Hub request), retrying 429, 5xx and dropped connections with backoff; turn any other HTTP error
    answer into `explain(error, status)`, a PublishError the caller words for what it was doing (a collection, say,
    where the repo-centred wording of commit errors would mislead).

    On the first contact with the Hub a connection that cannot be made at all (refused, unknown host) is not retried:
    nothing is under way yet, and it almost always means no network or a wrong HF_ENDPOINT.
    """
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    connection_errors = transport_errors()
    for attempt in range(1, retry.attempts + 1):
        try:
            return fn()
        except OfflineModeIsEnabled:
            check_online()
            raise
        except HfHubHTTPError as error:
            status = error.response.status_code if error.response is not None else None
            if status not in RETRYABLE_STATUS:
                raise explain(error, status) from None
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
    response = error.response
    message = response.headers.get("X-Error-Message") if response is not None else None
    if not message and response is not None:
        try:
            message = response.json().get("error")
        except ValueError:
            message = None
    return str(message) if message else "no message"


def token_help(api: HfApi) -> str:
    """How to give a token with write access, naming the Hub at `api.endpoint`."""
    return _TOKEN_HELP.format(endpoint=api.endpoint)


def explain_refusal(
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
    """A PublishError for a non-retryable answer to a write to `repo_id`: what failed, what the Hub said, how to fix
    it. `namespaces` are those the user can write to (suggested instead), `memberships` the orgs the user belongs to;
    `creating` says the request created the repo (a 404 then means its namespace does not exist)."""
    namespace, name = repo_id.split("/")
    code = error.response.headers.get("X-Error-Code") if error.response is not None else None
    said = f"the Hub answered {status} ({server_message(error)})"
    example = f", e.g. {namespaces[0]}/{name}" if namespaces else ""
    if status == 401:
        return PublishError(
            f"{doing}: {api.endpoint} rejected the token: {said}. It is invalid, expired or revoked; {token_help(api)}"
        )
    if status == 403 and namespace in memberships:
        return PublishError(
            f"{doing}: {user} is a member of {namespace!r} but may not write to {repo_id} ({said}). Ask an admin of "
            f"{namespace!r} for the write role, or use a token with write access: {token_help(api)}"
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
