"""The report of an experiment: `build_report(OUTPUT)` -> the comparison table (Markdown and JSON) and the chart.

It reads what `s2r experiment run` left in its output folder, and nothing else: `experiment.json` (the name, the arms
in order, each arm's selection settings), each arm's `model/s2r_training.json` (rows, tokens in the training data and
tokens processed by the trainer, share of the pool, wall time) and `eval/results.json` (scores with stderr and sample
counts, mean answer length). An arm not trained or not evaluated yet is still a row, with its status and dashes, so
the report can be read while an experiment runs.

The chart puts accuracy (mean pass@1 over the benchmarks) against the tokens in the training data, one point per
evaluated arm: the form in which the paper's claim (a tenth of the data, the same accuracy) is seen at a glance. The
plotted numbers are stored in the PNG itself (a text chunk, read back by `read_chart_points`), and the bytes are a
function of the input alone (no software version, no date), so re-running the report on an unchanged folder changes
nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, OptionTypeError, OutputError
from s2r_hf.core.figures import new_figure, png_bytes, read_chart_text
from s2r_hf.core.folders import write_file_atomically, write_json_atomically, write_text_atomically
from s2r_hf.core.records import DATA_TOKENS, TRAINED_TOKENS, token_counts
from s2r_hf.evaluation.compare import TOKENS_NOTE, protocol_summary
from s2r_hf.evaluation.intervals import arm_statistics, interval_markdown
from s2r_hf.evaluation.per_problem import read_problem_scores
from s2r_hf.evaluation.results import RESULTS_FILE, is_partial, read_results
from s2r_hf.experiment.config import FULL, describe_selection
from s2r_hf.experiment.steps import (
    EXPERIMENT_FILE,
    STEPS_DIR,
    read_experiment_record,
    read_step_record,
    seed_folder,
)
from s2r_hf.selection import SelectConfig
from s2r_hf.training.provenance import read_provenance

REPORT_FORMAT = "s2r-experiment-report/1"
REPORT_MARKDOWN = "report.md"
REPORT_JSON = "report.json"
REPORT_CHART = "accuracy_vs_tokens.png"
CHART_POINTS_KEY = "s2r-points"  # the PNG text chunk holding the plotted numbers
CHART_NOTES_KEY = "s2r-notes"  # the PNG text chunk holding the notes written on the chart

MODEL_DIR = "model"
EVAL_DIR = "eval"
ACCURACY_METRIC = "pass@1"  # the chart's y: mean of this metric over the benchmarks

EVALUATED = "evaluated"
TRAINED = "trained, not evaluated"
NOT_TRAINED = "not trained"

# Strategies whose ranking uses the configured weight (longest and hardest fix it at 0 and 1; random and diverse do
# not rank): see s2r_hf.selection.
_WEIGHTED = ("joint", "quadrant")
_ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # an arm's folder name: no path separator, no "..", no dot first
_HOW_TO_FIX = "run `s2r experiment run EXPERIMENT.yaml` first and report on its output folder"

_FIGSIZE = (7.5, 4.8)
_DPI = 110
_LOG_SCALE_SPAN = 10.0  # a log x axis once the largest arm trained on more than this many times the smallest's tokens


@dataclass(frozen=True)
class ExperimentReport:
    """An experiment's report: `data` (report.json's content), `markdown` (report.md) and `png` (the chart)."""

    data: dict[str, Any]
    markdown: str
    png: bytes

    def write(self, output_dir: str | os.PathLike) -> dict[str, Path]:
        """Write report.md, report.json and accuracy_vs_tokens.png into `output_dir`, each whole or not at all."""
        folder = Path(output_dir)
        if not folder.is_dir():
            raise OutputError(f"{str(folder)!r} is not a folder; give the experiment's output folder")
        return {
            REPORT_MARKDOWN: write_text_atomically(folder / REPORT_MARKDOWN, self.markdown),
            REPORT_JSON: write_json_atomically(folder / REPORT_JSON, self.data),
            REPORT_CHART: write_file_atomically(folder / REPORT_CHART, self.png),
        }


def build_report(output_dir: str | os.PathLike, arms: Sequence[str] | None = None) -> ExperimentReport:
    """The report of the experiment whose output folder is `output_dir`.

    `arms` keeps these arms, in this order (default: every arm of the experiment, in the experiment's order).
    """
    folder = Path(output_dir)
    experiment = read_experiment(folder)
    names = _chosen_arms(experiment["arms"], arms)
    settings = experiment.get("arm_settings") or {}
    seeds = experiment.get("seeds") if isinstance(experiment.get("seeds"), dict) else {}
    rows = []
    runs: dict[str, dict] = {}
    scores: dict[str, list] = {}
    for name in names:
        configured = settings.get(name)
        arm_settings = made_with(folder / name, configured if isinstance(configured, dict) else {})
        row, seed_runs = _arm_row(folder / name, name, arm_settings, _seeds(seeds.get(name)))
        rows.append(row)
        if seed_runs:
            runs[name] = seed_runs[0][1]
            try:
                scores[name] = [read_problem_scores(path, run) for path, run in seed_runs]
            except InputError as err:
                raise InputError(f"arm {name!r}: {err}") from err
    _share_of_full_arm(rows)
    statistics = arm_statistics(scores, _reference(experiment, names, scores))
    for row in rows:
        arm = statistics["arms"].get(row["name"]) or {}
        row["intervals"] = arm.get("benchmarks") or {}
        row["accuracy_interval"] = arm.get("accuracy")
        row["difference"] = statistics["differences"].get(row["name"]) or {}
    columns: list[list[str]] = []
    for row in rows:
        for task, metrics in row["results"].items():
            for metric in metrics:
                if [task, metric] not in columns:
                    columns.append([task, metric])
    protocols = _protocols(runs)
    data = {
        "format": REPORT_FORMAT,
        "experiment": str(experiment["name"]),
        "columns": columns,
        "arms": rows,
        "partial": any(is_partial(run) for run in runs.values()),
        "partial_arms": [name for name, run in runs.items() if is_partial(run)],
        "comparable": len(set(protocols.values())) <= 1,
        "reference": statistics["reference"],
        "statistics": statistics,
    }
    return ExperimentReport(data, _markdown(data, runs, protocols), _chart(data))


def _seeds(value: Any) -> list[int] | None:
    """An arm's seeds as experiment.json lists them (None: no seeds given, the arm's own folders)."""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(seed, int) and not isinstance(seed, bool) for seed in value)
    ):
        return value
    return None


def _reference(experiment: dict[str, Any], names: list[str], scores: dict[str, list]) -> str | None:
    """The arm the others are compared with, when it is shown and has per-problem scores: experiment.json's
    `reference` (the file's, or the full arm), else the first full arm shown."""
    reference = experiment.get("reference")
    if not isinstance(reference, str) or reference not in names:
        settings = experiment.get("arm_settings") or {}
        full = [name for name in names if (settings.get(name) or {}).get("strategy") == FULL]
        reference = full[0] if full else (names[0] if names else None)
    return reference if reference in scores and any(scores[reference]) else None


def _share_of_full_arm(rows: list[dict[str, Any]]) -> None:
    """Where training did not measure the pool's tokens (a subset trained as is), the full arm did: it trained on the
    whole pool, so an arm's share of the pool's tokens is its tokens over the full arm's."""
    full = [row[DATA_TOKENS] for row in rows if row["strategy"] == FULL and row[DATA_TOKENS]]
    if not full:
        return
    for row in rows:
        if row["token_share"] is None and row[DATA_TOKENS] is not None:
            row["token_share"] = row[DATA_TOKENS] / full[0]


def read_experiment(output_dir: str | os.PathLike) -> dict[str, Any]:
    """`experiment.json` of an experiment's output folder, checked; InputError saying how to fix anything else."""
    folder = Path(output_dir)
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is not a folder; {_HOW_TO_FIX}")
    path = folder / EXPERIMENT_FILE
    if not path.is_file():
        raise InputError(f"{str(folder)!r} is not the output of an experiment (no {EXPERIMENT_FILE}); {_HOW_TO_FIX}")
    experiment = read_experiment_record(path, _HOW_TO_FIX)
    arms = experiment.get("arms")
    if not isinstance(arms, list) or not all(isinstance(arm, str) and arm for arm in arms):
        raise InputError(f"{str(path)!r} has no list of arm names under 'arms' (got {arms!r}); {_HOW_TO_FIX}")
    bad = [arm for arm in arms if not _ARM_NAME.fullmatch(arm)]
    if bad:
        raise InputError(f"{str(path)!r} names arms that are not folder names: {bad}; {_HOW_TO_FIX}")
    if len(set(arms)) != len(arms):
        raise InputError(f"{str(path)!r} names an arm twice ({arms}); {_HOW_TO_FIX}")
    if not isinstance(experiment.get("arm_settings", {}), dict):
        raise InputError(f"{str(path)!r}: 'arm_settings' must map arm names to settings; {_HOW_TO_FIX}")
    experiment.setdefault("name", folder.name)
    return experiment


def read_chart_points(png: bytes | str | os.PathLike) -> list[dict[str, Any]]:
    """The points drawn on a report's chart (its PNG bytes, or the file): [{arm, data_tokens, accuracy, low, high,
    partial, per_benchmark: {benchmark: pass@1}}], scores as fractions (0.412, not 41.2); `low` and `high`: the
    accuracy's 95% interval drawn as an error bar (None when the arm has no per-problem results)."""
    return json.loads(_chart_text(png, CHART_POINTS_KEY))


def read_chart_notes(png: bytes | str | os.PathLike) -> list[str]:
    """The notes written on a report's chart (a partial run, every score 0, nothing evaluated yet)."""
    return json.loads(_chart_text(png, CHART_NOTES_KEY))


def _chart_text(png: bytes | str | os.PathLike, key: str) -> str:
    return read_chart_text(
        png, key, drawn_by="s2r experiment report", give=f"the {REPORT_CHART} of `s2r experiment report`"
    )


# -- one arm ---------------------------------------------------------------------------------------------------------


def _chosen_arms(known: list[str], arms: Sequence[str] | None) -> list[str]:
    if arms is None:
        return list(known)
    if isinstance(arms, str):
        arms = [arms]
    chosen = [str(arm) for arm in arms]
    if not chosen:
        raise InputError(f"no arm given; the experiment's arms: {', '.join(known)}")
    unknown = [arm for arm in chosen if arm not in known]
    if unknown:
        raise InputError(f"unknown arm(s) {', '.join(map(repr, unknown))}; the experiment's arms: {', '.join(known)}")
    twice = sorted({arm for arm in chosen if chosen.count(arm) > 1})
    if twice:
        raise InputError(f"arm(s) {', '.join(map(repr, twice))} given twice; name each arm once")
    return chosen


def made_with(arm_dir: Path, configured: dict[str, Any]) -> dict[str, Any]:
    """The selection an arm was made with, read from its step records (`steps/train.json`: trained on the pool or on
    its subset; `steps/select.json`: the subset's settings); `configured` (experiment.json, the latest run's file)
    only for an arm no step has been recorded for yet.

    experiment.json is rewritten by every run, `--only` another arm or `--step publish` included, so it says what the
    file asks for now, not what an arm's subset and model were made with.
    """
    train = _step_record(arm_dir, "train")
    if train is not None and (train.get("settings") or {}).get("data_step") == "pool":
        return describe_selection(None)  # the full arm: trained on the whole pool
    select = _step_record(arm_dir, "select")
    selection = (select.get("settings") or {}).get("selection") if select is not None else None
    if not isinstance(selection, dict):
        return configured
    budget = (select.get("summary") or {}).get("token_budget")
    if selection.get("token_budget", 0) is None and budget is not None:  # match_tokens: the budget it was given
        selection = {**selection, "token_budget": budget}
    try:
        return describe_selection(SelectConfig(**selection))
    except (InputError, OptionTypeError, TypeError, ValueError):
        return configured  # a record of another version: its settings cannot be read back


def _step_record(arm_dir: Path, step: str) -> dict[str, Any] | None:
    return read_step_record(arm_dir / STEPS_DIR / f"{step}.json")  # None: not run yet (or not written whole)


def _arm_row(
    arm_dir: Path, name: str, settings: dict, seeds: list[int] | None
) -> tuple[dict[str, Any], list[tuple[Path, dict]]]:
    """The arm's row of the table, and its evaluated runs [(results file, results)], one per seed evaluated.

    An arm with training seeds reads each seed's folder (`seed<N>/model`, `seed<N>/eval`): its scores are the means
    over the seeds evaluated, its training columns its first trained seed's (every seed trains on the same rows)."""
    strategy = settings.get("strategy")
    folders = [arm_dir] if seeds is None else [arm_dir / seed_folder(seed) for seed in seeds]
    records, seed_runs = [], []
    for run_dir in folders:
        try:
            record = read_provenance(run_dir / MODEL_DIR) if (run_dir / MODEL_DIR).is_dir() else None
            results_path = run_dir / EVAL_DIR / RESULTS_FILE
            run = read_results(results_path) if results_path.is_file() else None
        except InputError as err:
            raise InputError(f"arm {name!r}: {err}") from err
        if record is not None and record.get("status") in ("trained", "finished"):
            records.append(record)
        if run is not None:
            seed_runs.append((results_path, run))
    record = records[0] if records else None
    data = (record.get("data") or {}) if record else {}
    training = (record.get("training") or {}) if record else {}
    if seed_runs and len(seed_runs) == len(folders):
        status = EVALUATED
    elif seed_runs:
        status = f"{len(seed_runs)} of {len(folders)} seeds evaluated"
    else:
        status = TRAINED if records else NOT_TRAINED
    row: dict[str, Any] = {
        "name": name,
        "strategy": strategy,
        "ratio": settings.get("ratio"),
        "k": settings.get("k"),
        "weight": settings.get("weight") if strategy in _WEIGHTED else None,
        "status": status,
        "seeds": seeds,
        "seeds_evaluated": len(seed_runs),
        "rows": (data.get("sft") or {}).get("rows_kept"),
        "token_budget": settings.get("token_budget"),
        **token_counts(record),  # data_tokens, trained_tokens (s2r_hf.core.records)
        "token_share": data.get("token_share"),
        "wall_seconds": training.get("wall_seconds"),
        "steps": training.get("steps"),
        "results": {},
        "mean_generated_tokens": {},
        "mean_answer_tokens": None,
        "accuracy": None,
    }
    if not seed_runs:
        return row, seed_runs
    row["results"] = _mean_scores([_scores(run) for _, run in seed_runs])
    lengths: dict[str, list[float]] = {}
    for _, run in seed_runs:
        for task, stats in (run.get("tasks") or {}).items():
            if isinstance(stats, dict) and stats.get("mean_generated_tokens") is not None:
                lengths.setdefault(task, []).append(float(stats["mean_generated_tokens"]))
    row["mean_generated_tokens"] = {task: _mean(values) for task, values in lengths.items()}
    row["mean_answer_tokens"] = _mean(row["mean_generated_tokens"].values())
    row["accuracy"] = _mean(
        metrics[ACCURACY_METRIC]["value"] for metrics in row["results"].values() if ACCURACY_METRIC in metrics
    )
    return row, seed_runs


def _mean_scores(per_seed: list[dict[str, dict[str, dict[str, Any]]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """One seed's scores as they are; several seeds' as their means (the standard error of one seed's run says
    nothing of the seeds: the interval does, in its own columns)."""
    if len(per_seed) == 1:
        return per_seed[0]
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    for task, metrics in per_seed[0].items():
        for metric, first in metrics.items():
            values = [seed[task][metric]["value"] for seed in per_seed if metric in seed.get(task, {})]
            scores.setdefault(task, {})[metric] = {**first, "value": _mean(values), "stderr": None}
    return scores


def _scores(run: dict) -> dict[str, dict[str, dict[str, Any]]]:
    """{task: {metric: {value, stderr, problems, samples}}} from the results' table (or its bare mapping)."""
    scores: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in run.get("table") or []:
        scores.setdefault(entry["task"], {})[entry["metric"]] = {
            "value": entry["value"],
            "stderr": entry.get("stderr") if _finite(entry.get("stderr")) else None,  # NaN: one sample
            "problems": entry.get("problems"),
            "samples": entry.get("samples"),
        }
    for task, metrics in run["results"].items():  # a results file without its table still gives its values
        for metric, value in metrics.items():
            scores.setdefault(task, {}).setdefault(
                metric, {"value": value, "stderr": None, "problems": None, "samples": None}
            )
    return scores


def _mean(values) -> float | None:
    values = [float(value) for value in values if value is not None]
    return sum(values) / len(values) if values else None


def _protocols(runs: dict[str, dict]) -> dict[str, str]:
    return {name: protocol_summary(run) for name, run in runs.items()}


# -- the Markdown ----------------------------------------------------------------------------------------------------


def _markdown(data: dict, runs: dict[str, dict], protocols: dict[str, str]) -> str:
    columns = data["columns"]
    header = [
        "arm",
        "status",
        "selection",
        "rows",
        "data tokens",
        "trained tokens",
        "share of pool tokens",
        "wall time",
        *[f"{task} {metric}" for task, metric in columns],
        "mean answer tokens",
    ]
    lines = [
        f"# Experiment: {data['experiment']}",
        "",
        "| " + " | ".join(header) + " |",
        "| --- | --- | --- |" + " ---: |" * (len(header) - 3),
    ]
    for row in data["arms"]:
        cells = [
            row["name"],
            row["status"],
            _selection(row),
            _integer(row["rows"]),
            _integer(row[DATA_TOKENS]),
            _integer(row[TRAINED_TOKENS]),
            "-" if row["token_share"] is None else f"{100 * row['token_share']:.1f}%",
            _duration(row["wall_seconds"]),
            *[_score(row["results"].get(task, {}).get(metric)) for task, metric in columns],
            "-" if row["mean_answer_tokens"] is None else f"{row['mean_answer_tokens']:,.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Scores in percent ± standard error, n = problems × samples per problem; mean answer tokens: the mean length "
        "of the generated answers over the benchmarks; `-`: not there (yet).",
        "",
        TOKENS_NOTE + " Share of pool tokens: the data tokens over the whole pool's.",
    ]
    if not runs:
        lines += ["", "**Nothing evaluated yet**: no arm has evaluation results; run the experiment to its end."]
    elif len(set(protocols.values())) == 1:
        lines += ["", f"Protocol: {next(iter(protocols.values()))}."]
    else:
        lines += ["", "**Not comparable as is**: the arms were evaluated under different protocols:"]
        lines += [f"- {name}: {protocol}" for name, protocol in protocols.items()]
    unplaced = [row["name"] for row in data["arms"] if row["accuracy"] is not None and row[DATA_TOKENS] is None]
    if unplaced:
        lines += ["", f"Not on the chart (no training record, so no data tokens): {', '.join(unplaced)}."]
    partial = {name: (run.get("protocol") or {}).get("max_samples") for name, run in runs.items() if is_partial(run)}
    if partial:
        described = ", ".join(f"{name} (at most {limit} problems per benchmark)" for name, limit in partial.items())
        lines += ["", f"**Partial run**: {described}; not the full benchmarks, not the paper's numbers."]
    if runs:
        lines += interval_markdown(data["statistics"], [row["name"] for row in data["arms"]])
    return "\n".join(lines) + "\n"


def _selection(row: dict) -> str:
    strategy = row["strategy"]
    if strategy is None:
        return "-"
    parts = [str(strategy)]
    if row["ratio"] is not None:
        parts.append(f"{100 * row['ratio']:g}%")
    elif row["k"] is not None:
        parts.append(f"k={int(row['k']):,}")
    elif row.get("token_budget") is not None:
        parts.append(f"{int(row['token_budget']):,} tokens")
    if row["weight"] is not None:
        parts.append(f"w={row['weight']:g}")
    return ", ".join(parts)


def _integer(value) -> str:
    return "-" if value is None else f"{int(value):,}"


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min {int(seconds % 60):02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _score(score: dict | None) -> str:
    if score is None:
        return "-"
    cell = f"{100 * score['value']:.1f}"
    if score["stderr"] is not None:
        cell += f" ± {100 * score['stderr']:.1f}"
    if score["problems"] is not None:
        cell += f" (n={score['problems']:,}×{score['samples'] if score['samples'] is not None else '?'})"
    return cell


# -- the chart -------------------------------------------------------------------------------------------------------


def _chart_points(data: dict) -> list[dict[str, Any]]:
    points = []
    for row in data["arms"]:
        if row["accuracy"] is None or row[DATA_TOKENS] is None:
            continue  # nothing to place: not evaluated on pass@1, or no training record
        per_benchmark = {
            task: metrics[ACCURACY_METRIC]["value"]
            for task, metrics in row["results"].items()
            if ACCURACY_METRIC in metrics
        }
        interval = row.get("accuracy_interval") or {}
        points.append(
            {
                "arm": row["name"],
                DATA_TOKENS: row[DATA_TOKENS],
                "accuracy": row["accuracy"],
                "low": interval.get("low"),
                "high": interval.get("high"),
                "partial": row["name"] in data.get("partial_arms", []),
                "per_benchmark": per_benchmark,
            }
        )
    return points


def _chart_notes(data: dict, points: list[dict[str, Any]]) -> list[str]:
    """What the chart says in words beside its points: nothing to draw, a partial run, every score 0."""
    notes = []
    if not points:
        notes.append("nothing evaluated yet")
    elif all(point["accuracy"] == 0 and not any(point["per_benchmark"].values()) for point in points):
        notes.append("every arm scored 0 on every benchmark: the model may not give answers the grader can read")
    partial = [point["arm"] for point in points if point["partial"]]
    if partial:
        notes.append(f"partial run ({', '.join(partial)}): a few problems per benchmark, not a measurement")
    return notes


def _chart(data: dict) -> bytes:
    import matplotlib
    from matplotlib.ticker import FuncFormatter

    points = _chart_points(data)
    with new_figure(_FIGSIZE, _DPI) as figure:
        colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]  # the default style's, in the block
        axes = figure.subplots()
        names = [row["name"] for row in data["arms"]]  # an arm keeps its colour whichever arms are plotted
        # Labels of arms close along x (two 10% arms) are staggered upwards so they do not print over each other.
        lifts = {point["arm"]: 11 * (rank % 3) for rank, point in enumerate(sorted(points, key=_by_tokens))}
        for point in points:
            color = colors[names.index(point["arm"]) % len(colors)]
            x = point[DATA_TOKENS]
            benchmarks = list(point["per_benchmark"].values())
            axes.scatter([x] * len(benchmarks), [100 * v for v in benchmarks], s=18, color=color, alpha=0.35)
            if point["low"] is not None:  # the 95% interval of the accuracy
                below, above = point["accuracy"] - point["low"], point["high"] - point["accuracy"]
                axes.errorbar([x], [100 * point["accuracy"]], yerr=[[100 * below], [100 * above]], color=color,
                              capsize=4, linewidth=1.2, zorder=2)  # fmt: skip
            axes.scatter([x], [100 * point["accuracy"]], s=70, color=color, zorder=3,
                         marker="o" if not point["partial"] else "D")  # fmt: skip
            axes.annotate(
                f"{point['arm']} {100 * point['accuracy']:.1f}" + (" (partial)" if point["partial"] else ""),
                (x, 100 * point["accuracy"]),
                xytext=(6, 4 + lifts[point["arm"]]),
                textcoords="offset points",
                color=color,
            )
        tokens = [point[DATA_TOKENS] for point in points]
        if tokens and min(tokens) > 0 and max(tokens) / min(tokens) > _LOG_SCALE_SPAN:
            axes.set_xscale("log")
        else:
            axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        axes.margins(x=0.15)  # room for the labels of the arms at either end
        if axes.get_xscale() == "linear":
            axes.set_xlim(left=0)  # tokens read as shares of the largest arm's
        notes = _chart_notes(data, points)
        if notes:  # the axes stay drawn, ticks and labels: an empty or all-zero chart says why in words
            axes.text(0.5, 0.5, "\n".join(notes), ha="center", va="center", transform=axes.transAxes, wrap=True,
                      bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})  # fmt: skip
        axes.set_xlabel("tokens in the training data (one epoch)")
        axes.set_ylabel(f"accuracy (mean {ACCURACY_METRIC} over the benchmarks, %)")
        axes.set_ylim(0, 100)
        title = f"{data['experiment']}: accuracy against data tokens (faint: each benchmark; bars: 95% interval)"
        axes.set_title(title, fontsize="medium")
        axes.grid(True, alpha=0.3)
        figure.tight_layout()
        # The plotted numbers travel as a text chunk (ASCII JSON: a PNG tEXt chunk is Latin-1).
        text = {CHART_POINTS_KEY: json.dumps(points, ensure_ascii=True), CHART_NOTES_KEY: json.dumps(notes)}
        return png_bytes(figure, text)


def _by_tokens(point: dict[str, Any]) -> float:
    return point[DATA_TOKENS]


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)
