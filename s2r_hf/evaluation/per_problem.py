"""Each problem's score in a results folder: the one reader of per-problem results (`read_problem_scores`).

The intervals of `s2r experiment report` and `s2r compare` resample problems, so they need each problem's score, not
the benchmark's mean. It is already in every results folder: lighteval's per-sample details, kept by `s2r evaluate` as
`details/<benchmark>.parquet` (and published with the results), hold one row per problem with `doc.id` (the problem's
row in the benchmark, which lighteval numbers from 0) and `metric.pass@1`, the share of the problem's samples graded
right (c / n). Which samples were right is not kept there, only how many; the bootstrap draws problems, never samples,
so that share is all it needs.

A results file whose folder has no details (copied alone, saved under another name than results.json, or written by
hand) has no per-problem scores: the readers
then show the benchmark's mean and standard error without an interval, and say why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.results import DETAILS_DIR, RESULTS_FILE, read_results

if TYPE_CHECKING:
    import numpy as np

SCORED_METRIC = "pass@1"  # the metric the intervals are of: a problem's share of right samples


@dataclass(frozen=True)
class ProblemScores:
    """One benchmark of one run: the problems' ids (their rows in the benchmark, in order) and each one's pass@1;
    `samples`: the samples per problem (None when the results file does not say)."""

    benchmark: str
    ids: tuple[str, ...]
    scores: np.ndarray
    samples: int | None

    def by_id(self) -> dict[str, float]:
        return dict(zip(self.ids, self.scores.tolist()))


def results_folder(path: str | os.PathLike) -> Path:
    """The folder of a results file (or the folder itself), where its details are."""
    path = Path(path).expanduser()
    return path if path.is_dir() else path.parent


def read_problem_scores(path: str | os.PathLike, run: dict[str, Any] | None = None) -> dict[str, ProblemScores]:
    """{benchmark: ProblemScores} of the results file (or folder) at `path`: the benchmarks scored on pass@1 whose
    details file is there. `run`: the results file already read (read here when not given)."""
    import numpy as np
    import pyarrow.parquet as pq

    if run is None:
        run = read_results(path)
    if not Path(path).expanduser().is_dir() and Path(path).name != RESULTS_FILE:
        return {}  # details/ belongs to the results.json beside it, not to a results file saved under another name
    folder = results_folder(path)
    tasks = run.get("tasks") if isinstance(run.get("tasks"), dict) else {}
    found: dict[str, ProblemScores] = {}
    for benchmark, metrics in run["results"].items():
        details = folder / DETAILS_DIR / f"{benchmark}.parquet"
        if SCORED_METRIC not in metrics or not details.is_file():
            continue
        try:
            table = pq.read_table(details, columns=["doc.id", f"metric.{SCORED_METRIC}"]).to_pydict()
        except (OSError, ValueError, KeyError) as err:  # pyarrow's errors subclass these
            raise InputError(
                f"{str(details)!r} is not a details file of s2r evaluate with each problem's id and {SCORED_METRIC} "
                f"({' '.join(str(err).split())[:200]}); evaluate again to write it whole"
            ) from None
        ids, values = table.get("id") or [], table.get(SCORED_METRIC) or []
        if not ids or len(ids) != len(set(ids)) or any(value is None for value in values):
            raise InputError(
                f"{str(details)!r} has {len(ids)} rows, {len(ids) - len(set(ids))} repeated ids and "
                f"{sum(value is None for value in values)} missing scores; evaluate again to write it whole"
            )
        order = sorted(range(len(ids)), key=lambda index: _id_key(ids[index]))
        samples = _samples(run, tasks, benchmark)
        found[benchmark] = ProblemScores(
            benchmark,
            tuple(str(ids[index]) for index in order),
            np.asarray([float(values[index]) for index in order]),
            samples,
        )
    return found


def _samples(run: dict[str, Any], tasks: dict[str, Any], benchmark: str) -> int | None:
    """Samples per problem: the task's `num_samples` setting, else its pass@1 row of the table (None if neither)."""
    task = tasks.get(benchmark)
    settings = task.get("settings") if isinstance(task, dict) else None
    found = settings.get("num_samples") if isinstance(settings, dict) else None
    if found is None:
        rows = [row for row in run.get("table") or [] if isinstance(row, dict) and row.get("task") == benchmark]
        found = next((row.get("samples") for row in rows if row.get("metric") == SCORED_METRIC), None)
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _id_key(value: Any) -> tuple[int, int, str]:
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
