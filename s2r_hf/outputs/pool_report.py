"""The pool report: what a scored pool holds, pictures first, then numbers (`s2r inspect`, and the scored pool's card).

- Difficulty against length: a 2-D histogram with the pool's medians drawn and the row count of each quadrant (the split
  the quadrant strategy uses, s2r_hf.selection.split_quadrants); a subset's rows drawn over it when one is given.
- Spearman correlations between difficulty, length and rethink count (fractional ranks, s2r_hf.core.stats).
- Where the pool has both a judge's difficulty and `s2r_rollout_difficulty` (`s2r score --difficulty judge` on a pool
  with verification flags): their Spearman correlation, and the AUC of the judge score for telling the questions no
  rollout solved from those every rollout solved (0.5 is chance, 1 a perfect ordering).
- The same two numbers against `s2r_sampled_difficulty` (1 - the pass rate of sampled rollouts, joined with
  `s2r score --sampled-difficulty`), over the rows that were sampled, for any difficulty but the sampled one itself.
- Where the judge is one `s2r train-judge` calibrated and the pool holds its held-out rows: its AUC and Spearman on
  them against the untrained base judge's (the card's `judge_held_out`, s2r_hf.signals.judge.held_out).
- The hygiene counts (decontamination, near-duplicates) the card's `s2r.hygiene` block carries, when it has one.

`describe_pool` computes the numbers (a JSON-able dict); `report_files` renders report.md (from the card template
hub_cards/pool_report.md, which the scored pool's card includes too), report.json and the PNGs. Like
s2r_hf.outputs.plots, the PNG bytes depend on the input alone. The scored pool's folder carries its report
(s2r_hf.outputs.artifacts); `s2r inspect` writes one on its own (s2r_hf.outputs.inspect).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from s2r_hf.core.cards import render_body
from s2r_hf.core.columns import DIFFICULTY, RETHINK_COUNT, ROLLOUT_DIFFICULTY, SAMPLED_DIFFICULTY, TRACE_LENGTH
from s2r_hf.core.figures import new_figure, png_bytes
from s2r_hf.core.folders import POOL_REPORT_KIND, POOL_REPORT_RECORD
from s2r_hf.core.rows import arrow_column
from s2r_hf.core.stats import agreement_with_pass_rates, spearman
from s2r_hf.selection import QUADRANTS, _difficulty_column, _numeric_column, quadrant_index, split_quadrants

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset


REPORT_MD = "report.md"
REPORT_JSON = POOL_REPORT_RECORD
QUADRANT_PLOT = "quadrants.png"
JUDGE_PLOT = "judge_vs_rollout.png"
JUDGE_SAMPLED_PLOT = "judge_vs_sampled.png"
# The references a difficulty is checked against: report key -> (column, plot, the scorer that made the column itself,
# which is not checked against its own output).
REFERENCES = {
    "judge_vs_rollout": (ROLLOUT_DIFFICULTY, JUDGE_PLOT, "rollout"),
    "judge_vs_sampled": (SAMPLED_DIFFICULTY, JUDGE_SAMPLED_PLOT, "sampled"),
}
REPORT_FOLDER = "report"  # inside a scored pool's folder
REPORT_KIND = POOL_REPORT_KIND  # report.json's "kind": how --overwrite knows a folder is a report (core.folders)

_FIGSIZE = (7.0, 5.0)
_DPI = 100
_SUBSET_COLOR = "#d9480f"
_MEDIAN_COLOR = "#495057"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _values(dataset: Dataset, name: str) -> np.ndarray | None:
    if name not in dataset.column_names:
        return None
    return arrow_column(dataset, name).to_numpy(zero_copy_only=False).astype("float64")


def _compared_rows(pool: Dataset, column: str) -> np.ndarray | None:
    """The rows that have a value in a reference column (a mask), or None when the pool has no such column or no
    row has a value: a sampled reference is null on the rows that were not sampled."""
    import numpy as np

    values = _values(pool, column)
    if values is None:
        return None
    present = ~np.isnan(values)
    return present if present.any() else None


def _quadrant_counts(length: np.ndarray, difficulty: np.ndarray, length_median: float, difficulty_median: float):
    import numpy as np

    index = quadrant_index(length, difficulty, length_median, difficulty_median)
    return {name: int(np.count_nonzero(index == position)) for position, name in enumerate(QUADRANTS)}


def describe_pool(
    pool: Dataset, s2r: dict[str, Any], subset: Dataset | None = None, subset_s2r: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The report's numbers, JSON-able. `s2r` is the scored pool's card block; a subset adds its rows per quadrant."""

    length = _numeric_column(pool, TRACE_LENGTH, "score the pool with `s2r score`")
    difficulty = _difficulty_column(pool)
    _, length_median, difficulty_median = split_quadrants(length, difficulty)
    signals = {"difficulty": difficulty, "length": length}
    rethinks = _values(pool, RETHINK_COUNT)
    if rethinks is not None:
        signals["rethink count"] = rethinks
    names = list(signals)
    report: dict[str, Any] = {
        "kind": REPORT_KIND,
        "pool": s2r.get("name"),
        "rows": len(pool),
        "length_unit": (s2r.get("length") or {}).get("unit", "characters"),
        "difficulty_scorer": (s2r.get("difficulty") or {}).get("scorer"),
        "medians": {"length": length_median, "difficulty": difficulty_median},
        "quadrants": _quadrant_counts(length, difficulty, length_median, difficulty_median),
        "spearman": {
            f"{first} ~ {second}": _rounded(spearman(signals[first], signals[second]))
            for position, first in enumerate(names)
            for second in names[position + 1 :]
        },
        "judge_vs_rollout": None,
        "judge_vs_sampled": None,
        "judge_held_out": None,
        "hygiene": s2r.get("hygiene") or None,
        "subset": None,
        "plots": [QUADRANT_PLOT],
    }
    for key, (column, plot, own_scorer) in REFERENCES.items():
        compared = _compared_rows(pool, column)
        if compared is None or report["difficulty_scorer"] == own_scorer:
            continue
        agreement = agreement_with_pass_rates(difficulty[compared], _values(pool, column)[compared])
        report[key] = {name: _rounded(v) if isinstance(v, float) else v for name, v in agreement.items()}
        report["plots"].append(plot)
    if report["judge_vs_sampled"]:
        joined = s2r.get("sampled_difficulty") if isinstance(s2r.get("sampled_difficulty"), dict) else {}
        report["judge_vs_sampled"]["source"] = joined.get("source")
    report["judge_held_out"] = s2r.get("judge_held_out") or None
    if subset is not None:
        sub_length = _numeric_column(subset, TRACE_LENGTH, "the subset's pool was scored")
        sub_difficulty = _difficulty_column(subset)
        report["subset"] = {
            "name": (subset_s2r or {}).get("name"),
            "strategy": (subset_s2r or {}).get("strategy"),
            "quadrant": ((subset_s2r or {}).get("quadrant") or {}).get("name"),
            "rows": len(subset),
            "quadrants": _quadrant_counts(sub_length, sub_difficulty, length_median, difficulty_median),
        }
    return json.loads(json.dumps(report, default=float))  # plain Python numbers, as YAML and JSON want them


# ---- pictures ------------------------------------------------------------------------------------------------------


def _png(figure) -> bytes:
    # Fixed margins: tight_layout would measure every label first, a third of the time a plot takes.
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.1, top=0.93)
    return png_bytes(figure)


def plot_quadrants(
    length: np.ndarray,
    difficulty: np.ndarray,
    report: dict[str, Any],
    subset_length: np.ndarray | None = None,
    subset_difficulty: np.ndarray | None = None,
) -> bytes:
    """The 2-D histogram of difficulty against length, median lines, quadrant counts, and a subset's rows if given."""
    import numpy as np

    medians, counts, rows = report["medians"], report["quadrants"], report["rows"]
    with new_figure(_FIGSIZE, _DPI) as figure:
        axes = figure.subplots()
        low, high = float(length.min()), float(length.max())
        x_edges = np.linspace(low, high if high > low else low + 1.0, 41)
        y_edges = np.linspace(min(0.0, difficulty.min()), max(1.0, difficulty.max()), 21)
        histogram, _, _ = np.histogram2d(length, difficulty, bins=[x_edges, y_edges])
        mesh = axes.pcolormesh(x_edges, y_edges, np.ma.masked_equal(histogram.T, 0), cmap="Blues", shading="flat")
        figure.colorbar(mesh, ax=axes, label="rows per cell")
        axes.axvline(medians["length"], color=_MEDIAN_COLOR, linestyle="--", linewidth=1.2)
        axes.axhline(medians["difficulty"], color=_MEDIAN_COLOR, linestyle="--", linewidth=1.2)
        corners = {"long-hard": (0.98, 0.97), "long-easy": (0.98, 0.03), "short-hard": (0.02, 0.97),
                   "short-easy": (0.02, 0.03)}  # fmt: skip
        for name, (x, y) in corners.items():
            share = 100.0 * counts[name] / rows if rows else 0.0
            axes.text(
                x, y, f"{name}\n{counts[name]:,} ({share:.1f}%)", transform=axes.transAxes,
                ha="right" if x > 0.5 else "left", va="top" if y > 0.5 else "bottom", fontsize=9,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "#ced4da"},
            )  # fmt: skip
        if subset_length is not None and subset_difficulty is not None:
            axes.scatter(
                subset_length, subset_difficulty, s=18, color=_SUBSET_COLOR, alpha=0.8, edgecolors="black",
                linewidths=0.4, label=f"subset (n={len(subset_length):,})", rasterized=True, zorder=3,
            )  # fmt: skip
            axes.legend(loc="upper center", frameon=True)
        axes.set_xlabel(f"reasoning trace length ({report['length_unit']})")
        axes.set_ylabel("question difficulty (1 = hardest)")
        axes.set_title(f"Difficulty against length, {rows:,} rows; dashed: the medians")
        return _png(figure)


# key of REFERENCES -> (x label, title) of its plot
_REFERENCE_LABELS = {
    "judge_vs_rollout": (
        "rollout difficulty (1 - verified-correct rollouts / rollouts)",
        "The judge against the rollouts' pass rates",
    ),
    "judge_vs_sampled": (
        "sampled difficulty (1 - correct sampled completions / completions)",
        "The difficulty against the sampled pass rates",
    ),
}


def plot_against_reference(judge: np.ndarray, rollout: np.ndarray, reference: str = "judge_vs_rollout") -> bytes:
    """Box plots of the judge's score for each reference difficulty (binned in fifths when it takes many values);
    `reference` is the key of REFERENCES it is drawn for."""
    import numpy as np

    levels = np.unique(np.round(rollout, 3))
    if len(levels) <= 8:
        groups = [judge[np.round(rollout, 3) == level] for level in levels]
        labels = [f"{level:g}" for level in levels]
    else:
        bins = np.minimum((rollout * 5).astype(int), 4)
        groups = [judge[bins == index] for index in range(5)]
        labels = [f"{index / 5:g}-{(index + 1) / 5:g}" for index in range(5)]
        groups, labels = zip(*[(group, label) for group, label in zip(groups, labels) if len(group)])
    with new_figure(_FIGSIZE, _DPI) as figure:
        axes = figure.subplots()
        axes.boxplot(list(groups), tick_labels=list(labels))
        xlabel, title = _REFERENCE_LABELS[reference]
        axes.set_xlabel(xlabel)
        axes.set_ylabel("difficulty score")
        axes.set_title(f"{title}, {len(judge):,} rows")
        return _png(figure)


# ---- files ---------------------------------------------------------------------------------------------------------


def render_report(report: dict[str, Any], prefix: str = "") -> str:
    """report.md: the template hub_cards/pool_report.md, with images under `prefix`."""
    return render_body("pool_report.md", report=report, prefix=prefix, heading="#")


def report_files(
    pool: Dataset,
    report: dict[str, Any],
    subset: Dataset | None = None,
) -> dict[str, bytes]:
    """report.md, report.json and the PNGs of a report from `describe_pool` (file name -> bytes)."""
    length, difficulty = _values(pool, TRACE_LENGTH), _values(pool, DIFFICULTY)
    files = {
        QUADRANT_PLOT: plot_quadrants(
            length,
            difficulty,
            report,
            None if subset is None else _values(subset, TRACE_LENGTH),
            None if subset is None else _values(subset, DIFFICULTY),
        )
    }
    for key, (column, plot, _) in REFERENCES.items():
        if report.get(key):
            compared = _compared_rows(pool, column)
            files[plot] = plot_against_reference(difficulty[compared], _values(pool, column)[compared], key)
    files[REPORT_JSON] = (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    files[REPORT_MD] = render_report(report).encode("utf-8")
    return files
