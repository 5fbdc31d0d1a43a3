"""`s2r train` in 2 processes on CPU (torchrun, gloo): both ranks train the same model, rank 0 alone writes it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from fixtures.training import train_argv

# Each rank trains into its own output_dir, so that whatever a rank writes shows in its own folder; then it writes a
# digest of its weights (outside the output folders) for the test to compare.
RANK_SCRIPT = """
import hashlib, json, os, sys
from pathlib import Path
from s2r_hf.training.sft import main
rank = int(os.environ["RANK"])
argv = sys.argv[2:]
position = argv.index("--output_dir") + 1
argv[position] = f"{argv[position]}-rank{rank}"
trainer = main(argv).trainer
digest = hashlib.sha256()
for name, tensor in sorted(trainer.model.state_dict().items()):
    digest.update(name.encode())
    digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
report = {"digest": digest.hexdigest(), "steps": trainer.state.global_step, "world_size": trainer.args.world_size}
Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps(report))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_train_the_same_model_and_only_rank_0_writes_it(trained_run, tmp_path):
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT, encoding="utf-8")
    argv = train_argv(trained_run.model_dir, trained_run.subset_dir, tmp_path / "out", "--max_steps", "2")[1:]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port"]
    command += [str(free_port()), str(script), str(tmp_path), *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert ranks[0] == ranks[1] and ranks[0]["steps"] == 2 and ranks[0]["world_size"] == 2
    rank0, rank1 = tmp_path / "out-rank0", tmp_path / "out-rank1"
    assert {"model.safetensors", "README.md", "s2r_training.json", "config.json"} <= {p.name for p in rank0.iterdir()}
    record = json.loads((rank0 / "s2r_training.json").read_text())
    assert record["status"] == "finished" and record["recipe"]["world_size"] == 2
    # Rank 1 writes only its own RNG state, which transformers keeps per process for an exact resume.
    written_by_rank1 = sorted(str(p.relative_to(rank1)) for p in rank1.rglob("*") if p.is_file())
    assert written_by_rank1 == ["checkpoint-2/rng_state_1.pth"]
