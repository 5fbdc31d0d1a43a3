"""A local model's identity is its weights (issue 16, case 11): training leftovers beside them do not change it."""

from __future__ import annotations

import hashlib
import json

import pytest

from s2r_hf.core.errors import ModelError
from s2r_hf.core.weights import weight_files, weights_digest
from s2r_hf.evaluation.runner import model_identity


def expected_digest(name: str, content: bytes) -> str:
    """The rule by hand: sha256 over each weight file's name and the sha256 of its bytes."""
    return hashlib.sha256(f"{name}\0{hashlib.sha256(content).hexdigest()}\n".encode()).hexdigest()


def model_folder(path, weights: bytes = b"weights-v1"):
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "qwen2"}')
    (path / "model.safetensors").write_bytes(weights)
    return path


def test_the_same_weights_give_the_same_digest_whatever_lies_beside_them(tmp_path):
    plain = model_folder(tmp_path / "plain")
    trained = model_folder(tmp_path / "trained")
    # What a finished `s2r train` output holds beside the final weights: none of it is the model.
    (trained / "training_args.bin").write_bytes(b"args of this run")
    (trained / "trainer_state.json").write_text("{}")
    (trained / "README.md").write_text("card")
    checkpoint = trained / "checkpoint-1"
    checkpoint.mkdir()
    for name in ("model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"):
        (checkpoint / name).write_bytes(name.encode() * 3)
    expected = expected_digest("model.safetensors", b"weights-v1")
    assert weights_digest(plain) == weights_digest(trained) == expected
    assert [path.name for path in weight_files(trained)] == ["model.safetensors"]


def test_a_changed_or_renamed_weight_file_changes_the_digest(tmp_path):
    first = weights_digest(model_folder(tmp_path / "a"))
    assert weights_digest(model_folder(tmp_path / "b", b"weights-v2")) != first
    renamed = model_folder(tmp_path / "c")
    (renamed / "model.safetensors").rename(renamed / "model-00001-of-00001.safetensors")
    assert weights_digest(renamed) != first


def test_bin_shards_named_by_the_index_count_and_other_bins_do_not(tmp_path):
    folder = tmp_path / "sharded"
    folder.mkdir()
    (folder / "weights-a.bin").write_bytes(b"a")
    (folder / "weights-b.bin").write_bytes(b"b")
    (folder / "pytorch_model.bin.index.json").write_text(
        json.dumps({"weight_map": {"x": "weights-a.bin", "y": "weights-b.bin", "z": "../outside.bin"}})
    )
    (tmp_path / "outside.bin").write_bytes(b"not this model's")
    (folder / "training_args.bin").write_bytes(b"args")
    (folder / "optimizer.bin").write_bytes(b"state")
    assert [path.name for path in weight_files(folder)] == ["weights-a.bin", "weights-b.bin"]
    before = weights_digest(folder)
    (folder / "training_args.bin").write_bytes(b"other args")
    assert weights_digest(folder) == before
    (folder / "weights-b.bin").write_bytes(b"B")
    assert weights_digest(folder) != before


def test_results_record_the_weights_digest_and_a_folder_without_weights_is_refused(tmp_path):
    from s2r_hf.evaluation.runner import EvaluationConfig

    folder = model_folder(tmp_path / "m")
    (folder / "training_args.bin").write_bytes(b"args")
    identity = model_identity(str(folder), EvaluationConfig(tasks="math500"))
    assert identity["weights_sha256"] == expected_digest("model.safetensors", b"weights-v1")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="holds no weights"):
        weights_digest(folder)
