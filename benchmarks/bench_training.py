"""Training cost of a Select2Reason subset, measured side by side in one run.

1. Tokens: the trainer tokens (chat template applied, as TRL's SFTTrainer tokenizes) in the 10% joint subset of the
   real pool (../shared/data, 291 DeepSeek-R1-Distill traces) against the whole pool and a random 10%. Training time
   grows with tokens (faster than linearly, through attention), so this ratio is where the paper's "about a quarter of
   the training time" comes from. The real pool has no difficulty signal (no rollouts, no judge scores here), so a
   pseudo-random stand-in is used, as in the tests: the joint rank is then driven mostly by trace length.
   Also timed: `prepare_sft_dataset` (batched chat template + batch encoding) against the naive per-row map.
2. CPU throughput of the tiny recipe (2-layer Qwen2, hidden 32) with and without packing: non-padding tokens per
   second of real SFTTrainer steps on real traces cut to varied lengths.
3. `--gpu` (NEVER RUN ON A GPU YET: none was available when it was written): 20 steps of the shipped qwen2.5-1.5b
   recipe (loaded as `s2r train` loads it; one sequence per optimizer step on one GPU) at 16k tokens with random weights
   built from the model's configuration, tokens/s and MFU, with and without liger-kernel and packing.
   `--gpu --device cpu` is a smoke run of that same code on the CPU, so it cannot rot unseen between GPU days: narrow
   layers (benchmarks/architectures.py), short sequences (`--length`), and it prints what ran, not a figure.

    python benchmarks/bench_training.py            # parts 1 and 2 (a few minutes on 2 cores)
    python benchmarks/bench_training.py --rows 20 --examples 8 --max-length 512 --cpu-steps 1   # parts 1 and 2, tiny
    python benchmarks/bench_training.py --gpu      # part 3, on a CUDA machine
    python benchmarks/bench_training.py --gpu --device cpu --layers 1 --length 64 --gpu-steps 1 --vocab 300  # smoke run
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
GPU_RECIPE = "qwen2.5-1.5b"  # the shipped recipe part 3 trains with


def naive_lengths(row, tokenizer):
    """What a transformers user writes first: one row at a time."""
    return {"n": len(tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True)["input_ids"])}


def scored_pool(tmp: Path, tokenizer_dir: Path, rows: int | None):
    from s2r_hf.pipeline.score import ScoreConfig, score_pool

    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()][:rows]
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


def part_tokens(tmp: Path, tokenizer_dir: Path, rows: int | None) -> None:
    import datasets
    from transformers import AutoTokenizer

    from s2r_hf import prepare_sft_dataset, select
    from s2r_hf.training.sft_data import TOKENS_COLUMN, measure_sft_tokens

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    pool = scored_pool(tmp, tokenizer_dir, rows)
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


def varied_examples(count: int, max_length: int, seed: int = 0):
    """`count` conversations of a real question and its trace cut to a random length (in proportion to max_length)."""
    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        row = rows[index % len(rows)]
        cut = rng.randint(200 * max_length // 2048, 3500 * max_length // 2048)
        examples.append(
            [{"role": "user", "content": row["question"]}, {"role": "assistant", "content": row["solution"][:cut]}]
        )
    return examples


def part_cpu_throughput(tmp: Path, model_dir: Path, steps: int, examples: int, max_length: int) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from s2r_hf import prepare_sft_dataset

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    conversations = Dataset.from_dict({"messages": varied_examples(examples, max_length)})
    data, report = prepare_sft_dataset(conversations, tokenizer, max_length)
    print(
        f"\nCPU throughput of the tiny recipe: {report.rows_kept} real traces cut to varied lengths "
        f"(mean {report.tokens_kept / report.rows_kept:.0f} tokens, max {max_length}), batch 4, {steps} steps"
    )
    results = {}
    for packing in (False, True):
        args = SFTConfig(
            output_dir=str(tmp / f"packing-{packing}"),
            max_length=max_length,
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


def fixed_length_sequences(tokenizer, texts: list[str], count: int, length: int) -> list[list[int]]:
    """`count` sequences of exactly `length` tokens of `texts` read in order (from the first again if they run out; the
    pool's solutions hold about 1.1M tokens of the 8192-token BPE); only as many texts are tokenized as that takes."""
    ids: list[int] = []
    for index in range(10 * len(texts)):
        if len(ids) >= count * length:
            break
        ids += tokenizer(texts[index % len(texts)] + "\n", add_special_tokens=False)["input_ids"]
    if len(ids) < count * length:
        raise ValueError(f"the texts hold too few tokens for {count} sequences of {length}: {len(ids)}")
    return [ids[index * length : (index + 1) * length] for index in range(count)]


def recipe_args(output_dir: Path, model_dir: Path, steps: int, length: int, liger: bool, packing: bool, cpu: bool):
    """(ScriptArguments, S2RSFTConfig, ModelConfig) of the GPU recipe, read as `s2r train --config` reads it, with what
    a throughput run changes: a few steps, no saving, one sequence per optimizer step (the recipe's accumulation is for
    8 GPUs and changes nothing per token), and the sequences already tokenized (one process to prepare them)."""
    from s2r_hf.training.sft import parse_train_args

    flags = {
        "output_dir": output_dir,
        "model_name_or_path": model_dir,
        "max_steps": steps,
        "logging_steps": steps,
        "save_strategy": "no",
        "gradient_accumulation_steps": 1,
        "max_length": length,
        "packing": packing,
        "use_liger_kernel": liger,
        "disable_tqdm": True,
        "dataset_num_proc": 1,
        **({"use_cpu": True} if cpu else {}),
    }
    script_args, training_args, model_args = parse_train_args(
        ["--config", GPU_RECIPE, *(word for key, value in flags.items() for word in (f"--{key}", str(value)))]
    )
    # Counted as the CPU part counts them; the command line reads this option as a yes/no flag, hence set here.
    training_args.include_num_input_tokens_seen = "non_padding"
    return script_args, training_args, model_args


def part_gpu(tmp: Path, steps: int, device: str, smoke: bool, layers: int, length: int, vocab: int) -> None:
    """The qwen2.5-1.5b recipe on Qwen2.5-1.5B-Instruct's architecture with random weights; on a device other than
    CUDA (`--device cpu`), a smoke run of the same code (see the module docstring)."""
    import importlib.util

    import torch
    from architectures import qwen25_config
    from datasets import Dataset
    from fixtures.tiny_models import build_tokenizer
    from transformers import AutoTokenizer, Qwen2ForCausalLM
    from trl import SFTTrainer

    from s2r_hf.training.sft import load_model

    config = qwen25_config(layers, smoke)
    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    build_tokenizer((r["question"] + "\n" + r["solution"] for r in rows), tmp / "tok", vocab_size=vocab)
    tokenizer = AutoTokenizer.from_pretrained(tmp / "tok")
    # Random weights built from the configuration, saved once, then loaded for each run as `s2r train` loads a model
    # (the recipe's dtype and attention, flash-attn falling back to sdpa when it is not installed).
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).to(torch.bfloat16).save_pretrained(tmp / "model")
    tokenizer.save_pretrained(tmp / "model")
    # Sequences of exactly `length` tokens of real text (the tokenizer's ids fit Qwen's vocabulary).
    sequences = fixed_length_sequences(tokenizer, [r["solution"] for r in rows], steps, length)
    data = Dataset.from_dict({"input_ids": sequences})
    peak = None
    if not smoke:
        name = torch.cuda.get_device_name(device)
        peak = 989e12 if "H100" in name or "H200" in name else None  # dense bf16, SXM
    liger_installed = importlib.util.find_spec("liger_kernel") is not None
    for liger in (False, True):
        if liger and not liger_installed:
            print("liger=True: skipped, liger-kernel is not installed (pip install liger-kernel)")
            continue
        for packing in (False, True):
            _, args, model_args = recipe_args(tmp / f"run-{liger}-{packing}", tmp / "model", steps, length, liger,
                                              packing, smoke)  # fmt: skip
            model = load_model(model_args, args)
            parameters = sum(p.numel() for p in model.parameters())
            trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
            synchronize = torch.cuda.synchronize if not smoke else (lambda: None)
            synchronize()
            start = time.perf_counter()
            trainer.train()
            synchronize()
            seconds = time.perf_counter() - start
            seen = trainer.state.num_input_tokens_seen
            if smoke:
                loss = trainer.state.log_history[-1].get("train_loss")
                print(
                    f"smoke run: liger={liger!s:<5} packing={packing!s:<5} {trainer.state.global_step} steps, "
                    f"{seen} tokens seen, {parameters / 1e6:.1f}M parameters, train loss {loss:.3f}, "
                    f"attention {model.config._attn_implementation}; no figure: timings on {device} say nothing "
                    "about a GPU"
                )
                del trainer, model
                continue
            tokens_per_second = seen / seconds
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
    parser.add_argument("--cpu-steps", type=int, default=10, help="part 2: training steps of each run")
    parser.add_argument("--rows", type=int, default=None, help="part 1: the first ROWS rows of the pool (default all)")
    parser.add_argument("--examples", type=int, default=400, help="part 2: traces to train on")
    parser.add_argument(
        "--max-length", type=int, default=2048, help="part 2: tokens per sequence (the traces are cut in proportion)"
    )
    parser.add_argument("--gpu", action="store_true", help="run part 3 only (NEVER RUN ON A GPU YET)")
    parser.add_argument("--gpu-steps", type=int, default=20, help="part 3: optimizer steps of each run")
    parser.add_argument(
        "--device", default="cuda", help="part 3: device (cpu: a smoke run of this code path, narrow layers, no figure)"
    )
    parser.add_argument("--layers", type=int, default=28, help="part 3: decoder layers (28 = Qwen2.5-1.5B)")
    parser.add_argument("--length", type=int, default=16384, help="part 3: tokens per sequence")
    parser.add_argument("--vocab", type=int, default=8192, help="part 3: BPE vocabulary trained on the pool")
    args = parser.parse_args()
    if args.gpu:
        from architectures import check_gpu_device

        smoke = check_gpu_device(args.device)  # before the data and the imports: no CUDA says so at once
    if not REAL_POOL.exists():
        sys.exit(f"the real pool is not at {REAL_POOL}; this benchmark needs ../shared/data")
    import datasets
    from fixtures.tiny_models import build_qwen2, build_tokenizer

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.gpu:
            part_gpu(tmp, args.gpu_steps, args.device, smoke, args.layers, args.length, args.vocab)
            return
        rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
        tokenizer = build_tokenizer([r["question"] + "\n" + r["solution"][:4000] for r in rows], tmp / "tok")
        build_qwen2(tokenizer, tmp / "model")
        part_tokens(tmp, tmp / "tok", args.rows)
        part_cpu_throughput(tmp, tmp / "model", args.cpu_steps, args.examples, args.max_length)


if __name__ == "__main__":
    main()
