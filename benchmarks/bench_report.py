"""The quadrant strategy and the pool report's numbers, against the naive way, side by side in one run. No pass/fail.

A synthetic scored pool (difficulty on the rollout grid of OpenR1, log-normal trace lengths, rethink counts) of
`--rows` rows:
- quadrant selection: `select_with_report(strategy="quadrant")` (one vectorised key, a linear partition) against a
  Python sort of row dicts by (fill position, joint rank, id) after ranking with Python loops; the ids must agree;
- the report's correlations: `describe_pool` (three Spearman correlations, quadrant counts, AUC) against
  scipy.stats.spearmanr on the same columns, when scipy is installed; the values must agree to the 4 decimals the
  report keeps.

    python benchmarks/bench_report.py --rows 1000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def make_pool(rows: int, seed: int = 0):
    import numpy as np
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    difficulty = rng.choice([0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0], size=rows)
    length = np.round(rng.lognormal(mean=8.5, sigma=0.8, size=rows)).astype(np.int64)
    rethinks = rng.poisson(length / 800)
    rollout = np.clip(difficulty + rng.normal(0, 0.2, size=rows), 0, 1).round(2)
    ids = [f"{rng.integers(0, 2**63):016x}-{i:08d}" for i in range(rows)]
    return Dataset.from_dict(
        {
            "s2r_id": ids,
            "s2r_difficulty": difficulty,
            "s2r_trace_length": length,
            "s2r_rethink_count": rethinks,
            "s2r_rollout_difficulty": rollout,
        }
    )


def naive_quadrant(dataset, k: int, quadrant: str, weight: float) -> list[str]:
    from statistics import median

    rows = dataset.select_columns(["s2r_id", "s2r_difficulty", "s2r_trace_length"]).to_list()

    def ranks(key: str) -> dict[str, float]:
        ordered = sorted(rows, key=lambda row: -row[key])
        out, start = {}, 0
        while start < len(ordered):
            end = start
            while end + 1 < len(ordered) and ordered[end + 1][key] == ordered[start][key]:
                end += 1
            for row in ordered[start : end + 1]:
                out[row["s2r_id"]] = (start + end) / 2 + 1
            start = end + 1
        return out

    difficulty_rank, length_rank = ranks("s2r_difficulty"), ranks("s2r_trace_length")
    length_median = median(row["s2r_trace_length"] for row in rows)
    difficulty_median = median(row["s2r_difficulty"] for row in rows)
    length_side, difficulty_side = quadrant.split("-")
    other = {"long": "short", "short": "long", "hard": "easy", "easy": "hard"}
    order = [
        quadrant,
        f"{length_side}-{other[difficulty_side]}",
        f"{other[length_side]}-{difficulty_side}",
        f"{other[length_side]}-{other[difficulty_side]}",
    ]
    for row in rows:
        name = ("long" if row["s2r_trace_length"] > length_median else "short") + "-"
        name += "hard" if row["s2r_difficulty"] > difficulty_median else "easy"
        joint = weight * difficulty_rank[row["s2r_id"]] + (1 - weight) * length_rank[row["s2r_id"]]
        row["key"] = (order.index(name), joint, row["s2r_id"])
    return [row["s2r_id"] for row in sorted(rows, key=lambda row: row["key"])[:k]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ratio", type=float, default=0.1)
    parser.add_argument("--quadrant", default="short-hard")
    args = parser.parse_args()

    import numpy as np

    from s2r_hf.outputs.pool_report import describe_pool
    from s2r_hf.selection import SelectConfig, select_with_report

    pool = make_pool(args.rows)
    k = int(args.rows * args.ratio + 0.5)
    print(f"pool: {args.rows:,} rows; quadrant {args.quadrant}, k = {k:,}")

    start = time.perf_counter()
    subset, report = select_with_report(pool, SelectConfig(k=k, strategy="quadrant", quadrant=args.quadrant))
    ours = time.perf_counter() - start
    start = time.perf_counter()
    naive = naive_quadrant(pool, k, args.quadrant, 0.25)
    slow = time.perf_counter() - start
    same = subset["s2r_id"] == naive
    print(f"quadrant select  ours {ours:7.2f} s  naive {slow:7.2f} s  speed-up {slow / ours:6.1f}x  same ids: {same}")
    print(f"  taken: {report.quadrant['taken']}")

    s2r = {"name": "bench", "length": {"unit": "tokens"}, "difficulty": {"scorer": "judge"}}
    start = time.perf_counter()
    described = describe_pool(pool, s2r)
    ours = time.perf_counter() - start
    print(f"describe_pool    ours {ours:7.2f} s (3 Spearman, quadrant counts, judge-vs-rollout Spearman and AUC)")
    try:
        from scipy.stats import spearmanr
    except ImportError:
        print("scipy not installed: no comparison")
        return
    columns = {name: np.asarray(pool[name], dtype=float) for name in ("s2r_difficulty", "s2r_trace_length")}
    start = time.perf_counter()
    reference = spearmanr(columns["s2r_difficulty"], columns["s2r_trace_length"]).statistic
    scipy_time = time.perf_counter() - start
    print(
        f"  difficulty ~ length: ours {described['spearman']['difficulty ~ length']} (rounded), scipy {reference:.6f} "
        f"({scipy_time:.2f} s for one pair)"
    )


if __name__ == "__main__":
    main()
