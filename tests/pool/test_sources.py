"""Loading sources: files of each format, folders, corrupt input, and paths that do not exist."""

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import Dataset
from fixtures.hub_server import DEFAULT_USER

from s2r_hf.core.errors import HubUnreachableError, InputError, SourceNotFoundError
from s2r_hf.pool.sources import describe_source, load_source

ROWS = [{"question": "q1", "solution": "s1"}, {"question": "q2", "solution": "s2"}]


@pytest.mark.parametrize("suffix", ["jsonl", "json", "parquet", "csv"])
def test_each_file_format_loads_the_same_rows(tmp_path, suffix):
    path = tmp_path / f"pool.{suffix}"
    dataset = Dataset.from_list(ROWS)
    {"jsonl": dataset.to_json, "json": dataset.to_json, "parquet": dataset.to_parquet, "csv": dataset.to_csv}[suffix](
        str(path), **({"index": False} if suffix == "csv" else {})
    )
    assert load_source(path).to_list() == ROWS
    assert describe_source(path).kind == "file"


def test_folders_saved_either_way_load(tmp_path):
    Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    assert load_source(tmp_path / "saved").to_list() == ROWS
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert load_source(tmp_path / "plain").to_list() == ROWS


def test_corrupt_file_is_reported_with_its_name(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "q1", "solution": "s1"}\n{"question": "q2", "solu')
    with pytest.raises(InputError, match=r"could not read '.*broken.jsonl' \(file\)"):
        load_source(path)
    parquet = tmp_path / "broken.parquet"
    parquet.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputError, match=r"broken\.parquet"):
        load_source(parquet)


def test_unknown_format_and_missing_paths(tmp_path):
    odd = tmp_path / "pool.txt"
    odd.write_text("x")
    with pytest.raises(InputError, match="cannot tell the format of"):
        load_source(odd)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_source(tmp_path / "missing.jsonl")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_source("./not/here")
    assert describe_source("open-r1/OpenR1-Math-220k", "default").kind == "hub"


CONFIGS_CARD = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n---\n"


def write_folder(folder, rows, suffix: str):
    """A Hub-layout folder whose card has a `configs:` entry, as push_to_hub and older s2r versions write."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for old in (folder / "data").iterdir():
        old.unlink()
    dataset = Dataset.from_list(rows)
    path = str(folder / "data" / f"train-00000-of-00001.{suffix}")
    dataset.to_parquet(path) if suffix == "parquet" else dataset.to_json(path)
    (folder / "README.md").write_text(CONFIGS_CARD)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_a_folder_is_read_as_it_is_now_whatever_its_name_or_card(tmp_path, suffix):
    """`load_dataset(folder)` caches a folder with a `configs:` card under its name alone; load_source must not."""
    other = [{"question": "q9", "solution": "s9"}]
    write_folder(tmp_path / "x" / "pool", ROWS, suffix)
    write_folder(tmp_path / "y" / "pool", other, suffix)
    assert load_source(tmp_path / "x" / "pool").to_list() == ROWS
    assert load_source(tmp_path / "y" / "pool").to_list() == other
    write_folder(tmp_path / "x" / "pool", other + ROWS, suffix)
    assert load_source(tmp_path / "x" / "pool").to_list() == other + ROWS
    with pytest.raises(InputError, match=r"has no split 'test'; its splits: \['train'\]"):
        load_source(tmp_path / "x" / "pool", split="test")


def write_jsonl_gz(path, rows, keep_fraction=1.0):
    data = gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode("utf-8"))
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.jsonl", b"", r"'.*empty\.jsonl' is empty \(0 bytes\)"),
        ("blank.jsonl", b"\n\n   \n", r"'.*blank\.jsonl' has no rows in split 'train'"),
        ("header.csv", b"question,solution\n", r"'.*header\.csv' has no rows in split 'train'"),
        ("empty.jsonl.gz", gzip.compress(b""), r"'.*empty\.jsonl\.gz' \(file\) has no rows"),
    ],
    ids=["zero-bytes", "blank-lines", "csv-header-only", "empty-gzip"],
)
def test_files_without_rows_are_refused_in_words(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_source(path)


def test_parquet_with_a_schema_and_no_rows(tmp_path):
    path = tmp_path / "zero.parquet"
    pq.write_table(pa.table({"question": pa.array([], pa.string())}), path)
    with pytest.raises(InputError, match=r"'.*zero\.parquet' has a schema but no rows"):
        load_source(path)


def test_truncated_and_damaged_compressed_files(tmp_path):
    rows = [{"question": f"q{i}" * 40, "solution": "s"} for i in range(3000)]
    assert load_source(write_jsonl_gz(tmp_path / "whole.jsonl.gz", rows)).num_rows == 3000
    truncated = write_jsonl_gz(tmp_path / "cut.jsonl.gz", rows, keep_fraction=0.5)
    with pytest.raises(
        InputError, match=r"could not read '.*cut\.jsonl\.gz' \(file\): EOFError: Compressed file ended"
    ):
        load_source(truncated)
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match=r"damaged\.jsonl\.gz' \(file\): BadGzipFile"):
        load_source(damaged)


# ---------------------------------------------------------------------------------------------------------------------
# Hub sources, against the loopback Hub (tests/fixtures/hub_server.py)

OPENR1_LIKE_README = b"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
---
"""


def seed_dataset(hub, repo_id):
    """A dataset laid out like today's OpenR1-Math-220k: config `default` with one `train` split."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ROWS), buffer)
    hub.seed_repo(
        repo_id,
        owner=DEFAULT_USER,
        files={"README.md": OPENR1_LIKE_README, "data/train-00000-of-00001.parquet": buffer.getvalue()},
    )
    return repo_id


@pytest.fixture
def hub_dataset(hub):
    return seed_dataset(hub, "s2r/openr1-like")


def test_hub_dataset_loads_and_a_wrong_split_lists_the_splits(hub_dataset):
    assert load_source(hub_dataset).to_list() == ROWS
    assert load_source(hub_dataset, split="train[:1]").to_list() == ROWS[:1]
    # older OpenR1 revisions had splits `default` and `extended`; today they are configs with one `train` split
    with pytest.raises(InputError) as caught:
        load_source(hub_dataset, split="default")
    assert str(caught.value) == (
        "'s2r/openr1-like' (config 'default') has no split 'default'; its splits: ['train']. "
        "The 'default' subset may be a config here: pass --config default --split train"
    )
    with pytest.raises(InputError, match=r"has no split 'test'; its splits: \['train'\]. Pass --split train$"):
        load_source(hub_dataset, split="test")
    with pytest.raises(InputError, match=r"with config 'extended': BuilderConfig 'extended' not found. Available"):
        load_source(hub_dataset, config="extended")


def test_hub_dataset_or_revision_that_does_not_exist(hub_dataset):
    with pytest.raises(SourceNotFoundError, match="'s2r/nothing-here': Dataset 's2r/nothing-here' doesn't exist"):
        load_source("s2r/nothing-here")
    with pytest.raises(SourceNotFoundError, match="at revision 'v9': Revision 'v9' doesn't exist"):
        load_source(hub_dataset, revision="v9")
    with pytest.raises(FileNotFoundError):  # still what a Python user may catch
        load_source("s2r/nothing-here")


def test_check_source_refuses_what_load_source_would_and_reads_no_data(hub, tmp_path):
    """Issue 18: the check `s2r experiment` runs before any step, in the words of load_source, downloading no data."""
    from s2r_hf.pool.sources import check_source

    repo_id = seed_dataset(hub, "s2r/checked-only")  # a name of its own: nothing of it is cached yet
    check_source(repo_id)
    check_source(repo_id, split="train[:1]")
    with pytest.raises(InputError, match=r"has no split 'test'; its splits: \['train'\]. Pass --split train$"):
        check_source(repo_id, split="test")
    with pytest.raises(SourceNotFoundError, match="'s2r/nothing-here': Dataset 's2r/nothing-here' doesn't exist"):
        check_source("s2r/nothing-here")
    cached = [path for path in Path(os.environ["HF_DATASETS_CACHE"]).rglob("*.arrow") if "checked-only" in str(path)]
    assert cached == [], cached  # nothing was built: no rows read
    missing = tmp_path / "pool.jsonl"
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        check_source(str(missing))
    missing.write_text('{"a": 1}\n', encoding="utf-8")
    check_source(str(missing))
    with pytest.raises(InputError, match="cannot tell the format"):
        check_source(str(missing.rename(tmp_path / "pool.txt")))


def test_a_hub_dataset_loaded_once_loads_offline(hub_dataset, tmp_path):
    assert load_source(hub_dataset).to_list() == ROWS  # fills this session's cache (HF_HOME)
    code = f"from s2r_hf.pool.sources import load_source; print(load_source({hub_dataset!r}).to_list())"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == repr(ROWS)


@pytest.mark.parametrize("fault", ["disconnect", 403])
def test_a_data_file_the_hub_fails_to_serve(hub, fault):
    repo_id = seed_dataset(hub, f"s2r/flaky-{fault}")  # a name of its own: nothing of it is cached yet
    if fault == "disconnect":
        hub.inject_disconnect("data/train-00000", times=20)
        cause = "RemoteProtocolError: Server disconnected"
    else:
        hub.inject_fault(fault, "data/train-00000", times=20)
        cause = "HTTPStatusError: Client error '403 Forbidden'"
    with pytest.raises(HubUnreachableError) as caught:
        load_source(repo_id)
    assert str(caught.value).startswith(
        f"cannot load the Hub dataset {repo_id!r}: the Hub at {os.environ['HF_ENDPOINT']} could not be reached or "
        f"failed ({cause}"
    )
    assert isinstance(caught.value, ConnectionError)


def test_a_malformed_hub_id_is_refused_before_any_request(hub):
    with pytest.raises(InputError, match=r"cannot open 'org/na me': Repo id must use alphanumeric chars"):
        load_source("org/na me")
    assert hub.requests == []


@pytest.mark.parametrize("name", ["nulls.jsonl", "nulls.jsonl.gz"])
def test_a_leading_null_line_is_refused_instead_of_crashing_the_process(tmp_path, name):
    content = b'\nnull\n{"question": "q1", "solution": "s1"}\n'
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    with pytest.raises(InputError, match="the first row is `null`, not a JSON object"):
        load_source(path)


def test_a_file_that_is_not_utf8_is_named_with_its_column(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"question": "ok", "trace": "café"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match="column 'trace' holds text that is not UTF-8"):
        load_source(path)


def test_a_file_is_read_with_the_split_slice_asked_for_and_nothing_else(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(10)))
    assert load_source(path, split="train[:30%]")["n"] == [0, 1, 2]
    assert load_source(path, split="train[-2:]")["n"] == [8, 9]
    with pytest.raises(InputError, match=r"has no split 'test'; its splits: \['train'\]; pass --split train"):
        load_source(path, split="test")
    with pytest.raises(InputError, match=r"split 'train\[5:2\]' of .* selects no rows"):
        load_source(path, split="train[5:2]")
    with pytest.raises(InputError, match="split must name a split such as 'train'"):
        load_source(path, split=None)
    with pytest.raises(InputError, match="a file has no configs, but config 'all' was given"):
        load_source(path, config="all")
