"""Shared fixtures. The environment is made hermetic before anything imports datasets or huggingface_hub.

HF caches go to a temporary folder, and the Hub endpoint points at a port on 127.0.0.1 reserved for this session,
where tests that need a Hub start the loopback Hub server (tests/hub_server.py). Any accidental Hub access in other
tests therefore fails fast instead of reaching for the network.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from pathlib import Path


def _reserve_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_SESSION_TMP = Path(tempfile.mkdtemp(prefix="s2r-tests-"))
HUB_PORT = _reserve_port()
os.environ.update(
    {
        "HF_HOME": str(_SESSION_TMP / "hf_home"),
        "HF_DATASETS_CACHE": str(_SESSION_TMP / "hf_home" / "datasets"),
        "HF_ENDPOINT": f"http://127.0.0.1:{HUB_PORT}",
        "HF_TOKEN": "hf_test_token_for_the_loopback_hub",
        "HF_HUB_DISABLE_XET": "1",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
)
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_DATASETS_OFFLINE", None)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REAL_POOL = SHARED_DATA / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"
BENCHMARKS = SHARED_DATA / "benchmarks"


def pytest_collection_modifyitems(config, items):
    import importlib.util

    has_cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch

        has_cuda = torch.cuda.is_available()
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def session_tmp() -> Path:
    return _SESSION_TMP


@pytest.fixture(scope="session")
def real_pool_path() -> Path:
    if not REAL_POOL.exists():
        pytest.skip(f"the real long-CoT pool is not present at {REAL_POOL} (../shared is absent in this checkout)")
    return REAL_POOL


@pytest.fixture(scope="session")
def real_pool_rows(real_pool_path) -> list[dict]:
    with open(real_pool_path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _tokenizer_corpus() -> list[str]:
    if REAL_POOL.exists():
        with open(REAL_POOL, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        return [row["question"] + "\n" + row["solution"][:4000] for row in rows]
    from s2r_hf.demo_pool import generate_rows

    return [row["problem"] + "\n" + row["generations"][0] for row in generate_rows()]


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(session_tmp) -> Path:
    """A byte-level BPE tokenizer (ChatML specials, chat template) trained offline; its folder path."""
    from tiny_models import build_tokenizer

    out = session_tmp / "tiny_tokenizer"
    build_tokenizer(_tokenizer_corpus(), out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(session_tmp, tiny_tokenizer_dir) -> Path:
    """A 2-layer Qwen2ForCausalLM (hidden 32) with the tiny tokenizer, saved in one folder; its path."""
    from tiny_models import build_qwen2
    from transformers import AutoTokenizer

    out = session_tmp / "tiny_qwen2"
    build_qwen2(AutoTokenizer.from_pretrained(tiny_tokenizer_dir), out)
    return out
