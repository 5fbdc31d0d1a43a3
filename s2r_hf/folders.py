"""Dataset folders in the Hub layout: `data/train-0000i-of-0000n.parquet` shards plus a README.md card.

`datasets.load_dataset(folder)` opens such a folder, and a later `s2r publish` pushes it unchanged. Folders are written
into a temporary sibling and moved into place only when complete, so a failure never leaves half a dataset behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

SPLIT = "train"
DATA_DIR = "data"
CARD_FILE = "README.md"
# Shards of about this many bytes (in memory), like push_to_hub's default, so the Hub viewer and streaming handle them.
MAX_SHARD_BYTES = 500 * 1024 * 1024


def configs_metadata() -> list[dict[str, Any]]:
    """The `configs:` YAML entry that makes `load_dataset(folder)` find the shards with no config name."""
    return [{"config_name": "default", "data_files": [{"split": SPLIT, "path": f"{DATA_DIR}/{SPLIT}-*"}]}]


def check_writable(path: str | os.PathLike, overwrite: bool) -> Path:
    """Fail early, before any work, when the output folder exists and overwrite was not asked for."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"output folder {str(path)!r} already exists; choose another, or pass --overwrite")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output path {str(path)!r} exists and is not a folder")
    return path


def write_dataset_folder(
    dataset: Dataset,
    path: str | os.PathLike,
    card: str,
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> Path:
    """Write `dataset` as parquet shards with `card` as README.md (plus `extra_files`, name -> bytes) into `path`."""
    path = check_writable(path, overwrite).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        # The table under an indices mapping may be much larger than the rows selected: scale by the share kept.
        estimated_bytes = dataset.data.nbytes * len(dataset) // max(1, dataset.data.num_rows)
        num_shards = min(max(1, -(-estimated_bytes // max_shard_bytes)), max(1, len(dataset)))
        (staging / DATA_DIR).mkdir()
        for index in range(num_shards):
            shard = dataset.shard(num_shards, index, contiguous=True) if num_shards > 1 else dataset
            shard.to_parquet(str(staging / DATA_DIR / f"{SPLIT}-{index:05d}-of-{num_shards:05d}.parquet"))
        (staging / CARD_FILE).write_text(card, encoding="utf-8")
        for name, content in (extra_files or {}).items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
        _move_into_place(staging, path, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("wrote %d rows to %s", len(dataset), path)
    return path


def _move_into_place(staging: Path, path: Path, overwrite: bool) -> None:
    if path.exists():
        if not overwrite:  # appeared while we were writing
            raise FileExistsError(f"output folder {str(path)!r} appeared while writing; nothing was replaced")
        retired = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        os.replace(path, retired / "old")
        os.replace(staging, path)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, path)


def load_dataset_folder(path: str | os.PathLike) -> Dataset:
    """Load a folder written by `write_dataset_folder` (the same way `load_dataset(folder)` would)."""
    from datasets import load_dataset

    path = Path(path)
    if not (path / CARD_FILE).is_file() or not (path / DATA_DIR).is_dir():
        raise FileNotFoundError(
            f"{str(path)!r} is not an s2r dataset folder (expected {CARD_FILE} and {DATA_DIR}/*.parquet); "
            "make one with `s2r score` or `s2r select`"
        )
    return load_dataset(str(path), split=SPLIT)


def read_card_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The YAML metadata of a folder's README.md card (empty dict when it has none)."""
    from huggingface_hub import DatasetCard

    card_path = Path(path) / CARD_FILE
    if not card_path.is_file():
        raise FileNotFoundError(f"no dataset card at {str(card_path)!r}")
    return DatasetCard.load(card_path).data.to_dict()
