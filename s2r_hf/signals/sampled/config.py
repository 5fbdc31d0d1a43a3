"""Settings of the sampled rollout difficulty (`s2r score --difficulty sampled`), checked before any model loads."""

from __future__ import annotations

import importlib.util
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.models import check_model_reference
from s2r_hf.core.options import check_field_types
from s2r_hf.core.prompts import REASONING_SYSTEM_PROMPT

BACKENDS = ("auto", "vllm", "transformers")
DTYPES = ("float32", "bfloat16", "float16")
# Bump when a change here can change completions: it is part of every cache key (datasets fingerprint, resume store).
SAMPLER_VERSION = "1"


@dataclass
class SampledConfig:
    """Settings of the sampled difficulty scorer: which model answers, how often, and how it samples."""

    model: str | None = field(
        default=None,
        metadata={"help": "sampled: the model that answers each question (Hub id or local folder with a chat "
                          "template); the student to be trained is the natural choice"},
    )  # fmt: skip
    revision: str | None = field(
        default=None, metadata={"help": "sampled: Hub revision of --rollout-model (default: its default branch)"}
    )
    rollouts: int = field(default=8, metadata={"help": "sampled: completions per question (k)"})
    max_new_tokens: int = field(
        default=4096,
        metadata={"help": "sampled: a completion cut at this many new tokens counts as wrong (recorded as capped)"},
    )
    temperature: float = field(default=0.6, metadata={"help": "sampled: sampling temperature (0: greedy)"})
    top_p: float = field(default=0.95, metadata={"help": "sampled: nucleus sampling share, in (0, 1]"})
    seed: int = field(
        default=0,
        metadata={"help": "sampled: each completion's seed is derived from this, the question and its index, so it "
                          "does not depend on batching, chunking or resuming"},
    )  # fmt: skip
    backend: str = field(
        default="auto",
        metadata={"help": "sampled: vllm, transformers, or auto (vLLM when it is installed and a GPU is there)"},
    )
    tensor_parallel: int = field(default=1, metadata={"help": "sampled, vLLM: tensor_parallel_size"})
    data_parallel: int = field(default=1, metadata={"help": "sampled, vLLM: data_parallel_size"})
    batch_questions: int = field(
        default=8,
        metadata={"help": "sampled, transformers: questions per generation call (times k completions), "
                          "length-sorted"},
    )  # fmt: skip
    device: str | None = field(
        default=None, metadata={"help": "sampled, transformers: cpu, cuda or cuda:N; default: cuda:{rank} or cpu"}
    )
    dtype: str | None = field(
        default=None, metadata={"help": f"sampled: one of {DTYPES}; default: bfloat16 on GPU, float32 on CPU"}
    )
    work_dir: str | None = field(
        default=None,
        metadata={"help": "sampled: folder for the resume store (finished completions per chunk); default: none, a "
                          "killed run starts over"},
    )  # fmt: skip
    chunk_rows: int = field(
        default=256,
        metadata={"help": "sampled: questions per map batch, the unit saved to --rollout-work-dir"},
    )
    keep_rollouts: bool = field(
        default=False,
        metadata={"help": "sampled: keep every completion in the output folder (config 'rollouts': one row per "
                          "completion)"},
    )  # fmt: skip

    def __post_init__(self):
        check_field_types(self)
        for name in ("model", "revision", "device", "dtype", "work_dir"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
                setattr(self, name, value)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{name} must be a non-empty string or None, got {value!r}")
        for name, flag in (
            ("rollouts", "--rollouts"),
            ("max_new_tokens", "--rollout-max-new-tokens"),
            ("tensor_parallel", "--rollout-tensor-parallel"),
            ("data_parallel", "--rollout-data-parallel"),
            ("batch_questions", "--rollout-batch-questions"),
            ("chunk_rows", "--rollout-chunk-rows"),
        ):
            if getattr(self, name) < 1:
                raise InputError(f"{name} ({flag}) must be a positive integer, got {getattr(self, name)}")
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise InputError(f"temperature (--rollout-temperature) must be 0 (greedy) or more, got {self.temperature}")
        if not (0 < self.top_p <= 1):
            raise InputError(f"top_p (--rollout-top-p) must be in (0, 1], got {self.top_p}")
        if not 0 <= self.seed < 2**63:
            raise InputError(f"seed (--rollout-seed) must be in [0, 2**63), got {self.seed}")
        if self.backend not in BACKENDS:
            raise InputError(f"backend (--rollout-backend) must be one of {list(BACKENDS)}, got {self.backend!r}")
        if self.backend == "vllm" and not vllm_installed():
            raise InputError(
                "--rollout-backend vllm was asked for, but vLLM is not installed here; `pip install vllm` (on a "
                "machine with a GPU), or use --rollout-backend transformers"
            )
        if self.dtype is not None and self.dtype not in DTYPES:
            raise InputError(f"dtype (--rollout-dtype) must be one of {list(DTYPES)} or None, got {self.dtype!r}")
        from s2r_hf.signals.judge.model import check_device

        check_device(self.device)
        if self.work_dir is not None and Path(self.work_dir).expanduser().is_file():
            raise InputError(f"work_dir (--rollout-work-dir) {self.work_dir!r} is a file; give a folder")
        if self.model is not None:
            check_model_reference(self.model, role="rollout model")  # a missing local folder fails now

    def resolved_backend(self) -> str:
        """The backend that runs: auto is vLLM when it is installed and torch sees a GPU, transformers otherwise."""
        if self.backend != "auto":
            return self.backend
        if not vllm_installed():
            return "transformers"
        import torch

        return "vllm" if torch.cuda.is_available() else "transformers"

    def sample_settings(self, backend: str, dtype: str) -> dict[str, Any]:
        """What, besides the model's weights, changes the completions (batching, device and work dir do not)."""
        return {
            "system_prompt": REASONING_SYSTEM_PROMPT,
            "rollouts": self.rollouts,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "backend": backend,
            "dtype": dtype,
            "sampler_version": SAMPLER_VERSION,
        }


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None
