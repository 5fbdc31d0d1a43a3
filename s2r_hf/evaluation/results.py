"""The results of `s2r evaluate`, the one format every reader shares (s2r evaluate's runner writes it; compare, publish,
the training callback and the experiment read it): the folder's files, their writer, and the one reader and checker of
results.json.

A results folder holds `results.json` (format `s2r-evaluation/1`: label, model identity, protocol, per-task settings
and statistics, `results` and the tidy `table`), `results.md` (the table in Markdown), a README.md card (its `s2r`
block of kind `evaluation`), and lighteval's per-sample details in `details/<benchmark>.parquet`. results.json's
top-level `results` maps benchmark -> metric -> value (`{"aime24": {"pass@1": 0.31, "maj@16": 0.4}}`): the one mapping
other tools (a training callback) need to read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from s2r_hf.core.cards import join_card
from s2r_hf.core.errors import InputError
from s2r_hf.core.records import DATA_TOKENS, OLD_TRAINED_TOKENS, TRAINED_TOKENS, read_json_object

RESULTS_FORMAT = "s2r-evaluation/1"
RESULTS_FILE = "results.json"
RESULTS_MARKDOWN = "results.md"
RESULTS_CARD = "README.md"
DETAILS_DIR = "details"
EVALUATION_KIND = "evaluation"


def write_results(folder: Path, tidy: dict) -> str:
    """Write a run's results into `folder` (results.json, results.md and the card); returns the Markdown."""
    markdown = render_markdown(tidy)
    (folder / RESULTS_FILE).write_text(json.dumps(tidy, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / RESULTS_MARKDOWN).write_text(markdown, encoding="utf-8")
    (folder / RESULTS_CARD).write_text(results_card(tidy, markdown), encoding="utf-8")
    return markdown


def render_markdown(tidy: dict) -> str:
    """The results as Markdown: one row per benchmark and metric, then the generation statistics."""
    lines = [
        f"## {tidy['label']}",
        "",
        "| task | metric | value | stderr | problems | samples | settings |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in tidy["table"]:
        stderr = "-" if row["stderr"] is None else f"{row['stderr']:.4f}"
        lines.append(
            f"| {row['task']} | {row['metric']} | {row['value']:.4f} | {stderr} | {row['problems']} | "
            f"{row['samples']} | {row['settings']} |"
        )
    lines += ["", "| task | mean generated tokens | mean rethinking markers |", "| --- | ---: | ---: |"]
    for name, task in tidy["tasks"].items():
        tokens = "-" if task["mean_generated_tokens"] is None else f"{task['mean_generated_tokens']:.1f}"
        rethinks = "-" if task["mean_rethinks"] is None else f"{task['mean_rethinks']:.2f}"
        lines.append(f"| {name} | {tokens} | {rethinks} |")
    protocol = tidy["protocol"]
    model = tidy["model"]
    revision = model.get("weights_sha256") or model.get("commit") or model.get("revision") or model.get("code_sha256")
    lines += [
        "",
        f"Preset `{protocol['preset']}`, seed {protocol['seed']}, backend {protocol['backend']}, lighteval "
        f"{protocol['lighteval_version']}, s2r-hf {protocol['s2r_version']}; model `{model['name']}` "
        f"({'weights sha256' if model.get('weights_sha256') else 'revision'} `{revision}`).",
    ]
    cut = partial_benchmarks(tidy)
    if cut:
        described = ", ".join(f"{name} {problems} of {rows}" for name, (problems, rows) in cut.items())
        lines += ["", f"**Partial run**: problems evaluated: {described}; not comparable."]
    elif is_partial(tidy):  # a results file without its benchmarks' sizes: what its protocol says
        lines += ["", f"**Partial run**: at most {protocol['max_samples']} problems per benchmark; not comparable."]
    return "\n".join(lines) + "\n"


def partial_benchmarks(run: dict) -> dict[str, tuple[int, int]]:
    """The benchmarks of a run evaluated on only some of their problems: {name: (problems evaluated, rows)}."""
    tasks = run.get("tasks") if isinstance(run.get("tasks"), dict) else {}
    cut = {}
    for name, task in tasks.items():
        problems, rows = _problems_and_rows(task)
        if problems is not None and rows is not None and problems < rows:
            cut[name] = (problems, rows)
    return cut


def is_partial(run: dict) -> bool:
    """Whether a run evaluated some benchmark on only part of its problems (`--max-samples` below its size).

    A --max-samples at or beyond every benchmark's size evaluates every problem: not partial. Read from the tasks'
    problem counts and benchmark sizes when the file has them all (so a file written before this rule, which called
    every --max-samples run partial, is read right), else from the protocol's `partial`.
    """
    tasks = run.get("tasks") if isinstance(run.get("tasks"), dict) else {}
    counts = [_problems_and_rows(task) for task in tasks.values()]
    if counts and all(problems is not None and rows is not None for problems, rows in counts):
        return any(problems < rows for problems, rows in counts)
    protocol = run.get("protocol")
    return bool(protocol.get("partial")) if isinstance(protocol, dict) else False


def _problems_and_rows(task: Any) -> tuple[int | None, int | None]:
    """(problems evaluated, rows of the benchmark) of one task of a results file; None where the file lacks one."""
    if not isinstance(task, dict):
        return None, None
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    problems, rows = task.get("problems"), data.get("rows")
    counts = [value if isinstance(value, int) and not isinstance(value, bool) else None for value in (problems, rows)]
    return counts[0], counts[1]


def results_card(tidy: dict, markdown: str) -> str:
    """The results folder's README.md: the run's results as card metadata, then the Markdown table."""
    metadata = {
        "s2r": {
            "kind": EVALUATION_KIND,
            "label": tidy["label"],
            "model": tidy["model"]["name"],
            "preset": tidy["protocol"]["preset"],
            "results": tidy["results"],
        }
    }
    return join_card(metadata, f"# Evaluation: {tidy['label']}\n\n{markdown}")


def read_results(path: str | os.PathLike) -> dict:
    """A results.json written by `evaluate_model` (or the folder holding it); InputError for anything else."""
    path = Path(path)
    if path.is_dir():
        if not (path / RESULTS_FILE).is_file():
            raise InputError(
                f"{str(path)!r} holds no {RESULTS_FILE}: give a results.json (or its folder) from s2r evaluate"
            )
        path = path / RESULTS_FILE
    if not path.exists():
        raise InputError(f"{str(path)!r} does not exist: give a results.json (or its folder) from s2r evaluate")
    if not path.is_file():
        raise InputError(f"{str(path)!r} is not a results file: give a results.json (or its folder) from s2r evaluate")
    # The file (JSON, an object) through the one record reader; what it holds through the one checker.
    data = read_json_object(
        path, what="a results file of s2r evaluate", fix="give the results.json that `s2r evaluate` wrote"
    )
    return upgrade_model_tokens(check_results(data, repr(str(path))))


def upgrade_model_tokens(data: dict) -> dict:
    """Results written before the two token names: `model.training_tokens` (documented as the trainer state's
    num_input_tokens_seen, or the --training-tokens given) is read as `model.trained_tokens` (s2r_hf.core.records)."""
    model = data.get("model")
    if isinstance(model, dict) and OLD_TRAINED_TOKENS in model:
        model.setdefault(TRAINED_TOKENS, model.pop(OLD_TRAINED_TOKENS))
        model.setdefault(DATA_TOKENS, None)
    return data


def check_results(data: Any, where: str = "the results") -> dict:
    """`data` if it is what `s2r evaluate` wrote to results.json (its format, and a mapping of benchmarks to metrics to
    numbers); InputError naming `where` otherwise."""
    if not isinstance(data, dict) or data.get("format") != RESULTS_FORMAT or not isinstance(data.get("results"), dict):
        raise InputError(
            f'{where} is not a results file of s2r evaluate (no "format": "{RESULTS_FORMAT}" and results '
            "mapping); give the results.json that `s2r evaluate` wrote"
        )
    for task, metrics in data["results"].items():
        bad = None if isinstance(metrics, dict) else metrics
        for metric, value in metrics.items() if isinstance(metrics, dict) else ():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                bad = {metric: value}
        if bad is not None:
            raise InputError(
                f"{where} is damaged: its results for {task!r} should map metrics to numbers, got "
                f"{json.dumps(bad)[:80]}; evaluate again (s2r evaluate) to write it whole"
            )
    return data
