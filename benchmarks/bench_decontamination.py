"""Decontamination quality: recall per injected form and the share of the real pool kept, for each rule side by side.

The real pool is ../shared/data/pools/limo-r1distill-qwen32b (291 LIMO questions); the benchmarks are the six local
files in ../shared/data/benchmarks. Every benchmark problem is injected as a pool question in seven forms:

- verbatim;
- re-spaced: other whitespace, spaces and LaTeX spacing inside formulas, `\\dfrac` for `\\frac`;
- re-cased: upper case;
- numbers changed: every run of digits raised by 1 to 9 (drawn per problem);
- wrapped in an instruction: one of three sentences around it ("Solve the following problem and put the answer in a
  box: ...", "... Please reason step by step, and put your final answer within \\boxed{}.", "Problem: ...");
- cut to its first 80%: the first 80% of its characters, back to the last space (a formula the cut falls in is
  broken);
- light paraphrase (deterministic): about 25 word and phrase swaps outside formulas ("find" -> "determine", "how
  many" -> "what number of", "positive integers" -> "positive whole numbers", "such that" -> "so that", ...), then
  the last sentence (usually the question) moved to the front.

A form counts as caught when the row's matches name the very problem it was made from. The problems are split by a
hash of (benchmark, id): one third is the development split the coverage rule's defaults were tuned on (`--tune`
prints that grid), and recall is reported on the other two thirds, which no setting was chosen on. The share of the
real pool kept is over all 291 questions (no injection); a question it drops is listed for inspection. GSM8K's test
questions (../shared/data/benchmarks/gsm8k, in none of the six) are a second clean pool.

    python benchmarks/bench_decontamination.py            # held-out recall, pool kept, the misses of each form
    python benchmarks/bench_decontamination.py --tune     # the grid on the development split
    python benchmarks/bench_decontamination.py --per-benchmark 5   # 5 problems of each benchmark (a quick run)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POOL = DATA / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"
BENCHMARK_FOLDERS = {"math500": "math500", "aime24": "aime24", "aime25": "aime25", "amc23": "amc23",
                     "minerva": "minerva_math", "olympiadbench": "olympiadbench"}  # fmt: skip
FORMS = ("verbatim", "re-spaced", "re-cased", "numbers changed", "wrapped", "cut to 80%", "paraphrase")
WRAPPERS = (
    "Solve the following problem and put the answer in a box: {}",
    "{}\nPlease reason step by step, and put your final answer within \\boxed{{}}.",
    "Here is a math problem for you.\n\nProblem: {}\n\nGive only the final answer.",
)
SWAPS = (("find", "determine"), ("compute", "calculate"), ("calculate", "evaluate"), ("how many", "what number of"),
         ("what is", "find"), ("suppose", "assume"), ("let", "suppose"), ("such that", "so that"),
         ("positive integers", "positive whole numbers"), ("positive integer", "positive whole number"),
         ("smallest", "least"), ("largest", "greatest"), ("greatest", "largest"), ("each", "every"),
         ("number of", "count of"), ("there are", "there exist"), ("given", "provided"), ("if", "assuming"),
         ("the sum of", "the total of"), ("probability", "chance"), ("is equal to", "equals"),
         ("real numbers", "reals"), ("value", "amount"), ("express your answer", "write the answer"),
         ("integers", "whole numbers"))  # fmt: skip
_SWAP = re.compile(r"\b(" + "|".join(re.escape(old) for old, _ in SWAPS) + r")\b", re.IGNORECASE)
_FORMULA = re.compile(r"(\$\$.+?\$\$|\$.+?\$|\\\(.+?\\\)|\\\[.+?\\\])", re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")


def respace(text: str) -> str:
    text = re.sub(r"\s+", lambda _: "  \n\t ", text)
    return text.replace("=", " = \\, ").replace("+", "~+\\;").replace("\\frac", "\\dfrac")


def change_numbers(text: str, rng: random.Random) -> str:
    return re.sub(r"\d+", lambda match: str(int(match.group()) + rng.randint(1, 9)), text)


def cut(text: str, share: float = 0.8) -> str:
    head = text[: int(len(text) * share)]
    space = max(head.rfind(" "), head.rfind("\n"))
    return head[:space] if space > 0 else head


def _swap(match: re.Match) -> str:
    word = match.group(1)
    new = dict(SWAPS)[word.lower()]
    return new[0].upper() + new[1:] if word[0].isupper() else new


def paraphrase(text: str) -> str:
    """Word and phrase swaps outside formulas, then the last sentence first (see the module docstring)."""
    parts = _FORMULA.split(text)
    text = "".join(part if index % 2 else _SWAP.sub(_swap, part) for index, part in enumerate(parts))
    sentences = _SENTENCE_END.split(text.strip())
    return " ".join([sentences[-1], *sentences[:-1]]) if len(sentences) >= 2 else text


def injected(form: str, text: str, key: str) -> str:
    rng = random.Random(hashlib.sha256(f"{form}/{key}".encode()).hexdigest())
    if form == "verbatim":
        return text
    if form == "re-spaced":
        return respace(text)
    if form == "re-cased":
        return text.upper()
    if form == "numbers changed":
        return change_numbers(text, rng)
    if form == "wrapped":
        return rng.choice(WRAPPERS).format(text)
    if form == "cut to 80%":
        return cut(text)
    return paraphrase(text)


def in_development_split(name: str, problem_id: str) -> bool:
    return int(hashlib.sha256(f"{name}/{problem_id}".encode()).hexdigest(), 16) % 3 == 0


def miss_reason(question: str, ngram: int) -> str:
    """Why a cut copy was missed, as far as its text tells: too few words left, or the cut fell inside a formula (the
    formula, one word when whole, falls apart into pieces that match nothing)."""
    from s2r_hf.hygiene.decontaminate import words_for_rule

    if len(words_for_rule(question, True)) < ngram:
        return f"fewer than {ngram} words left"
    unclosed = question.count("$") % 2 or question.count("\\[") > question.count("\\]")
    unclosed = unclosed or question.count("\\begin") > question.count("\\end")
    return "the cut falls inside a formula" if unclosed else "less than the threshold's share of words left"


def share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-benchmark", type=int, default=None, help="inject only the first N problems of each")
    parser.add_argument("--tune", action="store_true", help="print the coverage rule's grid on the development split")
    parser.add_argument("--misses", type=int, default=12, help="misses listed per form (coverage rule)")
    args = parser.parse_args()
    if not POOL.exists():
        raise SystemExit(f"the real pool is not at {POOL}; this benchmark needs ../shared/data")

    import datasets

    from s2r_hf.hygiene.decontaminate import (
        ANY_NGRAM_RULE,
        COVERAGE_RULE,
        DEFAULT_BOILERPLATE,
        DEFAULT_NGRAMS,
        DEFAULT_THRESHOLD,
        _build_index,
        match_question,
    )
    from s2r_hf.pool.benchmarks import load_benchmark

    datasets.disable_progress_bars()
    benchmarks = {
        name: load_benchmark(name, DATA / "benchmarks" / folder / "test.jsonl")
        for name, folder in BENCHMARK_FOLDERS.items()
    }
    pool = [json.loads(line) for line in POOL.read_text(encoding="utf-8").splitlines()]
    splits: dict[bool, dict[str, list]] = {True: {form: [] for form in FORMS}, False: {form: [] for form in FORMS}}
    for name, bench in benchmarks.items():
        chosen = list(zip(bench["id"], bench["problem"]))[: args.per_benchmark]
        for problem_id, text in chosen:
            for form in FORMS:
                question = injected(form, text, f"{name}/{problem_id}")
                splits[in_development_split(name, problem_id)][form].append(((name, problem_id), question))
    held_out = splits[False]
    print(f"real pool: {len(pool)} LIMO questions; benchmark problems injected: "
          f"{len(splits[True]['verbatim']) + len(held_out['verbatim']):,} in each of {len(FORMS)} forms "
          f"({len(splits[True]['verbatim']):,} development, {len(held_out['verbatim']):,} held out)")  # fmt: skip

    def measure(items, index):
        caught, misses = 0, []
        for reference, question in items:
            found = {(pair["benchmark"], pair["benchmark_id"]) for pair in match_question(question, index)}
            if reference in found:
                caught += 1
            else:
                misses.append((reference, question))
        return caught, misses

    def pool_drops(index):
        return [(row, found) for row in pool if (found := match_question(row["question"], index))]

    rules = {
        COVERAGE_RULE: (DEFAULT_NGRAMS[COVERAGE_RULE], DEFAULT_THRESHOLD, DEFAULT_BOILERPLATE),
        ANY_NGRAM_RULE: (DEFAULT_NGRAMS[ANY_NGRAM_RULE], DEFAULT_THRESHOLD, 0),
    }
    if args.tune:
        print("\ncoverage rule on the development split: n, threshold, boilerplate -> pool kept, recall per form")
        for ngram in (4, 5, 6, 8, 10):
            for threshold in (0.4, 0.5, 0.6, 0.7):
                for boilerplate in (0, 3, 4, 6):
                    index = _build_index(benchmarks, COVERAGE_RULE, ngram, threshold, boilerplate)
                    kept = len(pool) - len(pool_drops(index))
                    recalls = [share(measure(splits[True][form], index)[0], len(splits[True][form])) for form in FORMS]
                    print(f"  n={ngram:<2} T={threshold:<4} K={boilerplate:<2} kept {share(kept, len(pool))}  "
                          + "  ".join(f"{form} {value}" for form, value in zip(FORMS, recalls)))  # fmt: skip

    indexes = {rule: _build_index(benchmarks, rule, *settings) for rule, settings in rules.items()}
    results = {rule: {form: measure(held_out[form], index) for form in FORMS} for rule, index in indexes.items()}
    coverage = f"coverage (n={rules[COVERAGE_RULE][0]}, T={rules[COVERAGE_RULE][1]}, K={rules[COVERAGE_RULE][2]})"
    any_ngram = f"any-ngram (n={rules[ANY_NGRAM_RULE][0]})"
    print(f"\nrecall on the held-out problems, per injected form\n  {'form':<16} {coverage:>28} {any_ngram:>20}")
    for form in FORMS:
        total = len(held_out[form])
        cells = [f"{share(results[rule][form][0], total)} ({results[rule][form][0]}/{total})" for rule in rules]
        print(f"  {form:<16} {cells[0]:>28} {cells[1]:>20}")

    print("\nthe real pool (no injection), share kept")
    drops = {rule: pool_drops(index) for rule, index in indexes.items()}
    for rule in rules:
        kept = len(pool) - len(drops[rule])
        print(f"  {rule:<10} kept {kept}/{len(pool)} ({share(kept, len(pool))})")
    gsm8k = DATA / "benchmarks" / "gsm8k" / "test.jsonl"
    if gsm8k.exists():  # real questions of another style, in none of the six: every one should be kept
        questions = [json.loads(line)["question"] for line in gsm8k.read_text(encoding="utf-8").splitlines()]
        kept = {rule: sum(not match_question(text, index) for text in questions) for rule, index in indexes.items()}
        print(f"  GSM8K's {len(questions):,} test questions (not among the six), kept: "
              + ", ".join(f"{rule} {count:,}" for rule, count in kept.items()))  # fmt: skip
    alone = {
        name: len(pool) - len(pool_drops(_build_index({name: bench}, COVERAGE_RULE, *rules[COVERAGE_RULE])))
        for name, bench in benchmarks.items()
    }
    print("  coverage, one benchmark at a time (template phrases are counted over the benchmarks given): "
          + ", ".join(f"{name} {kept}" for name, kept in alone.items()))  # fmt: skip
    print("\nreal pool rows the coverage rule drops (pool id, benchmark problem, coverage, shared words):")
    for row, found in drops[COVERAGE_RULE]:
        for pair in found:
            print(f"  {row['id']}  {pair['benchmark']} {pair['benchmark_id']}  {pair['coverage']}  {pair['shared']}")
    print("\nheld-out misses of the coverage rule (benchmark id: the injected question's start):")
    ngram = rules[COVERAGE_RULE][0]
    for form in FORMS[:-1]:
        misses = results[COVERAGE_RULE][form][1]
        reasons = [miss_reason(question, ngram) for _, question in misses]
        counts = ", ".join(f"{reason}: {reasons.count(reason)}" for reason in dict.fromkeys(reasons))
        print(f"  {form}: {len(misses)}" + (f" ({counts})" if misses else ""))
        for (name, problem_id), question in misses[: args.misses]:
            print(f"    {name} {problem_id}: {question[:90]!r}")


if __name__ == "__main__":
    main()
