"""The identity of a local model: which files of its folder are the weights, and their digest. The one rule, used by
the results of `s2r evaluate` (`weights_sha256`) and by the experiment's fingerprint of a local base model.

A model is its weights: two folders whose weight files have the same names and bytes are the same model, whatever
else lies beside them. A training output also holds `training_args.bin`, `checkpoint-*/` folders with optimizer,
scheduler and RNG state, logs and cards, which change from run to run without changing the model. The weight files are
the top-level files `from_pretrained` loads weights from:

- files with a weight format's suffix (`model.safetensors`, `model-00001-of-00004.safetensors`,
  `adapter_model.safetensors`, `pytorch_model.bin`, `*.gguf`, `tf_model.h5`, `flax_model.msgpack`), except the
  Trainer's own state files (`training_args.bin`, `optimizer.*`, `scheduler.*`, `rng_state*`) and hidden files;
- any file a `*.index.json` names in its `weight_map` (shards with other names), when it lies in the folder.

Hashing a 7B model reads 15 GB, so each file's sha256 is kept with the file's stat (size, mtime_ns, ctime_ns, inode)
and reused while the stat is unchanged: within this process, and across processes through the `known` entries a
caller stores (the experiment keeps them in its steps folder). A rewrite in place changes mtime and ctime (ctime cannot
be set back by the writer), so its content is read again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, ModelError
from s2r_hf.core.records import read_json_object

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")
# What the Trainer saves beside the weights: the run's state, not the model.
NOT_WEIGHTS_PREFIXES = ("training_args.", "optimizer.", "scheduler.", "rng_state")
_CHUNK = 8 * 1024 * 1024

# Resolved path -> (stat key, sha256): files hashed by this process.
_HASHED: dict[str, tuple[list[int], str]] = {}


@dataclass(frozen=True)
class WeightsDigest:
    """`sha256`: over the weight files' names and contents; `files`: name -> {stat, sha256} (what a cache stores)."""

    sha256: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


def weight_files(folder: str | os.PathLike) -> list[Path]:
    """The weight files of a model folder, in name order (see the module docstring for which files count)."""
    folder = Path(folder).expanduser()
    chosen: set[Path] = set()
    for path in folder.iterdir():
        name = path.name
        if not path.is_file() or name.startswith("."):
            continue
        if name.endswith(".index.json"):
            chosen.update(_indexed_shards(folder, path))
        elif path.suffix in WEIGHT_SUFFIXES and not name.startswith(NOT_WEIGHTS_PREFIXES):
            chosen.add(path)
    return sorted(chosen, key=lambda path: path.name)


def _indexed_shards(folder: Path, index: Path) -> set[Path]:
    try:
        weight_map = read_json_object(
            index, what="a weights index", fix="save the model again with save_pretrained"
        ).get("weight_map")
    except InputError as err:  # the model named by the user cannot serve
        raise ModelError(str(err)) from None
    if not isinstance(weight_map, dict):
        return set()
    shards = set()
    for name in set(map(str, weight_map.values())):
        shard = folder / name
        # A shard outside the folder (a crafted index) is not part of this model's identity.
        if shard.parent == folder and shard.is_file():
            shards.add(shard)
    return shards


def weights_digest(folder: str | os.PathLike) -> str:
    """The sha256 that names a model folder's weights; ModelError when the folder holds no weight file."""
    return digest_weights(folder).sha256


def digest_weights(folder: str | os.PathLike, known: dict[str, Any] | None = None) -> WeightsDigest:
    """The digest of a model folder's weight files, with each file's entry for a cache; `known` (a previous digest's
    `files`) spares re-reading a file whose stat has not changed."""
    folder = Path(folder).expanduser()
    files_in_folder = weight_files(folder)
    if not files_in_folder:
        raise ModelError(
            f"model folder {str(folder)!r} holds no weights (*.safetensors, pytorch_model*.bin, *.gguf, or shards "
            "named by a *.index.json); save the model there with model.save_pretrained(dir)"
        )
    known = known or {}
    digest = hashlib.sha256()
    files: dict[str, dict[str, Any]] = {}
    for path in files_in_folder:
        key = _stat_key(path)
        sha256 = _file_sha256(path, key, known.get(path.name))
        files[path.name] = {"stat": key, "sha256": sha256}
        digest.update(f"{path.name}\0{sha256}\n".encode())
    return WeightsDigest(digest.hexdigest(), files)


def _stat_key(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _file_sha256(path: Path, key: list[int], entry: Any) -> str:
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
