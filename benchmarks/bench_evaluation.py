"""Grading and generation throughput of the evaluation (s2r_hf.evaluation). Prints a table; no pass/fail.

CPU (default): the gold answers of the real benchmarks (../shared/data/benchmarks), written as a model writes a final
answer in several equivalent spellings (the boxed gold, `27.0` for `27`, `\\dfrac` for `\\frac`, a decimal for a simple
fraction, spaces), graded two ways in one run:
- ours: `grade_answer` (lighteval's math extractive match: the last \\boxed{}, symbolic and numeric equivalence);
- naive: string equality of the last \\boxed{} content with the gold, whitespace removed.
Reports completions/s of each, the ratio, and the share of equivalent spellings each accepts (and of wrong answers
each rejects).

    python benchmarks/bench_evaluation.py --per-benchmark 60

GPU (`--gpu`, needs a CUDA device, and vLLM in --python's environment for its half): MATH500 greedy with the
transformers backend and with the vLLM backend, through `evaluate_model`, on a model with the architecture of
Qwen2.5-1.5B-Instruct (random weights from its config; answers are noise, throughput is not), and prints generated
tokens/s of each and their ratio.

    python benchmarks/bench_evaluation.py --gpu --problems 100 --max-new-tokens 1024 --python /path/to/vllm-env/python
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


def run_gpu(problems: int, max_new_tokens: int, python: str | None, work: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from s2r_hf.evaluation.runner import evaluate_model

    if not torch.cuda.is_available():
        raise SystemExit("--gpu needs a CUDA device")
    model_dir = work / "qwen2.5-1.5b-random"
    if not model_dir.exists():
        config = AutoConfig.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
        model.save_pretrained(model_dir)
        AutoTokenizer.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct").save_pretrained(model_dir)
    rates = {}
    for backend in ("transformers", "vllm"):
        start = time.perf_counter()
        result = evaluate_model(
            model_dir,
            work / f"eval-{backend}",
            overwrite=True,
            tasks="math500",
            backend=backend,
            max_samples=problems,
            max_new_tokens=max_new_tokens,
            python=python if backend == "vllm" else None,
            data={"math500": str(BENCHMARKS / "math500" / "test.jsonl")},
        )
        elapsed = time.perf_counter() - start
        task = result.data["tasks"]["math500"]
        rates[backend] = task["mean_generated_tokens"] * task["generations"] / elapsed
        print(
            f"{backend:12s} {task['generations']} answers, {task['mean_generated_tokens']:.0f} tokens on average, "
            f"{elapsed:.0f} s with loading: {rates[backend]:.0f} generated tokens/s"
        )
    print(f"vLLM / transformers: {rates['vllm'] / rates['transformers']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-benchmark", type=int, default=60, help="gold answers per benchmark (CPU)")
    parser.add_argument("--gpu", action="store_true", help="generation throughput of both backends on a GPU")
    parser.add_argument("--problems", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=1024)
    parser.add_argument("--python", help="interpreter of an environment with lighteval[vllm] (GPU mode)")
    parser.add_argument("--work", type=Path, default=Path("bench-evaluation"))
    args = parser.parse_args()
    if args.gpu:
        run_gpu(args.problems, args.max_new_tokens, args.python, args.work)
    else:
        run_cpu(args.per_benchmark)


if __name__ == "__main__":
    main()
