"""Intervals of arms and their differences from a reference arm, from each problem's scores: what `s2r experiment
report` and `s2r compare` show beside the plain means.

An arm is one or more runs (its training seeds), each read with `read_problem_scores`. Per benchmark:

- the arm's mean over its seeds and problems, with a 95% two-level bootstrap interval (seeds drawn, then problems;
  s2r_hf.core.bootstrap), over the problems every seed of the arm answered;
- against the reference arm, the mean difference with a 95% paired bootstrap interval over the problems both arms
  answered (each arm's seeds averaged first); an interval that holds zero is "no detectable difference".

Each benchmark draws with its own RNG seed (RNG_SEED and the benchmark's name), so that an arm's accuracy over its
benchmarks (the mean of its benchmarks' means) has an interval too, from their draws taken together.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from s2r_hf.core.bootstrap import (
    CONFIDENCE,
    RESAMPLES,
    RNG_SEED,
    Interval,
    interval_of_average,
    paired_difference,
    seeds_and_problems_interval,
)
from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.per_problem import SCORED_METRIC, ProblemScores

NO_DIFFERENCE = "no detectable difference"
METHOD = (
    f"{SCORED_METRIC}: mean over seeds and problems, {round(100 * CONFIDENCE)}% percentile bootstrap interval "
    f"({RESAMPLES:,} draws, RNG seed {RNG_SEED}): seeds drawn with replacement, then problems (the same problems for "
    "every seed drawn); differences from the reference arm: a paired bootstrap over the problems both arms answered, "
    "each arm's seeds averaged"
)

ArmRuns = Sequence[Mapping[str, ProblemScores]]  # one {benchmark: ProblemScores} per seed


def arm_statistics(
    arms: Mapping[str, ArmRuns], reference: str | None = None, *, resamples: int = RESAMPLES
) -> dict[str, Any]:
    """{method, resamples, confidence, rng_seed, reference, arms: {arm: {benchmarks: {name: entry}, accuracy}},
    differences: {arm: {name: entry with `detectable`}}}; entries as `Interval.describe()` plus `samples`.

    `reference`: the arm the others are compared with (None: no differences); arms with no per-problem scores have
    empty `benchmarks` and no accuracy interval.
    """
    if reference is not None and reference not in arms:
        raise InputError(f"the reference arm {reference!r} is not among the arms compared ({', '.join(arms)})")
    statistics: dict[str, Any] = {
        "method": METHOD,
        "resamples": resamples,
        "confidence": CONFIDENCE,
        "rng_seed": RNG_SEED,
        "reference": reference,
        "arms": {},
        "differences": {},
    }
    for name, runs in arms.items():
        intervals: dict[str, Interval] = {}
        entries: dict[str, dict[str, Any]] = {}
        for benchmark in _benchmarks(runs):
            ids, matrix = _aligned(runs, benchmark)
            if not ids:
                continue
            interval = seeds_and_problems_interval(matrix, resamples=resamples, seed=_rng_seed(benchmark))
            intervals[benchmark] = interval
            entries[benchmark] = {**interval.describe(), "samples": _samples(runs, benchmark)}
        accuracy = interval_of_average(list(intervals.values())).describe() if intervals else None
        statistics["arms"][name] = {"benchmarks": entries, "accuracy": accuracy}
    if reference is None:
        return statistics
    for name, runs in arms.items():
        if name == reference:
            continue
        differences = {}
        for benchmark in _benchmarks(runs):
            if benchmark not in _benchmarks(arms[reference]):
                continue
            ids, arm_matrix, reference_matrix = _paired(runs, arms[reference], benchmark)
            if not ids:
                continue
            difference = paired_difference(arm_matrix, reference_matrix, resamples=resamples, seed=_rng_seed(benchmark))
            differences[benchmark] = {**difference.describe(), "detectable": not difference.contains_zero}
        statistics["differences"][name] = differences
    return statistics


def _benchmarks(runs: ArmRuns) -> list[str]:
    """The benchmarks every run of the arm has per-problem scores for, in the first run's order."""
    if not runs:
        return []
    return [name for name in runs[0] if all(name in run for run in runs[1:])]


def _common_ids(runs: ArmRuns, benchmark: str) -> list[str]:
    common = set(runs[0][benchmark].ids)
    for run in runs[1:]:
        common &= set(run[benchmark].ids)
    return [problem for problem in runs[0][benchmark].ids if problem in common]


def _matrix(runs: ArmRuns, benchmark: str, ids: list[str]):
    import numpy as np

    scores = [run[benchmark].by_id() for run in runs]
    return np.asarray([[by_id[problem] for problem in ids] for by_id in scores])


def _aligned(runs: ArmRuns, benchmark: str):
    ids = _common_ids(runs, benchmark)
    return ids, _matrix(runs, benchmark, ids)


def _paired(runs: ArmRuns, reference: ArmRuns, benchmark: str):
    both = set(_common_ids(reference, benchmark))
    ids = [problem for problem in _common_ids(runs, benchmark) if problem in both]
    return ids, _matrix(runs, benchmark, ids), _matrix(reference, benchmark, ids)


def _samples(runs: ArmRuns, benchmark: str) -> int | None:
    counts = {run[benchmark].samples for run in runs}
    return counts.pop() if len(counts) == 1 else None


def _rng_seed(benchmark: str) -> list[int]:
    return [RNG_SEED, zlib.crc32(benchmark.encode("utf-8"))]


# -- in words ---------------------------------------------------------------------------------------------------------


def interval_text(entry: Mapping[str, Any] | None) -> str:
    """`41.2 [38.0, 44.5] (3 seeds × 30 × 16)`: the mean and its interval in percent, and what stands behind it
    (seeds × problems × samples per problem); `-` for none."""
    if not entry:
        return "-"
    behind = f"{entry['seeds']} seed{'s' if entry['seeds'] != 1 else ''} × {entry['problems']:,}"
    if entry.get("samples") is not None:
        behind += f" × {entry['samples']}"
    return f"{100 * entry['mean']:.1f} [{100 * entry['low']:.1f}, {100 * entry['high']:.1f}] ({behind})"


def difference_text(entry: Mapping[str, Any] | None) -> str:
    """`+8.0 [+2.1, +13.9]`, or `+1.0 [-3.0, +5.0]: no detectable difference` (percentage points); `-` for none."""
    if not entry:
        return "-"
    text = f"{100 * entry['mean']:+.1f} [{100 * entry['low']:+.1f}, {100 * entry['high']:+.1f}]"
    return text if entry["detectable"] else f"{text}: {NO_DIFFERENCE}"


def interval_markdown(statistics: Mapping[str, Any], arms: Sequence[str]) -> list[str]:
    """Markdown lines (each table after a blank line) of `arm_statistics`: each arm's mean and 95% interval per
    benchmark, then each arm's difference from the reference arm; a line saying why when there is no interval."""
    entries = statistics["arms"]
    shown = [arm for arm in arms if (entries.get(arm) or {}).get("benchmarks")]
    benchmarks: list[str] = []
    for arm in shown:
        benchmarks += [name for name in entries[arm]["benchmarks"] if name not in benchmarks]
    if not benchmarks:
        return [
            "",
            "No intervals: the results folders hold no per-problem scores (`details/<benchmark>.parquet`, written "
            "by `s2r evaluate`).",
        ]
    lines = [
        "",
        f"## {SCORED_METRIC} with 95% intervals",
        "",
        "| arm | " + " | ".join(benchmarks) + " | mean over benchmarks |",
        "| --- |" + " ---: |" * (len(benchmarks) + 1),
    ]
    for arm in shown:
        cells = [interval_text(entries[arm]["benchmarks"].get(name)) for name in benchmarks]
        lines.append(f"| {_cell(arm)} | " + " | ".join([*cells, interval_text(entries[arm]["accuracy"])]) + " |")
    lines += [
        "",
        "Mean in percent [95% interval] (seeds × problems × samples per problem; the mean over benchmarks: seeds × "
        f"problems in all). The interval is a two-level bootstrap ({statistics['resamples']:,} draws, RNG seed "
        f"{statistics['rng_seed']}): the seeds drawn with replacement, then the problems (the same problems for every "
        "seed drawn), so it holds both the spread between training seeds and the luck of which problems a benchmark "
        "has; with one seed, the bootstrap over problems alone.",
    ]
    reference = statistics.get("reference")
    differences = statistics.get("differences") or {}
    compared = [arm for arm in arms if arm != reference and differences.get(arm)]
    if reference is None or not compared:
        return lines
    lines += [
        "",
        f"## Against {_cell(reference)} (the reference)",
        "",
        "| arm | " + " | ".join(benchmarks) + " |",
        "| --- |" + " ---: |" * len(benchmarks),
    ]
    for arm in compared:
        cells = [difference_text(differences[arm].get(name)) for name in benchmarks]
        lines.append(f"| {_cell(arm)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Difference from {_cell(reference)} in percentage points [95% interval]: a paired bootstrap over the problems "
        "both answered (each one's seeds averaged per problem, the same problems drawn for both). An interval holding "
        f'0 is "{NO_DIFFERENCE}": these runs cannot tell the two apart on that benchmark.',
    ]
    return lines


def _cell(text: str) -> str:
    """A name as one Markdown table cell: a `|` or a line break in it would split the row."""
    return " ".join(str(text).split()).replace("|", "\\|")
