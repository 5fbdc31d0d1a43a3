"""Compare evaluation runs: `compare_results([results.json, ...])` -> one Markdown table and a grouped bar chart.

This is the form in which the paper's claim ("10% of the data, same accuracy") is read: one row per run (full pool,
random 10%, longest, hardest, joint 10%, ...), its tokens beside its scores (tokens in the training data, one epoch,
and tokens processed by the trainer: s2r_hf.core.records), one column per benchmark and metric. The chart groups
bars by benchmark column, one bar per run.

Runs evaluated under different protocols (preset, max new tokens, samples) are not comparable: the table says so under
itself rather than refusing, since comparing a smoke run with a full one is sometimes what a user wants to see.

Where the results folders hold each problem's score (`details/`, s2r_hf.evaluation.per_problem), the table is followed
by each run's pass@1 with a 95% interval and each run's difference from a reference run (the first, or `reference`)
with a paired interval (s2r_hf.evaluation.intervals). With `group_seeds`, runs that share a label (their own, or the
one given) are the training seeds of one arm: one row, their mean, and an interval over seeds and problems. The rule
is the label alone, which `s2r experiment run` gives every seed of an arm (the arm's name); nothing is guessed from
the training records.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from s2r_hf.core.errors import InputError
from s2r_hf.core.figures import new_figure, png_bytes, read_chart_text
from s2r_hf.core.records import DATA_TOKENS, TRAINED_TOKENS
from s2r_hf.evaluation.intervals import arm_statistics, interval_markdown
from s2r_hf.evaluation.per_problem import SCORED_METRIC, read_problem_scores
from s2r_hf.evaluation.results import RESULTS_FILE, is_partial, read_results

# What the two token columns mean, under every table that shows them (`s2r experiment report` too).
TOKENS_NOTE = (
    "Data tokens: the tokens in the training data (the chat template applied, as the trainer counts them; each example "
    "once). Trained tokens: the tokens processed by the trainer, by its own count (non-padding tokens of every step, "
    "over every epoch; a resumed run's whole count)."
)
_FIGSIZE = (9.0, 4.5)
_DPI = 110
CHART_BARS_KEY = "s2r-bars"  # the PNG text chunk holding what the bars show


@dataclass(frozen=True)
class Comparison:
    """The comparison of several runs: the Markdown table, the chart as PNG bytes, and the columns it shows."""

    markdown: str
    png: bytes
    labels: list[str]
    columns: list[tuple[str, str]]  # (benchmark, metric)
    values: list[list[float | None]]  # values[run][column]
    sources: tuple[str, ...] = ()  # the results files (or folders) compared: never written over
    statistics: dict | None = None  # arm_statistics of the rows (intervals, differences from the reference)

    def write(self, markdown_path: str | os.PathLike | None = None, png_path: str | os.PathLike | None = None) -> None:
        """Write the table and/or the chart; each file appears whole or not at all (OutputError if it cannot)."""
        from s2r_hf.core.folders import write_file_atomically

        markdown_target, png_target = check_outputs(markdown_path, png_path, self.sources)
        if markdown_target is not None:
            write_file_atomically(markdown_target, self.markdown.encode("utf-8"))
        if png_target is not None:
            write_file_atomically(png_target, self.png)


def check_outputs(
    markdown_path: str | os.PathLike | None,
    png_path: str | os.PathLike | None,
    inputs: Sequence[str | os.PathLike] = (),
) -> tuple[Path | None, Path | None]:
    """The table and chart paths, resolved, once each is known writable and none is (or is inside) an input: before
    any work, so that `s2r compare A -o A/results.json` never overwrites what it reads."""
    from s2r_hf.core.errors import OutputError
    from s2r_hf.core.folders import check_writable_file

    targets = [None if path is None else check_writable_file(path, inputs=inputs) for path in (markdown_path, png_path)]
    if targets[0] is not None and targets[0] == targets[1]:
        raise OutputError(f"the table and the chart would both be written to {str(targets[0])!r}; give two files")
    return targets[0], targets[1]


def compare_results(
    paths: Sequence[str | os.PathLike],
    labels: Sequence[str] | None = None,
    *,
    metric: str | None = None,
    group_seeds: bool = False,
    reference: str | None = None,
) -> Comparison:
    """Read results files (or the folders holding them) written by `s2r evaluate` and compare them.

    `labels` replace the runs' own labels (in order); `metric` keeps one metric (e.g. "pass@1") in the table.
    `group_seeds`: runs sharing a label are the seeds of one arm (one row: their mean, an interval over seeds and
    problems). `reference`: the row the others' differences are taken from (default: the first).
    """
    if isinstance(paths, (str, os.PathLike)) or not paths:
        raise InputError("give the results files to compare as a list (at least one)")
    _refuse_duplicates(paths)
    runs = [read_results(path) for path in paths]
    if labels is not None:
        if len(labels) != len(runs):
            raise InputError(f"{len(labels)} label(s) for {len(runs)} results file(s); give one label per file")
        names = [str(label) for label in labels]
        if not group_seeds:
            _refuse_shared_labels(names, paths)
    else:
        names = [
            str(run.get("label") or _model(run).get("name") or f"run {index + 1}") for index, run in enumerate(runs)
        ]
        if not group_seeds:
            names = _tell_apart(names, paths)
    groups: dict[str, list[int]] = {}  # a row -> its runs (one each, unless seeds are grouped)
    for index, name in enumerate(names):
        groups.setdefault(name, []).append(index)
    rows = list(groups)
    if reference is not None and reference not in groups:
        raise InputError(f"--reference {reference!r} is none of the runs compared: {', '.join(map(repr, rows))}")
    columns: list[tuple[str, str]] = []
    for run in runs:
        for task, metrics in run["results"].items():
            for name in metrics:
                if (metric is None or name == metric) and (task, name) not in columns:
                    columns.append((task, name))
    if not columns:
        raise InputError(f"no results{f' for metric {metric!r}' if metric else ''} in these files")
    values = [
        [_mean([_value(runs[index], task, name) for index in groups[row]]) for task, name in columns] for row in rows
    ]
    scores = {row: [read_problem_scores(paths[index], runs[index]) for index in groups[row]] for row in rows}
    reference = reference or rows[0]
    statistics = arm_statistics(scores, reference if any(scores[reference]) else None)
    markdown = _table(runs, names, groups, columns, values, group_seeds)
    if metric in (None, SCORED_METRIC) and _any_interval(statistics):
        markdown += "\n".join(interval_markdown(statistics, rows)) + "\n"
    partial = [row for row in rows if any(is_partial(runs[index]) for index in groups[row])]
    sources = tuple(str(path) for path in paths)
    png = _chart(rows, columns, values, statistics, partial)
    return Comparison(markdown, png, rows, columns, values, sources, statistics)


def _any_interval(statistics: dict) -> bool:
    return any(arm.get("benchmarks") for arm in statistics["arms"].values())


def _mean(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def read_comparison_chart(png: bytes | str | os.PathLike) -> dict:
    """What a comparison chart draws (its PNG bytes, or the file): {runs, columns, values, low, high, partial, notes},
    scores as fractions; `low`/`high`: the 95% interval drawn on a bar (None where there is none)."""
    import json

    text = read_chart_text(png, CHART_BARS_KEY, drawn_by="s2r compare", give="a chart written by `s2r compare --chart`")
    return json.loads(text)


def _refuse_duplicates(paths: Sequence[str | os.PathLike]) -> None:
    """The same results file twice (by two names, or as a file and as its folder) would show one run as two."""
    seen: dict[Path, str] = {}
    for path in paths:
        resolved = Path(path).expanduser().resolve()
        if resolved.is_dir():
            resolved = resolved / RESULTS_FILE
        if resolved in seen:
            raise InputError(f"{str(path)!r} and {seen[resolved]!r} are the same results file; give each run once")
        seen[resolved] = str(path)


def _refuse_shared_labels(names: list[str], paths: Sequence[str | os.PathLike]) -> None:
    """Labels the user gave must tell the runs apart: two rows of one name would be read as one run."""
    first: dict[str, str] = {}
    for name, path in zip(names, paths):
        if name in first:
            raise InputError(
                f"the label {name!r} is given to two runs ({first[name]!r} and {str(path)!r}); give each run its own "
                "label"
            )
        first[name] = str(path)


def _tell_apart(names: list[str], paths: Sequence[str | os.PathLike]) -> list[str]:
    """Runs whose own labels are the same (two evaluations of one model, say) are named `label (path)`, the path as
    given, so that no two rows of the table or bars of the chart carry the same name."""
    shared = {name for name in names if names.count(name) > 1}
    return [f"{name} ({path})" if name in shared else name for name, path in zip(names, paths)]


def _model(run: dict) -> dict:
    model = run.get("model")
    return model if isinstance(model, dict) else {}


def _value(run: dict, task: str, metric: str) -> float | None:
    value = run["results"].get(task, {}).get(metric)
    return float(value) if value is not None else None


def _cell(text: str) -> str:
    """A label as one Markdown table cell: a `|` or a line break in it would split the row."""
    return " ".join(text.split()).replace("|", "\\|")


def _tokens(run: dict, name: str) -> str:
    tokens = _model(run).get(name)
    return f"{int(tokens):,}" if isinstance(tokens, (int, float)) and not isinstance(tokens, bool) else "-"


def _table(runs: list[dict], names: list[str], groups: dict[str, list[int]], columns, values, seeds: bool) -> str:
    header = ["run", "data tokens", "trained tokens", *(["runs"] if seeds else [])]
    header += [f"{task} {metric}" for task, metric in columns]
    lines = ["| " + " | ".join(header) + " |", "| --- | ---: | ---: |" + " ---: |" * (len(header) - 3)]
    for (name, members), row in zip(groups.items(), values):
        first = runs[members[0]]  # an arm's seeds train on the same rows: the first seed's tokens
        count = [str(len(members))] if seeds else []
        cells = [_cell(name), _tokens(first, DATA_TOKENS), _tokens(first, TRAINED_TOKENS), *count]
        cells += [("-" if value is None else f"{100 * value:.1f}") for value in row]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Scores in percent; `-`: not evaluated in that run."]
    if seeds:
        lines[-1] += " Runs sharing a label are one arm's seeds: their mean, `runs` of them."
    lines += ["", TOKENS_NOTE]
    protocols = {protocol_summary(run) for run in runs}
    if len(protocols) > 1:
        lines += ["", "**Not comparable as is**: the runs differ in protocol:"]
        lines += [f"- {name}: {protocol_summary(run)}" for name, run in zip(names, runs)]
    partial = list(dict.fromkeys(name for name, run in zip(names, runs) if is_partial(run)))
    if partial:
        lines += ["", f"**Partial runs** (a few problems per benchmark): {', '.join(partial)}."]
    return "\n".join(lines) + "\n"


def protocol_summary(run: dict) -> str:
    """What makes two results comparable, in words: the preset and the max new tokens (`s2r experiment report` too)."""
    protocol = run.get("protocol") if isinstance(run.get("protocol"), dict) else {}
    tasks = run.get("tasks") if isinstance(run.get("tasks"), dict) else {}
    found = {
        task["settings"].get("max_new_tokens")
        for task in tasks.values()
        if isinstance(task, dict) and isinstance(task.get("settings"), dict)
    }
    # Numbers in numeric order; anything else (a damaged file) after them, as text.
    settings = sorted(
        found, key=lambda value: (not isinstance(value, int), value if isinstance(value, int) else 0, str(value))
    )
    return f"preset {protocol.get('preset')}, max new tokens {', '.join(map(str, settings)) or '?'}"


def _chart(names: list[str], columns: list[tuple[str, str]], values, statistics: dict, partial: list[str]) -> bytes:
    import json

    import numpy as np

    lows, highs = [], []
    for name in names:
        benchmarks = statistics["arms"][name]["benchmarks"]
        found = [benchmarks.get(task) if metric == SCORED_METRIC else None for task, metric in columns]
        lows.append([None if entry is None else entry["low"] for entry in found])
        highs.append([None if entry is None else entry["high"] for entry in found])
    notes = []
    if all(value in (None, 0) for row in values for value in row):
        notes.append("every score is 0: the answers may not be in a form the grader reads")
    if partial:
        notes.append(f"partial runs ({', '.join(partial)}): a few problems per benchmark, not a measurement")
    with new_figure(_FIGSIZE, _DPI) as figure:
        axes = figure.subplots()
        positions = np.arange(len(columns))
        width = 0.8 / len(names)
        for index, (name, row) in enumerate(zip(names, values)):
            heights = [0.0 if value is None else 100 * value for value in row]
            # The 95% interval as an error bar where there is one (pass@1 with per-problem scores).
            below = [0.0 if low is None else 100 * (value - low) for value, low in zip(row, lows[index])]
            above = [0.0 if high is None else 100 * (high - value) for value, high in zip(row, highs[index])]
            label = f"{name} (partial)" if name in partial else name
            bars = axes.bar(
                positions + (index - (len(names) - 1) / 2) * width,
                heights,
                width,
                label=label,
                yerr=[below, above] if any(below + above) else None,
                capsize=3,
            )
            # Each bar's value at its foot (at its top the error bar would cross it); `-`: not evaluated.
            for bar, value in zip(bars, row):
                label = "-" if value is None else f"{100 * value:.1f}"
                axes.text(bar.get_x() + bar.get_width() / 2, 1.5, label, ha="center", va="bottom", fontsize="x-small")
        axes.set_xticks(positions, [f"{task}\n{metric}" for task, metric in columns])
        axes.set_ylabel("score (%)")
        axes.set_ylim(0, 100)
        axes.set_title("Evaluation runs compared" + (" (bars: 95% interval)" if any(any(row) for row in lows) else ""))
        axes.legend(loc="upper right", frameon=False, fontsize="small")
        if notes:  # the axes stay drawn: the chart says in words why its bars are flat or few
            axes.text(0.5, 0.6, "\n".join(notes), ha="center", va="center", transform=axes.transAxes, wrap=True,
                      bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})  # fmt: skip
        figure.tight_layout()
        drawn = {
            "runs": names,
            "columns": [list(column) for column in columns],
            "values": values,
            "low": lows,
            "high": highs,
            "partial": partial,
            "notes": notes,
        }
        return png_bytes(figure, {CHART_BARS_KEY: json.dumps(drawn, ensure_ascii=True)})
