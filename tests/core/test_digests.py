"""s2r_hf.core.digests: the digest of rows depends on the values alone, and on every one of them."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Dataset, concatenate_datasets

from s2r_hf.core.digests import files_sha256, ids_sha256, rows_sha256

ROWS = [
    {"s2r_id": "a", "n": 1, "x": 0.5, "text": "hé", "tags": ["p", "q"], "messages": [{"role": "user", "content": "1"}]},
    {"s2r_id": "b", "n": None, "x": float("nan"), "text": None, "tags": [], "messages": []},
    {"s2r_id": "c", "n": 3, "x": -2.0, "text": "", "tags": None, "messages": [{"role": "assistant", "content": None}]},
]


def test_rows_digest_ignores_how_the_rows_are_stored(tmp_path):
    dataset = Dataset.from_list(ROWS)
    digest = rows_sha256(dataset)
    pq.write_table(dataset.data.table, tmp_path / "rows.parquet")
    assert rows_sha256(Dataset.from_parquet(str(tmp_path / "rows.parquet"))) == digest  # written and read back
    # One chunk per row, the columns in another order, strings as large_string, integers as int32.
    pieces = concatenate_datasets([dataset.select([i]).flatten_indices() for i in range(3)])
    assert pieces.data.table.column("text").num_chunks == 3 and rows_sha256(pieces) == digest
    table = dataset.data.table.select(list(reversed(dataset.column_names)))
    table = table.set_column(table.schema.get_field_index("text"), "text", table["text"].cast(pa.large_string()))
    table = table.set_column(table.schema.get_field_index("n"), "n", table["n"].cast(pa.int32()))
    assert rows_sha256(Dataset(table)) == digest
    # An indices mapping is followed: the rows a `select` keeps, in its order.
    both = Dataset.from_list([ROWS[2], *ROWS])
    assert rows_sha256(both.select([1, 2, 3])) == digest
    assert rows_sha256(both.select([3, 2, 1])) != digest


def test_rows_digest_changes_with_any_value_the_order_and_null_against_empty():
    digest = rows_sha256(Dataset.from_list(ROWS))
    changed = [
        [{**ROWS[0], "text": "he"}, *ROWS[1:]],
        [ROWS[0], {**ROWS[1], "text": ""}, ROWS[2]],  # null is not the empty string
        [{**ROWS[0], "tags": ["pq"]}, *ROWS[1:]],  # the values' boundaries count, not only their bytes
        [{**ROWS[0], "messages": [{"role": "user", "content": "2"}]}, *ROWS[1:]],
        [{**ROWS[0], "x": 0.25}, *ROWS[1:]],
        [ROWS[1], ROWS[0], ROWS[2]],
        ROWS[:2],
    ]
    digests = {rows_sha256(Dataset.from_list(rows)) for rows in changed}
    assert len(digests) == len(changed) and digest not in digests


def test_ids_and_files_digests(tmp_path):
    assert ids_sha256(["a", "b"]) != ids_sha256(["b", "a"]) != ids_sha256(["ab"])
    (tmp_path / "pool").mkdir()
    (tmp_path / "pool" / "a.jsonl").write_bytes(b"{}\n")
    assert files_sha256([tmp_path / "pool" / "a.jsonl"]) == (
        "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356"  # sha256 of b"{}\n", as sha256sum says
    )
    one = files_sha256([tmp_path / "pool" / "a.jsonl"], root=tmp_path / "pool")
    (tmp_path / "pool" / "a.jsonl").write_bytes(b"{}\n\n")
    assert files_sha256([tmp_path / "pool" / "a.jsonl"], root=tmp_path / "pool") != one
