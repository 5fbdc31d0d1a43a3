"""s2r_hf.hub.collections.gather_collection against the loopback Hub, read back with huggingface_hub's client."""

from __future__ import annotations

import pytest

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.collections import DESCRIPTION_LIMIT, NOTE_LIMIT, gather_collection


@pytest.fixture
def repos(hub):
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo("s2r/exp-joint", repo_type="model")
    api.create_repo("s2r/exp-joint", repo_type="dataset")
    api.create_repo("s2r/exp-results", repo_type="dataset")
    return [
        ("s2r/exp-joint", "dataset", "joint 10%: 29 rows"),
        ("s2r/exp-joint", "model", "joint 10%: math500 pass@1 40.0"),
        ("s2r/exp-results", "dataset", None),
    ]


def items_of(slug: str) -> list[tuple[str, str, str | None]]:
    from huggingface_hub import HfApi

    return [(item.item_id, item.item_type, item.note) for item in HfApi().get_collection(slug).items]


def test_gathering_twice_adds_nothing_and_a_changed_note_is_updated(hub, repos):
    from huggingface_hub import HfApi

    first = gather_collection("Tiny experiment", "s2r", repos, description="joint 40.0, random 35.0")
    assert first.slug.startswith("s2r/tiny-experiment-") and first.url.endswith(f"/collections/{first.slug}")
    assert first.added == ("s2r/exp-joint", "s2r/exp-joint", "s2r/exp-results") and first.updated == ()
    assert items_of(first.slug) == repos
    assert HfApi().get_collection(first.slug).description == "joint 40.0, random 35.0"

    again = gather_collection("Tiny experiment", "s2r", repos, description="joint 40.0, random 35.0")
    assert again.slug == first.slug and not again.changed
    assert len(hub.collections("s2r")) == 1

    # an item someone added by hand stays; a changed note and description are updated, a None note left alone
    HfApi().create_repo("s2r/by-hand", repo_type="model")
    HfApi().add_collection_item(first.slug, "s2r/by-hand", "model", note="mine")
    changed = [repos[0], ("s2r/exp-joint", "model", "joint 10%: math500 pass@1 45.0"), repos[2]]
    result = gather_collection("Tiny experiment", "s2r", changed, description="joint 45.0, random 35.0")
    assert result.added == () and result.updated == ("s2r/exp-joint",) and result.description_changed
    assert items_of(first.slug) == [*changed, ("s2r/by-hand", "model", "mine")]


def test_long_descriptions_and_notes_are_cut_with_an_ellipsis(hub, repos):
    from huggingface_hub import HfApi

    long_note = "scores " * 200
    result = gather_collection("Long", "s2r", [("s2r/exp-joint", "model", long_note)], description="x " * 200)
    collection = HfApi().get_collection(result.slug)
    assert len(collection.description) == DESCRIPTION_LIMIT and collection.description.endswith("…")
    assert len(collection.items[0].note) <= NOTE_LIMIT and collection.items[0].note.endswith("…")
    assert not gather_collection("Long", "s2r", [("s2r/exp-joint", "model", long_note)], description="x " * 200).changed


def test_bad_items_and_foreign_namespaces_are_refused(hub, repos):
    with pytest.raises(InputError, match="triple"):
        gather_collection("T", "s2r", [("s2r/exp-joint", "model")])
    with pytest.raises(InputError, match=r"repo type .* must be one of"):
        gather_collection("T", "s2r", [("s2r/exp-joint", "paper", None)])
    with pytest.raises(InputError, match="listed twice"):
        gather_collection("T", "s2r", [repos[0], repos[0]])
    with pytest.raises(InputError, match="namespace is a user or organization"):
        gather_collection("T", "s2r/x", repos)
    assert not hub.collections()
    with pytest.raises(PublishError, match="may not write to the namespace 'other-org'"):
        gather_collection("T", "other-org", repos)
    with pytest.raises(PublishError, match=r"not found .*publish the repos first"):
        gather_collection("T", "s2r", [("s2r/never-published", "model", None)])
