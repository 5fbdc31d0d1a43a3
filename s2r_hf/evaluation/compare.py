"""Compare evaluation runs: `compare_results([results.json, ...])` -> one Markdown table and a grouped bar chart.

This is the form in which the paper's claim ("10% of the data, same accuracy") is read: one row per run (full pool,
random 10%, longest, hardest, joint 10%, ...), its tokens beside its scores (tokens in the training data, one epoch,
and tokens processed by the trainer: s2r_hf.core.records), one column per benchmark and metric. The chart groups
bars by benchmark column, one bar per run.

Runs evaluated under different protocols (preset, max new tokens, samples) are not comparable: the table says so under
itself rather than refusing, since comparing a smoke run with a full one is sometimes what a user wants to see.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from s2r_hf.core.errors import InputError
from s2r_hf.core.figures import new_figure, png_bytes
from s2r_hf.core.records import DATA_TOKENS, TRAINED_TOKENS
from s2r_hf.evaluation.results import RESULTS_FILE, is_partial, read_results

# What the two token columns mean, under every table that shows them (`s2r experiment report` too).
TOKENS_NOTE = (
    "Data tokens: the tokens in the training data (the chat template applied, as the trainer counts them; each example "
    "once). Trained tokens: the tokens processed by the trainer, by its own count (non-padding tokens of every step, "
    "over every epoch; a resumed run's whole count)."
)
_FIGSIZE = (9.0, 4.5)
_DPI = 110


@dataclass(frozen=True)
class Comparison:
    """The comparison of several runs: the Markdown table, the chart as PNG bytes, and the columns it shows."""

    markdown: str
    png: bytes
    labels: list[str]
    columns: list[tuple[str, str]]  # (benchmark, metric)
    values: list[list[float | None]]  # values[run][column]
    sources: tuple[str, ...] = ()  # the results files (or folders) compared: never written over

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
    paths: Sequence[str | os.PathLike], labels: Sequence[str] | None = None, *, metric: str | None = None
) -> Comparison:
    """Read results files (or the folders holding them) written by `s2r evaluate` and compare them.

    `labels` replace the runs' own labels (in order); `metric` keeps one metric (e.g. "pass@1") in the table.
    """
    if isinstance(paths, (str, os.PathLike)) or not paths:
        raise InputError("give the results files to compare as a list (at least one)")
    _refuse_duplicates(paths)
    runs = [read_results(path) for path in paths]
    if labels is not None:
        if len(labels) != len(runs):
            raise InputError(f"{len(labels)} label(s) for {len(runs)} results file(s); give one label per file")
        names = [str(label) for label in labels]
        _refuse_shared_labels(names, paths)
    else:
        names = [
            str(run.get("label") or _model(run).get("name") or f"run {index + 1}") for index, run in enumerate(runs)
        ]
        names = _tell_apart(names, paths)
    columns: list[tuple[str, str]] = []
    for run in runs:
        for task, metrics in run["results"].items():
            for name in metrics:
                if (metric is None or name == metric) and (task, name) not in columns:
                    columns.append((task, name))
    if not columns:
        raise InputError(f"no results{f' for metric {metric!r}' if metric else ''} in these files")
    values = [[_value(run, task, name) for task, name in columns] for run in runs]
    markdown = _table(runs, names, columns, values)
    sources = tuple(str(path) for path in paths)
    return Comparison(markdown, _chart(names, columns, values), names, columns, values, sources)


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


def _table(runs: list[dict], names: list[str], columns: list[tuple[str, str]], values) -> str:
    header = ["run", "data tokens", "trained tokens", *[f"{task} {metric}" for task, metric in columns]]
    lines = ["| " + " | ".join(header) + " |", "| --- | ---: | ---: |" + " ---: |" * len(columns)]
    for name, run, row in zip(names, runs, values):
        tokens = [_tokens(run, DATA_TOKENS), _tokens(run, TRAINED_TOKENS)]
        cells = [_cell(name), *tokens, *[("-" if value is None else f"{100 * value:.1f}") for value in row]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Scores in percent; `-`: not evaluated in that run."]
    lines += ["", TOKENS_NOTE]
    protocols = {protocol_summary(run) for run in runs}
    if len(protocols) > 1:
        lines += ["", "**Not comparable as is**: the runs differ in protocol:"]
        lines += [f"- {name}: {protocol_summary(run)}" for name, run in zip(names, runs)]
    partial = [name for name, run in zip(names, runs) if is_partial(run)]
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


def _chart(names: list[str], columns: list[tuple[str, str]], values) -> bytes:
    import numpy as np

    with new_figure(_FIGSIZE, _DPI) as figure:
        axes = figure.subplots()
        positions = np.arange(len(columns))
        width = 0.8 / len(names)
        for index, (name, row) in enumerate(zip(names, values)):
            heights = [0.0 if value is None else 100 * value for value in row]
            axes.bar(positions + (index - (len(names) - 1) / 2) * width, heights, width, label=name)
        axes.set_xticks(positions, [f"{task}\n{metric}" for task, metric in columns])
        axes.set_ylabel("score (%)")
        axes.set_ylim(0, 100)
        axes.set_title("Evaluation runs compared")
        axes.legend(loc="best", frameon=False, fontsize="small")
        figure.tight_layout()
        return png_bytes(figure)
