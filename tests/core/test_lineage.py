"""The lineage a Dataset carries (its source, the selection that chose its rows) through datasets' transforms."""

from __future__ import annotations

from datasets import Dataset, concatenate_datasets, load_from_disk

from s2r_hf import select
from s2r_hf.core.columns import DIFFICULTY, ID, TRACE_LENGTH
from s2r_hf.core.folders import load_dataset_folder, write_dataset_folder
from s2r_hf.core.lineage import LINEAGE_MARK, note_lineage, read_lineage


def pool_rows(n: int = 10) -> Dataset:
    return Dataset.from_dict(
        {ID: [f"r{i}" for i in range(n)], TRACE_LENGTH: list(range(n)), DIFFICULTY: [(i * 7 % n) / n for i in range(n)]}
    )


def test_the_lineage_survives_every_transform_and_a_round_trip_to_disk(tmp_path):
    dataset = pool_rows()
    dataset.info.description = "The pool's own description."
    note_lineage(dataset, source={"name": "pool-folder", "kind": "folder"})
    transforms = {
        "map": dataset.map(lambda row: {"x": 1}),
        "batched map": dataset.map(lambda batch: batch, batched=True),
        "filter": dataset.filter(lambda row: row[TRACE_LENGTH] > 2),
        "select": dataset.select([3, 1]),
        "select_columns": dataset.select_columns([ID]),
        "remove_columns": dataset.remove_columns(DIFFICULTY),
        "shuffle": dataset.shuffle(seed=0),
        "concatenate": concatenate_datasets([dataset, dataset]),
    }
    dataset.save_to_disk(tmp_path / "saved")
    transforms["load_from_disk"] = load_from_disk(tmp_path / "saved")
    for name, result in transforms.items():
        assert read_lineage(result) == {"source": {"name": "pool-folder", "kind": "folder"}}, name
    lines = dataset.info.description.splitlines()
    assert lines[0] == "The pool's own description." and lines[1].startswith(LINEAGE_MARK)


def test_select_notes_its_settings_and_pool_on_the_subset_only(tmp_path):
    write_dataset_folder(pool_rows(), tmp_path / "scored", card="# a pool\n")
    pool = load_dataset_folder(tmp_path / "scored")
    subset = select(pool, ratio=0.3, weight=0.5)
    selection = read_lineage(subset)["selection"]
    assert (selection["strategy"], selection["ratio"], selection["weight"]) == ("joint", 0.3, 0.5)
    assert (selection["rows"], selection["pool_rows"], selection["pool"]) == (3, 10, str(tmp_path / "scored"))
    assert read_lineage(subset)["source"]["name"] == str(tmp_path / "scored")
    assert "selection" not in read_lineage(pool)  # the pool is left as it was
    resubset = select(subset, k=1, strategy="random", seed=3)  # a selection of a selection: the last one counts
    assert (read_lineage(resubset)["selection"]["strategy"], read_lineage(resubset)["selection"]["rows"]) == (
        "random",
        1,
    )


def test_an_edited_lineage_line_reads_as_none():
    dataset = pool_rows(2)
    dataset.info.description = LINEAGE_MARK + "{not json"
    assert read_lineage(dataset) == {}
    assert read_lineage(note_lineage(dataset, source=None)) == {} and dataset.info.description == ""
