"""Throughput of the judge difficulty scorer (s2r_hf.signals.judge.scorer). Prints a table; no pass/fail.

CPU (default): a ~20M-parameter Qwen2 with random weights and a byte-level BPE tokenizer trained on the shared data,
scoring real questions (../shared/data: benchmark problems and the long-CoT pool's questions), three ways in one run:
- ours: `LoadedJudge.score` (length-sorted token-budget batches, one forward pass, head at the last position only);
- naive: `generate(max_new_tokens=1, output_scores=True, return_dict_in_generate=True)`, one question at a time;
- batched generate: the same call on batches of `--generate-batch` questions in input order, default (right) padding.
Reports questions/s, speed-up ratios, the share of processed tokens that were padding, and each method's largest
difference from ours (right-padded batched generate reads the wrong position for all but the longest prompt).

    python benchmarks/bench_judge.py --questions 2000

GPU (`--gpu`): a model with the architecture of Qwen2.5-1.5B-Instruct (random weights from its config) in bf16 scoring
`--prompts` prompts (default 100,000) whose lengths follow the real questions' token lengths plus the chat template's
overhead; prints prompts/s, tokens/s and model FLOP utilisation against the GPU's measured bf16 matmul peak, and the
time this implies for OpenR1-Math-220k's 93,733-row default split.

    python benchmarks/bench_judge.py --gpu --prompts 100000

`--gpu --device cpu` is a smoke run of that same code on the CPU, so it cannot rot unseen between GPU days: the model
keeps the architecture's vocabulary and layout but narrow layers (benchmarks/architectures.py), and it prints what was
scored, not a figure (timings on a CPU say nothing about a GPU).

    python benchmarks/bench_judge.py --gpu --device cpu --prompts 16 --layers 1 --vocab 300
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from architectures import QWEN25_15B

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # fixtures.tiny_models: the tokenizer recipe the tests use

OPENR1_DEFAULT_ROWS = 93_733
# ~20M parameters: 6 layers x 2.8M + a tied 8192 x 512 embedding (4.2M).
CPU_JUDGE = {
    "hidden_size": 512,
    "intermediate_size": 1408,
    "num_hidden_layers": 6,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "tie_word_embeddings": True,
    "max_position_embeddings": 8192,
}


def real_questions() -> list[str]:
    """Every question in the shared data: benchmark problems and the pool's questions."""
    questions = []
    for path in sorted((SHARED_DATA / "benchmarks").glob("*/test.jsonl")) + sorted(
        (SHARED_DATA / "pools").glob("*/train.jsonl")
    ):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                text = row.get("problem") or row.get("question")
                if text and text.strip():
                    questions.append(text)
    if not questions:
        raise FileNotFoundError(f"no questions found under {SHARED_DATA}; the benchmark needs ../shared/data")
    return questions


def corpus() -> list[str]:
    texts = []
    for path in sorted(SHARED_DATA.glob("*/*/*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                texts.extend(str(v)[:4000] for v in row.values() if isinstance(v, str))
    return texts


def build_judge(folder: Path, vocab_size: int, architecture: dict, seed: int = 0) -> Path:
    """A random-weight Qwen2 and a BPE tokenizer trained on the shared data, saved together in `folder`."""
    import torch
    from fixtures.tiny_models import build_tokenizer
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer(corpus(), folder, vocab_size=vocab_size)
    torch.manual_seed(seed)
    config = Qwen2Config(
        **{"vocab_size": len(tokenizer), **architecture},
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = Qwen2ForCausalLM(config)
    model.save_pretrained(folder)
    return folder


def two_token_score(scores_row, zero: int, one: int) -> float:
    import torch

    pair = scores_row[[zero, one]].double()
    return torch.softmax(pair, dim=-1)[1].item()


def run_naive(model, tokenizer, questions, zero, one) -> list[float]:
    from s2r_hf.signals.judge.prompt import judge_messages

    out = []
    for question in questions:
        ids = tokenizer.apply_chat_template(
            judge_messages(question), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        generated = model.generate(
            **ids,
            max_new_tokens=1,
            do_sample=False,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
        )
        out.append(two_token_score(generated.scores[0][0], zero, one))
    return out


def run_batched_generate(model, tokenizer, questions, zero, one, batch_size) -> tuple[list[float], float]:
    from s2r_hf.signals.judge.prompt import judge_messages

    out, real, total = [], 0, 0
    for start in range(0, len(questions), batch_size):
        texts = [
            tokenizer.apply_chat_template(judge_messages(q), add_generation_prompt=True, tokenize=False)
            for q in questions[start : start + batch_size]
        ]
        encoded = tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
        real += int(encoded["attention_mask"].sum())
        total += encoded["attention_mask"].numel()
        generated = model.generate(
            **encoded,
            max_new_tokens=1,
            do_sample=False,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
        )
        out.extend(two_token_score(row, zero, one) for row in generated.scores[0])
    return out, (total - real) / total


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def bench_cpu(args) -> None:
    import tempfile

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from s2r_hf.signals.judge.model import LoadedJudge, default_batch_tokens

    if args.threads:
        torch.set_num_threads(args.threads)
    questions = real_questions()
    random.Random(0).shuffle(questions)
    if args.questions > len(questions):
        raise SystemExit(f"only {len(questions)} real questions are available; asked for {args.questions}")
    questions = questions[: args.questions]
    with tempfile.TemporaryDirectory(prefix="s2r-bench-judge-") as tmp:
        architecture = {**CPU_JUDGE, "num_hidden_layers": args.layers}
        folder = build_judge(Path(tmp) / "judge", vocab_size=args.vocab, architecture=architecture)
        judge = LoadedJudge.load(str(folder), device="cpu", dtype="float32")
        parameters = sum(p.numel() for p in judge.model.parameters())
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
        zero, one = judge.zero_id, judge.one_id

        warm = questions[:16]
        judge.score(warm, batch_tokens=args.batch_tokens)
        with torch.inference_mode():
            run_naive(model, tokenizer, warm[:4], zero, one)
            run_batched_generate(model, tokenizer, warm, zero, one, args.generate_batch)

        ours, t_ours = timed(judge.score, questions, batch_tokens=args.batch_tokens)
        judge_budget = args.batch_tokens or default_batch_tokens("cpu")
        with torch.inference_mode():
            naive, t_naive = timed(run_naive, model, tokenizer, questions, zero, one)
            (batched, batched_padding), t_batched = timed(
                run_batched_generate, model, tokenizer, questions, zero, one, args.generate_batch
            )
    n = len(questions)
    prompt_tokens = ours.prompt_tokens
    print(
        f"\nCPU judge benchmark: {n} real questions, Qwen2 {parameters / 1e6:.1f}M parameters ({args.layers} layers, "
        f"random weights, vocab {args.vocab}), float32, {torch.get_num_threads()} threads; "
        f"{prompt_tokens} prompt tokens "
        f"(mean {prompt_tokens / n:.0f}, max {max(len(p) for p in judge.encode(questions)[0])}); ours ran "
        f"{ours.real_tokens} of them (shared template prefix run once per batch) + {ours.padded_tokens} padding\n"
    )
    print("| method | seconds | questions/s | speed-up of ours | padding share | max abs diff vs ours |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    rows = [
        (f"ours (token budget {judge_budget}, sorted)", t_ours, ours.padding_fraction, 0.0),
        ("naive generate, one at a time", t_naive, 0.0, max(abs(a - b) for a, b in zip(naive, ours.scores))),
        (
            f"batched generate ({args.generate_batch}/batch, default padding)",
            t_batched,
            batched_padding,
            max(abs(a - b) for a, b in zip(batched, ours.scores)),
        ),
    ]
    for name, seconds, padding, diff in rows:
        print(f"| {name} | {seconds:.2f} | {n / seconds:.1f} | {seconds / t_ours:.2f}x | {padding:.1%} | {diff:.1e} |")
    print(
        f"\nours vs naive: {t_naive / t_ours:.1f}x (target >= 10x); ours vs batched generate: "
        f"{t_batched / t_ours:.1f}x (target >= 2x); our padding {ours.padding_fraction:.1%} of processed tokens "
        f"(target < 10%), {ours.batches} forward passes"
    )


def measured_bf16_peak(device: str, synchronize, size: int = 8192, repeats: int = 50) -> float:
    """FLOP/s of a large bf16 matmul on this GPU: the practical ceiling MFU is measured against."""
    import torch

    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(5):
        a @ b
    synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def forward_flops(config, lengths: list[int], tokens_run: int) -> float:
    """Model FLOPs of scoring prompts of these lengths: the matmuls of every token run, causal attention, one head row.

    Parameters: per layer q,o (h x h), k,v (h x kv), the gated MLP (3 x h x i); 2 FLOPs per multiply-add, over the
    `tokens_run` real tokens (a prefix shared by a batch runs once, so it counts once). Attention scores and values:
    2 x 2 x h x (n^2 / 2) per layer for a causal prompt of n tokens. The output head runs at one position per prompt
    (2 x h x vocab). Padding is not counted: MFU here is useful work only.
    """
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    kv = h // config.num_attention_heads * config.num_key_value_heads
    per_token = 2 * layers * (2 * h * h + 2 * h * kv + 3 * h * i)
    attention = sum(2 * 2 * layers * h * n * n / 2 for n in lengths)
    head = 2 * h * config.vocab_size * len(lengths)
    return per_token * tokens_run + attention + head


def bench_gpu(args) -> None:
    """The GPU benchmark; on a device other than CUDA (`--device cpu`), a smoke run of the same code (see the
    module docstring): narrow layers, and what was scored printed instead of figures."""
    import tempfile

    from architectures import check_gpu_device, qwen25_config

    device = args.device
    smoke = check_gpu_device(device)  # before the slow imports: no CUDA says so at once
    import torch
    from transformers import Qwen2ForCausalLM

    from s2r_hf.signals.judge.model import LoadedJudge
    from s2r_hf.signals.judge.prompt import judge_messages

    with tempfile.TemporaryDirectory(prefix="s2r-bench-judge-") as tmp:
        # Qwen's own tokenizer cannot be downloaded here: a BPE trained on the data gives the real prompts' structure
        # (template prefix, question, generation prompt) and lengths close to a large-vocabulary tokenizer's.
        tokenizer = build_tokenizer_only(Path(tmp) / "tok", vocab_size=args.vocab)
        texts = [
            tokenizer.apply_chat_template(judge_messages(q), add_generation_prompt=True, tokenize=False)
            for q in real_questions()
        ]
        real_prompts = [
            ids[: args.max_prompt_tokens] for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]
        ]
    rng = random.Random(0)
    prompts = [rng.choice(real_prompts) for _ in range(args.prompts)]  # the real length distribution, resampled
    lengths = [len(p) for p in prompts]

    config = qwen25_config(args.layers, smoke)
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16).eval()
    judge = LoadedJudge(model, tokenizer, device=device, dtype="bfloat16", source="qwen2.5-1.5b-architecture")
    parameters = sum(p.numel() for p in model.parameters())

    synchronize = torch.cuda.synchronize if not smoke else (lambda: None)
    judge.score_prompts(prompts[:2000], batch_tokens=args.batch_tokens)  # warm-up: kernels, allocator
    synchronize()
    result, seconds = timed(judge.score_prompts, prompts, batch_tokens=args.batch_tokens)
    synchronize()
    peak = measured_bf16_peak(device, synchronize, *((64, 1) if smoke else (8192, 50)))
    flops = forward_flops(config, lengths, result.real_tokens)
    achieved = flops / seconds
    tokens = sum(lengths)
    shape = (
        f"Qwen2.5-1.5B architecture ({args.layers} layers{', smoke widths' if smoke else ''}) "
        f"({parameters / 1e9:.2f}B parameters, random weights), bf16, attention {model.config._attn_implementation}, "
        f"token budget {args.batch_tokens}"
    )
    if smoke:
        scores = result.scores
        print(
            f"\nsmoke run of the GPU judge benchmark on {device}: {shape}\n"
            f"smoke run: {len(scores)} prompts scored ({tokens} tokens, {result.batches} forward passes, padding share "
            f"{result.padding_fraction:.1%}), scores in [{min(scores):.4f}, {max(scores):.4f}]; no figure: timings "
            f"on {device} say nothing about a GPU"
        )
        return
    print(
        f"\nGPU judge benchmark: {torch.cuda.get_device_name(device)}, {shape}\n"
        f"{args.prompts} prompts, {tokens} tokens (mean {tokens / len(lengths):.0f}, max {max(lengths)}), "
        f"real questions in the chat template, resampled\n"
    )
    print("| prompts/s | tokens/s | padding share | model TFLOP/s | measured bf16 peak TFLOP/s | MFU |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {len(prompts) / seconds:,.0f} | {tokens / seconds:,.0f} | {result.padding_fraction:.1%} | "
        f"{achieved / 1e12:.0f} | {peak / 1e12:.0f} | {achieved / peak:.1%} |"
    )
    per_row = seconds / len(prompts)
    print(
        f"\nestimated time to score OpenR1-Math-220k default ({OPENR1_DEFAULT_ROWS:,} rows) on this GPU: "
        f"{per_row * OPENR1_DEFAULT_ROWS / 60:.1f} min (forward passes only; tokenisation runs on the CPU)"
    )


def build_tokenizer_only(folder: Path, vocab_size: int):
    from fixtures.tiny_models import build_tokenizer

    return build_tokenizer(corpus(), folder, vocab_size=vocab_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=2000, help="CPU: real questions to score")
    parser.add_argument(
        "--vocab", type=int, default=None, help="BPE vocabulary trained on the data (8192 CPU, 32768 GPU)"
    )
    parser.add_argument(
        "--batch-tokens",
        type=int,
        default=None,
        help="token budget (default: the library's on CPU, 65536 on GPU)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU: torch threads for every method (default: torch's choice)"
    )
    parser.add_argument("--generate-batch", type=int, default=32, help="CPU: batch size of the batched generate")
    parser.add_argument("--gpu", action="store_true", help="the Qwen2.5-1.5B-architecture benchmark on CUDA")
    parser.add_argument("--prompts", type=int, default=100_000, help="GPU: prompts to score")
    parser.add_argument(
        "--device", default="cuda:0", help="GPU: device (cpu: a smoke run of this code path, narrow layers, no figure)"
    )
    parser.add_argument(
        "--layers", type=int, default=None, help="decoder layers (default 6 on CPU; GPU: 28 = Qwen2.5-1.5B)"
    )
    parser.add_argument("--max-prompt-tokens", type=int, default=4096, help="GPU: prompts are capped at this length")
    args = parser.parse_args()
    if args.vocab is None:
        args.vocab = 32768 if args.gpu else 8192
    if args.layers is None:
        args.layers = QWEN25_15B["num_hidden_layers"] if args.gpu else CPU_JUDGE["num_hidden_layers"]
    if args.batch_tokens is None:
        # GPUs need large batches to fill their matmul units.
        args.batch_tokens = 65536 if args.gpu else None  # CPU: the library's default
    if args.gpu:
        bench_gpu(args)
    else:
        bench_cpu(args)


if __name__ == "__main__":
    main()
