"""Token length of reasoning traces: s2r_hf.add_trace_columns against encoding row by row, side by side in one run.

The pool is the real long-CoT pool in ../shared/data (291 DeepSeek-R1-Distill traces, median ~9k characters),
replicated to --rows rows. The tokenizer is a byte-level BPE trained here on that pool (nothing can be downloaded).
The naive way is what a transformers user writes first: a non-batched `Dataset.map` calling the tokenizer on each
trace and taking `len(input_ids)`. Both write the same counts; caching is off so each really computes them.

    python benchmarks/bench_length.py               # 100,000 rows (about 1 GB of traces)
    python benchmarks/bench_length.py --rows 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REAL_POOL = REPO.parent / "shared" / "data" / "pools" / "limo-r1distill-qwen32b" / "train.jsonl"


def naive_length(row, tokenizer):
    return {"naive_length": len(tokenizer(row["messages"][-1]["content"], add_special_tokens=False)["input_ids"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--vocab-size", type=int, default=8192)
    args = parser.parse_args()
    if not REAL_POOL.exists():
        sys.exit(f"the real pool is not at {REAL_POOL}; this benchmark needs ../shared/data")

    import datasets
    from datasets import Dataset, concatenate_datasets

    sys.path.insert(0, str(REPO / "tests"))
    from fixtures.tiny_models import build_tokenizer

    from s2r_hf.core.columns import TRACE_LENGTH
    from s2r_hf.core.rows import make_messages
    from s2r_hf.signals.length import add_trace_columns

    datasets.disable_caching()
    datasets.disable_progress_bars()
    rows = [json.loads(line) for line in REAL_POOL.read_text(encoding="utf-8").splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = build_tokenizer(
            (r["question"] + "\n" + r["solution"] for r in rows), Path(tmp) / "tok", vocab_size=args.vocab_size
        )
        base = Dataset.from_dict({"messages": [make_messages(r["question"], r["solution"]) for r in rows]})
        pool = concatenate_datasets([base] * (args.rows // len(base) + 1)).select(range(args.rows))
        pool = pool.flatten_indices()
        characters = sum(len(r["solution"]) for r in rows) * args.rows / len(rows)
        print(f"{args.rows:,} traces, {characters / 1e6:,.0f} M characters, BPE vocabulary {len(tokenizer):,}")

        start = time.perf_counter()
        ours = add_trace_columns(pool, tokenizer)
        ours_seconds = time.perf_counter() - start
        start = time.perf_counter()
        naive = pool.map(naive_length, fn_kwargs={"tokenizer": tokenizer})
        naive_seconds = time.perf_counter() - start

        same = ours[TRACE_LENGTH] == naive["naive_length"]
    print(f"{'way':<46}{'seconds':>9}{'rows/s':>10}")
    print(
        f"{'add_trace_columns (batched, Rust encode_batch)':<46}{ours_seconds:>9.1f}{args.rows / ours_seconds:>10,.0f}"
    )
    print(f"{'row by row (map + tokenizer(text))':<46}{naive_seconds:>9.1f}{args.rows / naive_seconds:>10,.0f}")
    print(f"speed-up: {naive_seconds / ours_seconds:.1f}x   same counts: {same}")
    if not same:
        sys.exit("the two ways counted different lengths")


if __name__ == "__main__":
    main()
