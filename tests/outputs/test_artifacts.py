"""The scored pool and subset folders: cards that do not trigger datasets' path-blind cache, and what they may
replace."""

from __future__ import annotations

import shutil

import pytest
from datasets import load_dataset

from s2r_hf.core.columns import ID
from s2r_hf.core.errors import InputError, OptionTypeError, OutputError
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.outputs.artifacts import load_scored_pool, write_scored_pool, write_subset
from s2r_hf.pipeline.score import ScoreConfig, score_pool
from s2r_hf.pool.demo import DEMO_POOL_FILE
from s2r_hf.selection import SelectConfig, select


@pytest.fixture(scope="module")
def scored():
    return score_pool(ScoreConfig(source=str(DEMO_POOL_FILE), adapter="openr1"))


def test_cards_have_no_configs_entry_and_load_dataset_finds_the_shards(scored, tmp_path):
    pool, s2r = scored
    scored_dir = write_scored_pool(pool, s2r, tmp_path / "scored")
    subset, subset_dir = write_subset(pool, s2r, SelectConfig(ratio=0.1), tmp_path / "subset")
    for folder in (scored_dir, subset_dir):
        metadata = read_card_metadata(folder)
        assert "configs" not in metadata and metadata["s2r"]["kind"] in ("scored_pool", "subset")
    assert load_dataset(str(subset_dir), split="train")[ID] == select(pool, ratio=0.1)[ID] == subset[ID]
    assert load_dataset(str(scored_dir), split="train")[ID] == pool[ID]


def test_load_scored_pool_reads_the_rows_there_now(scored, tmp_path):
    pool, s2r = scored
    folder = write_scored_pool(pool, s2r, tmp_path / "scored")
    assert load_scored_pool(folder)[0][ID] == pool[ID]
    smaller = pool.select(range(10))
    write_scored_pool(smaller, {**s2r, "rows": 10}, folder, overwrite=True)
    loaded, loaded_s2r = load_scored_pool(folder)
    assert loaded[ID] == smaller[ID] and loaded_s2r["rows"] == 10
    with pytest.raises(InputError, match="is not a scored pool written by `s2r score`"):
        load_scored_pool(write_subset(pool, s2r, SelectConfig(k=3), tmp_path / "subset")[1])


def test_the_python_api_applies_the_same_rules_as_the_command_line(scored, tmp_path):
    pool, s2r = scored
    folder = write_scored_pool(pool, s2r, tmp_path / "scored")
    with pytest.raises(
        OutputError, match=r"holds a scored pool \(written by s2r score\), and --overwrite replaces only a subset"
    ):
        write_subset(pool, s2r, SelectConfig(ratio=0.1), folder, overwrite=True)
    with pytest.raises(OutputError, match="is the input"):
        write_subset(pool, s2r, SelectConfig(ratio=0.1), folder, overwrite=True, inputs=[folder])
    # The scored pool's own local source (recorded in its s2r block) is never written over.
    source = tmp_path / "source"
    shutil.copytree(folder, source)
    from_folder = {**s2r, "source": {**s2r["source"], "name": str(source), "kind": "folder"}}
    with pytest.raises(OutputError, match="is the input"):
        write_scored_pool(pool, from_folder, source, overwrite=True)
    with pytest.raises(OutputError, match="holds the input"):
        write_scored_pool(pool, from_folder, tmp_path, overwrite=True)
    assert load_scored_pool(folder)[0][ID] == pool[ID]


def test_write_subset_names_a_wrong_argument_before_writing(scored, tmp_path):
    pool, s2r = scored
    with pytest.raises(OptionTypeError, match=r"config must be a SelectConfig, got dict; e\.g\. SelectConfig\(k=100\)"):
        write_subset(pool, s2r, {"ratio": 0.1}, tmp_path / "subset")
    with pytest.raises(OptionTypeError, match=r"pool_s2r must be the s2r metadata of a scored pool .* got NoneType"):
        write_subset(pool, None, SelectConfig(), tmp_path / "subset")
    with pytest.raises(OptionTypeError, match="output must be a folder path, got NoneType"):
        write_subset(pool, s2r, SelectConfig(), None)
    assert not (tmp_path / "subset").exists()
