"""The model architecture the GPU benchmarks build with random weights, and its narrow form for their CPU smoke runs.

Qwen/Qwen2.5-1.5B-Instruct's config.json, written out: the Hub cannot be reached from the benchmark machines. A smoke
run (`--gpu --device cpu` in bench_judge.py, bench_training.py, bench_evaluation.py) runs the GPU benchmark's own code
on the CPU so that it cannot rot unseen between the days a GPU is lent; it keeps this architecture's vocabulary, head
layout, tied embedding and RoPE, with narrow layers so that it takes seconds.
"""

from __future__ import annotations

QWEN25_15B = {
    "vocab_size": 151_936,
    "hidden_size": 1536,
    "intermediate_size": 8960,
    "num_hidden_layers": 28,
    "num_attention_heads": 12,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32_768,
    "rope_theta": 1_000_000.0,
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": True,
}
SMOKE_WIDTHS = {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "num_key_value_heads": 2}


def check_gpu_device(device: str) -> bool:
    """Whether a GPU benchmark on `device` is a smoke run of its code (any device but CUDA: it prints what ran, never a
    figure). On CUDA, a machine where torch sees no CUDA device ends the run at once, saying so."""
    if not device.startswith("cuda"):
        return True
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("--gpu needs a CUDA device; torch sees none (--gpu --device cpu smoke-tests this code path)")
    return False


def qwen25_config(layers: int, smoke: bool):
    """A transformers Qwen2Config of Qwen2.5-1.5B with `layers` decoder layers (narrow ones in a smoke run)."""
    from transformers import Qwen2Config

    return Qwen2Config(**{**QWEN25_15B, "num_hidden_layers": layers, **(SMOKE_WIDTHS if smoke else {})})
