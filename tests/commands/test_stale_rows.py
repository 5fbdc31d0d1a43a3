"""No stale or foreign rows: each step runs in its own process sharing one HF_HOME, as users run the pipeline.

`datasets` caches what it reads; a cache key that does not cover the data returns the rows of an earlier run or of
another folder, silently. Each test here repeats a sequence of commands a user runs in their first week and checks the
rows that come back against the parquet files actually on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fixtures.env import REPO_ROOT

from s2r_hf.core.columns import ID
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.pool.demo import generate_rows

pytestmark = pytest.mark.slow  # each test runs four or five processes


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """One HF_HOME for every process of a test, and this checkout of s2r_hf on the path."""
    home = tmp_path / "hf_home"
    return {
        **os.environ,
        "HF_HOME": str(home),
        "HF_DATASETS_CACHE": str(home / "datasets"),
        "PYTHONPATH": str(REPO_ROOT),
    }


@pytest.fixture
def pools(tmp_path) -> tuple[Path, Path]:
    """Two OpenR1-shaped pools with disjoint problems (and so disjoint ids)."""
    rows = generate_rows()
    paths = []
    for name, part in (("a", rows[:100]), ("b", rows[100:])):
        path = tmp_path / f"pool-{name}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in part), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def run(env, *args: str | os.PathLike) -> str:
    result = subprocess.run([sys.executable, *map(str, args)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def s2r(env, *args: str | os.PathLike) -> str:
    return run(env, "-m", "s2r_hf.cli", *args)


def ids_on_disk(folder: Path) -> list[str]:
    """The ids in a folder's parquet shards, read with pyarrow: what the folder holds now, no cache involved."""
    return pq.read_table(sorted((folder / "data").glob("*.parquet"))[0].parent).column(ID).to_pylist()


def test_select_after_rescoring_the_same_folder_reads_the_new_pool(env, pools, tmp_path):
    pool_a, pool_b = pools
    scored = tmp_path / "scored"
    s2r(env, "score", pool_a, "-o", scored)
    s2r(env, "select", scored, "-o", tmp_path / "subset-a")
    ids_a = ids_on_disk(scored)
    s2r(env, "score", pool_b, "-o", scored, "--overwrite")
    s2r(env, "select", scored, "-o", tmp_path / "subset-b")
    ids_b = ids_on_disk(scored)
    assert not set(ids_a) & set(ids_b)
    subset = ids_on_disk(tmp_path / "subset-b")
    assert subset and set(subset) <= set(ids_b)
    card = read_card_metadata(tmp_path / "subset-b")["s2r"]
    assert card["pool"]["source"]["name"] == str(pool_b)
    assert card["pool_rows"] == len(ids_b) and card["rows"] == len(subset)


def test_select_from_two_folders_with_the_same_name_reads_each(env, pools, tmp_path):
    pool_a, pool_b = pools
    s2r(env, "score", pool_a, "-o", tmp_path / "x" / "scored")
    s2r(env, "score", pool_b, "-o", tmp_path / "y" / "scored")
    s2r(env, "select", tmp_path / "x" / "scored", "-o", tmp_path / "x" / "subset")
    s2r(env, "select", tmp_path / "y" / "scored", "-o", tmp_path / "y" / "subset")
    subset_y = ids_on_disk(tmp_path / "y" / "subset")
    assert subset_y and set(subset_y) <= set(ids_on_disk(tmp_path / "y" / "scored"))
    assert not set(subset_y) & set(ids_on_disk(tmp_path / "x" / "scored"))


def test_users_load_dataset_of_a_rewritten_subset_returns_its_new_rows(env, tmp_path):
    out = tmp_path / "s2r-demo"
    subset = out / "openr1-select10"
    load = (
        f"import json, datasets; print(json.dumps(list(datasets.load_dataset({str(subset)!r}, split='train')['{ID}'])))"
    )
    s2r(env, "demo", "-o", out)
    first = json.loads(run(env, "-c", load))
    assert first == ids_on_disk(subset)
    s2r(env, "demo", "-o", out, "--overwrite", "--weight", "1.0")
    second = json.loads(run(env, "-c", load))
    assert second != first
    assert second == ids_on_disk(subset)


def test_builder_serves_the_new_pool_after_its_file_changed(env, pools, tmp_path):
    pool_a, pool_b = pools
    pool = tmp_path / "pool.jsonl"
    build = (
        "import json; from s2r_hf.pipeline.builder import Select2ReasonBuilder; "
        f"b = Select2ReasonBuilder(config_name='scored', pool={str(pool)!r}); b.download_and_prepare(); "
        f"print(json.dumps(list(b.as_dataset(split='train')['{ID}'])))"
    )
    pool.write_bytes(pool_a.read_bytes())
    first = json.loads(run(env, "-c", build))
    pool.write_bytes(pool_b.read_bytes())
    second = json.loads(run(env, "-c", build))
    assert first and second and not set(first) & set(second)
