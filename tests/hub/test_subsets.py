"""s2r_hf.hub.subsets and `s2r publish` against the loopback Hub, through the real huggingface_hub and datasets
clients."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fixtures.hub_server import DEFAULT_TOKEN, DEFAULT_USER

from s2r_hf._version import __version__
from s2r_hf.cards import render_card
from s2r_hf.columns import ANSWER, DIFFICULTY, ID, JOINT_RANK, MESSAGES, TRACE_LENGTH
from s2r_hf.folders import read_card_metadata, write_dataset_folder
from s2r_hf.hub.subsets import PublishError, RetryPolicy, publish_subset, publish_subsets
from s2r_hf.plots import plot_distributions

POOL_ROWS = 12
FAST = RetryPolicy(attempts=3, base_delay=0.0)


def pool_rows() -> list[dict]:
    rows = []
    for i in range(POOL_ROWS):
        question = f"What is {i} + {i * 7}?"
        trace = "Let me add. " + "Wait, check again. " * (i % 5) + f"So the answer is \\boxed{{{i * 8}}}."
        rows.append(
            {
                ID: f"row-{i:03d}",
                MESSAGES: [{"role": "user", "content": question}, {"role": "assistant", "content": trace}],
                ANSWER: str(i * 8) if i % 4 else None,
                TRACE_LENGTH: len(trace),
                DIFFICULTY: round((i * 5 % 11) / 10, 2),
            }
        )
    return rows


def subset_metadata(name: str, rows: int, ratio: float, plots: list[str], repo_hint: str) -> dict:
    return {
        "license": "apache-2.0",
        "source_datasets": ["open-r1/OpenR1-Math-220k"],
        "task_categories": ["text-generation"],
        "size_categories": ["n<1K"],
        "tags": ["select2reason", "reasoning", "long-cot"],
        "pretty_name": f"{name} (Select2Reason joint subset)",
        "s2r": {
            "kind": "subset",
            "name": name,
            "version": __version__,
            "strategy": "joint",
            "ratio": ratio,
            "k": None,
            "weight": 0.25,
            "seed": None,
            "group_column": None,
            "rule": f"{ratio} × {POOL_ROWS} rounded half up = {rows}",
            "rows": rows,
            "pool_rows": POOL_ROWS,
            "repo_hint": repo_hint,
            "command": f"s2r select openr1-scored -o {name} --ratio {ratio}",
            "plots": plots,
            "pool": {
                "name": "openr1-scored",
                "synthetic": False,
                "license": "apache-2.0",
                "source": {
                    "name": "open-r1/OpenR1-Math-220k",
                    "config": "default",
                    "split": "train",
                    "revision": "e4e141ec9dea9f8326f4d347be56105859b2bd68",
                },
                "adapter": {"name": "openr1", "mode": "problem"},
                "rows_in": POOL_ROWS + 2,
                "rows": POOL_ROWS,
                "dropped": {"incomplete reasoning": 2},
                "length": {
                    "unit": "tokens",
                    "tokenizer": "Qwen/Qwen2.5-Math-7B-Instruct",
                    "discount_repeated_steps": False,
                    "rethink_markers": ["Wait", "Alternatively", "Maybe", "However"],
                },
                "difficulty": {"scorer": "judge", "model": "Qwen/Qwen2.5-1.5B-Instruct", "revision": "989aa79"},
                "command": "s2r score open-r1/OpenR1-Math-220k -o openr1-scored",
            },
        },
    }


def make_subset(root: Path, name: str, rows: int, *, ratio: float | None = None, shards: int = 1) -> Path:
    """A subset folder as `s2r select` writes it: the first `rows` rows by joint rank, its card and its plots."""
    from datasets import Dataset

    pool = pool_rows()
    ranked = sorted(pool, key=lambda row: (-row[DIFFICULTY] * 0.25 - row[TRACE_LENGTH] * 0.75 / 1000, row[ID]))
    chosen = [{**row, JOINT_RANK: float(position + 1)} for position, row in enumerate(ranked[:rows])]
    plots = plot_distributions(
        [row[DIFFICULTY] for row in pool],
        [row[TRACE_LENGTH] for row in pool],
        [row[DIFFICULTY] for row in chosen],
        [row[TRACE_LENGTH] for row in chosen],
    )
    metadata = subset_metadata(name, rows, ratio or round(rows / POOL_ROWS, 4), sorted(plots), f"s2r/{name}")
    dataset = Dataset.from_list(chosen)
    kwargs = {"max_shard_bytes": -(-dataset.data.nbytes // shards)} if shards > 1 else {}
    return write_dataset_folder(
        dataset,
        root / name,
        render_card("subset.md", metadata),
        extra_files=plots,
        overwrite=True,
        **kwargs,
    )


def folder_table(folder: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables(pq.read_table(path) for path in sorted((folder / "data").glob("*.parquet")))


def commit_posts(hub) -> list[int]:
    return [r.status for r in hub.requests if r.method == "POST" and "/commit/" in r.path]


@pytest.fixture
def select10(tmp_path) -> Path:
    return make_subset(tmp_path, "openr1-select10", 3)


# -- the published dataset ---------------------------------------------------------------------------------------------


def test_published_subset_loads_byte_for_byte(hub, select10):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard, snapshot_download

    result = publish_subset(select10, "s2r/openr1-select10")
    assert result.changed and result.url == f"{hub.url}/datasets/s2r/openr1-select10"
    assert result.commit == hub.commits("s2r/openr1-select10")[0].oid
    assert set(result.added) == {"README.md", "data/train-00000-of-00001.parquet", "difficulty.png", "length.png"}

    expected = folder_table(select10)
    loaded = load_dataset("s2r/openr1-select10", split="train")  # the default config: no config name
    assert loaded.data.table.equals(expected, check_metadata=False)
    assert loaded[ID] == ["row-004", "row-002", "row-008"]  # selection order kept
    streamed = list(load_dataset("s2r/openr1-select10", split="train", streaming=True))
    assert streamed == expected.to_pylist()

    snapshot = Path(snapshot_download("s2r/openr1-select10", repo_type="dataset"))
    local = {p.relative_to(select10).as_posix(): p.read_bytes() for p in select10.rglob("*") if p.is_file()}
    remote = {p.relative_to(snapshot).as_posix(): p.read_bytes() for p in snapshot.rglob("*") if p.is_file()}
    assert remote.pop(".gitattributes")
    assert remote == local

    card = DatasetCard.load("s2r/openr1-select10", repo_type="dataset")
    assert card.data.to_dict() == read_card_metadata(select10)
    assert "![difficulty distribution of the pool and the subset](difficulty.png)" in card.text
    assert "No evaluation results yet" in card.text


def test_identical_republish_makes_no_commit(hub, select10):
    first = publish_subset(select10, "s2r/openr1-select10")
    hub.clear_requests()
    again = publish_subset(select10, "s2r/openr1-select10")
    assert not again.changed and again.commit == first.commit
    assert commit_posts(hub) == []
    assert len(hub.commits("s2r/openr1-select10")) == 2  # the repo's initial commit and the publish
    # plots are regenerated byte-identically, so a re-run of `s2r select` publishes nothing either
    rebuilt = make_subset(select10.parent, "openr1-select10", 3)
    assert not publish_subset(rebuilt, "s2r/openr1-select10").changed


def test_changed_content_makes_one_commit_saying_what_changed(hub, tmp_path):
    from datasets import load_dataset

    two_shards = make_subset(tmp_path / "a", "openr1-select10", 4, ratio=0.33, shards=2)
    assert len(list((two_shards / "data").glob("*.parquet"))) == 2
    publish_subset(two_shards, "s2r/openr1-select10")
    one_shard = make_subset(tmp_path / "b", "openr1-select10", 5, ratio=0.42)

    result = publish_subset(one_shard, "s2r/openr1-select10")

    commits = hub.commits("s2r/openr1-select10")
    assert len(commits) == 3
    assert commits[0].oid == result.commit and commits[0].title == result.message
    assert commits[0].title.startswith("Update openr1-select10: rows 4 -> 5, ratio 0.33 -> 0.42")
    assert "s2r.rule: 0.33 × 12 rounded half up = 4 -> 0.42 × 12 rounded half up = 5" in commits[0].message
    assert set(result.deleted) == {f"data/train-0000{i}-of-00002.parquet" for i in range(2)}
    assert set(result.added) == {"data/train-00000-of-00001.parquet"}
    assert set(result.updated) == {"README.md", "difficulty.png", "length.png"}
    assert sorted(hub.files("s2r/openr1-select10")) == sorted(
        [".gitattributes", "README.md", "data/train-00000-of-00001.parquet", "difficulty.png", "length.png"]
    )
    loaded = load_dataset("s2r/openr1-select10", split="train")
    assert loaded.data.table.equals(folder_table(one_shard), check_metadata=False)


def test_a_card_made_for_another_repo_is_pushed_unchanged_with_a_warning(hub, select10, caplog):
    with caplog.at_level(logging.WARNING, logger="s2r_hf.hub.subsets"):
        publish_subset(select10, f"{DEFAULT_USER}/my-select10")
    assert "the card's example loads 's2r/openr1-select10' but this publish goes to 's2r-tester/my-select10'" in (
        caplog.text
    )
    assert hub.files(f"{DEFAULT_USER}/my-select10")["README.md"] == (select10 / "README.md").read_bytes()


def test_custom_commit_message_and_private_repo(hub, select10):
    result = publish_subset(select10, "s2r/private-select10", private=True, commit_message="First release")
    assert hub.repo("s2r/private-select10").private
    assert hub.commits("s2r/private-select10")[0].title == "First release"
    assert "Added:" in hub.commits("s2r/private-select10")[0].message
    assert result.message == "First release"


def test_publish_to_an_existing_branch_leaves_main_alone(hub, select10):
    from huggingface_hub import HfApi

    publish_subset(select10, "s2r/openr1-select10")
    HfApi().create_branch("s2r/openr1-select10", branch="v2", repo_type="dataset")
    changed = make_subset(select10.parent / "v2", "openr1-select10", 4)
    main_head = hub.commits("s2r/openr1-select10")[0].oid

    result = publish_subset(changed, "s2r/openr1-select10", revision="v2")

    assert result.url.endswith("/datasets/s2r/openr1-select10/tree/v2")
    assert hub.commits("s2r/openr1-select10")[0].oid == main_head
    assert hub.commits("s2r/openr1-select10", revision="v2")[0].oid == result.commit


# -- several subsets as the configs of one repo ------------------------------------------------------------------------


def test_subsets_as_configs_of_one_repo(hub, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    folders = [make_subset(tmp_path, "openr1-select10", 3), make_subset(tmp_path, "openr1-select20", 5)]
    result = publish_subsets(folders, "s2r/openr1-select", default="select10")

    assert sorted(hub.files("s2r/openr1-select")) == sorted(
        [".gitattributes", "README.md"]
        + [f"{c}/{f}" for c in ("select10", "select20") for f in ("train-00000-of-00001.parquet", "difficulty.png")]
        + [f"{c}/length.png" for c in ("select10", "select20")]
    )
    for config, folder in zip(("select10", "select20"), folders):
        loaded = load_dataset("s2r/openr1-select", config, split="train")
        assert loaded.data.table.equals(folder_table(folder), check_metadata=False)
    assert load_dataset("s2r/openr1-select", split="train").num_rows == 3  # the default config

    card = DatasetCard.load("s2r/openr1-select", repo_type="dataset")
    assert card.data.s2r["kind"] == "collection"
    assert [s["config"] for s in card.data.s2r["subsets"]] == ["select10", "select20"]
    assert [s["rows"] for s in card.data.s2r["subsets"]] == [3, 5]
    assert "![length distribution of the pool and the subset](select20/length.png)" in card.text
    assert "| `select20` | `joint` | 5 of 12 |" in card.text

    assert not publish_subsets(folders, "s2r/openr1-select", default="select10").changed
    assert result.commit == hub.commits("s2r/openr1-select")[0].oid
    # dropping a config deletes its files in one commit
    publish_subsets({"select10": folders[0]}, "s2r/openr1-select")
    assert not any(path.startswith("select20/") for path in hub.files("s2r/openr1-select"))
    assert len(hub.commits("s2r/openr1-select")) == 3


def test_config_names_must_be_distinct(tmp_path):
    from s2r_hf.errors import InputError

    a = make_subset(tmp_path / "a", "openr1-select10", 3)
    b = make_subset(tmp_path / "b", "other-select10", 3)
    with pytest.raises(InputError, match=r"both be config 'select10'.*pass a mapping"):
        publish_subsets([a, b], "s2r/openr1-select")


# -- errors ------------------------------------------------------------------------------------------------------------


def test_missing_token(hub, select10, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(
        PublishError, match=r"no Hugging Face token found.*--token, set HF_TOKEN, or run `hf auth login`"
    ):
        publish_subset(select10, "s2r/openr1-select10")
    assert hub.requests == []


def test_invalid_token(hub, select10):
    with pytest.raises(PublishError) as caught:
        publish_subset(select10, "s2r/openr1-select10", token="hf_revoked_token_value", retry=FAST)
    message = str(caught.value)
    assert "rejected the token" in message and "401" in message and "settings/tokens" in message
    assert "hf_revoked_token_value" not in message
    assert [r.status for r in hub.requests] == [401]  # not retried


def test_repo_owned_by_someone_else(hub, select10):
    hub.seed_repo("other-org/taken", owner="someone-else")
    for repo_id in ("other-org/taken", "other-org/fresh"):
        with pytest.raises(PublishError) as caught:
            publish_subset(select10, repo_id, retry=FAST)
        message = str(caught.value)
        assert "namespace 'other-org' belongs to someone else" in message
        assert "403" in message and f"--repo-id {DEFAULT_USER}/" in message
    assert len(hub.commits("other-org/taken")) == 1
    with pytest.raises(KeyError):
        hub.repo("other-org/fresh")


def test_org_where_the_user_may_only_read(hub, select10):
    with pytest.raises(PublishError) as caught:
        publish_subset(select10, "read-only-org/openr1-select10", retry=FAST)
    message = str(caught.value)
    assert "s2r-tester is a member of 'read-only-org' but may not write to read-only-org/openr1-select10" in message
    assert "403" in message and "write role" in message


def test_namespace_that_does_not_exist(hub, select10):
    with pytest.raises(PublishError, match=r"namespace 'nobody-org' does not exist.*404.*\['s2r-tester', 's2r'\]"):
        publish_subset(select10, "nobody-org/openr1-select10", retry=FAST)


def test_revision_that_does_not_exist(hub, select10):
    with pytest.raises(PublishError, match=r"branch 'release' does not exist in s2r/x \(its branches: \['main'\]\)"):
        publish_subset(select10, "s2r/x", revision="release", retry=FAST)
    assert commit_posts(hub) == []


def test_concurrent_push_412_is_reported_not_retried(hub, select10):
    hub.inject_fault(412, "/commit/", times=5)
    with pytest.raises(PublishError, match=r"changed while publishing.*412.*re-run"):
        publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert commit_posts(hub) == [412]
    assert len(hub.commits("s2r/openr1-select10")) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_answers_are_retried_then_succeed(hub, select10, status, caplog):
    hub.inject_fault(status, "/commit/", times=2)
    with caplog.at_level(logging.WARNING, logger="s2r_hf.hub.subsets"):
        result = publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert result.changed
    assert commit_posts(hub) == [status, status, 200]
    assert len(hub.commits("s2r/openr1-select10")) == 2  # exactly one publish commit
    assert f"HTTP {status}; retrying" in caplog.text


def test_a_commit_whose_answer_was_lost_is_not_made_twice(hub, select10):
    hub.inject_fault(504, "/commit/", after=True)  # the commit lands, the client sees a gateway timeout
    result = publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert commit_posts(hub) == [504]  # the retry compared again and found the content there
    commits = hub.commits("s2r/openr1-select10")
    assert len(commits) == 2
    assert result.changed and result.commit == commits[0].oid and result.message == commits[0].title


def test_dropped_connections_are_retried(hub, select10):
    hub.inject_disconnect("/revision/main", times=1)
    result = publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert result.changed
    assert [r.status for r in hub.requests if "/revision/main" in r.path] == [0, 200]


def test_persistent_server_errors_give_up_with_a_clear_error(hub, select10):
    hub.inject_fault(500, "/commit/", times=100)
    with pytest.raises(PublishError, match=r"failed 3 times; the last answer was HTTP 500.*try again later"):
        publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert commit_posts(hub) == [500, 500, 500]
    assert len(hub.commits("s2r/openr1-select10")) == 1


def test_other_client_errors_are_not_retried(hub, select10):
    hub.inject_fault(422, "/commit/", times=5)
    with pytest.raises(PublishError, match="422"):
        publish_subset(select10, "s2r/openr1-select10", retry=FAST)
    assert commit_posts(hub) == [422]


def test_not_a_subset_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishError, match=r"is not a subset folder: expected README.md and data/\*.parquet"):
        publish_subset(tmp_path / "empty", "s2r/x")


def test_bad_repo_id(select10):
    from s2r_hf.errors import InputError

    with pytest.raises(InputError, match="repo_id must look like 'namespace/name'"):
        publish_subset(select10, "no-namespace")


# -- the token ---------------------------------------------------------------------------------------------------------


def test_token_is_never_logged_printed_or_stored(hub, select10, caplog, capsys):
    from s2r_hf.cli import main

    with caplog.at_level(logging.DEBUG):
        assert main(["publish", str(select10), "--repo-id", "s2r/openr1-select10", "--token", DEFAULT_TOKEN]) == 0
        hub.inject_fault(503, "/commit/", times=1)
        changed = make_subset(select10.parent / "changed", "openr1-select10", 4)
        publish_subset(changed, "s2r/openr1-select10", token=DEFAULT_TOKEN, retry=FAST)
        with pytest.raises(PublishError) as caught:
            publish_subset(changed, "s2r/openr1-select10", token="hf_secret_but_wrong", retry=FAST)
    out = capsys.readouterr()
    assert "commit" in out.out
    for secret in (DEFAULT_TOKEN, "hf_secret_but_wrong"):
        assert secret not in caplog.text
        assert secret not in out.out + out.err
        assert secret not in str(caught.value)
        assert not any(secret.encode() in blob for blob in hub.all_stored_bytes())
        assert secret not in repr(hub.requests)
    assert len(caplog.records) > 0


def test_a_folder_holding_the_token_is_refused(hub, tmp_path):
    leaky = make_subset(tmp_path, "openr1-select10", 3)
    card = (leaky / "README.md").read_text(encoding="utf-8")
    (leaky / "README.md").write_text(card.replace("--ratio", f"--token {DEFAULT_TOKEN} --ratio"), encoding="utf-8")
    with pytest.raises(PublishError) as caught:
        publish_subset(leaky, "s2r/openr1-select10")
    assert "README.md contain(s) the Hub token" in str(caught.value)
    assert DEFAULT_TOKEN not in str(caught.value)
    assert hub.requests == []


# -- the command line --------------------------------------------------------------------------------------------------


def test_cli_publishes_then_reports_nothing_to_do(hub, select10, capsys):
    from s2r_hf.cli import main

    assert main(["publish", str(select10), "--repo-id", "s2r/openr1-select10"]) == 0
    out = capsys.readouterr().out
    head = hub.commits("s2r/openr1-select10")[0].oid
    assert f"published to {hub.url}/datasets/s2r/openr1-select10" in out
    assert f"commit {head}: Publish openr1-select10: add 4 files" in out
    assert main(["publish", str(select10), "--repo-id", "s2r/openr1-select10"]) == 0
    assert f"already holds this content at commit {head}: nothing to publish" in capsys.readouterr().out


def test_cli_several_folders_become_configs(hub, tmp_path, capsys):
    from datasets import load_dataset

    from s2r_hf.cli import main

    a = make_subset(tmp_path, "openr1-select10", 3)
    b = make_subset(tmp_path, "openr1-select20", 5)
    argv = ["publish", str(a), str(b), "--repo-id", "s2r/openr1-select", "--config-name", "ten"]
    assert main(argv) == 2
    assert "--config-name was given 1 time(s) for 2 folder(s)" in capsys.readouterr().err
    argv += ["--config-name", "twenty", "--default-config", "twenty"]
    assert main(argv) == 0
    assert load_dataset("s2r/openr1-select", "ten", split="train").num_rows == 3
    assert load_dataset("s2r/openr1-select", split="train").num_rows == 5


def test_cli_errors_are_one_line(hub, select10, capsys):
    from s2r_hf.cli import main

    assert main(["publish", str(select10), "--repo-id", "nobody-org/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("s2r publish: error: creating the dataset repo nobody-org/x: namespace 'nobody-org'")
    assert "Traceback" not in err


# -- from a fresh clone: score, select, publish, load ------------------------------------------------------------------


def test_demo_pool_scored_selected_published_and_loaded(hub, tmp_path, capsys):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from s2r_hf.cli import main
    from s2r_hf.folders import load_dataset_folder

    assert main(["demo", "-o", str(tmp_path / "demo"), "--ratios", "0.1"]) == 0
    subset_dir = tmp_path / "demo" / "openr1-select10"
    assert main(["publish", str(subset_dir), "--repo-id", "s2r/openr1-select10"]) == 0
    capsys.readouterr()

    loaded = load_dataset("s2r/openr1-select10", split="train")
    assert loaded.data.table.equals(load_dataset_folder(subset_dir).data.table, check_metadata=False)
    assert DatasetCard.load("s2r/openr1-select10", repo_type="dataset").data.to_dict() == read_card_metadata(subset_dir)


# -- the card template -----------------------------------------------------------------------------------------------


def test_card_shows_results_when_present_and_needs_no_plots():
    metadata = subset_metadata("openr1-select10", 3, 0.25, [], "s2r/openr1-select10")
    del metadata["s2r"]["plots"]  # older cards have no plots entry
    metadata["s2r"]["results"] = {"math_500": {"pass@1": 0.906, "samples": 1}, "aime24": {"pass@1": 0.367}}
    card = render_card("subset.md", metadata)
    assert "| math_500 | pass@1 | 0.906 |\n| math_500 | samples | 1 |\n| aime24 | pass@1 | 0.367 |" in card
    assert "No evaluation results yet" not in card and "![" not in card
    assert "revision `e4e141ec9dea9f8326f4d347be56105859b2bd68`" in card
    assert "model = `Qwen/Qwen2.5-1.5B-Instruct`; revision = `989aa79`" in card
    assert "tokens of tokenizer `Qwen/Qwen2.5-Math-7B-Instruct`" in card
    assert "| weight on difficulty | 0.25 (joint rank = 0.25 × difficulty rank + 0.75 × length rank) |" in card
    assert "| s2r-hf version | " + __version__ + " |" in card
    assert "s2r score open-r1/OpenR1-Math-220k -o openr1-scored\ns2r select openr1-scored" in card


def test_collection_refuses_subsets_under_different_licenses():
    from s2r_hf.errors import InputError
    from s2r_hf.hub.subsets import collection_metadata

    a = subset_metadata("openr1-select10", 3, 0.25, [], "s2r/openr1-select10")
    b = {**subset_metadata("openr1-select20", 5, 0.42, [], "s2r/openr1-select20"), "license": "cc-by-4.0"}
    with pytest.raises(InputError, match=r"different licenses \['apache-2.0', 'cc-by-4.0'\]"):
        collection_metadata([("select10", a), ("select20", b)], "s2r/openr1-select")
