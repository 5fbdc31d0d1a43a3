"""Content digests that say whether two datasets or two files hold the same data, whoever wrote them and how.

`rows_sha256` is the SHA-256 of a Dataset's rows in their order, each row one line of JSON (keys sorted, no spaces,
UTF-8): it depends on the values alone, not on how the rows are chunked, sharded into parquet files or cached, so the
rows `s2r score` held in memory and the same rows read back from its folder (or from a Hub repo) give the same digest.
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset

_BATCH_ROWS = 1000
_CHUNK_BYTES = 8 * 1024 * 1024


def _json_value(value: Any) -> Any:
    """Values JSON has no type for, written as tagged strings so that they cannot collide with a plain string."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return {"$time": value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"$duration": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"a value of type {type(value).__name__} cannot be digested")


def row_lines(dataset: Dataset) -> Iterator[bytes]:
    """Each row of `dataset`, in order, as the line `rows_sha256` hashes (an indices mapping is followed)."""
    arrow = dataset.with_format("arrow")
    for start in range(0, len(dataset), _BATCH_ROWS):
        batch = arrow[start : start + _BATCH_ROWS]
        for row in batch.to_pylist():
            line = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_value)
            yield line.encode("utf-8") + b"\n"


def rows_sha256(dataset: Dataset) -> str:
    """SHA-256 (hex) of the dataset's rows in order, as JSON lines: see the module's docstring."""
    digest = hashlib.sha256()
    for line in row_lines(dataset):
        digest.update(line)
    return digest.hexdigest()


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
