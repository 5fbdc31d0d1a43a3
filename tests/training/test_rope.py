"""The RoPE conversion (`python -m s2r_hf.training.rope`): the model folder copied whole with config.json edited,
written through a staging folder (whole or nothing), and a damaged config.json refused in one line."""

from __future__ import annotations

import json

import pytest

from s2r_hf.core.errors import ModelError, OutputError, OutputExistsError
from s2r_hf.training.rope import extend_rope, main


def test_only_config_json_changes(tiny_model_dir, tmp_path):
    out = extend_rope(str(tiny_model_dir), str(tmp_path / "rope"), theta=300_000.0, max_positions=4096)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    before = json.loads((tiny_model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["max_position_embeddings"] == 4096
    theta = config["rope_parameters"]["rope_theta"] if "rope_parameters" in config else config["rope_theta"]
    assert theta == 300_000.0
    changed = ("max_position_embeddings", "rope_theta", "rope_parameters")
    for key in changed:
        config.pop(key, None)
        before.pop(key, None)
    assert config == before  # every other setting as it was
    copied = sorted(p.name for p in out.iterdir())
    assert copied == sorted(p.name for p in tiny_model_dir.iterdir() if not p.name.startswith("."))
    for name in copied:
        if name != "config.json" and (out / name).is_file():
            assert (out / name).read_bytes() == (tiny_model_dir / name).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rope"]  # no staging folder nor lock file left


def test_an_existing_output_is_refused(tiny_model_dir, tmp_path):
    (tmp_path / "rope").mkdir()
    with pytest.raises(OutputExistsError, match="already exists; choose a new folder"):
        extend_rope(str(tiny_model_dir), str(tmp_path / "rope"))


@pytest.mark.parametrize(
    ("content", "reason"), [("{not json", "it is not JSON"), ("[1, 2]", "it holds a JSON array, not an object")]
)
def test_a_damaged_config_is_one_line_and_writes_nothing(tmp_path, capsys, content, reason):
    """It was a JSONDecodeError traceback (config.json read without the one record reader)."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(content, encoding="utf-8")
    with pytest.raises(ModelError, match=rf"config.json' is not a model's config: {reason}"):
        extend_rope(str(model), str(tmp_path / "rope"))
    assert main([str(model), str(tmp_path / "rope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m s2r_hf.training.rope: error: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_failure_while_copying_leaves_nothing(tiny_model_dir, tmp_path, monkeypatch):
    import shutil

    def copy_then_fail(source, target, **kwargs):
        (target / "partial").write_text("x")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", copy_then_fail)
    with pytest.raises(OutputError, match=r"could not write .*rope': No space left on device; nothing was written"):
        extend_rope(str(tiny_model_dir), str(tmp_path / "rope"))
    assert list(tmp_path.iterdir()) == []
