"""Loading sources: files of each format, folders, corrupt input, and paths that do not exist."""

import json

import pytest
from datasets import Dataset

from s2r_hf.errors import InputError
from s2r_hf.sources import describe_source, load_source

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
