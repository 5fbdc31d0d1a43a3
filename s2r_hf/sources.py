"""Where a pool comes from: a Hub dataset id, a local folder, or a jsonl/json/parquet/csv file.

Everything is read through `datasets`, so Hub ids, revisions, caching and streaming-free Arrow memory mapping behave
exactly as users know them. Local paths are checked first; anything that is not an existing path is a Hub id.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.errors import InputError

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# file suffix -> datasets' packaged builder
FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class SourceInfo:
    """What was loaded, for cards and reproduction."""

    name: str
    kind: str  # "file", "folder" or "hub"
    config: str | None = None
    split: str = "train"
    revision: str | None = None

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def _file_builder(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):  # datasets decompresses these on the fly
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FILE_BUILDERS:
        raise InputError(
            f"cannot tell the format of {str(path)!r} from its name; supported: {sorted(FILE_BUILDERS)} "
            "(optionally compressed .gz/.bz2/.xz/.zst), a dataset folder, or a Hub dataset id"
        )
    return FILE_BUILDERS[suffixes[-1]]


def _looks_like_path(source: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else that does not exist locally was meant as a path."""
    return (
        source.startswith((".", "/", "~"))
        or source.count("/") > 1
        or any(source.lower().endswith(suffix) for suffix in FILE_BUILDERS)
    )


def describe_source(
    source: str | os.PathLike, config: str | None = None, split: str = "train", revision: str | None = None
) -> SourceInfo:
    path = Path(source).expanduser()
    if path.is_file():
        return SourceInfo(name=str(source), kind="file", split=split)
    if path.is_dir():
        return SourceInfo(name=str(source), kind="folder", config=config, split=split)
    return SourceInfo(name=str(source), kind="hub", config=config, split=split, revision=revision)


def load_source(
    source: str | os.PathLike, config: str | None = None, split: str = "train", revision: str | None = None
) -> Dataset:
    """Load one split of a local file, a local folder, or a Hub dataset as a `datasets.Dataset`."""
    import datasets
    import pyarrow as pa

    info = describe_source(source, config, split, revision)
    if info.kind == "hub" and _looks_like_path(str(source)):
        raise FileNotFoundError(
            f"input {str(source)!r} does not exist (and is not a Hub dataset id of the form org/name)"
        )
    try:
        if info.kind == "file":
            path = Path(source).expanduser()
            return datasets.load_dataset(_file_builder(path), data_files=str(path), split="train")
        if info.kind == "folder":
            path = Path(source).expanduser()
            if (path / "state.json").is_file() and (path / "dataset_info.json").is_file():
                return datasets.load_from_disk(str(path))  # written by Dataset.save_to_disk
            # Read as the folder's data files, not as `load_dataset(folder)`: that may cache by the folder's name alone.
            from s2r_hf.folders import load_folder

            return load_folder(path, config, split)
        return datasets.load_dataset(str(source), name=config, split=split, revision=revision)
    except (datasets.exceptions.DatasetGenerationError, pa.ArrowInvalid, UnicodeDecodeError) as err:
        cause = err.__cause__ or err
        raise InputError(
            f"could not read {str(source)!r} ({info.kind}): {type(cause).__name__}: {cause}. "
            "Check that the file is complete and in the format its name says"
        ) from err
