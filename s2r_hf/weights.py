"""The identity of a local model: a digest of its weight files alone, `weights_digest(folder)`.

Two folders holding the same weights are the same model for scoring and fingerprinting, whatever else lies beside the
weights: a training output also holds `training_args.bin`, `checkpoint-*/` folders with optimizer, scheduler and RNG
state, logs and cards, which change from run to run without changing the model. Only the files `from_pretrained` loads
the weights from count:

- `*.safetensors` at the top of the folder (a single file, shards, or a PEFT `adapter_model.safetensors`);
- `pytorch_model*.bin` (the legacy single file or its shards) and `*.gguf`;
- any file a `*.index.json` names in its `weight_map` (shards with other names).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from s2r_hf.errors import ModelError

_CHUNK = 8 * 1024 * 1024


def weight_files(folder: str | os.PathLike) -> list[Path]:
    """The weight files of a model folder, in name order (see the module docstring for which files count)."""
    folder = Path(folder)
    chosen: set[Path] = set()
    for path in folder.iterdir():
        if not path.is_file():
            continue
        name = path.name
        if name.endswith((".safetensors", ".gguf")) or (name.startswith("pytorch_model") and name.endswith(".bin")):
            chosen.add(path)
        elif name.endswith(".index.json"):
            chosen.update(_indexed_shards(folder, path))
    return sorted(chosen, key=lambda path: path.name)


def _indexed_shards(folder: Path, index: Path) -> set[Path]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map")
    except (OSError, ValueError, AttributeError) as err:
        raise ModelError(
            f"the weights index {str(index)!r} cannot be read ({err}); save the model again with save_pretrained"
        ) from err
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
    """sha256 over the weight files of a model folder: each file's name, then its bytes, in name order.

    Equal for two folders with the same weights whatever else they hold (checkpoints, optimizer state, training
    args, cards); ModelError when the folder holds no weight file.
    """
    folder = Path(folder)
    files = weight_files(folder)
    if not files:
        raise ModelError(
            f"model folder {str(folder)!r} holds no weights (*.safetensors, pytorch_model*.bin, *.gguf, or shards "
            "named by a *.index.json); save the model there with model.save_pretrained(dir)"
        )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()
