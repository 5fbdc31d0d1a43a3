"""Pool hygiene at scale: decontamination and near-duplicate clustering of 200,000 questions, against the naive ways.

The questions are the real pool's (../shared/data/pools/limo-r1distill-qwen32b) replicated with perturbations: each
one is three random 12-20 word spans of different pool questions, its numbers redrawn. Injected into them:
- benchmark problems (verbatim, re-spaced, upper-cased) from all six benchmarks (local files), which decontamination
  must drop;
- near duplicates of random questions, with 1 or 6 words changed; a pair is a true near duplicate when the exact
  Jaccard of its 3-word shingle sets is at least 0.8 (most 1-word edits; no 6-word edit). Precision and recall are
  over these injected pairs.

Decontamination, under each rule side by side (the default `coverage` and open-r1's `any-ngram`), is compared with the
naive loop (every pool question against every benchmark problem, the rule written out pair by pair), timed on a
sample and extrapolated, as it would take hours on the whole pool; both must drop the same rows of the sample.
Near-duplicate clustering is
compared with the naive exact all-pairs Jaccard, likewise timed on a sample and extrapolated. Peak memory is the
process's resident high-water mark above what it held just before (Linux /proc, reset before each step).

    python benchmarks/bench_hygiene.py                # 200,000 questions
    python benchmarks/bench_hygiene.py --rows 20000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
POOL = DATA / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"
BENCHMARK_FOLDERS = {"math500": "math500", "aime24": "aime24", "aime25": "aime25", "amc23": "amc23",
                     "minerva": "minerva_math", "olympiadbench": "olympiadbench"}  # fmt: skip


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> float:
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def respace(text: str) -> str:
    text = re.sub(r"\s+", lambda _: "  \n ", text)
    return text.replace("=", " = \\, ").replace("+", "~+\\;")


def build_questions(rows: int, benchmarks: dict, rng: random.Random):
    """Synthetic questions, then the injected benchmark problems and near duplicates (with their labels)."""
    pool = [json.loads(line)["question"] for line in POOL.read_text(encoding="utf-8").splitlines()]
    words = [question.split() for question in pool]

    def number(match):
        return str(rng.randint(2, 999))

    questions = []
    while len(questions) < rows:
        parts = []
        for source in rng.sample(words, 3):
            size = rng.randint(12, 20)
            start = rng.randint(0, max(0, len(source) - size))
            parts.append(" ".join(source[start : start + size]))
        questions.append(re.sub(r"\d+", number, " ".join(parts)))

    contaminated = []  # (position, benchmark, benchmark id)
    for name, bench in benchmarks.items():
        for index in rng.sample(range(len(bench)), min(20, len(bench))):
            problem = bench["problem"][index]
            problem = rng.choice([problem, respace(problem), problem.upper()])
            position = rng.randrange(len(questions))
            questions[position] = problem
            contaminated.append((position, name, bench["id"][index]))

    vocabulary = sorted({word for source in words for word in source if word.isalpha()})
    pairs = []  # (original position, copy position, expected near duplicate)
    taken = {position for position, _, _ in contaminated}
    for _ in range(rows // 100):
        original = rng.randrange(len(questions))
        if original in taken:
            continue
        tokens = questions[original].split()
        plain = [slot for slot, token in enumerate(tokens) if token.isalpha()]  # not inside a formula
        changes = 1 if rng.random() < 0.5 else 6
        if len(plain) <= changes:
            continue
        for slot in rng.sample(plain, changes):
            tokens[slot] = rng.choice(vocabulary) + "q"  # a word no question holds
        copy = rng.randrange(len(questions))
        if copy in taken or copy == original:
            continue
        questions[copy] = " ".join(tokens)
        taken |= {original, copy}
        # The label is the exact Jaccard of the shingle sets the clustering compares, not the number of edits.
        pairs.append((original, copy, jaccard(questions[original], questions[copy]) >= 0.8))
    return questions, contaminated, pairs


def shingle_set(question: str) -> set[str]:
    from s2r_hf.hygiene.text import question_words, word_ngrams

    return set(word_ngrams(question_words(question), 3))


def jaccard(a: str, b: str) -> float:
    a, b = shingle_set(a), shingle_set(b)
    return len(a & b) / max(1, len(a | b))


def naive_decontaminate(questions, benchmarks, rule, n, threshold, boilerplate):
    """The rule of s2r_hf.hygiene.decontaminate written out pair by pair, from its documented definition: every
    question against every problem, the template n-grams and the share of words recomputed for each pair."""
    from s2r_hf.hygiene.decontaminate import TEMPLATE_WORDS, words_for_rule
    from s2r_hf.hygiene.text import word_ngrams

    coverage_rule = rule == "coverage"
    problems = [words_for_rule(text, coverage_rule) for bench in benchmarks.values() for text in bench["problem"]]
    holders = {}
    for words in problems:
        for gram in word_ngrams(words, n):
            holders.setdefault(gram, set()).add(" ".join(words))
    frequent = {gram for gram, texts in holders.items() if coverage_rule and boilerplate and len(texts) >= boilerplate}

    def counted_of(grams):
        counted = [gram not in frequent for gram in grams]
        if not any(counted):
            return [True] * len(grams)
        # a run of frequent n-grams spanning more than TEMPLATE_WORDS words is shared content, not a template
        start = 0
        while start < len(counted):
            if counted[start]:
                start += 1
                continue
            end = start
            while end < len(counted) and not counted[end]:
                end += 1
            if end - start + n - 1 > TEMPLATE_WORDS:
                counted[start:end] = [True] * (end - start)
            start = end
        return counted

    measured = []
    for words in problems:
        grams = word_ngrams(words, n)
        counted = counted_of(grams)
        content = {position for start, flag in enumerate(counted) if flag for position in range(start, start + n)}
        measured.append((words, grams, counted, len(content)))
    dropped = []
    for position, question in enumerate(questions):
        words = words_for_rule(question, coverage_rule)
        present = set(word_ngrams(words, n))
        for problem_words, grams, counted, content in measured:
            if len(problem_words) < n:
                size = len(problem_words)
                if coverage_rule and size:
                    hit = any(words[start : start + size] == problem_words for start in range(len(words)))
                else:
                    hit = bool(size) and words == problem_words
            else:
                shared = [start for start, gram in enumerate(grams) if counted[start] and gram in present]
                covered = {word for start in shared for word in range(start, start + n)}
                hit = bool(shared) if not coverage_rule else len(covered) / content >= threshold
            if hit:
                dropped.append(position)
                break
    return dropped


def share(part: int, whole: int) -> str:
    """`part/whole` as a fraction with 3 decimals, or n/a when there is nothing to divide (a tiny run)."""
    return f"{part / whole:.3f}" if whole else "n/a"


def naive_pairs(questions, threshold):
    shingles = [shingle_set(question) for question in questions]
    found = 0
    for i in range(len(shingles)):
        for j in range(i + 1, len(shingles)):
            union = len(shingles[i] | shingles[j])
            if union and len(shingles[i] & shingles[j]) / union >= threshold:
                found += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-sample", type=int, default=2_000, help="questions the naive decontamination runs on")
    parser.add_argument("--naive-pairs-sample", type=int, default=1_500, help="questions the naive all-pairs runs on")
    parser.add_argument("--num-proc", type=int, default=None)
    args = parser.parse_args()
    if not POOL.exists():
        raise SystemExit(f"the real pool is not at {POOL}; this benchmark needs ../shared/data")

    import datasets
    from datasets import Dataset

    from s2r_hf import cluster_questions, decontaminate
    from s2r_hf.core.columns import ID, QUESTION_CLUSTER
    from s2r_hf.pool.benchmarks import load_benchmark

    datasets.disable_progress_bars()
    datasets.disable_caching()  # each run computes, rather than reading an earlier run's cache
    benchmarks = {
        name: load_benchmark(name, DATA / "benchmarks" / folder / "test.jsonl")
        for name, folder in BENCHMARK_FOLDERS.items()
    }
    rng = random.Random(0)
    questions, contaminated, pairs = build_questions(args.rows, benchmarks, rng)
    ids = [f"q{position:07d}" for position in range(len(questions))]
    dataset = Dataset.from_dict({ID: ids, "question": questions})
    problems = sum(len(bench) for bench in benchmarks.values())
    true_pairs = sum(near for *_, near in pairs)
    print(f"{len(questions):,} questions; {problems:,} benchmark problems; {len(contaminated)} injected; "
          f"{len(pairs)} injected near-duplicate pairs ({true_pairs} at Jaccard >= 0.8)")  # fmt: skip

    # ---- decontamination, each rule ----
    from s2r_hf.hygiene.decontaminate import (
        ANY_NGRAM_RULE,
        COVERAGE_RULE,
        DEFAULT_BOILERPLATE,
        DEFAULT_NGRAMS,
        DEFAULT_THRESHOLD,
    )

    sample = questions[: args.naive_sample]
    for rule in (COVERAGE_RULE, ANY_NGRAM_RULE):
        ngram = DEFAULT_NGRAMS[rule]
        before = reset_peak_rss()
        start = time.perf_counter()
        _, report = decontaminate(dataset, benchmarks, rule=rule, question_column="question", num_proc=args.num_proc)
        ours = time.perf_counter() - start
        peak = _status_mb("VmHWM") - before
        dropped = {int(pair["pool_id"][1:]) for pair in report.pairs}
        caught = sum(1 for position, _, _ in contaminated if position in dropped)

        start = time.perf_counter()
        naive_dropped = naive_decontaminate(sample, benchmarks, rule, ngram, DEFAULT_THRESHOLD, DEFAULT_BOILERPLATE)
        naive = (time.perf_counter() - start) * len(questions) / len(sample)
        ours_sample = sorted(position for position in dropped if position < len(sample))
        if naive_dropped != ours_sample:
            raise SystemExit(
                f"{rule}: the naive loop and s2r-hf disagree on the sample: only the naive loop drops "
                f"{sorted(set(naive_dropped) - set(ours_sample))[:10]}, only s2r-hf drops "
                f"{sorted(set(ours_sample) - set(naive_dropped))[:10]}"
            )
        print(f"\ndecontamination against all six benchmarks, rule {rule} (n = {ngram})")
        print(f"  s2r-hf (index built once, batched map): {ours:8.1f} s  {len(questions) / ours:10,.0f} rows/s  "
              f"extra peak RSS {peak:,.0f} MB")  # fmt: skip
        print(f"  naive loop over (row, problem) pairs:   {naive:8.1f} s  {len(questions) / naive:10,.0f} rows/s  "
              f"(measured on {len(sample):,} rows, extrapolated)")  # fmt: skip
        print(f"  speed-up: {naive / ours:,.0f}x; same rows dropped on the sample: yes")
        print(f"  dropped {report.rows_dropped:,} rows; injected benchmark problems caught: "
              f"{caught}/{len(contaminated)}")  # fmt: skip
        counts = ", ".join(f"{name} {v['rows_dropped']:,}" for name, v in report.benchmarks.items())
        print(f"  per benchmark: {counts}")

    # ---- near duplicates ----
    before = reset_peak_rss()
    start = time.perf_counter()
    clustered, near_report = cluster_questions(dataset, question_column="question", num_proc=args.num_proc)
    ours = time.perf_counter() - start
    peak = _status_mb("VmHWM") - before
    cluster = clustered[QUESTION_CLUSTER]
    predicted = [cluster[original] == cluster[copy] for original, copy, _ in pairs]
    true_positive = sum(1 for p, (*_, near) in zip(predicted, pairs) if p and near)
    positives = sum(1 for *_, near in pairs if near)
    flagged = sum(predicted)
    sample = questions[: args.naive_pairs_sample]
    start = time.perf_counter()
    naive_pairs(sample, 0.8)
    pair_count = len(sample) * (len(sample) - 1) / 2
    naive = (time.perf_counter() - start) * (len(questions) * (len(questions) - 1) / 2) / pair_count
    print("\nnear-duplicate clustering (MinHash 128 + LSH, exact Jaccard check, threshold 0.8)")
    print(f"  s2r-hf (datasketch MinHash, bands): {ours:10.1f} s  {len(questions) / ours:10,.0f} rows/s  "
          f"extra peak RSS {peak:,.0f} MB")  # fmt: skip
    print(f"  naive exact all-pairs Jaccard:      {naive:10.0f} s  {len(questions) / naive:10,.1f} rows/s  "
          f"(measured on {len(sample):,} rows = {pair_count:,.0f} pairs, extrapolated)")  # fmt: skip
    print(f"  speed-up: {naive / ours:,.0f}x")
    print(f"  {near_report.clusters:,} clusters hold {near_report.rows_in_clusters:,} rows "
          f"(largest {near_report.largest_cluster})")  # fmt: skip
    print(f"  injected pairs: recall {share(true_positive, positives)} ({true_positive}/{positives}), "
          f"precision {share(true_positive, flagged)} ({true_positive}/{flagged})")  # fmt: skip


if __name__ == "__main__":
    main()
