"""Publish evaluation results to the Hub, beside the subset and the model: `push_results(results, ...)`.

Three targets, each one commit through s2r_hf.hub.commit.commit_files (idempotent: identical content makes no commit;
retried; the token is never written), each optional:

- a results dataset repo (`results_repo`): one config per run, named after the run's label. Config `c` holds
  `c/results-00000-of-00001.parquet` (the tidy table: task, metric, value, stderr, samples, settings, with the run's
  label, model and preset on each row), `c/results.json` (everything `s2r evaluate` recorded) and, when the results
  folder is given, lighteval's per-sample details `c/details/<benchmark>.parquet`. The card lists every run and
  declares the configs, so `load_dataset(results_repo, c)` loads a run's table. Pushing a run again replaces only its
  own config.
- the model repo's card (`model_repo`): a `model-index` entry per benchmark and metric, the form the Hub reads to show
  scores on a model page. Entries of other benchmarks (or other tools) are kept; the card's body is kept.
- the subset's card (`subset_repo`, a dataset repo `s2r publish` wrote): its `s2r.results` (the card's Results
  table) is set from the run and the card re-rendered from its own metadata. The run's results.json is also kept in the
  repo as `results/<config>.json`; `s2r publish` keeps `results/` and carries `s2r.results` over when it republishes
  the subset, so a later publish does not erase the evaluation.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from s2r_hf.core.cards import join_card, render_card, split_card
from s2r_hf.core.errors import InputError
from s2r_hf.core.records import DATA_TOKENS, OLD_TRAINED_TOKENS, TRAINED_TOKENS
from s2r_hf.evaluation.results import DETAILS_DIR, check_results, is_partial, read_results
from s2r_hf.hub.cards import CARD_FILE, read_remote_card
from s2r_hf.hub.checks import check_push, check_repo_id
from s2r_hf.hub.commit import CommitResult, commit_files
from s2r_hf.hub.retry import RetryPolicy, check_online
from s2r_hf.hub.subsets import SUBSET_RESULTS_DIR
from s2r_hf.pool.benchmarks import BENCHMARKS

logger = logging.getLogger(__name__)

RESULTS_KIND = "results"
_CONFIG_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_DATASET_NAMES = {
    "math500": "MATH-500",
    "aime24": "AIME 2024",
    "aime25": "AIME 2025",
    "amc23": "AMC 2023",
    "minerva": "Minerva Math",
    "olympiadbench": "OlympiadBench",
}


def push_results(
    results: str | os.PathLike | Mapping[str, Any],
    *,
    results_repo: str | None = None,
    model_repo: str | None = None,
    subset_repo: str | None = None,
    subset_config: str | None = None,
    config_name: str | None = None,
    private: bool = False,
    token: str | None = None,
    retry: RetryPolicy | None = None,
) -> dict[str, CommitResult]:
    """Push one run's results (a results folder or results.json of `s2r evaluate`, or its loaded dict) to the Hub.

    Returns {"results": ..., "model": ..., "subset": ...}: the CommitResult of each target given.
    `subset_config` names the subset when `subset_repo` holds several (a collection); `config_name` the run's config
    in `results_repo` (default: its label).
    """
    check_online()
    if not any((results_repo, model_repo, subset_repo)):
        raise InputError("name at least one target: results_repo, model_repo or subset_repo")
    for repo in (results_repo, model_repo, subset_repo):
        if repo is not None:
            check_repo_id(repo)
    folder: Path | None = None
    if isinstance(results, Mapping):
        data = check_results(dict(results), "the results given")
    else:
        data = read_results(results)
        folder = Path(results) if Path(results).is_dir() else Path(results).parent
    config = run_config_name(config_name or data.get("label") or data["model"]["name"])
    common = {"private": private, "token": token, "retry": retry}
    done: dict[str, CommitResult] = {}
    if results_repo:
        details = sorted((folder / DETAILS_DIR).glob("*.parquet")) if folder is not None else []
        done["results"] = _push_results_repo(data, results_repo, config, details, **common)
    if model_repo:
        done["model"] = _push_model_index(data, model_repo, results_repo, **common)
    if subset_repo:
        done["subset"] = _push_subset_card(data, subset_repo, subset_config, config, **common)
    return done


def check_push_results(
    *,
    results_repo: str | None = None,
    model_repo: str | None = None,
    subset_repo: str | None = None,
    token: str | None = None,
    retry: RetryPolicy | None = None,
) -> str:
    """What `push_results` to these targets would refuse at its start, checked before the evaluation runs: at least
    one target, valid repo ids, online, a token the Hub accepts with write access. Returns the token's user."""

    targets = [repo for repo in (results_repo, model_repo, subset_repo) if repo is not None]
    if not targets:
        raise InputError("name at least one target: results_repo, model_repo or subset_repo")
    return check_push(targets, repo_type="dataset" if results_repo else "model", token=token, retry=retry)


def run_config_name(label: str) -> str:
    """A run label as a config name: `random 10%` -> `random-10`."""
    name = _CONFIG_NAME.sub("-", str(label)).strip("-.")
    if not name:
        raise InputError(f"cannot make a config name of the run label {label!r}; pass config_name")
    return name


# -- the results repo -------------------------------------------------------------------------------------------------


def _push_results_repo(data: dict, repo_id: str, config: str, details: list[Path], **common: Any) -> CommitResult:
    text = read_remote_card(repo_id, "dataset", common.get("token"))
    metadata, _ = _split_hub_card(text, repo_id)
    s2r = metadata.get("s2r") if isinstance(metadata.get("s2r"), dict) else None
    if text.strip() and (s2r is None or s2r.get("kind") != RESULTS_KIND):
        raise InputError(
            f"{repo_id} has a card that s2r did not write as a results repo; push results to a new dataset repo"
        )
    run = {
        "config": config,
        "label": data.get("label"),
        "model": data["model"]["name"],
        "preset": data["protocol"]["preset"],
        "partial": is_partial(data),
        TRAINED_TOKENS: data["model"].get(TRAINED_TOKENS),
        DATA_TOKENS: data["model"].get(DATA_TOKENS),
        "results": data["results"],
    }
    entry = {"config_name": config, "data_files": [{"split": "train", "path": f"{config}/results-*.parquet"}]}
    # A run pushed again keeps its place: pushing several runs again in turn must leave the card as it was.
    runs = _replace_or_append((s2r or {}).get("runs", []), run, "config")
    configs = _replace_or_append(metadata.get("configs", []), entry, "config_name")
    metadata.update({"configs": configs, "s2r": {"kind": RESULTS_KIND, "runs": runs}})
    files: dict[str, Any] = {
        CARD_FILE: _results_card(metadata, repo_id).encode("utf-8"),
        f"{config}/results-00000-of-00001.parquet": _table_parquet(data),
        f"{config}/results.json": (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
    }
    for path in details:
        files[f"{config}/details/{path.name}"] = path
    return commit_files(
        repo_id,
        files,
        repo_type="dataset",
        delete=(f"{config}/*",),  # a re-push of this run replaces its files; other runs are untouched
        message=f"Results of {data.get('label')} ({data['protocol']['preset']})",
        **common,
    )


def _replace_or_append(entries: list, new: dict, key: str) -> list:
    """`entries` with the one whose `key` matches `new`'s replaced in place by `new`, or `new` appended."""
    out = [new if entry.get(key) == new[key] else entry for entry in entries]
    return out if any(entry.get(key) == new[key] for entry in entries) else [*out, new]


def _table_parquet(data: dict) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {
            "label": data.get("label"),
            "model": data["model"]["name"],
            "preset": data["protocol"]["preset"],
            **{key: row[key] for key in ("task", "metric", "value", "stderr", "samples", "settings")},
        }
        for row in data["table"]
    ]
    schema = pa.schema(
        [
            ("label", pa.string()),
            ("model", pa.string()),
            ("preset", pa.string()),
            ("task", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("stderr", pa.float64()),
            ("samples", pa.int64()),
            ("settings", pa.string()),
        ]
    )
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


def _results_card(metadata: dict, repo_id: str) -> str:
    runs = metadata["s2r"]["runs"]
    columns: list[tuple[str, str]] = []
    for run in runs:
        for task, metrics in run["results"].items():
            columns += [(task, metric) for metric in metrics if (task, metric) not in columns]
    lines = [
        f"# {repo_id.split('/')[-1]}: evaluation results",
        "",
        "Scores written by [s2r-hf](https://github.com/s2r-hf/s2r-hf) `s2r evaluate`, one config per run:",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'table = load_dataset("{repo_id}", "{runs[0]["config"]}", split="train")',
        "```",
        "",
        "| config | model | preset | data tokens | trained tokens | "
        + " | ".join(f"{t} {m}" for t, m in columns)
        + " |",
        "| --- | --- | --- | ---: | ---: |" + " ---: |" * len(columns),
    ]
    for run in runs:
        # A run pushed before the two token names has `training_tokens`: the trainer's count.
        counts = [run.get(DATA_TOKENS), run.get(TRAINED_TOKENS, run.get(OLD_TRAINED_TOKENS))]
        cells = [
            f"`{run['config']}`" + (" (partial)" if run.get("partial") else ""),
            str(run["model"]),
            str(run["preset"]),
            *(f"{tokens:,}" if isinstance(tokens, int) else "-" for tokens in counts),
        ]
        for task, metric in columns:
            value = run["results"].get(task, {}).get(metric)
            cells.append("-" if value is None else f"{100 * value:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return join_card(metadata, "\n".join(lines) + "\n")


# -- the model card ---------------------------------------------------------------------------------------------------


def model_index(data: dict, results_repo: str | None = None) -> list[dict]:
    """The run as a Hub `model-index`: one result per benchmark, its metrics named with their settings."""

    results = []
    for task, metrics in data["results"].items():
        settings = data["tasks"][task]["settings"]
        entry: dict[str, Any] = {
            "task": {"type": "text-generation", "name": "Text Generation"},
            "dataset": {
                "name": _DATASET_NAMES.get(task, task),
                "type": BENCHMARKS[task].hub_repo if task in BENCHMARKS else task,
            },
            "metrics": [
                {
                    "type": metric,
                    "value": round(100 * float(value), 2),
                    "name": f"{metric} ({data['protocol']['preset']}, n={settings['num_samples']}, "
                    f"max_new_tokens={settings['max_new_tokens']})",
                }
                for metric, value in metrics.items()
            ],
            "source": {"name": "s2r-hf evaluate (lighteval)"},
        }
        if results_repo:
            entry["source"]["url"] = f"https://huggingface.co/datasets/{results_repo}"
        results.append(entry)
    return [{"name": data["model"]["name"], "results": results}]


def _push_model_index(data: dict, repo_id: str, results_repo: str | None, **common: Any) -> CommitResult:
    text = read_remote_card(repo_id, "model", common.get("token"))
    metadata, body = _split_hub_card(text, repo_id)
    new = model_index(data, results_repo)[0]
    index = metadata.get("model-index") if isinstance(metadata.get("model-index"), list) else []
    if index:
        kept = index[0].get("results", []) if isinstance(index[0], dict) else []
        replaced = {entry["dataset"]["type"] for entry in new["results"]}
        kept = [entry for entry in kept if (entry.get("dataset") or {}).get("type") not in replaced]
        index = [{"name": index[0].get("name") or new["name"], "results": kept + new["results"]}, *index[1:]]
    else:
        index = [new]
    metadata["model-index"] = index
    if not body.strip():
        body = f"# {new['name']}\n\nEvaluation results are in this card's `model-index` metadata.\n"
    card = join_card(metadata, body.lstrip())
    return commit_files(
        repo_id,
        {CARD_FILE: card.encode("utf-8")},
        repo_type="model",
        message=f"Evaluation results ({data['protocol']['preset']}) in the model-index",
        **common,
    )


# -- the subset card --------------------------------------------------------------------------------------------------


def _push_subset_card(data: dict, repo_id: str, subset_config: str | None, config: str, **common: Any) -> CommitResult:

    text = read_remote_card(repo_id, "dataset", common.get("token"))
    metadata, _ = _split_hub_card(text, repo_id)
    s2r = metadata.get("s2r") if isinstance(metadata.get("s2r"), dict) else {}
    kind = s2r.get("kind")
    if kind == "subset":
        if subset_config is not None:
            logger.info("%s holds one subset; subset_config %r is not needed", repo_id, subset_config)
        s2r["results"] = data["results"]
    elif kind == "collection":
        subsets = s2r.get("subsets") or []
        names = [entry.get("config") for entry in subsets]
        if subset_config is None and len(subsets) == 1:
            subset_config = names[0]
        if subset_config not in names:
            raise InputError(
                f"{repo_id} holds the subsets {names}; name the one the model was trained on (--subset-config)"
            )
        subsets[names.index(subset_config)]["results"] = data["results"]
    else:
        raise InputError(
            f"{repo_id} is not a subset repo published by `s2r publish` (its card has no s2r subset block); "
            "give the dataset repo of the subset the model was trained on"
        )
    card = render_card("subset.md", metadata)
    files = {
        CARD_FILE: card.encode("utf-8"),
        f"{SUBSET_RESULTS_DIR}/{config}.json": (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode(),
    }
    return commit_files(
        repo_id, files, repo_type="dataset", message=f"Results of {data.get('label')} in the card", **common
    )


def _split_hub_card(text: str, repo_id: str) -> tuple[dict, str]:
    """A card read from the Hub, to be merged into: unreadable metadata stops the push rather than being replaced."""
    return split_card(text, where=f"the card of {repo_id} on the Hub", fix="fix it on the Hub first")
