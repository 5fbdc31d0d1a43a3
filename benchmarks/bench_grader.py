"""The grader (s2r_hf.answers) against the one before it, lighteval 0.13's math comparison: speed and verdicts.

Default: completions written as a model writes them -- the problem restated as reasoning, then a final answer that is
the gold in several spellings (as written, `27.0`, `\\dfrac`, stated without a box), a wrong answer (one digit of the
gold changed) or no answer (cut off) -- for the golds of the real benchmarks (../shared/data/benchmarks): 16 samples of
each AIME24, AIME25 and AMC23 problem and MATH-500 once (2,100 completions), graded by both. Prints completions/s of
each, the share of right answers accepted and wrong ones rejected, how many verdicts differ, and the time of the slowest
adversarial answer (huge powers, deep nesting) against its limit.

    python benchmarks/bench_grader.py                       # 2,100 completions
    python benchmarks/bench_grader.py --samples 1 --problems 2

`--peer-cases`: agreement with the answer-equivalence cases other projects state in their own test suites
(tests/answers/peer_cases, README.md there), per source, for ours and lighteval 0.13; with `--math-verify-python
/tmp/mv/bin/python` (an environment holding math-verify==0.9.0, which cannot share this one) Math-Verify's too.

    python benchmarks/bench_grader.py --peer-cases --math-verify-python /tmp/mv/bin/python
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
BENCHMARKS = REPO_ROOT.parent / "shared" / "data" / "benchmarks"
PEER_CASES = REPO_ROOT / "tests" / "answers" / "peer_cases"
SAMPLED = {"aime24": "aime24", "aime25": "aime25", "amc23": "amc23"}  # benchmark -> folder; sampled --samples times
ONCE = {"math500": "math500"}
ADVERSARIAL = [
    ("\\boxed{10^{10^{10}}}", "10^{10^{10}+1}"),
    ("\\boxed{2^{3^{4^{5}}}}", "2"),
    ("\\boxed{" + "(" * 60 + "1" + ")" * 60 + "}", "1"),
    ("\\boxed{\\frac{1}{" * 30 + "2" + "}" * 60, "1"),
    ("\\boxed{99999!}", "1"),
]


def lighteval_grader():
    """lighteval 0.13's extractive match as s2r-hf configured it before s2r_hf.answers (gold boxed, LaTeX and
    expression targets, 6 decimals): completion, gold -> bool."""
    from lighteval.metrics.dynamic_metrics import MultilingualExtractiveMatchMetric
    from lighteval.metrics.utils.extractive_match_utils import ExprExtractionConfig, LatexExtractionConfig
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc
    from lighteval.utils.language import Language

    logging.getLogger("lighteval").setLevel(logging.ERROR)
    metric = MultilingualExtractiveMatchMetric(
        language=Language.ENGLISH,
        gold_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()),
        pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()),
        precision=6,
        timeout_seconds=5,
    )

    def grade(completion: str, gold: str) -> bool:
        boxed = gold if "\\boxed" in gold or "$" in gold else f"\\boxed{{{gold}}}"
        doc = Doc(query="", choices=[boxed], gold_index=0)
        return metric.compute(doc=doc, model_response=ModelResponse(text=[completion])) == 1.0

    return grade


def wrong_answer(gold: str) -> str:
    """The gold with its last digit changed (or `+1` added): another answer."""
    digits = [match.start() for match in re.finditer(r"\d", gold)]
    if not digits:
        return gold + "+1"
    at = digits[-1]
    return gold[:at] + str((int(gold[at]) + 1) % 10) + gold[at + 1 :]


def respelled(gold: str) -> str:
    """The gold written another way a model writes it."""
    if re.fullmatch(r"-?\d+", gold):
        return f"{int(gold)}.0"
    if "\\frac" in gold:
        return gold.replace("\\frac", "\\dfrac")
    return re.sub(r",\s*", ", ", gold).replace("(", "\\left(").replace(")", "\\right)")


def completion(problem: str, gold: str, variant: int) -> tuple[str, bool]:
    """One completion of kind `variant` (0-7) and whether its answer is right."""
    reasoning = f"Let me work through this carefully.\n\n{problem}\n\nFirst, I restate it: {problem}\n\n"
    kinds = [
        (f"{reasoning}So the answer is $\\boxed{{{gold}}}$.", True),
        (f"{reasoning}Therefore the final answer is \\boxed{{{respelled(gold)}}}.", True),
        (f"{reasoning}**Final Answer**\n\nThe final answer is ${gold}$.", True),
        (f"{reasoning}I first got \\boxed{{{wrong_answer(gold)}}}, but rechecking: \\boxed{{{gold}}}", True),
        (f"{reasoning}So the answer is $\\boxed{{{wrong_answer(gold)}}}$.", False),
        (f"{reasoning}Hence \\boxed{{{wrong_answer(gold)}}}", False),
        (f"{reasoning}Now the remaining case needs", False),  # cut off: no answer
        (f"{reasoning}The answer is \\boxed{{{gold}}}.", True),
    ]
    return kinds[variant % len(kinds)]


def realistic_cases(samples: int, problems: int | None) -> list[tuple[str, str, bool]]:
    from s2r_hf.pool.benchmarks import load_benchmark

    cases = []
    for folders, repeats in ((SAMPLED, samples), (ONCE, 1)):
        for name, folder in folders.items():
            rows = load_benchmark(name, BENCHMARKS / folder / "test.jsonl")
            rows = rows.select(range(min(problems, len(rows)))) if problems else rows
            for problem, gold in zip(rows["problem"], rows["answer"]):
                for _ in range(repeats):
                    text, right = completion(problem, gold, len(cases))  # every kind, in turn
                    cases.append((text, gold, right))
    return cases


def run_speed(samples: int, problems: int | None) -> None:
    from s2r_hf.evaluation.grading import grade_answer

    cases = realistic_cases(samples, problems)
    graders = {"ours (s2r_hf.answers)": grade_answer, "lighteval 0.13 (before)": lighteval_grader()}
    for grade in graders.values():
        grade("\\boxed{1}", "1")  # imports and first-use setup outside the timing
    verdicts, rows = {}, []
    for label, grade in graders.items():
        start = time.perf_counter()
        verdicts[label] = [grade(text, gold) for text, gold, _ in cases]
        elapsed = time.perf_counter() - start
        right = [v for v, (_, _, ok) in zip(verdicts[label], cases) if ok]
        wrong = [v for v, (_, _, ok) in zip(verdicts[label], cases) if not ok]
        rows.append((label, len(cases) / elapsed, sum(right) / len(right), 1 - sum(wrong) / len(wrong), elapsed))
    print(
        f"{len(cases)} completions ({', '.join(SAMPLED)} x{samples} samples, {', '.join(ONCE)} once"
        f"{f', {problems} problems each' if problems else ''}): right answers in several spellings, wrong ones, none"
    )
    print("| grader | completions/s | right accepted | wrong rejected | seconds |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, rate, accepted, rejected, elapsed in rows:
        print(f"| {label} | {rate:.1f} | {accepted:.1%} | {rejected:.1%} | {elapsed:.1f} |")
    ours, old = verdicts.values()
    differ = sum(a != b for a, b in zip(ours, old))
    print(f"verdicts that differ: {differ}; speed ours/lighteval: {rows[0][1] / rows[1][1]:.2f}x")
    slowest = 0.0
    for text, gold in ADVERSARIAL:
        start = time.perf_counter()
        grade_answer(text, gold)
        slowest = max(slowest, time.perf_counter() - start)
    from s2r_hf.answers.equivalence import TIME_LIMIT_SECONDS

    print(
        f"adversarial answers: {len(ADVERSARIAL)}, slowest graded in {slowest:.2f} s (limit {TIME_LIMIT_SECONDS:g} s)"
    )


def load_peer_cases() -> dict[str, tuple[dict, list[dict]]]:
    """{source: (header, cases)} from tests/answers/peer_cases/*.jsonl (the header names repo, commit and files)."""
    found = {}
    for path in sorted(PEER_CASES.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        found[path.stem] = (lines[0], lines[1:])
    return found


def agreement(cases: list[dict], verdicts: list[bool]) -> tuple[int, int, int]:
    """(agreeing, counted, false positives) over the cases not excluded."""
    kept = [(case, verdict) for case, verdict in zip(cases, verdicts) if "excluded" not in case]
    agreeing = sum(case["equal"] == verdict for case, verdict in kept)
    false_positives = sum(verdict and not case["equal"] for case, verdict in kept)
    return agreeing, len(kept), false_positives


def run_peer_cases(math_verify_python: str | None) -> None:
    from s2r_hf.answers import grade

    sources = load_peer_cases()
    columns = {"ours": {}, "lighteval 0.13": {}}
    old = lighteval_grader()
    for source, (_, cases) in sources.items():
        columns["ours"][source] = [grade(case["prediction"], case["gold"]) for case in cases]
        columns["lighteval 0.13"][source] = [old(case["prediction"], case["gold"]) for case in cases]
    if math_verify_python:
        done = subprocess.run(
            [math_verify_python, str(Path(__file__).with_name("math_verify_verdicts.py")), str(PEER_CASES)],
            capture_output=True,
            text=True,
            check=True,
        )
        columns["Math-Verify 0.9"] = json.loads(done.stdout)
    print("peer cases: agreement with the verdicts other projects state in their test suites (false positives)")
    print("| source | cases | " + " | ".join(columns) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in columns) + " |")
    totals = {label: [0, 0, 0] for label in columns}
    for source, (header, cases) in sources.items():
        cells = []
        for label, verdicts in columns.items():
            agreeing, counted, false_positives = agreement(cases, verdicts[source])
            totals[label] = [t + v for t, v in zip(totals[label], (agreeing, counted, false_positives))]
            cells.append(f"{agreeing / counted:.1%} ({false_positives})")
        print(f"| {source} ({header['source']}@{header['commit'][:7]}) | {counted} | " + " | ".join(cells) + " |")
    cells = [f"{agreeing / counted:.1%} ({fp})" for agreeing, counted, fp in totals.values()]
    print(f"| all | {next(iter(totals.values()))[1]} | " + " | ".join(cells) + " |")
    unexplained = [
        (source, case["prediction"], case["gold"])
        for source, (_, cases) in sources.items()
        for case, verdict in zip(cases, columns["ours"][source])
        if verdict and not case["equal"] and "excluded" not in case and "peer_wrong" not in case
    ]
    listed = sum("peer_wrong" in case and not case["equal"] for _, cases in sources.values() for case in cases)
    print(f"false positives of ours beyond the {listed} listed as the peer's mistake or convention: {len(unexplained)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=16, help="samples per AIME24, AIME25 and AMC23 problem")
    parser.add_argument("--problems", type=int, default=None, help="problems per benchmark (default: all)")
    parser.add_argument("--peer-cases", action="store_true", help="agreement with other projects' stated cases")
    parser.add_argument("--math-verify-python", help="--peer-cases: interpreter of an environment with math-verify")
    args = parser.parse_args()
    logging.getLogger("lighteval").setLevel(logging.ERROR)
    if args.peer_cases:
        run_peer_cases(args.math_verify_python)
        return
    if not BENCHMARKS.is_dir():
        raise SystemExit(f"the benchmark files are not under {BENCHMARKS}; this benchmark needs ../shared/data")
    run_speed(args.samples, args.problems)


if __name__ == "__main__":
    main()
