"""Publish an experiment to the Hub: each arm's subset, model and results, and the comparison, in one collection.

`publish_experiment(OUTPUT, namespace="s2r")` reads an `s2r experiment run` output folder (experiment.json, each arm's
subset/, model/ and eval/, and the report.json of `s2r experiment report`) and pushes, for each evaluated arm:

- its subset to the dataset repo `{namespace}/{experiment}-{arm}` (s2r_hf.hub.subsets.publish_subset; the `full` arm
  has no subset),
- its model to the model repo `{namespace}/{experiment}-{arm}` (s2r_hf.training.publish.publish_model),
- its evaluation to the dataset repo `{namespace}/{experiment}-results`, config `{arm}`, and into the model card's
  model-index and the subset card (s2r_hf.evaluation.publish.push_results);

then the comparison (report.md, report.json, the chart) to `experiment/` of the results repo, and gathers every repo
in the collection `{collection or experiment}` of the namespace, its description a one-line summary of the table, each
item's note the arm's selection and scores (s2r_hf.hub.collections.gather_collection). Everything goes through the
publish code of s2r_hf.hub, so a re-run pushes only what changed, and an arm not evaluated yet is skipped (and named).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2r_hf.core.cards import split_card
from s2r_hf.core.errors import InputError
from s2r_hf.core.records import DATA_TOKENS, read_json_object
from s2r_hf.evaluation.publish import RESULTS_KIND, push_results
from s2r_hf.evaluation.results import read_results
from s2r_hf.experiment.config import FULL
from s2r_hf.experiment.report import REPORT_CHART, REPORT_FORMAT, REPORT_JSON, REPORT_MARKDOWN, read_experiment
from s2r_hf.experiment.repos import RESULTS_FOLDER, arm_repo_id, check_repo_names
from s2r_hf.experiment.steps import seed_folder
from s2r_hf.hub.cards import read_remote_card
from s2r_hf.hub.checks import check_publish_options
from s2r_hf.hub.collections import CollectionResult, check_namespace, gather_collection
from s2r_hf.hub.commit import CommitResult, commit_files
from s2r_hf.hub.retry import RetryPolicy, check_online
from s2r_hf.hub.subsets import publish_subset
from s2r_hf.training.publish import publish_model, read_training_record

logger = logging.getLogger(__name__)

REPORT_FILES = (REPORT_MARKDOWN, REPORT_JSON, REPORT_CHART)  # what `s2r experiment report` writes


@dataclass(frozen=True)
class ArmPublication:
    """What one arm's publish did: the model repo's commit, the subset repo's (None for the full pool), and
    push_results' commits ({"results": ..., "model": ..., "subset": ...})."""

    arm: str
    model: CommitResult
    subset: CommitResult | None
    results: dict[str, CommitResult]

    @property
    def changed(self) -> bool:
        commits = [self.model, self.subset, *self.results.values()]
        return any(commit.changed for commit in commits if commit is not None)


@dataclass(frozen=True)
class ExperimentPublication:
    """What `publish_experiment` pushed: per arm, the results repo's comparison commit, the collection; and the arms
    skipped ({arm: why})."""

    experiment: str
    results_repo: str
    arms: dict[str, ArmPublication]
    report: CommitResult
    collection: CollectionResult
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(arm.changed for arm in self.arms.values()) or self.report.changed or self.collection.changed

    @property
    def urls(self) -> dict[str, str]:
        """{what: its page}: each arm's model and subset repo, the results repo and the collection."""
        out = {}
        for arm, published in self.arms.items():
            out[f"{arm} model"] = published.model.url
            if published.subset is not None:
                out[f"{arm} subset"] = published.subset.url
        out["results"] = self.report.url
        out["collection"] = self.collection.url
        return out


@dataclass(frozen=True)
class _Arm:
    name: str
    folder: Path
    strategy: str | None
    model_repo: str
    subset_repo: str | None
    run_folder: Path  # where its model/ and eval/ are: the arm's folder, or its first training seed's


def publish_experiment(
    output_dir: str | os.PathLike,
    *,
    namespace: str,
    collection: str | None = None,
    private: bool = False,
    token: str | None = None,
    retry: RetryPolicy | None = None,
) -> ExperimentPublication:
    """Push an experiment's subsets, models, results and comparison table to `namespace`, gathered in a collection.

    `output_dir` is the folder `s2r experiment run` wrote, with the report of `s2r experiment report OUTPUT` in it.
    `collection` is the collection's title (default: the experiment's name). Arms not trained or evaluated yet are
    skipped with a warning and listed in the result's `skipped`. Every repo id is checked before the first push.
    Re-running pushes only what changed.
    """
    check_online()
    check_publish_options(private=private, token=token, retry=retry)
    check_namespace(namespace)
    if collection is not None and (not isinstance(collection, str) or not collection.strip()):
        raise InputError(f"collection is a collection title (a non-empty string) or None, got {collection!r}")
    if not isinstance(output_dir, (str, os.PathLike)) or not Path(output_dir).is_dir():
        raise InputError(f"{output_dir!r} is not a folder; give the output folder of `s2r experiment run`")
    folder = Path(output_dir)
    experiment = read_experiment(folder)  # the same checks as the report's
    name, arm_names = str(experiment["name"]), experiment["arms"]
    report_path = folder / REPORT_JSON
    if not report_path.is_file():
        raise InputError(
            f"{folder} has no {REPORT_JSON}: make the comparison table first with `s2r experiment report {folder}`, "
            "then publish"
        )
    report = read_json_object(
        report_path,
        what="a report of `s2r experiment report`",
        fix=f"re-run `s2r experiment report {folder}`",
        kind=("format", REPORT_FORMAT),
    )
    if report.get("experiment") not in (None, name):
        raise InputError(
            f"{report_path} reports the experiment {report.get('experiment')!r}, not {name!r}; re-run "
            f"`s2r experiment report {folder}`"
        )

    results_repo = arm_repo_id(namespace, name, "results")
    settings = experiment.get("arm_settings") or {}
    reported = {arm.get("name"): arm for arm in report.get("arms", []) if isinstance(arm, dict)}
    arms = []
    for arm in arm_names:
        # The report's: what the arm was made with (its step records), not what the experiment file says now.
        strategy = (reported.get(arm) or {}).get("strategy") or (settings.get(arm) or {}).get("strategy")
        repo = arm_repo_id(namespace, name, arm)
        # An arm trained with several seeds publishes its first seed's model and results (a model repo holds one model);
        # the comparison table, pushed beside them, holds every seed's statistics.
        seeds = (experiment.get("seeds") or {}).get(arm) if isinstance(experiment.get("seeds"), dict) else None
        run_folder = folder / arm / seed_folder(seeds[0]) if isinstance(seeds, list) and seeds else folder / arm
        arms.append(_Arm(arm, folder / arm, strategy, repo, None if strategy == FULL else repo, run_folder))
    check_repo_names(name, namespace, [arm.name for arm in arms])

    ready, skipped = [], {}
    for arm in arms:
        why = _not_ready(arm)
        if why:
            skipped[arm.name] = why
            logger.warning("arm %r is skipped: %s", arm.name, why)
            continue
        read_results(arm.run_folder / "eval")  # an unreadable results file is refused before anything is pushed
        ready.append(arm)
    if not ready:
        raise InputError(
            f"no arm of {name!r} is trained and evaluated yet ({'; '.join(f'{a}: {w}' for a, w in skipped.items())}); "
            f"run `s2r experiment run` first"
        )

    _check_results_repo(results_repo, token)
    common: dict[str, Any] = {"private": private, "token": token, "retry": retry}
    published: dict[str, ArmPublication] = {}
    for arm in ready:
        logger.info("publishing arm %r: %s", arm.name, arm.model_repo)
        subset = publish_subset(arm.folder / "subset", arm.subset_repo, **common) if arm.subset_repo else None
        model = publish_model(arm.run_folder / "model", arm.model_repo, **common)
        results = push_results(
            arm.run_folder / "eval",
            results_repo=results_repo,
            model_repo=arm.model_repo,
            subset_repo=arm.subset_repo,
            config_name=arm.name,
            **common,
        )
        published[arm.name] = ArmPublication(arm.name, model, subset, results)

    files = {f"{RESULTS_FOLDER}/{file}": folder / file for file in REPORT_FILES if (folder / file).is_file()}
    report_commit = commit_files(
        results_repo,
        files,
        repo_type="dataset",
        delete=(f"{RESULTS_FOLDER}/*",),  # the folder holds this comparison; each arm's config is left alone
        message=f"Comparison table of {name}",
        **common,
    )

    items: list[tuple[str, str, str | None]] = []
    for arm in ready:
        note = arm_note(arm.name, reported.get(arm.name) or {}, report.get("columns") or [])
        if arm.subset_repo:
            items.append((arm.subset_repo, "dataset", note))
        items.append((arm.model_repo, "model", note))
    items.append(
        (
            results_repo,
            "dataset",
            f"Every arm's evaluation (one config per arm) and the comparison table ({RESULTS_FOLDER}/report.md)",
        )
    )
    gathered = gather_collection(collection or name, namespace, items, description=summary(report), **common)
    return ExperimentPublication(name, results_repo, published, report_commit, gathered, skipped)


def summary(report: dict[str, Any]) -> str:
    """One line from report.json: `Select2Reason arms, mean pass@1: joint 41.2, random 35.0, full 40.9`."""
    scores = [
        f"{arm['name']} {100 * arm['accuracy']:.1f}"
        for arm in report.get("arms", [])
        if isinstance(arm, dict) and isinstance(arm.get("accuracy"), (int, float))
    ]
    if not scores:
        return "Select2Reason arms: not evaluated yet"
    partial = " (partial evaluation)" if report.get("partial") else ""
    return f"Select2Reason arms, mean pass@1{partial}: " + ", ".join(scores)


def arm_note(name: str, arm: dict[str, Any], columns: list) -> str:
    """An arm's selection and scores, for its items in the collection."""
    if arm.get("strategy") == FULL:
        selection = "the full pool"
    else:
        if arm.get("ratio") is not None:
            size = f"{100 * arm['ratio']:g}%"
        elif arm.get("token_budget") is not None:
            size = f"within {arm['token_budget']:,} tokens"
        else:
            size = f"k={arm.get('k')}"
        weight = f", weight {arm['weight']:g}" if arm.get("weight") is not None else ""
        selection = f"{arm.get('strategy')} {size}{weight}"
    facts = []
    if arm.get("rows") is not None:
        facts.append(f"{arm['rows']:,} rows")
    if arm.get(DATA_TOKENS) is not None:
        share = f" ({100 * arm['token_share']:.1f}% of the pool)" if arm.get("token_share") is not None else ""
        facts.append(f"{arm[DATA_TOKENS]:,} data tokens{share}")
    scores = []
    for column in columns:
        task, metric = column
        score = ((arm.get("results") or {}).get(task) or {}).get(metric)
        if not isinstance(score, dict) or score.get("value") is None:
            continue
        stderr = f" ± {100 * score['stderr']:.1f}" if score.get("stderr") is not None else ""
        problems = f" (n={score['problems']})" if score.get("problems") is not None else ""
        scores.append(f"{task} {metric} {100 * score['value']:.1f}{stderr}{problems}")
    text = f"{name}: {selection}" + (f"; {', '.join(facts)}" if facts else "") + "."
    if scores:
        text += " " + "; ".join(scores) + "."
    return text


def _not_ready(arm: _Arm) -> str | None:
    """Why an arm cannot be published yet (not trained, not evaluated), or None; a broken arm is an InputError."""
    model = arm.run_folder / "model"
    if not model.is_dir():
        return "not trained yet (no model/ folder)"
    status = read_training_record(model).get("status")
    if status != "finished":
        return f"training not finished (status {status!r})"
    if not (arm.run_folder / "eval" / "results.json").is_file():
        return "not evaluated yet (no eval/results.json)"
    if arm.subset_repo and not (arm.folder / "subset" / "README.md").is_file():
        raise InputError(
            f"arm {arm.name!r} (strategy {arm.strategy!r}) was trained but has no subset folder at "
            f"{arm.folder / 'subset'}; re-run `s2r experiment run` to write it"
        )
    return None


def _check_results_repo(repo_id: str, token: str | None) -> None:
    """Refuse, before the first push, a results repo that exists with a card s2r did not write as one."""
    text = read_remote_card(repo_id, "dataset", token)
    s2r = split_card(text)[0].get("s2r") if text.strip() else {"kind": RESULTS_KIND}
    if not isinstance(s2r, dict) or s2r.get("kind") != RESULTS_KIND:
        raise InputError(
            f"the dataset repo {repo_id} exists and is not a results repo s2r wrote (its card has no s2r results "
            "block); publish under another namespace, or rename the experiment"
        )
