"""Content digests that say whether two datasets or two files hold the same data, whoever wrote them and how.

`rows_sha256` is the SHA-256 of a Dataset's rows in their order, made column by column (columns and struct fields in
name order) from each value's kind, null mask and value: it depends on the values alone, not on how the rows are
chunked, sliced, sharded into parquet files or cached, nor on the column order or the width of strings and integers,
so the rows `s2r score` held in memory and the same rows read back from its folder (or from a Hub repo) give the same
digest.
`ids_sha256` is the SHA-256 of a sequence of row ids, one JSON string per line: it changes when an id or the order does.
`files_sha256` is the SHA-256 of files' bytes (a local source), named by their paths relative to a root.

Cards record these (`s2r score`: the pool's rows and its local source; `s2r select`: the subset's rows and ids) so that
`s2r verify` can tell an edited subset or a changed pool from a faithful one.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset

_CHUNK_BYTES = 8 * 1024 * 1024


def rows_sha256(dataset: Dataset) -> str:
    """SHA-256 (hex) of the dataset's rows in order, by their values alone: see the module's docstring.

    Computed column by column in Arrow (the columns in name order, a struct's fields in name order), each value by its
    kind, so that a pool of gigabytes is digested at the speed of reading it rather than of making Python objects.
    An indices mapping (after `select`) is followed.
    """
    table = dataset.with_format("arrow")[:]  # the rows in their order, whatever the indices mapping
    digest = hashlib.sha256(f"rows {table.num_rows}\n".encode())
    for name in sorted(table.column_names):
        digest.update(f"column {json.dumps(name, ensure_ascii=False)}\n".encode())
        column = table.column(name)
        _digest_array(digest, column.combine_chunks() if column.num_chunks != 1 else column.chunk(0))
    return digest.hexdigest()


def _digest_array(digest, array) -> None:
    """Feed `array`'s values to `digest`: a tag for the kind of value, which values are null, then the values, in a
    form that does not depend on chunking, slicing, string width (string or large_string) or integer width."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), array.type.value_type
    valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8)
    if pa.types.is_null(kind):
        digest.update(b"null")
        digest.update(valid.tobytes())
        return
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        digest.update(b"text" if not pa.types.is_binary(kind) else b"bytes")
        _digest_offsets_and_data(digest, array.cast(pa.large_binary()), valid)
        return
    if pa.types.is_large_binary(kind):
        digest.update(b"bytes")
        _digest_offsets_and_data(digest, array, valid)
        return
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        digest.update(b"int")
        digest.update(valid.tobytes())
        filled = pc.fill_null(array, False if pa.types.is_boolean(kind) else 0)
        if pa.types.is_uint64(kind):  # may not fit int64: digest the unsigned values as they are
            values = filled.to_numpy(zero_copy_only=False).astype(np.uint64)
        else:
            values = pc.cast(filled, pa.int64()).to_numpy(zero_copy_only=False)
        digest.update(np.ascontiguousarray(values).tobytes())
        return
    if pa.types.is_floating(kind):
        digest.update(b"float")
        digest.update(valid.tobytes())
        values = pc.cast(pc.fill_null(array, 0.0), pa.float64()).to_numpy(zero_copy_only=False).copy()
        values[np.isnan(values)] = np.nan  # one NaN, whatever its bits
        digest.update(values.tobytes())
        return
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        digest.update(b"list")
        digest.update(valid.tobytes())
        lengths = pc.fill_null(pc.list_value_length(array), 0).cast(pa.int64()).to_numpy(zero_copy_only=False)
        digest.update(np.ascontiguousarray(lengths).tobytes())
        _digest_array(digest, array.flatten())  # the values of the lists that are not null, offsets applied
        return
    if pa.types.is_struct(kind):
        digest.update(b"struct")
        digest.update(valid.tobytes())
        children = dict(zip((field.name for field in kind), array.flatten()))
        for name in sorted(children):
            digest.update(f"field {json.dumps(name, ensure_ascii=False)}\n".encode())
            _digest_array(digest, children[name])
        return
    # Anything else (timestamps, decimals, maps, ...): each value as JSON.
    digest.update(b"json")
    for value in array.to_pylist():
        digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False, default=_json_value).encode() + b"\n")


def _digest_offsets_and_data(digest, array, valid) -> None:
    """A large_binary array: each value's length (0 for a null) and the bytes of all values, offsets applied."""
    import numpy as np

    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    lengths = np.diff(offsets) * valid  # a null's slot may hold bytes: not part of any value
    digest.update(valid.tobytes())
    digest.update(lengths.astype(np.int64).tobytes())
    if len(array) and data_buffer is not None:
        if valid.all():
            digest.update(memoryview(data_buffer)[offsets[0] : offsets[-1]])
        else:
            view = memoryview(data_buffer)
            for start, end, keep in zip(offsets[:-1], offsets[1:], valid):
                if keep:
                    digest.update(view[start:end])


def _json_value(value: Any) -> Any:
    """Values JSON has no type for, written as tagged objects so that they cannot collide with a plain string."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return {"$time": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"$duration": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"a value of type {type(value).__name__} cannot be digested")


def ids_sha256(ids: Iterable[str]) -> str:
    """SHA-256 (hex) of row ids in order, one JSON string per line."""
    digest = hashlib.sha256()
    for row_id in ids:
        digest.update(json.dumps(row_id, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def files_sha256(files: Iterable[str | os.PathLike], root: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex) of files: of the bytes of one file when `root` is None, else of the lines "relative path, sha256 of
    the bytes" of each file under `root`, in the order given (a folder's files, sorted)."""
    files = [Path(file) for file in files]
    if root is None and len(files) == 1:
        return _file_sha256(files[0])
    digest = hashlib.sha256()
    for file in files:
        name = file.relative_to(root).as_posix() if root is not None else str(file)
        digest.update(f"{name}\0{_file_sha256(file)}\n".encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def short_digest(value: Any) -> str:
    """A digest as printed in a line of text: its first 12 hex digits (None: "not recorded")."""
    return "not recorded" if value is None else str(value)[:12]
