"""Gather Hub repos in a Hugging Face collection: `gather_collection(title, namespace, items)`.

Idempotent, like every publish of s2r-hf: the collection is created when the namespace has none of that title, its
description is set, each item missing from it is added and an item whose note changed is updated; items someone added
by hand are left alone, and a second gather of the same items changes nothing. Every request goes through the retry and
error wording of s2r_hf.hub.retry (`call_hub`), with huggingface_hub's own collection methods.

Descriptions and notes are kept short (`DESCRIPTION_LIMIT`, `NOTE_LIMIT` characters, the limits huggingface_hub's
documentation gives) and cut with an ellipsis: a collection points at the repos, whose cards hold the full story.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.checks import REPO_TYPES, check_publish_options, check_repo_id
from s2r_hf.hub.retry import RetryPolicy, call_hub, check_online, server_message, token_help

if TYPE_CHECKING:
    from huggingface_hub import HfApi

logger = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 150
NOTE_LIMIT = 500
ELLIPSIS = "…"


@dataclass(frozen=True)
class CollectionResult:
    """What a gather did: the collection's slug and page, and the items (repo ids) it added or whose note it updated."""

    slug: str
    url: str
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    description_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.description_changed)


def gather_collection(
    title: str,
    namespace: str,
    items: Sequence[tuple[str, str, str | None]],
    *,
    description: str | None = None,
    private: bool = False,
    token: str | None = None,
    retry: RetryPolicy | None = None,
) -> CollectionResult:
    """Make the collection `title` of `namespace` hold `items`: (repo_id, repo_type, note) triples, note None for none.

    Created when missing (`private` applies then). `description` (None: left as it is) and notes longer than the
    limits are cut with an ellipsis. Returns a `CollectionResult`; raises PublishError (the Hub refused or could not be
    reached) or InputError.
    """
    from huggingface_hub import HfApi, get_token

    check_online()
    check_publish_options(private=private, token=token, retry=retry)
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"a collection title is a non-empty string, got {title!r}")
    check_namespace(namespace)
    if description is not None and not isinstance(description, str):
        raise InputError(f"description must be a string or None, got {type(description).__name__}")
    wanted = _check_items(items)
    description = shorten(description, DESCRIPTION_LIMIT) if description is not None else None
    retry = retry or RetryPolicy()
    token = token if token is not None else get_token()
    api = HfApi(token=token)
    if not token:
        raise PublishError(f"no Hugging Face token found, and a collection needs one; {token_help(api)}")
    where = f"the collection {title!r} of {namespace!r}"

    def call(doing: str, fn, *, first_contact: bool = False):
        return call_hub(
            retry, doing, fn, api=api, first_contact=first_contact, explain=_explainer(doing, api, namespace, where)
        )

    call(f"checking the token with {api.endpoint}", api.whoami, first_contact=True)
    collection = call(
        f"creating {where}",
        lambda: api.create_collection(
            title, namespace=namespace, description=description, private=private, exists_ok=True
        ),
    )
    if private and not collection.private:
        logger.warning("%s already exists and is public; `private` does not change an existing collection", where)
    description_changed = False
    if description is not None and (collection.description or "") != description:
        call(
            f"setting the description of {where}",
            lambda: api.update_collection_metadata(collection.slug, description=description),
        )
        description_changed = True
    present = {(item.item_id, item.item_type): item for item in collection.items}
    added, updated = [], []
    for repo_id, repo_type, note in wanted:
        item = present.get((repo_id, repo_type))
        if item is None:
            call(
                f"adding the {repo_type} {repo_id} to {where}",
                partial(api.add_collection_item, collection.slug, repo_id, repo_type, note=note, exists_ok=True),
            )
            added.append(repo_id)
        elif note is not None and (item.note or "") != note:
            call(
                f"updating the note of {repo_id} in {where}",
                partial(api.update_collection_item, collection.slug, item.item_object_id, note=note),
            )
            updated.append(repo_id)
    if added or updated or description_changed:
        logger.info("%s (%s): added %s, updated %s", where, collection.slug, added or "nothing", updated or "nothing")
    else:
        logger.info("%s (%s) already holds these items: nothing changed", where, collection.slug)
    return CollectionResult(collection.slug, collection.url, tuple(added), tuple(updated), description_changed)


def check_namespace(namespace: Any) -> None:
    """Raise an InputError unless `namespace` is a user or organization name (letters, digits, `-`, `_`, `.`)."""
    if not isinstance(namespace, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*", namespace):
        raise InputError(f"namespace is a user or organization name on the Hub (e.g. 's2r'), got {namespace!r}")


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _check_items(items: Any) -> list[tuple[str, str, str | None]]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InputError(f"items is a list of (repo_id, repo_type, note) triples, got {type(items).__name__}")
    out, seen = [], set()
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 3):
            raise InputError(f"each item is a (repo_id, repo_type, note) triple, got {item!r}")
        repo_id, repo_type, note = item
        check_repo_id(repo_id)
        if repo_type not in REPO_TYPES:
            raise InputError(f"the repo type of {repo_id} must be one of {list(REPO_TYPES)}, got {repo_type!r}")
        if note is not None and not isinstance(note, str):
            raise InputError(f"the note of {repo_id} must be a string or None, got {type(note).__name__}")
        if (repo_id, repo_type) in seen:
            raise InputError(f"the {repo_type} {repo_id} is listed twice; list each item once")
        seen.add((repo_id, repo_type))
        out.append((repo_id, repo_type, shorten(note, NOTE_LIMIT) if note is not None else None))
    return out


def _explainer(doing: str, api: HfApi, namespace: str, where: str):
    def explain(error: Any, status: int | None) -> PublishError:
        said = f"the Hub answered {status} ({server_message(error)})"
        if status == 401:
            return PublishError(f"{doing}: {api.endpoint} rejected the token: {said}; {token_help(api)}")
        if status == 403:
            return PublishError(
                f"{doing}: this token may not write to the namespace {namespace!r} ({said}); gather the collection "
                "in your own namespace or an organization where you have the write role"
            )
        if status == 404:
            return PublishError(
                f"{doing}: not found ({said}): the namespace {namespace!r} or a repo to add does not exist, or the "
                "token cannot read it; publish the repos first"
            )
        return PublishError(f"{doing}: {said}. This is not retryable; check {where} on the Hub.")

    return explain
