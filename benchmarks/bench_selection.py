"""Selection over a large scored pool: s2r_hf.select against the naive way, side by side in one run.

The naive way is what a Python user writes first: load the rows as a list of dicts, rank each signal with `sorted`
(ties sharing the mean position), compute the joint rank, `sorted` again, take the top k.

Each approach runs in its own process on the same memory-mapped pool, so its peak resident memory above what the
process held just before selecting ("extra peak RSS") is its own. Both must pick the same ids.

    python benchmarks/bench_selection.py            # 1,000,000 rows
    python benchmarks/bench_selection.py --rows 200000

Then the token budget (`select(..., token_budget=N, tokenizer=...)`) on --budget-rows conversations (the real long-CoT
pool of ../shared/data repeated, or synthetic ones where it is absent), with a byte-level BPE tokenizer trained here on
them (nothing can be downloaded), the budget a share
(--budget-share) of the pool's trainer tokens: ours counts the rows in the joint order with one batched chat-template
call per batch; the naive way calls `apply_chat_template` on one row at a time, in the same order, until the budget is
reached. Both must take the same rows.

    python benchmarks/bench_selection.py --rows 200000 --budget-rows 20000 --budget-share 0.1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build_pool(rows: int, path: Path) -> None:
    import numpy as np
    from datasets import Dataset

    rng = np.random.default_rng(0)
    # Rollout difficulties take few distinct values (many ties), lengths are long-tailed, ids are uuid-like strings.
    difficulty = rng.choice([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0], size=rows)
    length = np.round(rng.lognormal(mean=8.5, sigma=0.8, size=rows)).astype(np.int64)
    ids = [f"{rng.integers(0, 2**63):016x}-{i:08d}" for i in range(rows)]
    problem = [f"Problem {i}: find the value of the expression given in the statement." for i in range(rows)]
    Dataset.from_dict(
        {"s2r_id": ids, "problem": problem, "s2r_difficulty": difficulty, "s2r_trace_length": length}
    ).save_to_disk(str(path))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> float:
    """Reset the kernel's high-water mark (Linux >= 4.0) so the next peak is the selection's own; return RSS now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def naive_select(dataset, ratio: float, weight: float) -> list[str]:
    rows = dataset.select_columns(["s2r_id", "s2r_difficulty", "s2r_trace_length"]).to_list()

    def average_ranks(key: str) -> dict[str, float]:
        ordered = sorted(rows, key=lambda row: -row[key])
        ranks, start = {}, 0
        while start < len(ordered):
            end = start
            while end + 1 < len(ordered) and ordered[end + 1][key] == ordered[start][key]:
                end += 1
            for row in ordered[start : end + 1]:
                ranks[row["s2r_id"]] = (start + end) / 2 + 1
            start = end + 1
        return ranks

    difficulty_rank = average_ranks("s2r_difficulty")
    length_rank = average_ranks("s2r_trace_length")
    for row in rows:
        row["joint"] = weight * difficulty_rank[row["s2r_id"]] + (1 - weight) * length_rank[row["s2r_id"]]
    k = max(1, int(ratio * len(rows) + 0.5))
    return [row["s2r_id"] for row in sorted(rows, key=lambda row: (row["joint"], row["s2r_id"]))[:k]]


def child(way: str, path: str, ratio: float, weight: float) -> None:
    from datasets import load_from_disk

    import s2r_hf

    dataset = load_from_disk(path)
    before = reset_peak_rss()
    start = time.perf_counter()
    if way == "ours":
        subset = s2r_hf.select(dataset, ratio=ratio, weight=weight)  # the job: a Dataset of the chosen rows
        seconds = time.perf_counter() - start
        ids = subset["s2r_id"][:]
    else:
        ids = naive_select(dataset, ratio, weight)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "extra_peak_mb": peak_rss_mb() - before, "ids": list(ids)}))


REAL_POOL = Path(__file__).resolve().parents[2] / "shared" / "data" / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"


def build_conversations(rows: int, seed: int = 0):
    """A scored pool of `rows` conversations: the real long-CoT pool's (../shared/data, 291 traces of ~9k characters)
    repeated, where it is present; synthetic traces of a few thousand characters otherwise."""
    import numpy as np
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    if REAL_POOL.exists():
        real = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
        picked = [real[index % len(real)] for index in range(rows)]
        return Dataset.from_dict(
            {
                "s2r_id": [f"row-{index:08d}" for index in range(rows)],
                "messages": [
                    [{"role": "user", "content": row["question"]}, {"role": "assistant", "content": row["solution"]}]
                    for row in picked
                ],
                "s2r_difficulty": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=rows),
                "s2r_trace_length": [len(row["solution"]) for row in picked],
            }
        )
    words = ["so", "the", "sum", "is", "then", "Wait,", "let", "x", "equal", "we", "check", "again", "thus", "="]
    words += ["+", "2", "3", "7", "squared", "root", "of", "factor", "prime", "answer", "boxed", "Alternatively,"]
    lengths = np.round(rng.lognormal(mean=6.0, sigma=0.6, size=rows)).astype(int) + 20  # words per trace
    vocabulary = np.array(words)
    messages = [
        [
            {"role": "user", "content": f"Problem {index}: find x such that x^2 = {index % 97}."},
            {"role": "assistant", "content": " ".join(vocabulary[rng.integers(0, len(words), size=length)])},
        ]
        for index, length in enumerate(lengths)
    ]
    return Dataset.from_dict(
        {
            "s2r_id": [f"row-{index:08d}" for index in range(rows)],
            "messages": messages,
            "s2r_difficulty": rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], size=rows),
            "s2r_trace_length": lengths,
        }
    )


def naive_budget(pool, budget: int, tokenizer) -> list[str]:
    """Rows in the joint order, each conversation given to the tokenizer on its own, until the budget is reached."""
    import s2r_hf

    ranked = s2r_hf.select(pool, k=len(pool))
    taken, total = [], 0
    for row_id, messages in zip(ranked["s2r_id"], ranked["messages"]):
        tokens = len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
        if total + tokens > budget:
            break
        taken.append(row_id)
        total += tokens
    return taken


def token_budget_benchmark(rows: int, share: float, vocab_size: int) -> None:
    import datasets

    import s2r_hf
    from s2r_hf.selection import trainer_tokens

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from fixtures.tiny_models import build_tokenizer

    datasets.disable_progress_bars()
    pool = build_conversations(rows)
    with tempfile.TemporaryDirectory() as tmp:
        sample = (messages[-1]["content"] for messages in pool.select(range(min(rows, 2000)))["messages"])
        tokenizer = build_tokenizer(sample, Path(tmp) / "tok", vocab_size=vocab_size)
    # The pool's tokens, estimated from a sample of its rows (counting all of them would take longer than the runs).
    sample_rows = min(rows, 1000)
    budget = max(1, int(share * trainer_tokens(pool.select(range(sample_rows)), tokenizer) * rows / sample_rows))
    start = time.perf_counter()
    ours = s2r_hf.select(pool, token_budget=budget, tokenizer=tokenizer)["s2r_id"]
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_budget(pool, budget, tokenizer)
    naive_seconds = time.perf_counter() - start
    print(
        f"\ntoken budget of {share:.0%} of the trainer tokens of {rows:,} conversations ({budget:,} tokens, joint "
        f"order), BPE vocabulary {len(tokenizer):,}, {'real' if REAL_POOL.exists() else 'synthetic'} traces"
    )
    print(f"{'way':<46}{'seconds':>9}{'rows taken':>12}")
    print(f"{'select(token_budget=N) (batched chat template)':<46}{ours_seconds:>9.2f}{len(ours):>12,}")
    print(f"{'row by row (apply_chat_template per row)':<46}{naive_seconds:>9.2f}{len(naive):>12,}")
    same = list(ours) == naive
    print(f"speed-up: {naive_seconds / ours_seconds:.1f}x   same rows taken: {same}")
    if not same:
        sys.exit("the two ways took different rows within the token budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ratio", type=float, default=0.1)
    parser.add_argument("--weight", type=float, default=0.25)
    parser.add_argument("--budget-rows", type=int, default=20_000, help="conversations of the token budget (0: skip)")
    parser.add_argument("--budget-share", type=float, default=0.1, help="the budget, as a share of the pool's tokens")
    parser.add_argument("--budget-vocab", type=int, default=4096, help="the BPE vocabulary of the budget's tokenizer")
    parser.add_argument("--child", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.ratio, args.weight)
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pool"
        print(f"building a scored pool of {args.rows:,} rows ...", flush=True)
        build_pool(args.rows, path)
        results = {}
        for way in ("ours", "naive"):
            command = [
                sys.executable,
                __file__,
                "--child",
                way,
                "--path",
                str(path),
                "--rows",
                str(args.rows),
                "--ratio",
                str(args.ratio),
                "--weight",
                str(args.weight),
            ]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"the {way} run failed:\n{done.stderr[-3000:]}")
            results[way] = json.loads(done.stdout.strip().splitlines()[-1])
    same = results["ours"]["ids"] == results["naive"]["ids"]
    ours, naive = results["ours"], results["naive"]
    print(f"\nselection of {args.ratio:.0%} of {args.rows:,} rows (joint rank, weight {args.weight})")
    print(f"{'way':<34}{'seconds':>10}{'extra peak RSS (MB)':>22}")
    print(f"{'s2r_hf.select (Arrow + numpy)':<34}{ours['seconds']:>10.2f}{ours['extra_peak_mb']:>22.0f}")
    print(f"{'naive (list of dicts + sorted)':<34}{naive['seconds']:>10.2f}{naive['extra_peak_mb']:>22.0f}")
    print(f"speed-up: {naive['seconds'] / ours['seconds']:.1f}x   same ids selected: {same}")
    if not same:
        sys.exit("the two ways selected different rows")
    if args.budget_rows:
        token_budget_benchmark(args.budget_rows, args.budget_share, args.budget_vocab)


if __name__ == "__main__":
    main()
