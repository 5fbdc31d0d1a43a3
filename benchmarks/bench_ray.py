"""`s2r score --engine ray` against `--engine local`, side by side in one run: the overhead of Ray on one machine.

CPU (default): a synthetic pool of --rows rows (questions of 5 to 60 words, traces of 1 to 40 steps with rethink
markers) scored for trace length and a tiny judge (a 2-layer Qwen2, hidden 32, trained-BPE tokenizer, built here:
nothing is downloaded), once with each engine, in a local Ray cluster of --cpus CPUs started here. Both runs start
from an empty resume store and datasets' cache is off, so each really computes. The local engine runs twice: in one
process (the judge's torch on every core) and with `--num-proc` = the cluster's CPUs (one thread per worker, as Ray's
workers have). Prints each run's seconds, the ratios, and that the engines wrote the same rows.

    python benchmarks/bench_ray.py                  # 10,000 rows
    python benchmarks/bench_ray.py --rows 1000 --cpus 2

GPU (`--gpu`): judge throughput with one GPU, `--engine ray` (one actor holding the GPU) against `--engine local`
(this process on cuda:0), with a judge of Qwen2.5-1.5B's architecture (random weights from its config, bf16).
`--gpu --device cpu` is a smoke run of that code on the CPU (narrow layers, no figure printed):

    python benchmarks/bench_ray.py --gpu --rows 20000
    python benchmarks/bench_ray.py --gpu --device cpu --rows 16 --layers 1 --vocab 300
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORD_TEXT = (
    "let x y be real numbers such that the sum of squares equals 2024 find all integers n prime triangle ABC circle "
    "radius area probability coin dice polynomial root 0 1 7 13 sqrt frac angle modulo remainder"
)
WORDS = WORD_TEXT.split()


def synthetic_rows(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) + f" (case {i})?"
        steps = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 20))) for _ in range(rng.randint(1, 40))]
        trace = "\n\n".join(("Wait, " if rng.random() < 0.2 else "") + step + "." for step in steps)
        rows.append({"question": question, "trace": trace, "answer": str(i)})
    return rows


def build_judge(folder: Path, rows: list[dict], *, vocab: int, layers: int, gpu_architecture: bool, smoke: bool):
    """A judge folder: a BPE tokenizer trained on the pool, and a Qwen2 of random weights (tiny, or Qwen2.5-1.5B's)."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.tiny_models import build_qwen2, build_tokenizer

    tokenizer = build_tokenizer((r["question"] + "\n" + r["trace"] for r in rows[:2000]), folder, vocab_size=vocab)
    if not gpu_architecture:
        build_qwen2(tokenizer, folder, layers=layers)
        return folder
    import torch
    from architectures import qwen25_config
    from transformers import Qwen2ForCausalLM

    config = qwen25_config(layers, smoke)
    config.vocab_size = len(tokenizer)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def score(pool: Path, judge: Path, work_dir: Path, engine: str, *, device: str | None, num_proc: int | None):
    from s2r_hf.pipeline.score import ScoreConfig, score_pool

    config = ScoreConfig(
        source=str(pool), question_column="question", trace_column="trace", answer_column="answer",
        difficulty="judge", judge={"model": str(judge), "work_dir": str(work_dir), "device": device,
                                   "chunk_rows": 512}, engine=engine, num_proc=num_proc,
    )  # fmt: skip
    start = time.perf_counter()
    scored, metadata = score_pool(config)
    return scored, metadata, time.perf_counter() - start


def compare(local, ray_scored) -> tuple[bool, float]:
    """Whether the two engines wrote the same rows (difficulty to float tolerance), and the largest difficulty gap."""
    from s2r_hf.core.columns import DIFFICULTY

    gap = max((abs(a - b) for a, b in zip(local[DIFFICULTY], ray_scored[DIFFICULTY], strict=True)), default=0.0)
    others = [name for name in local.column_names if name != DIFFICULTY]
    same = local.column_names == ray_scored.column_names and all(local[n] == ray_scored[n] for n in others)
    return same and gap <= 1e-6, gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=None, help="pool rows (default 10,000; --gpu: 20,000)")
    parser.add_argument("--cpus", type=int, default=None, help="CPUs of the local Ray cluster (default: all)")
    parser.add_argument("--gpu", action="store_true", help="judge throughput on one GPU, ray against local")
    parser.add_argument("--device", default="cuda:0", help="--gpu: device (cpu: a smoke run of this code, no figure)")
    parser.add_argument("--layers", type=int, default=None, help="judge layers (default 2; --gpu: 28)")
    parser.add_argument("--vocab", type=int, default=None, help="BPE vocabulary (default 2048; --gpu: 32768)")
    args = parser.parse_args()
    smoke = False
    if args.gpu:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from architectures import QWEN25_15B, check_gpu_device

        smoke = check_gpu_device(args.device)  # before the slow imports: no CUDA says so at once
        args.layers = args.layers or QWEN25_15B["num_hidden_layers"]
    rows_count = args.rows or (20_000 if args.gpu else 10_000)
    layers = args.layers or 2
    vocab = args.vocab or (32768 if args.gpu else 2048)

    import datasets
    import ray

    datasets.disable_caching()
    datasets.disable_progress_bars()
    logging.getLogger("s2r_hf").setLevel(logging.WARNING)
    rows = synthetic_rows(rows_count)
    with tempfile.TemporaryDirectory(prefix="s2r-bench-ray-") as tmp:
        tmp = Path(tmp)
        pool = tmp / "pool.jsonl"
        pool.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        judge = build_judge(tmp / "judge", rows, vocab=vocab, layers=layers, gpu_architecture=args.gpu, smoke=smoke)
        device = ("cpu" if smoke else None) if args.gpu else "cpu"
        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        cluster = ray.cluster_resources()
        ray_start = time.perf_counter() - started
        # Local: this process, the judge on every core (CPU) or on cuda:0; on the CPU also --num-proc workers, one per
        # CPU of the cluster, each with one thread: what Ray's workers are. Ray: its workers, one per CPU or the GPU.
        local, _, local_seconds = score(pool, judge, tmp / "work-local", "local", device=device, num_proc=None)
        timings = [("local", local_seconds)]
        if not args.gpu:
            workers = int(ray.cluster_resources().get("CPU", 1))
            _, _, seconds = score(pool, judge, tmp / "work-local-n", "local", device=device, num_proc=workers)
            timings.append((f"local --num-proc {workers}", seconds))
        ray_scored, _, ray_seconds = score(pool, judge, tmp / "work-ray", "ray", device=device, num_proc=None)
        timings.append(("ray", ray_seconds))
        ray.shutdown()
    same, gap = compare(local, ray_scored)
    what = "Qwen2.5-1.5B architecture" if args.gpu else "tiny Qwen2"
    shape = f"{what} judge ({layers} layers, vocabulary {vocab:,})"
    if smoke:
        print(f"smoke run of the GPU Ray benchmark on {args.device}: {shape}")
        print(f"smoke run: {rows_count} rows scored by both engines; same rows: {same} (largest difficulty gap "
              f"{gap:.1e})")  # fmt: skip
        return
    cpus, gpus = int(cluster.get("CPU", 0)), int(cluster.get("GPU", 0))
    print(f"{rows_count:,} rows, trace length + {shape}; Ray cluster: {cpus} CPUs, {gpus} GPUs, started in "
          f"{ray_start:.1f} s (not counted)")  # fmt: skip
    print("| engine | seconds | rows/s |")
    print("|---|---|---|")
    for name, seconds in timings:
        print(f"| {name} | {seconds:,.1f} | {rows_count / seconds:,.0f} |")
    fastest_local = min(seconds for name, seconds in timings if name != "ray")
    print(f"ray / local time: {ray_seconds / local_seconds:.2f}x (against the faster local run: "
          f"{ray_seconds / fastest_local:.2f}x); same rows: {same} (largest difficulty gap {gap:.1e})")  # fmt: skip


if __name__ == "__main__":
    main()
