"""Which files of a model folder are its weights, and their digest: the one rule for a local model's identity.

A model is its weights: two folders whose weight files have the same names and bytes are the same model, whatever
else they hold (checkpoints, optimizer state, training arguments, logs, cards). The weight files are the top-level
files of the folder with a weight format's suffix (`model.safetensors`, `model-00001-of-00004.safetensors`,
`pytorch_model.bin`, `adapter_model.safetensors`, ...); subfolders (`checkpoint-*/`) and `training_args.bin` are not
the model.

Hashing a 7B model reads 15 GB, so a digest is computed once per file content: each file's sha256 is kept with the
file's stat (size, mtime_ns, ctime_ns, inode) and reused while the stat is unchanged (in this process, and across
processes through the `known` entries a caller stores, e.g. the experiment's cache). A rewrite in place changes mtime
and ctime (ctime cannot be set back by the writer), so its content is read again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")
NOT_WEIGHTS = ("training_args.bin",)  # a pickled TrainingArguments, saved beside the weights by the Trainer
_CHUNK = 8 * 1024 * 1024

# Resolved path -> (stat key, sha256): files hashed by this process.
_HASHED: dict[str, tuple[list[int], str]] = {}


@dataclass(frozen=True)
class WeightsDigest:
    """`sha256`: over the weight files' names and contents; `files`: name -> {stat, sha256} (what a cache stores)."""

    sha256: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


def weight_files(folder: str | os.PathLike) -> list[Path]:
    """The weight files of a model folder, by name."""
    folder = Path(folder).expanduser()
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file()
        and path.suffix in WEIGHT_SUFFIXES
        and path.name not in NOT_WEIGHTS
        and not path.name.startswith(".")
    )


def weights_digest(folder: str | os.PathLike, known: dict[str, Any] | None = None) -> WeightsDigest:
    """The digest of a model folder's weight files; `known` (a previous digest's `files`) spares re-reading a file
    whose stat has not changed."""
    known = known or {}
    digest = hashlib.sha256()
    files: dict[str, dict[str, Any]] = {}
    for path in weight_files(folder):
        key = _stat_key(path)
        sha256 = _known_sha256(path, key, known.get(path.name))
        files[path.name] = {"stat": key, "sha256": sha256}
        digest.update(f"{path.name}\0{sha256}\n".encode())
    return WeightsDigest(digest.hexdigest(), files)


def _stat_key(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _known_sha256(path: Path, key: list[int], entry: Any) -> str:
    resolved = str(path.resolve())
    if isinstance(entry, dict) and entry.get("stat") == key and isinstance(entry.get("sha256"), str):
        _HASHED[resolved] = (key, entry["sha256"])
        return entry["sha256"]
    cached = _HASHED.get(resolved)
    if cached is not None and cached[0] == key:
        return cached[1]
    content = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            content.update(chunk)
    _HASHED[resolved] = (key, content.hexdigest())
    return content.hexdigest()
