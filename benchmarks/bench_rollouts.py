"""Throughput of sampled rollouts (s2r_hf.signals.sampled), the `--difficulty sampled` scorer. Prints a table.

CPU (default): the tests' tiny Qwen2 (2 layers, hidden 32, random weights) and a byte-level BPE tokenizer of 512 tokens
trained on the demo pool, answering the demo pool's questions in the evaluation prompt, two ways in one run:
- ours: `TransformersSampler.sample` (the scorer's backend): `--batch-questions` questions x k completions per forward
  pass, length-sorted, left padding and a key/value cache, each completion with its own seeded generator;
- naive: one question at a time, `model.generate(do_sample=True, num_return_sequences=k)`.
Both sample with the same temperature, top-p and `--max-new-tokens`; random weights rarely end a completion, so nearly
every completion runs to the cap in both. Reports completions (rollouts) per second, new tokens per second, the ratio.

    python benchmarks/bench_rollouts.py --questions 64 --rollouts 8

GPU (`--gpu`): vLLM rollouts tokens/s for a model with the architecture of Qwen2.5-1.5B (random weights from its config,
written inline in benchmarks/architectures.py: no download), `--questions` prompts x k completions of `--max-new-tokens`
each (end-of-sequence ignored, so every completion has that length), prompts of real-question length.

    python benchmarks/bench_rollouts.py --gpu --questions 512 --rollouts 8 --max-new-tokens 1024

`--gpu --device cpu` is a smoke run of the GPU setup on the CPU (narrow layers, no figure). Where vLLM is not installed,
the GPU mode shows that setup through the transformers backend instead, and says so.

    python benchmarks/bench_rollouts.py --gpu --device cpu --questions 2 --rollouts 2 --max-new-tokens 4 --layers 1
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # fixtures.tiny_models: the tokenizer recipe the tests use

QWEN_END_OF_TURN = 151_645  # <|im_end|> in Qwen2.5's vocabulary: where its chat completions end


def demo_questions() -> list[str]:
    from s2r_hf.pool.demo import generate_rows

    return [row["problem"] for row in generate_rows()]


def build_cpu_model(folder: Path, args):
    """The tokenizer trained on the demo pool and a random Qwen2 of the given width, saved in `folder`."""
    from fixtures.tiny_models import build_qwen2, build_tokenizer

    from s2r_hf.pool.demo import generate_rows

    texts = [row["problem"] + "\n" + row["generations"][0] for row in generate_rows()]
    tokenizer = build_tokenizer(texts, folder, vocab_size=args.vocab)
    build_qwen2(tokenizer, folder, hidden_size=args.hidden, layers=args.layers)
    return folder


def run_naive(model, tokenizer, prompts, args) -> tuple[int, int]:
    """One question at a time through generate, k completions each; (completions, new tokens)."""
    import torch

    completions = tokens = 0
    for ids in prompts:
        inputs = torch.tensor([ids])
        out = model.generate(
            inputs,
            attention_mask=torch.ones_like(inputs),
            do_sample=True,
            temperature=args.temperature,
            top_p=args.top_p,
            max_new_tokens=args.max_new_tokens,
            num_return_sequences=args.rollouts,
            pad_token_id=tokenizer.pad_token_id,
        )
        new = out[:, inputs.shape[1] :]
        completions += new.shape[0]
        tokens += int((new != tokenizer.pad_token_id).sum())
    return completions, tokens


def bench_cpu(args) -> None:
    import torch

    from s2r_hf.signals.judge.store import question_key
    from s2r_hf.signals.sampled.generate import TransformersSampler, completion_seed, encode_prompts

    if args.threads:
        torch.set_num_threads(args.threads)
    questions = (demo_questions() * (args.questions // 200 + 1))[: args.questions]
    with tempfile.TemporaryDirectory(prefix="s2r-bench-rollouts-") as tmp:
        folder = build_cpu_model(Path(tmp) / "model", args)
        sampler = TransformersSampler.load(str(folder), device="cpu", dtype="float32")
    prompts = encode_prompts(sampler.tokenizer, questions, "bench")
    seeds = [[completion_seed(0, question_key(q), i) for i in range(args.rollouts)] for q in questions]
    parameters = sum(p.numel() for p in sampler.model.parameters())
    settings = {"max_new_tokens": args.max_new_tokens, "temperature": args.temperature, "top_p": args.top_p}
    start = time.perf_counter()
    results = sampler.sample(prompts, seeds, batch_questions=args.batch_questions, **settings)
    ours_seconds = time.perf_counter() - start
    ours_completions = sum(len(row) for row in results)
    ours_tokens = sum(c.new_tokens for row in results for c in row)
    torch.manual_seed(0)
    start = time.perf_counter()
    naive_completions, naive_tokens = run_naive(sampler.model, sampler.tokenizer, prompts, args)
    naive_seconds = time.perf_counter() - start
    print(
        f"CPU rollouts benchmark: {len(questions)} questions x {args.rollouts} completions, Qwen2 "
        f"{parameters / 1e6:.2f}M parameters ({args.layers} layers, hidden {args.hidden}), max {args.max_new_tokens} "
        f"new tokens, temperature {args.temperature}, top-p {args.top_p}, {torch.get_num_threads()} threads\n"
    )
    print("| method | completions | new tokens | rollouts/s | tokens/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = [
        (f"ours ({args.batch_questions} questions per pass)", ours_completions, ours_tokens, ours_seconds),
        ("naive (one question per generate)", naive_completions, naive_tokens, naive_seconds),
    ]
    for name, completions, tokens, seconds in rows:
        print(f"| {name} | {completions} | {tokens} | {completions / seconds:,.2f} | {tokens / seconds:,.1f} |")
    ratio = (ours_completions / ours_seconds) / (naive_completions / naive_seconds)
    print(f"\nours vs naive: {ratio:.2f}x rollouts/s")


def bench_gpu(args) -> None:
    from architectures import check_gpu_device, qwen25_config

    smoke = check_gpu_device(args.device)  # before the slow imports: no CUDA says so at once
    import torch
    from transformers import Qwen2ForCausalLM

    vllm = importlib.util.find_spec("vllm") is not None
    config = qwen25_config(args.layers, smoke)
    rng = random.Random(0)
    # Prompts of the length real questions have in the chat template (about 60 to 300 tokens), random ids.
    prompts = [[rng.randrange(1000, 100_000) for _ in range(rng.randint(60, 300))] for _ in range(args.questions)]
    with tempfile.TemporaryDirectory(prefix="s2r-bench-rollouts-gpu-") as tmp:
        folder = Path(tmp) / "qwen25-architecture"
        torch.manual_seed(0)
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
        model.save_pretrained(folder)
        parameters = sum(p.numel() for p in model.parameters())
        del model
        shape = (
            f"Qwen2.5-1.5B architecture ({args.layers} layers{', smoke widths' if smoke else ''}, "
            f"{parameters / 1e9:.2f}B parameters, random weights), bf16"
        )
        if vllm and not smoke:
            completions, tokens, seconds = run_vllm(folder, prompts, args)
            print(
                f"GPU rollouts benchmark (vLLM): {torch.cuda.get_device_name(args.device)}, {shape}\n"
                f"{len(prompts)} prompts x {args.rollouts} completions of {args.max_new_tokens} new tokens "
                f"(end-of-sequence ignored), tensor parallel {args.tensor_parallel}\n"
            )
            print("| completions | new tokens | seconds | rollouts/s | tokens/s |")
            print("| ---: | ---: | ---: | ---: | ---: |")
            print(
                f"| {completions} | {tokens} | {seconds:.1f} | {completions / seconds:,.1f} | {tokens / seconds:,.0f} |"
            )
            return
        completions, tokens = smoke_with_transformers(folder, prompts, args)
    backend = "vLLM" if vllm else "transformers (vLLM is not installed here)"
    print(
        f"smoke run of the GPU rollouts benchmark on {args.device}: {shape}, backend {backend}\n"
        f"smoke run: {len(prompts)} prompts x {args.rollouts} completions sampled, {completions} completions, "
        f"{tokens} new tokens; no figure: timings on {args.device} say nothing about a GPU"
    )


def run_vllm(folder: Path, prompts, args) -> tuple[int, int, float]:
    from vllm import LLM, SamplingParams

    llm = LLM(
        model=str(folder),
        skip_tokenizer_init=True,  # random ids in, ids out: no tokenizer of this vocabulary exists here
        dtype="bfloat16",
        seed=0,
        tensor_parallel_size=args.tensor_parallel,
    )
    params = SamplingParams(
        n=args.rollouts,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_new_tokens,
        ignore_eos=True,
        detokenize=False,
        seed=0,
    )
    requests = [{"prompt_token_ids": ids} for ids in prompts]
    llm.generate(requests[:8], params, use_tqdm=False)  # warm-up: graphs, allocator
    start = time.perf_counter()
    outputs = llm.generate(requests, params, use_tqdm=False)
    seconds = time.perf_counter() - start
    completions = sum(len(out.outputs) for out in outputs)
    tokens = sum(len(c.token_ids) for out in outputs for c in out.outputs)
    return completions, tokens, seconds


def smoke_with_transformers(folder: Path, prompts, args) -> tuple[int, int]:
    """The GPU setup through the scorer's transformers backend: the prompts are sampled, the counts printed."""
    import torch
    from transformers import AutoModelForCausalLM

    from s2r_hf.signals.sampled.generate import TransformersSampler

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()

    class NoTokenizer:  # random ids have no text: the counts are what a smoke run shows
        eos_token_id = QWEN_END_OF_TURN
        pad_token_id = 0

        @staticmethod
        def decode(tokens, skip_special_tokens=True):
            return ""

    sampler = TransformersSampler(model, NoTokenizer(), "cpu", str(folder))
    seeds = [[1000 * q + i for i in range(args.rollouts)] for q in range(len(prompts))]
    results = sampler.sample(
        [ids[:16] for ids in prompts],  # short prompts: the narrow smoke model on a CPU
        seeds,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        batch_questions=args.batch_questions,
    )
    return sum(len(row) for row in results), sum(c.new_tokens for row in results for c in row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=None, help="questions (default 64 CPU, 512 GPU)")
    parser.add_argument("--rollouts", type=int, default=8, help="completions per question (k)")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="cap per completion (64 CPU, 1024 GPU)")
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--batch-questions", type=int, default=8, help="ours: questions per forward pass")
    parser.add_argument("--vocab", type=int, default=512, help="CPU: BPE vocabulary trained on the demo pool")
    parser.add_argument("--hidden", type=int, default=32, help="CPU: hidden size of the random Qwen2")
    parser.add_argument("--layers", type=int, default=None, help="decoder layers (default 2 CPU; GPU: 28)")
    parser.add_argument("--threads", type=int, default=None, help="CPU: torch threads (default: torch's choice)")
    parser.add_argument(
        "--gpu", action="store_true", help="vLLM rollouts tokens/s on a Qwen2.5-1.5B-architecture model"
    )
    parser.add_argument("--device", default="cuda:0", help="GPU: device (cpu: a smoke run of the setup, no figure)")
    parser.add_argument("--tensor-parallel", type=int, default=1, help="GPU: vLLM tensor_parallel_size")
    args = parser.parse_args()
    if args.questions is None:
        args.questions = 512 if args.gpu else 64
    if args.max_new_tokens is None:
        args.max_new_tokens = 1024 if args.gpu else 64
    if args.layers is None:
        args.layers = 28 if args.gpu else 2
    if args.gpu:
        bench_gpu(args)
    else:
        bench_cpu(args)


if __name__ == "__main__":
    main()
