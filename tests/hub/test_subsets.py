"""s2r_hf.hub.subsets and `s2r publish` against the loopback Hub, through the real huggingface_hub and datasets clients.

Every subset folder here is written by the real writer (`s2r demo` once per session, or
s2r_hf.outputs.artifacts.write_subset
from its scored pool: fixtures `demo_output` and `write_subset_folder`), so a change to what it writes reaches these
tests. The engine's own cases (retries, answers of the Hub, model repos) are in test_commit.py.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.hub_server import DEFAULT_TOKEN, DEFAULT_USER

from s2r_hf.core.cards import render_card
from s2r_hf.core.errors import DuplicateConfigError, InputError, PublishError
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.hub.commit import commit_files
from s2r_hf.hub.retry import RetryPolicy
from s2r_hf.hub.subsets import collection_metadata, publish_subset, publish_subsets

FAST = RetryPolicy(attempts=3, base_delay=0.0)


def folder_table(folder: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables(pq.read_table(path) for path in sorted((folder / "data").glob("*.parquet")))


def split_shards(folder: Path, shards: int) -> None:
    """Rewrite the folder's data as `shards` parquet files, as a larger subset of an earlier run would have it."""
    import pyarrow.parquet as pq

    table = folder_table(folder)
    for path in (folder / "data").glob("*.parquet"):
        path.unlink()
    size = -(-table.num_rows // shards)
    for index in range(shards):
        piece = table.slice(index * size, size)
        pq.write_table(piece, folder / "data" / f"train-{index:05d}-of-{shards:05d}.parquet")


def remove_card_configs(folder: Path) -> None:
    """Drop the `configs:` entry from the folder's card, as s2r may write it (datasets' cache key for local folders)."""
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(folder / "README.md")
    card.data.pop("configs", None)
    card.save(folder / "README.md")
    assert "configs" not in read_card_metadata(folder)


def commit_posts(hub) -> list[int]:
    return [r.status for r in hub.requests if r.method == "POST" and "/commit/" in r.path]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m s2r_hf.cli ...` in a fresh process: huggingface_hub reads HF_HUB_OFFLINE and HF_ENDPOINT at import."""
    return subprocess.run(
        [sys.executable, "-m", "s2r_hf.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def select10(write_subset_folder) -> Path:
    return write_subset_folder("openr1-select10", 0.1)


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
    assert loaded.data.table.equals(expected, check_metadata=False)  # rows, columns and selection order
    assert loaded.num_rows == read_card_metadata(select10)["s2r"]["rows"]
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


@pytest.mark.parametrize("card_configs", [True, False], ids=["card-with-configs", "card-without-configs"])
def test_publishing_does_not_depend_on_the_folder_card_listing_configs(hub, write_subset_folder, card_configs):
    from datasets import load_dataset

    select10 = write_subset_folder("openr1-select10", 0.1)
    select20 = write_subset_folder("openr1-select20", 0.2)
    if not card_configs:
        remove_card_configs(select10)
        remove_card_configs(select20)

    publish_subset(select10, "s2r/openr1-select10")
    # The Hub's default file patterns find data/train-*.parquet: no configs: entry needed for one folder.
    loaded = load_dataset("s2r/openr1-select10", split="train")
    assert loaded.data.table.equals(folder_table(select10), check_metadata=False)

    # A collection needs configs: in the repo card, which the publish writes whatever the folders' cards say.
    publish_subsets([select10, select20], "s2r/openr1-select", default="select20")
    for config, folder in (("select10", select10), ("select20", select20)):
        loaded = load_dataset("s2r/openr1-select", config, split="train")
        assert loaded.data.table.equals(folder_table(folder), check_metadata=False)
    assert load_dataset("s2r/openr1-select", split="train").num_rows == folder_table(select20).num_rows


def test_identical_republish_makes_no_commit(hub, select10, write_subset_folder):
    first = publish_subset(select10, "s2r/openr1-select10")
    hub.clear_requests()
    again = publish_subset(select10, "s2r/openr1-select10")
    assert not again.changed and again.commit == first.commit
    assert commit_posts(hub) == []
    assert len(hub.commits("s2r/openr1-select10")) == 2  # the repo's initial commit and the publish
    # the writer is deterministic (plots included), so a re-run of `s2r select` publishes nothing either
    rebuilt = write_subset_folder("openr1-select10", 0.1, root=select10.parent / "again")
    assert not publish_subset(rebuilt, "s2r/openr1-select10").changed


def test_changed_content_makes_one_commit_saying_what_changed(hub, write_subset_folder, tmp_path):
    from datasets import load_dataset

    small = write_subset_folder("openr1-select10", 0.1, root=tmp_path / "a")
    split_shards(small, 2)
    publish_subset(small, "s2r/openr1-select10")
    large = write_subset_folder("openr1-select10", 0.2, root=tmp_path / "b")
    before, after = read_card_metadata(small)["s2r"], read_card_metadata(large)["s2r"]
    assert before["rows"] < after["rows"]

    result = publish_subset(large, "s2r/openr1-select10")

    commits = hub.commits("s2r/openr1-select10")
    assert len(commits) == 3
    assert commits[0].oid == result.commit and commits[0].title == result.message
    assert commits[0].title.startswith(
        f"Update openr1-select10: rows {before['rows']} -> {after['rows']}, ratio 0.1 -> 0.2"
    )
    assert f"- s2r.rule: {before['rule']} -> {after['rule']}" in commits[0].message
    assert "Deleted:\n- data/train-00000-of-00002.parquet\n- data/train-00001-of-00002.parquet" in commits[0].message
    assert set(result.deleted) == {f"data/train-0000{i}-of-00002.parquet" for i in range(2)}
    assert result.added == ("data/train-00000-of-00001.parquet",)
    assert set(result.updated) == {"README.md", "difficulty.png", "length.png"}
    assert sorted(hub.files("s2r/openr1-select10")) == sorted(
        [".gitattributes", "README.md", "data/train-00000-of-00001.parquet", "difficulty.png", "length.png"]
    )
    loaded = load_dataset("s2r/openr1-select10", split="train")
    assert loaded.data.table.equals(folder_table(large), check_metadata=False)


def test_a_repo_filled_by_someone_else_is_never_emptied(hub, select10, write_subset_folder):
    from huggingface_hub import HfApi

    foreign = {"README.md": b"---\nlicense: mit\n---\n# My dataset\n", "LICENSE": b"MIT", "data/mine.csv": b"a\n1\n"}
    theirs = f"{DEFAULT_USER}/theirs"
    commit_files(theirs, foreign)
    with pytest.raises(InputError, match=rf"{theirs} already holds files that s2r did not publish \(LICENSE, "):
        publish_subset(select10, theirs)
    files = set(HfApi().list_repo_files(theirs, repo_type="dataset"))
    assert {"LICENSE", "data/mine.csv", "README.md"} <= files and not any(f.endswith(".parquet") for f in files)
    # A repo s2r published is replaced whole, as before: the shards a smaller subset no longer has go.
    publish_subset(write_subset_folder("openr1-select10", 0.2, root=select10.parent / "big"), "s2r/ours")
    assert publish_subset(select10, "s2r/ours").changed


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
    head = hub.commits("s2r/private-select10")[0]
    assert head.title == result.message == "First release"
    assert head.message.startswith("Publish openr1-select10: add 4 files\n\nPublished with s2r-hf ")
    assert "Added:\n- README.md (" in head.message


def test_publish_to_an_existing_branch_leaves_main_alone(hub, select10, write_subset_folder):
    from huggingface_hub import HfApi

    publish_subset(select10, "s2r/openr1-select10")
    HfApi().create_branch("s2r/openr1-select10", branch="v2", repo_type="dataset")
    changed = write_subset_folder("openr1-select10", 0.2, root=select10.parent / "v2")
    main_head = hub.commits("s2r/openr1-select10")[0].oid

    result = publish_subset(changed, "s2r/openr1-select10", revision="v2")

    assert result.url.endswith("/datasets/s2r/openr1-select10/tree/v2")
    assert hub.commits("s2r/openr1-select10")[0].oid == main_head
    assert hub.commits("s2r/openr1-select10", revision="v2")[0].oid == result.commit


def test_revision_that_does_not_exist(hub, select10):
    with pytest.raises(PublishError, match=r"branch 'release' does not exist in s2r/x \(its branches: \['main'\]\)"):
        publish_subset(select10, "s2r/x", revision="release", retry=FAST)
    assert commit_posts(hub) == []


# -- several subsets as the configs of one repo ------------------------------------------------------------------------


def test_subsets_as_configs_of_one_repo(hub, write_subset_folder):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    folders = [write_subset_folder("openr1-select10", 0.1), write_subset_folder("openr1-select20", 0.2)]
    rows = [read_card_metadata(folder)["s2r"]["rows"] for folder in folders]
    result = publish_subsets(folders, "s2r/openr1-select", default="select10")

    assert sorted(hub.files("s2r/openr1-select")) == sorted(
        [".gitattributes", "README.md"]
        + [f"{c}/{f}" for c in ("select10", "select20") for f in ("train-00000-of-00001.parquet", "difficulty.png")]
        + [f"{c}/length.png" for c in ("select10", "select20")]
    )
    for config, folder in zip(("select10", "select20"), folders):
        loaded = load_dataset("s2r/openr1-select", config, split="train")
        assert loaded.data.table.equals(folder_table(folder), check_metadata=False)
    assert load_dataset("s2r/openr1-select", split="train").num_rows == rows[0]  # the default config

    card = DatasetCard.load("s2r/openr1-select", repo_type="dataset")
    assert card.data.s2r["kind"] == "collection"
    assert [s["config"] for s in card.data.s2r["subsets"]] == ["select10", "select20"]
    assert [s["rows"] for s in card.data.s2r["subsets"]] == rows
    assert "![length distribution of the pool and the subset](select20/length.png)" in card.text
    pool_rows = read_card_metadata(folders[1])["s2r"]["pool_rows"]
    assert f"| `select20` | `joint` | {rows[1]} of {pool_rows} |" in card.text

    assert not publish_subsets(folders, "s2r/openr1-select", default="select10").changed
    assert result.commit == hub.commits("s2r/openr1-select")[0].oid
    # dropping a config deletes its files in one commit
    publish_subsets({"select10": folders[0]}, "s2r/openr1-select")
    assert not any(path.startswith("select20/") for path in hub.files("s2r/openr1-select"))
    assert len(hub.commits("s2r/openr1-select")) == 3


def test_config_names_derived_from_subset_names_must_be_distinct(hub, write_subset_folder, tmp_path):
    a = write_subset_folder("openr1-select10", 0.1, root=tmp_path / "a")
    b = write_subset_folder("other-select10", 0.1, root=tmp_path / "b")
    with pytest.raises(DuplicateConfigError, match=r"both be config 'select10'.*pass a mapping") as caught:
        publish_subsets([a, b], "s2r/openr1-select")
    assert caught.value.names == ("select10", "select10") and caught.value.folders == (a, b)
    assert not caught.value.explicit
    with pytest.raises(DuplicateConfigError, match=rf"the folder {a} is given twice; give each folder once"):
        publish_subsets([a, a], "s2r/openr1-select")
    assert hub.requests == []


@pytest.mark.parametrize(
    ("make_folders", "match"),
    [
        (lambda a, b: [("ten", a), ("ten", b)], r"config name 'ten' is given twice \(.*\); give each folder its own"),
        (lambda a, b: {"Ten": a, "ten": b}, r"config names 'Ten' \(.*\) and 'ten' \(.*\) differ only in case"),
        (lambda a, b: [("ten", a), b], r"mix of folders and \(config name, folder\) pairs"),
        (lambda a, b: {1: a}, r"config names are strings, got 1 \(int\)"),
        (lambda a, b: {"data": a}, r"invalid config name 'data'"),
        (lambda a, b: a, r"give several subset folders as a list or a mapping, got the single path"),
    ],
    ids=["repeated-pair", "case-only", "mixed", "not-a-string", "reserved", "single-path"],
)
def test_explicit_config_names_must_be_distinct_and_valid(hub, write_subset_folder, tmp_path, make_folders, match):
    a = write_subset_folder("openr1-select10", 0.1, root=tmp_path / "a")
    b = write_subset_folder("openr1-select20", 0.2, root=tmp_path / "b")
    with pytest.raises(InputError, match=match):
        publish_subsets(make_folders(a, b), "s2r/openr1-select")
    assert hub.requests == []


def test_a_collection_holds_subsets_only(hub, demo_output):
    scored, subset = demo_output / "openr1-synthetic-scored", demo_output / "openr1-select10"
    expected = (
        r"openr1-synthetic-scored is not a subset written by `s2r select` \(its card's s2r.kind is 'scored_pool'\); "
        "a repo of several configs holds subsets only"
    )
    with pytest.raises(InputError, match=expected):
        publish_subsets({"pool": scored, "select10": subset}, "s2r/openr1-select")
    assert hub.requests == []


def test_a_derived_config_name_that_is_invalid(hub, write_subset_folder):
    folder = write_subset_folder("openr1-select10%", 0.1)
    expected = r"invalid config name 'select10%' \(the last '-' part of the subset name 'openr1-select10%'\)"
    with pytest.raises(InputError, match=rf"{expected}.*name the configs explicitly"):
        publish_subsets([folder], "s2r/openr1-select")


# -- errors ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"---\nfoo: [unclosed\n---\n", r"cannot be read \(ParserError: while parsing a flow sequence"),
        (b"\xff\xfe---\n", r"cannot be read \(UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff"),
        (b"---\n- a\n- b\n---\n", r"cannot be read \(its YAML metadata is a list, not a mapping\)"),
    ],
    ids=["bad-yaml", "not-utf8", "not-a-mapping"],
)
def test_an_unreadable_card_is_one_error(hub, select10, capsys, header, match):
    from s2r_hf.cli import main

    (select10 / "README.md").write_bytes(header + b"# a card\n")
    with pytest.raises(InputError, match=match):
        publish_subset(select10, "s2r/openr1-select10")
    capsys.readouterr()
    assert main(["publish", str(select10), "--repo-id", "s2r/openr1-select10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"s2r publish: error: the card {str(select10 / 'README.md')!r} cannot be read (")
    assert err.count("\n") == 1 and err.endswith("fix its YAML header, or write the folder again\n")
    assert hub.requests == []


def test_not_a_subset_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(PublishError, match=r"is not a subset folder: expected README.md and data/\*.parquet"):
        publish_subset(tmp_path / "empty", "s2r/x")


def test_bad_repo_id(select10):
    with pytest.raises(InputError, match="repo_id must look like 'namespace/name'"):
        publish_subset(select10, "no-namespace")
    with pytest.raises(InputError, match="repo_id must look like 'namespace/name'"):
        publish_subsets([select10], "no-namespace")


def test_a_folder_holding_the_token_is_refused(hub, select10):
    card = (select10 / "README.md").read_text(encoding="utf-8")
    (select10 / "README.md").write_text(card.replace("kind: subset", f"kind: subset # {DEFAULT_TOKEN}"), "utf-8")
    with pytest.raises(PublishError) as caught:
        publish_subset(select10, "s2r/openr1-select10")
    assert "README.md contain(s) the Hub token" in str(caught.value)
    assert DEFAULT_TOKEN not in str(caught.value)
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]  # nothing written


def test_token_is_never_logged_printed_or_stored(hub, select10, write_subset_folder, caplog, capsys):
    from s2r_hf.cli import main

    with caplog.at_level(logging.DEBUG):
        assert main(["publish", str(select10), "--repo-id", "s2r/openr1-select10", "--token", DEFAULT_TOKEN]) == 0
        hub.inject_fault(503, "/commit/", times=1)
        changed = write_subset_folder("openr1-select10", 0.2, root=select10.parent / "changed")
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


# -- the command line --------------------------------------------------------------------------------------------------


def test_cli_publishes_then_reports_nothing_to_do(hub, demo_output, capsys):
    from s2r_hf.cli import main

    subset = demo_output / "openr1-select10"
    assert main(["publish", str(subset), "--repo-id", "s2r/openr1-select10"]) == 0
    out = capsys.readouterr().out
    head = hub.commits("s2r/openr1-select10")[0].oid
    assert f"published to {hub.url}/datasets/s2r/openr1-select10" in out
    assert f"commit {head}: Publish openr1-select10: add 4 files" in out
    assert main(["publish", str(subset), "--repo-id", "s2r/openr1-select10"]) == 0
    assert f"already holds this content at commit {head}: nothing to publish" in capsys.readouterr().out


def test_demo_output_published_and_loaded(hub, demo_output, capsys):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    from s2r_hf.cli import main

    subset = demo_output / "openr1-select10"
    assert main(["publish", str(subset), "--repo-id", "s2r/openr1-select10"]) == 0
    capsys.readouterr()
    loaded = load_dataset("s2r/openr1-select10", split="train")
    assert loaded.data.table.equals(folder_table(subset), check_metadata=False)
    assert DatasetCard.load("s2r/openr1-select10", repo_type="dataset").data.to_dict() == read_card_metadata(subset)


def test_cli_several_folders_become_configs(hub, demo_output, capsys):
    from datasets import load_dataset

    from s2r_hf.cli import main

    a, b = demo_output / "openr1-select10", demo_output / "openr1-select20"
    argv = ["publish", str(a), str(b), "--repo-id", "s2r/openr1-select", "--config-name", "ten"]
    assert main(argv) == 2
    assert "--config-name was given 1 time(s) for 2 folder(s)" in capsys.readouterr().err
    argv += ["--config-name", "twenty", "--default-config", "twenty"]
    assert main(argv) == 0
    assert load_dataset("s2r/openr1-select", "ten", split="train").num_rows == folder_table(a).num_rows
    assert load_dataset("s2r/openr1-select", split="train").num_rows == folder_table(b).num_rows


def test_cli_repeated_config_name_is_an_error(hub, demo_output, capsys):
    from s2r_hf.cli import main

    a, b = demo_output / "openr1-select10", demo_output / "openr1-select20"
    argv = ["publish", str(a), str(b), "--repo-id", "s2r/openr1-select", "--config-name", "a", "--config-name", "a"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"s2r publish: error: --config-name 'a' is given twice ({a} and {b}); give each folder its own "
        "--config-name, in the order of the folders\n"
    )
    assert hub.requests == []  # nothing published, no folder silently dropped


def test_cli_same_basename_error_names_config_name(hub, write_subset_folder, tmp_path, capsys):
    from s2r_hf.cli import main

    a = write_subset_folder("openr1-select10", 0.1, root=tmp_path / "a")
    b = write_subset_folder("openr1-select10", 0.2, root=tmp_path / "b")
    capsys.readouterr()  # the writer's progress bars
    assert main(["publish", str(a), str(b), "--repo-id", "s2r/openr1-select"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"s2r publish: error: {a} and {b} would both be config 'select10'")
    assert "name each folder with --config-name" in err and "mapping" not in err
    assert err.count("\n") == 1
    assert hub.requests == []


def test_cli_errors_are_one_line(hub, select10, capsys):
    from s2r_hf.cli import main

    assert main(["publish", str(select10), "--repo-id", "nobody-org/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("s2r publish: error: creating the dataset repo nobody-org/x: namespace 'nobody-org'")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_offline_mode_is_one_line_before_reading_any_folder(hub, demo_output, tmp_path):
    subset = demo_output / "openr1-select10"
    for folder in (subset, tmp_path / "does-not-exist"):  # offline is reported before any folder is read
        done = run_cli("publish", str(folder), "--repo-id", "s2r/openr1-select10", env={"HF_HUB_OFFLINE": "1"})
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            "s2r publish: error: offline mode is on (HF_HUB_OFFLINE is set), and writing to the Hub needs the "
            "network; unset HF_HUB_OFFLINE (and TRANSFORMERS_OFFLINE) to publish\n"
        )
    assert hub.requests == []


def test_cli_hub_refusing_connections_is_one_line(hub, demo_output):
    with socket.socket() as sock:  # a port nothing listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    subset = demo_output / "openr1-select10"
    done = run_cli("publish", str(subset), "--repo-id", "s2r/openr1-select10", env={"HF_ENDPOINT": closed})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        f"s2r publish: error: checking the token with {closed}: cannot reach the Hub at {closed} (ConnectError: "
    )
    assert "Check the network connection, and HF_ENDPOINT if it is set; nothing was published\n" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# -- the card template -------------------------------------------------------------------------------------------------


def test_card_shows_results_when_present_and_needs_no_plots(demo_output):
    metadata = read_card_metadata(demo_output / "openr1-select10")
    del metadata["s2r"]["plots"]  # older cards have no plots entry
    metadata["s2r"]["results"] = {"math_500": {"pass@1": 0.906, "samples": 1}, "aime24": {"pass@1": 0.367}}
    pool = metadata["s2r"]["pool"]
    revision = "e4e141ec9dea9f8326f4d347be56105859b2bd68"
    pool["source"].update(kind="hub", name="open-r1/OpenR1-Math-220k", revision=revision)
    pool["difficulty"] = {"scorer": "judge", "model": "Qwen/Qwen2.5-1.5B-Instruct", "revision": "989aa79"}
    pool["length"].update(unit="tokens", tokenizer="Qwen/Qwen2.5-Math-7B-Instruct")

    card = render_card("subset.md", metadata)

    assert "| math_500 | pass@1 | 0.906 |\n| math_500 | samples | 1 |\n| aime24 | pass@1 | 0.367 |" in card
    assert "No evaluation results yet" not in card and "![" not in card
    assert f"revision `{revision}`" in card
    assert "model = `Qwen/Qwen2.5-1.5B-Instruct`; revision = `989aa79`" in card
    assert "tokens of tokenizer `Qwen/Qwen2.5-Math-7B-Instruct`" in card
    weight = metadata["s2r"]["weight"]
    assert f"| weight on difficulty | {weight} (joint rank = {weight} × difficulty rank + {1 - weight} × " in card
    assert f"| s2r-hf version | {metadata['s2r']['version']} |" in card


def test_collection_refuses_subsets_under_different_licenses(demo_output):
    a = read_card_metadata(demo_output / "openr1-select10")
    b = {**read_card_metadata(demo_output / "openr1-select20"), "license": "cc-by-4.0"}
    with pytest.raises(InputError, match=rf"different licenses \['{a['license']}', 'cc-by-4.0'\]"):
        collection_metadata([("select10", a), ("select20", b)], "s2r/openr1-select")
