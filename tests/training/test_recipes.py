"""The shipped recipes: each names its hardware, every key is an option TRL's parser knows, the paper's values."""

from __future__ import annotations

import pytest
import yaml

from s2r_hf.training.sft import parse_train_args, recipe_names, recipes_dir

CPU = ["--use_cpu", "true", "--bf16", "false", "--use_liger_kernel", "false", "--output_dir", "unused"]


def test_the_shipped_recipes():
    assert recipe_names() == ["qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-math-7b", "tiny-cpu"]
    paths = [*recipes_dir().glob("*.yaml"), *(recipes_dir() / "accelerate").glob("*.yaml")]
    assert len(paths) == 6
    for path in paths:
        assert path.read_text(encoding="utf-8").startswith("# Hardware: "), path


@pytest.mark.parametrize("name", ["qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-math-7b", "tiny-cpu"])
def test_every_key_is_a_known_option(name):
    # Parsed for a CPU here (bf16 needs a GPU), which also shows the command line overriding the recipe.
    _, training_args, model_args = parse_train_args(["--config", name, *CPU])
    raw = yaml.safe_load((recipes_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
    assert training_args.max_length == raw["max_length"] and training_args.callbacks == ["selection_report"]
    assert model_args.dtype == raw["dtype"]


def test_the_paper_recipe():
    raw = yaml.safe_load((recipes_dir() / "qwen2.5-math-7b.yaml").read_text(encoding="utf-8"))
    expected = {
        "learning_rate": 5.0e-5,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.1,
        "num_train_epochs": 3,
        "bf16": True,
        "per_device_train_batch_size": 1,
        "max_length": 16384,
        "use_liger_kernel": True,
        "attn_implementation": "flash_attention_2",
    }
    assert {key: raw[key] for key in expected} == expected
    _, training_args, model_args = parse_train_args(["--config", "qwen2.5-math-7b", *CPU, "--num_train_epochs", "5"])
    assert training_args.num_train_epochs == 5 and training_args.learning_rate == 5.0e-5
    assert model_args.model_name_or_path == "Qwen2.5-Math-7B-Instruct-rope300k"


def test_the_accelerate_configs():
    zero3 = yaml.safe_load((recipes_dir() / "accelerate" / "zero3.yaml").read_text(encoding="utf-8"))
    ddp = yaml.safe_load((recipes_dir() / "accelerate" / "ddp.yaml").read_text(encoding="utf-8"))
    assert zero3["distributed_type"] == "DEEPSPEED" and zero3["deepspeed_config"]["zero_stage"] == 3
    assert ddp["distributed_type"] == "MULTI_GPU" and ddp["num_processes"] == zero3["num_processes"] == 8


def test_the_rope_conversion_changes_the_config_only(tiny_model_dir, tmp_path):
    from transformers import AutoConfig

    from s2r_hf.training.rope import main

    out = tmp_path / "rope300k"
    assert main([str(tiny_model_dir), str(out)]) == 0
    config = AutoConfig.from_pretrained(out)
    assert config.rope_parameters["rope_theta"] == 300_000.0 and config.max_position_embeddings == 32_768
    assert (out / "model.safetensors").read_bytes() == (tiny_model_dir / "model.safetensors").read_bytes()
    assert main([str(tiny_model_dir), str(out)]) == 2  # never over an existing folder
