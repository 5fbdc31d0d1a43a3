"""The loopback Hub, driven by the real clients: datasets' push_to_hub / load_dataset and huggingface_hub's HfApi.

These tests pin the protocol details the publisher's tests rely on: multi-config pushes, default configs, streaming,
snapshots, commits with parent checks, and the error codes the clients dispatch on.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from hub_server import DEFAULT_TOKEN, DEFAULT_USER, git_blob_oid

pytest_plugins = ("hub_fixtures",)


@pytest.fixture(scope="module")
def three_datasets():
    from datasets import Dataset

    return {
        "alpha": Dataset.from_dict({"x": [1, 2, 3], "text": ["a", "bb", "ccc"]}),
        "beta": Dataset.from_dict({"x": [10, 20], "text": ["ten", "twenty"]}),
        "gamma": Dataset.from_dict({"x": [7], "text": ["seven"]}),
    }


def test_push_to_hub_configs_load_stream_and_snapshot(hub, three_datasets):
    from datasets import load_dataset
    from huggingface_hub import snapshot_download

    for index, (name, dataset) in enumerate(three_datasets.items()):
        dataset.push_to_hub("s2r/three", config_name=name, set_default=index == 0)

    files = hub.files("s2r/three")
    assert {path for path in files if path.endswith(".parquet")} == {
        f"{name}/train-00000-of-00001.parquet" for name in three_datasets
    }
    for name, dataset in three_datasets.items():
        loaded = load_dataset("s2r/three", name, split="train")
        assert loaded.to_dict() == dataset.to_dict()
        streamed = list(load_dataset("s2r/three", name, split="train", streaming=True))
        assert streamed == dataset.to_list()
    # the first push was marked default: no config name needed
    assert load_dataset("s2r/three", split="train").to_dict() == three_datasets["alpha"].to_dict()

    snapshot = Path(snapshot_download("s2r/three", repo_type="dataset"))
    on_disk = {p.relative_to(snapshot).as_posix(): p.read_bytes() for p in snapshot.rglob("*") if p.is_file()}
    assert on_disk == files


def test_commits_have_parents_and_a_stale_parent_is_refused(hub):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi()
    api.create_repo("s2r/commits", repo_type="dataset")
    first = api.create_commit(
        "s2r/commits",
        [CommitOperationAdd("notes.txt", b"one"), CommitOperationAdd("table.parquet", b"PAR1 fake")],
        commit_message="first",
        repo_type="dataset",
    )
    second = api.create_commit(
        "s2r/commits",
        [CommitOperationAdd("notes.txt", b"two"), CommitOperationDelete("table.parquet")],
        commit_message="second",
        commit_description="details",
        repo_type="dataset",
        parent_commit=first.oid,
    )
    commits = api.list_repo_commits("s2r/commits", repo_type="dataset")
    assert [c.commit_id for c in commits][:2] == [second.oid, first.oid]
    assert [c.title for c in commits] == ["second", "first", "initial commit"]
    assert commits[0].message == "details"
    assert hub.files("s2r/commits") == {
        ".gitattributes": hub.files("s2r/commits")[".gitattributes"],
        "notes.txt": b"two",
    }
    assert hub.files("s2r/commits", revision=first.oid)["table.parquet"] == b"PAR1 fake"

    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(
            "s2r/commits",
            [CommitOperationAdd("notes.txt", b"three")],
            commit_message="stale",
            repo_type="dataset",
            parent_commit=first.oid,  # the head is `second` now
        )
    assert caught.value.response.status_code == 412
    assert len(hub.commits("s2r/commits")) == 3


def test_tree_entries_carry_git_and_lfs_ids(hub):
    import hashlib

    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()
    api.create_repo("s2r/tree", repo_type="dataset")
    api.create_commit(
        "s2r/tree",
        [CommitOperationAdd("README.md", b"# hi\n"), CommitOperationAdd("data/x.parquet", b"parquet bytes")],
        commit_message="files",
        repo_type="dataset",
    )
    entries = {e.path: e for e in api.list_repo_tree("s2r/tree", repo_type="dataset", recursive=True)}
    assert entries["README.md"].blob_id == git_blob_oid(b"# hi\n")
    assert entries["README.md"].lfs is None
    assert entries["data/x.parquet"].lfs.sha256 == hashlib.sha256(b"parquet bytes").hexdigest()
    assert entries["data/x.parquet"].size == len(b"parquet bytes")
    assert "data" in entries and not hasattr(entries["data"], "lfs")  # a folder entry


def test_range_requests_answer_206_with_the_slice(hub):
    hub.seed_repo("s2r/ranged", owner=DEFAULT_USER, files={"blob.bin": bytes(range(100))})
    url = f"{hub.url}/datasets/s2r/ranged/resolve/main/blob.bin"
    request = urllib.request.Request(url, headers={"Range": "bytes=10-19"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 206
        assert response.read() == bytes(range(10, 20))
        assert response.headers["Content-Range"] == "bytes 10-19/100"
    request = urllib.request.Request(url, headers={"Range": "bytes=-5"})
    with urllib.request.urlopen(request) as response:
        assert response.read() == bytes(range(95, 100))


def test_error_answers_carry_the_codes_the_clients_dispatch_on(hub):
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        from huggingface_hub.errors import RemoteEntryNotFoundError as EntryMissing  # hub >= 1.0
    except ImportError:  # pragma: no cover - older hubs
        from huggingface_hub.errors import EntryNotFoundError as EntryMissing

    api = HfApi()
    hub.seed_repo("other-org/taken", owner="someone-else", files={"README.md": b"# theirs\n"})
    hub.seed_repo("other-org/secret", owner="someone-else", private=True)

    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(token="hf_not_a_valid_token").whoami()
    assert caught.value.response.status_code == 401
    assert api.whoami()["name"] == DEFAULT_USER

    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("other-org/mine", repo_type="dataset")
    assert caught.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("no-such-org/mine", repo_type="dataset")
    assert caught.value.response.status_code == 404

    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("s2r/missing")
    with pytest.raises(RepositoryNotFoundError):  # private, and we are not a member
        api.dataset_info("other-org/secret")
    with pytest.raises(RevisionNotFoundError):
        api.dataset_info("other-org/taken", revision="no-such-branch")
    with pytest.raises(EntryMissing):
        hf_hub_download("other-org/taken", "missing.txt", repo_type="dataset")
    # writing into someone else's existing repo
    from huggingface_hub import CommitOperationAdd

    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(
            "other-org/taken", [CommitOperationAdd("x.txt", b"x")], commit_message="x", repo_type="dataset"
        )
    assert caught.value.response.status_code == 403
    assert len(hub.commits("other-org/taken")) == 2  # initial + seed: nothing landed


def test_injected_faults_hit_the_next_matching_requests_only(hub):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi()
    hub.seed_repo("s2r/faulty", owner=DEFAULT_USER)
    hub.inject_fault(500, "/api/datasets/s2r/faulty", method="GET", times=2)
    for _ in range(2):
        with pytest.raises(HfHubHTTPError) as caught:
            api.dataset_info("s2r/faulty")
        assert caught.value.response.status_code == 500
    assert api.dataset_info("s2r/faulty").id == "s2r/faulty"

    hub.inject_fault(429, "/api/whoami-v2", headers={"Retry-After": "0"})
    with pytest.raises(HfHubHTTPError) as caught:
        api.whoami()
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "0"

    statuses = [(r.method, r.status) for r in hub.requests if "faulty" in r.path]
    assert statuses == [("GET", 500), ("GET", 500), ("GET", 200)]


def test_lfs_upload_urls_are_single_use_and_checked(hub):
    import hashlib
    import json

    hub.seed_repo("s2r/lfs", owner=DEFAULT_USER)
    content = b"some large-ish bytes"
    oid = hashlib.sha256(content).hexdigest()
    batch = urllib.request.Request(
        f"{hub.url}/datasets/s2r/lfs.git/info/lfs/objects/batch",
        data=json.dumps({"operation": "upload", "objects": [{"oid": oid, "size": len(content)}]}).encode(),
        headers={"Authorization": f"Bearer {DEFAULT_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(batch) as response:
        href = json.loads(response.read())["objects"][0]["actions"]["upload"]["href"]
    with pytest.raises(urllib.error.HTTPError) as caught:  # wrong content for that oid
        urllib.request.urlopen(urllib.request.Request(href, data=b"other bytes", method="PUT"))
    assert caught.value.code == 400
    with urllib.request.urlopen(urllib.request.Request(href, data=content, method="PUT")) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as caught:  # used once already
        urllib.request.urlopen(urllib.request.Request(href, data=content, method="PUT"))
    assert caught.value.code == 403
    assert hub.repo("s2r/lfs").lfs_objects[oid] == content


def test_the_request_log_names_the_caller_but_never_holds_the_token(hub):
    from huggingface_hub import HfApi

    HfApi().whoami()
    logged = hub.requests
    assert [(r.method, r.path, r.user, r.status) for r in logged] == [("GET", "/api/whoami-v2", DEFAULT_USER, 200)]
    assert DEFAULT_TOKEN not in repr(logged)
