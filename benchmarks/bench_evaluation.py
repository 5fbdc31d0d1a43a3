"""Grading and generation throughput of the evaluation (s2r_hf.evaluation). Prints a table; no pass/fail.

CPU (default): the gold answers of the real benchmarks (../shared/data/benchmarks), written as a model writes a final
answer in several equivalent spellings (the boxed gold, `27.0` for `27`, `\\dfrac` for `\\frac`, a decimal for a simple
fraction, spaces), graded two ways in one run:
- ours: `grade_answer` (s2r_hf.answers: the last \\boxed{}, structural, symbolic and numeric equivalence);
- naive: string equality of the last \\boxed{} content with the gold, whitespace removed.
Reports completions/s of each, the ratio, and the share of equivalent spellings each accepts (and of wrong answers
each rejects).

    python benchmarks/bench_evaluation.py --per-benchmark 60

GPU (`--gpu`, needs a CUDA device, and vLLM in --python's environment for its half): MATH500 greedy with the
transformers backend and with the vLLM backend, through `evaluate_model`, on a model with the architecture of
Qwen2.5-1.5B-Instruct (random weights from its config; answers are noise, throughput is not) and a byte-level BPE
tokenizer trained here on the benchmark problems (Qwen's cannot be downloaded; the model's vocabulary stays Qwen's, ids
the tokenizer lacks decode to nothing), and prints generated tokens/s of each and their ratio. Both backends are
checked before either runs (vLLM must import in --python's environment).

    python benchmarks/bench_evaluation.py --gpu --problems 100 --max-new-tokens 1024 --python /path/to/vllm-env/python

`--gpu --device cpu` is a smoke run of that same code on the CPU, so it cannot rot unseen between GPU days: narrow
layers (benchmarks/architectures.py); the transformers half evaluates for real, the vLLM half is checked up to its
arguments and its interpreter (vLLM is rarely installed beside TRL); it prints what ran, not a figure.

    python benchmarks/bench_evaluation.py --gpu --device cpu --layers 1 --problems 1 --max-new-tokens 2 --vocab 300 \
        --batch-size 1
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from fractions import Fraction
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))  # fixtures.tiny_models: the offline tokenizer recipe the tests use
BENCHMARKS = REPO_ROOT.parent / "shared" / "data" / "benchmarks"
FOLDERS = {
    "math500": "math500",
    "aime24": "aime24",
    "aime25": "aime25",
    "amc23": "amc23",
    "minerva": "minerva_math",
    "olympiadbench": "olympiadbench",
}


def spellings(gold: str) -> list[str]:
    """Equivalent ways a model may write `gold`."""
    out = [gold, f" {gold} "]
    if re.fullmatch(r"-?\d+", gold):
        out.append(f"{int(gold)}.0")
    if "\\frac" in gold:
        out.append(gold.replace("\\frac", "\\dfrac"))
    match = re.fullmatch(r"\\frac\{(-?\d+)\}\{(\d+)\}", gold)
    if match:
        value = Fraction(int(match.group(1)), int(match.group(2)))
        if value.denominator in (2, 4, 5, 8, 10):
            out.append(str(float(value)))
    return out


def naive_grade(completion: str, gold: str) -> bool:
    from s2r_hf.pool.benchmarks import last_boxed

    found = last_boxed(completion)
    return found is not None and re.sub(r"\s+", "", found) == re.sub(r"\s+", "", gold)


def run_cpu(per_benchmark: int) -> None:
    from s2r_hf.evaluation.grading import grade_answer
    from s2r_hf.pool.benchmarks import load_benchmark

    logging.getLogger("lighteval.metrics.dynamic_metrics").setLevel(logging.ERROR)
    cases = []  # (completion, gold, should be correct)
    for name, folder in FOLDERS.items():
        answers = load_benchmark(name, BENCHMARKS / folder / "test.jsonl")["answer"][:per_benchmark]
        for gold in answers:
            cases += [(f"Checking again, the answer is \\boxed{{{form}}}.", gold, True) for form in spellings(gold)]
            cases.append(("Finally \\boxed{-987654321}.", gold, False))
    grade_answer("\\boxed{1}", "1")  # import and build the metric outside the timing
    results = {}
    for label, grade in (("ours: grade_answer", grade_answer), ("naive: last-boxed string equality", naive_grade)):
        start = time.perf_counter()
        verdicts = [grade(completion, gold) for completion, gold, _ in cases]
        elapsed = time.perf_counter() - start
        right = [v for v, (_, _, ok) in zip(verdicts, cases) if ok]
        wrong = [v for v, (_, _, ok) in zip(verdicts, cases) if not ok]
        results[label] = (len(cases) / elapsed, sum(right) / len(right), 1 - sum(wrong) / len(wrong))
    print(f"{len(cases)} completions ({per_benchmark} golds per benchmark, several spellings each, one wrong answer)")
    print(f"{'method':38s} {'completions/s':>14s} {'equivalent accepted':>20s} {'wrong rejected':>15s}")
    for label, (rate, accepted, rejected) in results.items():
        print(f"{label:38s} {rate:14.1f} {accepted:20.1%} {rejected:15.1%}")
    ours, naive = results["ours: grade_answer"], results["naive: last-boxed string equality"]
    print(
        f"speed ratio ours/naive: {ours[0] / naive[0]:.4f}; equivalent spellings accepted: "
        f"{ours[1]:.1%} vs {naive[1]:.1%}"
    )


def build_random_model(folder: Path, layers: int, smoke: bool, vocab_size: int) -> Path:
    """Qwen2.5-1.5B's architecture with random weights in bf16, and a tokenizer trained on the benchmark problems (with
    the chat template lighteval applies), saved together in `folder`."""
    import torch
    from architectures import qwen25_config
    from fixtures.tiny_models import build_tokenizer
    from transformers import AutoModelForCausalLM

    from s2r_hf.pool.benchmarks import load_benchmark

    problems = [
        text
        for name, folder_name in FOLDERS.items()
        for text in load_benchmark(name, BENCHMARKS / folder_name / "test.jsonl")["problem"]
    ]
    tokenizer = build_tokenizer(problems, folder, vocab_size=vocab_size)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(qwen25_config(layers, smoke), dtype=torch.bfloat16)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    return folder


def evaluation_options(backend: str, args) -> dict:
    """`evaluate_model`'s options for one backend: MATH500 (its real file), greedy as the paper preset has it."""
    return {
        "tasks": "math500",
        "backend": backend,
        "max_samples": args.problems,
        "max_new_tokens": args.max_new_tokens,
        "python": args.python if backend == "vllm" else None,
        "batch_size": args.batch_size if backend == "transformers" else None,
    }


def run_gpu(args) -> None:
    """The GPU benchmark; on a device other than CUDA (`--device cpu`), a smoke run of the same code (see the module
    docstring)."""
    import tempfile

    from architectures import check_gpu_device

    smoke = check_gpu_device(args.device)  # before the slow imports: no CUDA says so at once
    from s2r_hf.core.errors import S2RError
    from s2r_hf.evaluation.runner import EvaluationConfig, evaluate_model, probe_interpreter

    options = {backend: evaluation_options(backend, args) for backend in ("transformers", "vllm")}
    backends = []
    for backend, backend_options in options.items():
        config = EvaluationConfig(**backend_options)  # the options evaluate_model will be given, checked now
        try:
            probe_interpreter(config.python or sys.executable, backend)
        except S2RError as err:  # a missing lighteval or vLLM in that interpreter, or none there
            if not smoke:
                raise SystemExit(f"the {backend} backend cannot run: {err}") from None
            print(f"smoke run: {backend} checked up to its arguments ({', '.join(sorted(backend_options))}): {err}")
            continue
        backends.append(backend)
    rates = {}
    with tempfile.TemporaryDirectory(prefix="s2r-bench-evaluation-") as tmp:
        work = Path(tmp)
        model_dir = build_random_model(work / "qwen2.5-1.5b-random", args.layers, smoke, args.vocab)
        for backend in backends:
            start = time.perf_counter()
            result = evaluate_model(
                model_dir,
                work / f"eval-{backend}",
                data={"math500": str(BENCHMARKS / "math500" / "test.jsonl")},
                **options[backend],
            )
            elapsed = time.perf_counter() - start
            task = result.data["tasks"]["math500"]
            rates[backend] = task["mean_generated_tokens"] * task["generations"] / elapsed
            if smoke:
                print(
                    f"smoke run: {backend} evaluated {task['generations']} answer(s) of "
                    f"{task['mean_generated_tokens']:.0f} tokens on average on {args.device}; no figure: timings on "
                    f"{args.device} say nothing about a GPU"
                )
                continue
            print(
                f"{backend:12s} {task['generations']} answers, {task['mean_generated_tokens']:.0f} tokens on average, "
                f"{elapsed:.0f} s with loading: {rates[backend]:.0f} generated tokens/s"
            )
    if not smoke:
        print(f"vLLM / transformers: {rates['vllm'] / rates['transformers']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-benchmark", type=int, default=60, help="gold answers per benchmark (CPU)")
    parser.add_argument("--gpu", action="store_true", help="generation throughput of both backends on a GPU")
    parser.add_argument("--problems", type=int, default=100, help="GPU: MATH500 problems each backend answers")
    parser.add_argument("--max-new-tokens", type=int, default=1024, help="GPU: new tokens per answer")
    parser.add_argument("--python", help="GPU: interpreter of an environment with lighteval[vllm]")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="GPU: the transformers backend's batch size (default: lighteval's)"
    )
    parser.add_argument(
        "--device", default="cuda", help="GPU: device (cpu: a smoke run of this code path, narrow layers, no figure)"
    )
    parser.add_argument("--layers", type=int, default=28, help="GPU: decoder layers (28 = Qwen2.5-1.5B)")
    parser.add_argument("--vocab", type=int, default=32768, help="GPU: BPE vocabulary trained on the problems")
    args = parser.parse_args()
    if not BENCHMARKS.is_dir():
        raise SystemExit(f"the benchmark files are not under {BENCHMARKS}; this benchmark needs ../shared/data")
    if args.gpu:
        run_gpu(args)
    else:
        run_cpu(args.per_benchmark)


if __name__ == "__main__":
    main()
