"""Training cost of a Select2Reason subset, measured side by side in one run.

1. Tokens: the trainer tokens (chat template applied, as TRL's SFTTrainer tokenizes) in the 10% joint subset of the
   real pool (../shared/data, 291 DeepSeek-R1-Distill traces) against the whole pool and a random 10%. Training time
   grows with tokens (faster than linearly, through attention), so this ratio is where the paper's "about a quarter of
   the training time" comes from. The real pool has no difficulty signal (no rollouts, no judge scores here), so a
   pseudo-random stand-in is used, as in the tests: the joint rank is then driven mostly by trace length.
   Also timed: `prepare_sft_dataset` (batched chat template + batch encoding) against the naive per-row map.
2. CPU throughput of the tiny recipe (2-layer Qwen2, hidden 32) with and without packing: non-padding tokens per
   second of real SFTTrainer steps on real traces cut to varied lengths.
3. `--gpu` (NEVER RUN YET: no GPU was available when it was written): 20 steps of the Qwen2.5-1.5B recipe at 16k tokens
   with random weights built from the model's configuration, bf16, tokens/s and MFU, with and without liger-kernel and
   packing.

    python benchmarks/bench_training.py            # parts 1 and 2 (a few minutes on 2 cores)
    python benchmarks/bench_training.py --gpu      # part 3, on a CUDA machine
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_POOL = REPO.parent / "shared" / "data" / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"
sys.path.insert(0, str(REPO / "tests"))


def naive_lengths(row, tokenizer):
    """What a transformers user writes first: one row at a time."""
    return {"n": len(tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True)["input_ids"])}


def scored_pool(tmp: Path, tokenizer_dir: Path):
    from s2r_hf.pipeline.score import ScoreConfig, score_pool

    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["difficulty_stand_in"] = (row["id"] * 37 % 101) / 100
    path = tmp / "pool.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    config = ScoreConfig(
        source=str(path),
        question_column="question",
        trace_column="solution",
        id_column="id",
        difficulty="column:difficulty_stand_in",
        tokenizer=str(tokenizer_dir),
    )
    return score_pool(config)[0]


def part_tokens(tmp: Path, tokenizer_dir: Path) -> None:
    import datasets
    from transformers import AutoTokenizer

    from s2r_hf import prepare_sft_dataset, select
    from s2r_hf.training.sft_data import TOKENS_COLUMN, measure_sft_tokens

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    pool = scored_pool(tmp, tokenizer_dir)
    datasets.disable_caching()
    start = time.perf_counter()
    _, report = prepare_sft_dataset(pool, tokenizer, 10**9)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    naive = pool.map(naive_lengths, fn_kwargs={"tokenizer": tokenizer})
    slow = time.perf_counter() - start
    assert sum(naive["n"]) == report.tokens_in
    print(
        f"measuring {len(pool)} conversations: prepare_sft_dataset {ours:.2f} s, per-row map {slow:.2f} s "
        f"({slow / ours:.1f}x)"
    )

    def tokens(subset) -> int:
        return sum(measure_sft_tokens(subset, tokenizer)[TOKENS_COLUMN])

    whole = tokens(pool)
    joint = tokens(select(pool, ratio=0.1))
    longest = tokens(select(pool, ratio=0.1, strategy="longest"))
    randoms = [tokens(select(pool, ratio=0.1, strategy="random", seed=seed)) for seed in range(5)]
    random_mean = sum(randoms) / len(randoms)
    print(f"\ntrainer tokens (tiny BPE tokenizer, chat template applied), pool of {len(pool)} rows:")
    print(f"  whole pool          {whole:>10,}  1.000")
    print(f"  joint 10% (w=0.25)  {joint:>10,}  {joint / whole:.3f} of the pool, {joint / random_mean:.2f}x random 10%")
    print(f"  longest 10%         {longest:>10,}  {longest / whole:.3f}")
    print(
        f"  random 10% (5 seeds, mean) {random_mean:>10,.0f}  {random_mean / whole:.3f}  "
        f"(min {min(randoms):,}, max {max(randoms):,})"
    )


def varied_examples(count: int, seed: int = 0):
    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        row = rows[index % len(rows)]
        cut = rng.randint(200, 3500)
        examples.append(
            [{"role": "user", "content": row["question"]}, {"role": "assistant", "content": row["solution"][:cut]}]
        )
    return examples


def part_cpu_throughput(tmp: Path, model_dir: Path, steps: int) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from s2r_hf import prepare_sft_dataset

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    data, report = prepare_sft_dataset(Dataset.from_dict({"messages": varied_examples(400)}), tokenizer, 2048)
    print(
        f"\nCPU throughput of the tiny recipe: {report.rows_kept} real traces cut to varied lengths "
        f"(mean {report.tokens_kept / report.rows_kept:.0f} tokens, max 2048), batch 4, {steps} steps"
    )
    results = {}
    for packing in (False, True):
        args = SFTConfig(
            output_dir=str(tmp / f"packing-{packing}"),
            max_length=2048,
            packing=packing,
            use_cpu=True,
            bf16=False,
            gradient_checkpointing=False,
            per_device_train_batch_size=4,
            max_steps=steps,
            logging_steps=steps,
            save_strategy="no",
            report_to="none",
            include_num_input_tokens_seen="non_padding",
            disable_tqdm=True,
            seed=0,
        )
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
        results[packing] = trainer.state.num_input_tokens_seen / seconds
        print(
            f"  packing={packing!s:<5}  {trainer.state.num_input_tokens_seen:>8,} tokens in {seconds:6.1f} s = "
            f"{results[packing]:8,.0f} tokens/s"
        )
    print(f"  packing / no packing: {results[True] / results[False]:.2f}x")


def part_gpu(tmp: Path, steps: int) -> None:
    """NEVER RUN YET. Qwen2.5-1.5B-Instruct's architecture with random weights, 16k-token sequences, bf16."""
    import torch
    from datasets import Dataset
    from fixtures.tiny_models import build_tokenizer
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
    from trl import SFTConfig, SFTTrainer

    if not torch.cuda.is_available():
        sys.exit("--gpu needs a CUDA device")
    config = Qwen2Config(  # Qwen/Qwen2.5-1.5B-Instruct's config.json (the Hub cannot be reached to read it)
        vocab_size=151936,
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        tie_word_embeddings=True,
        rms_norm_eps=1e-6,
    )
    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    tokenizer = build_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), tmp / "tok", vocab_size=8192)
    tokenizer = AutoTokenizer.from_pretrained(tmp / "tok")
    length = 16384
    # Sequences of exactly 16k tokens of real text (the tokenizer's ids fit Qwen's vocabulary).
    text = "\n".join(r["solution"] for r in rows)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    data = Dataset.from_dict({"input_ids": [ids[i * length : (i + 1) * length] for i in range(64)]})
    parameters = None
    peak = 989e12 if "H100" in torch.cuda.get_device_name() or "H200" in torch.cuda.get_device_name() else None
    for liger in (False, True):
        for packing in (False, True):
            model = Qwen2ForCausalLM(config).to(torch.bfloat16)
            parameters = sum(p.numel() for p in model.parameters())
            args = SFTConfig(
                output_dir=str(tmp / f"gpu-{liger}-{packing}"),
                max_length=length,
                packing=packing,
                bf16=True,
                use_liger_kernel=liger,
                gradient_checkpointing=True,
                per_device_train_batch_size=1,
                max_steps=steps,
                logging_steps=steps,
                save_strategy="no",
                report_to="none",
                include_num_input_tokens_seen="non_padding",
                disable_tqdm=True,
            )
            trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
            torch.cuda.synchronize()
            start = time.perf_counter()
            trainer.train()
            torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            tokens_per_second = trainer.state.num_input_tokens_seen / seconds
            # 6 N per token for the dense weights, plus causal attention: 6 * layers * hidden * length per token.
            flops = tokens_per_second * (6 * parameters + 6 * config.num_hidden_layers * config.hidden_size * length)
            mfu = f"{flops / peak:.1%}" if peak else "unknown peak"
            print(
                f"liger={liger!s:<5} packing={packing!s:<5} {tokens_per_second:10,.0f} tokens/s  MFU {mfu}  "
                f"peak memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB"
            )
            del trainer, model
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-steps", type=int, default=10)
    parser.add_argument("--gpu", action="store_true", help="run part 3 only (NEVER RUN YET)")
    parser.add_argument("--gpu-steps", type=int, default=20)
    args = parser.parse_args()
    if not REAL_POOL.exists():
        sys.exit(f"the real pool is not at {REAL_POOL}; this benchmark needs ../shared/data")
    import datasets
    from fixtures.tiny_models import build_qwen2, build_tokenizer

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.gpu:
            part_gpu(tmp, args.gpu_steps)
            return
        rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
        tokenizer = build_tokenizer([r["question"] + "\n" + r["solution"][:4000] for r in rows], tmp / "tok")
        build_qwen2(tokenizer, tmp / "model")
        part_tokens(tmp, tmp / "tok")
        part_cpu_throughput(tmp, tmp / "model", args.cpu_steps)


if __name__ == "__main__":
    main()
