"""The steps of an experiment, what each depends on, and whether its output is up to date.

    pool (when scored from a source) -> <arm>/select -> <arm>/train -> <arm>/evaluate      (the full arm: no select)
    with match_tokens: REF: <REF>/select -> <arm>/select of every other selecting arm       (REF's arm goes first)

With training seeds (`seeds: [0, 1]`, the experiment's or the arm's), each seed is a train and an evaluate step of its
own, in `<arm>/seed<N>/` (`full/seed1/train`, `full/seed1/evaluate`), the seed among its train settings: adding a seed
adds two steps and changes no other. Without `seeds`, an arm has one train and one evaluate step in its own folders
(`<arm>/model`, `<arm>/eval`), as before seeds existed, so an experiment folder written then resumes unchanged; giving
it `seeds` later trains every seed in its own folder (the earlier `<arm>/model` is left where it is, unread).

Each step has `settings`: everything its output depends on, its upstream step's fingerprint included, so a change
anywhere re-runs exactly the steps downstream of it. The `fingerprint` is a digest of the settings. When a step
finishes, its record (`<arm>/steps/<step>.json`: fingerprint, settings, times) is written beside its output; a step is
up to date when its record holds the current fingerprint and its output is whole (a subset folder, a finished
training run, a results file). Settings that say how a step runs rather than what it makes (the interpreter, the
launcher, the number of processes of a map) are left out, so moving an experiment to a cluster does not redo it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import EXPERIMENT_RECORD, files_fingerprint, s2r_kind, source_files, write_json_atomically
from s2r_hf.core.models import is_local_model
from s2r_hf.core.options import flatten
from s2r_hf.core.records import read_json_object
from s2r_hf.core.redaction import redact
from s2r_hf.core.weights import digest_weights
from s2r_hf.evaluation.results import read_results
from s2r_hf.experiment.config import DEMO_SOURCE, FULL, ExperimentConfig
from s2r_hf.training.credentials import credential_variable
from s2r_hf.training.provenance import read_provenance

logger = logging.getLogger(__name__)

EXPERIMENT_FILE = EXPERIMENT_RECORD  # how an output folder is known as an experiment (core.folders.EXPERIMENT_OWNER)
EXPERIMENT_FORMAT = "s2r-experiment/1"
POOL_DIR = "pool"
STEPS_DIR = "steps"
WEIGHTS_CACHE = "weights.json"  # in OUTPUT/steps: the base model's weight files' digests, by stat
STEP_OUTPUTS = {"select": "subset", "train": "model", "evaluate": "eval"}
ARM_STEPS = ("select", "train", "evaluate")
# ScoreConfig settings that change how fast the pool is scored, not what it holds.
_HOW_TO_SCORE = ("num_proc", "judge_batch_tokens", "judge_chunk_rows", "judge_work_dir", "judge_device")


@dataclass
class Step:
    """One step: its name, arm (None for the pool), the steps it needs, its settings, output and record."""

    name: str
    arm: str | None
    needs: list[str]
    settings: dict[str, Any]
    output: Path
    record_path: Path
    seed: int | None = None  # a train or evaluate step of one of the arm's training seeds

    @property
    def id(self) -> str:
        if self.arm is None:
            return self.name
        return f"{self.arm}/{self.name}" if self.seed is None else f"{self.arm}/{seed_folder(self.seed)}/{self.name}"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.settings)


def fingerprint(settings: Any) -> str:
    canonical = json.dumps(settings, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def pool_dir(config: ExperimentConfig) -> Path:
    """The scored pool every arm selects from: the given folder, or OUTPUT/pool."""
    if config.pool.scored is not None:
        return Path(config.pool.scored).expanduser()
    return config.output_dir / POOL_DIR


def seed_folder(seed: int) -> str:
    """The folder of one training seed's model and evaluation, inside its arm's: `seed1`."""
    return f"seed{seed}"


def arm_output(config: ExperimentConfig, arm: str, step: str, seed: int | None = None) -> Path:
    """Where an arm's step writes: OUTPUT/<arm>/subset, model or eval (OUTPUT/<arm>/seed<N>/model or eval for a
    training seed)."""
    folder = config.output_dir / arm
    return (folder if seed is None else folder / seed_folder(seed)) / STEP_OUTPUTS[step]


def experiment_steps(config: ExperimentConfig) -> list[Step]:
    """Every step of the experiment, in the order they run (the pool, then arm by arm; with match_tokens, the
    reference arm first: the other arms' selections take their token budget from its subset)."""
    output = config.output_dir
    steps: list[Step] = []
    pool = Step(
        name="pool",
        arm=None,
        needs=[],
        settings=_pool_settings(config),
        output=pool_dir(config),
        record_path=output / STEPS_DIR / "pool.json",
    )
    steps.append(pool)
    train_settings = _train_settings(config)
    evaluation = _evaluation_settings(config)
    arms = sorted(config.arms, key=lambda arm: arm.name != config.match_tokens)  # stable: the reference first
    selections: dict[str, Step] = {}
    for arm in arms:
        folder = output / arm.name
        upstream = pool
        if arm.strategy != FULL:
            upstream = Step(
                name="select",
                arm=arm.name,
                needs=[pool.id],
                settings={"pool": pool.fingerprint, **_selection_settings(config, arm, selections)},
                output=arm_output(config, arm.name, "select"),
                record_path=folder / STEPS_DIR / "select.json",
            )
            if arm.matched_to is not None:
                upstream.needs.append(selections[arm.matched_to].id)
            selections[arm.name] = upstream
            steps.append(upstream)
        for seed in config.arm_seeds(arm.name) or [None]:
            seed_dir = folder if seed is None else folder / seed_folder(seed)
            train = Step(
                name="train",
                arm=arm.name,
                needs=[upstream.id],
                settings={
                    "data": upstream.fingerprint,
                    "data_step": upstream.id,
                    **train_settings,
                    **({} if seed is None else {"seed": seed}),
                },
                output=arm_output(config, arm.name, "train", seed),
                record_path=seed_dir / STEPS_DIR / "train.json",
                seed=seed,
            )
            steps.append(train)
            steps.append(
                Step(
                    name="evaluate",
                    arm=arm.name,
                    needs=[train.id],
                    settings={"model": train.fingerprint, **evaluation},
                    output=arm_output(config, arm.name, "evaluate", seed),
                    record_path=seed_dir / STEPS_DIR / "evaluate.json",
                    seed=seed,
                )
            )
    return steps


def _selection_settings(config: ExperimentConfig, arm, selections: dict[str, Step]) -> dict[str, Any]:
    """What an arm's subset depends on besides the pool: its selection; with a token budget, the student's tokenizer
    that counts it; with match_tokens, the reference arm's subset (a new one re-runs this selection)."""
    if arm.matched_to is None:
        selection = arm.select_config()
        settings: dict[str, Any] = {"selection": dataclasses.asdict(selection)}
    else:  # the budget is the reference subset's tokens, known once it is selected
        selection = arm.select_config(token_budget=1)
        settings = {"selection": {**dataclasses.asdict(selection), "token_budget": None}}
        settings["match_tokens"] = {"arm": arm.matched_to, "subset": selections[arm.matched_to].fingerprint}
    if selection.token_budget is not None:
        settings["tokenizer"] = _base_model(config)
    return settings


def student_model(config: ExperimentConfig) -> str | None:
    """The base model every arm trains (train.model, or the recipe's): its tokenizer counts the token budgets."""
    return config.train.model or _recipe_model(Path(config.train.recipe_path))


def _pool_settings(config: ExperimentConfig) -> dict[str, Any]:
    if config.pool.scored is not None:
        folder = Path(config.pool.scored).expanduser()
        # A re-scored pool (new shards, new card) is a new pool: every selection from it runs again.
        return {"scored": str(folder.resolve()), "files": files_fingerprint(source_files(folder))}
    score = flatten(config.pool.score_config())
    for name in _HOW_TO_SCORE:
        score.pop(name, None)
    settings: dict[str, Any] = {"score": score}
    source = Path(score["source"]).expanduser()
    if config.pool.source == DEMO_SOURCE:
        # The embedded file's path depends on where the package is installed; its content does not.
        settings["score"]["source"] = DEMO_SOURCE
        settings["source_sha256"] = hashlib.sha256(source.read_bytes()).hexdigest()
    elif source.exists():
        settings["source_files"] = files_fingerprint(source_files(source))
    return settings


def _train_settings(config: ExperimentConfig) -> dict[str, Any]:
    recipe = Path(config.train.recipe_path)
    # A credential says who may push, not what is trained: a new token re-runs nothing, and no digest depends on it.
    overrides = {key: value for key, value in config.train.overrides.items() if not credential_variable(key)}
    return {
        "recipe": config.train.recipe,
        "recipe_sha256": hashlib.sha256(recipe.read_bytes()).hexdigest(),
        "model": _base_model(config),
        "overrides": overrides,
    }


def _base_model(config: ExperimentConfig) -> str | dict[str, str] | None:
    """What the arms start from: a Hub id as named (its revision is an override), a local folder by its weights.

    A local model's path says nothing of what it holds (weights replaced in place must retrain every arm, a folder
    moved elsewhere need not), so it is fingerprinted by the digest of its weight files (s2r_hf.core.weights).
    """
    model = config.train.model
    if model is None:
        model = _recipe_model(Path(config.train.recipe_path))
        if model is None:
            return config.train.model
    folder = Path(model).expanduser()
    if not is_local_model(model) or not folder.is_dir():
        return config.train.model  # a Hub id; a missing folder is refused when the run starts
    return {"weights_sha256": _cached_weights_digest(config, folder)}


def _recipe_model(recipe: Path) -> str | None:
    import yaml

    try:
        values = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the recipe is read (and refused) by the training options' check
    model = values.get("model_name_or_path") if isinstance(values, dict) else None
    return model if isinstance(model, str) else None


def _cached_weights_digest(config: ExperimentConfig, folder: Path) -> str:
    """The weights' digest, each file read again only when its stat changed since the digest kept in
    OUTPUT/steps/weights.json (kept once the experiment's folder exists: `plan` on a new experiment writes nothing)."""
    cache_path = config.output_dir / STEPS_DIR / WEIGHTS_CACHE
    try:
        cache = read_json_object(cache_path, what="a weights digest cache")
    except InputError:
        cache = {}  # none yet, or unreadable: the files are hashed again
    key = str(folder.resolve())
    known = cache.get(key)
    digest = digest_weights(folder, known if isinstance(known, dict) else None)
    if digest.files != known and cache_path.parent.is_dir():
        try:
            write_json(cache_path, {**cache, key: digest.files})
        except OSError as err:  # a read-only or full disk: the digest is right, only the next one is slower
            logger.warning("cannot keep the weights digest in %s (%s); it is computed again next time", cache_path, err)
    return digest.sha256


def _evaluation_settings(config: ExperimentConfig) -> dict[str, Any]:
    evaluation = dataclasses.asdict(config.evaluation_config())
    evaluation.pop("python")  # which environment runs lighteval, not what it measures
    data = {name: files_fingerprint(source_files(path)) for name, path in sorted(config.evaluation_data().items())}
    return {"evaluation": evaluation, "data": data}


# -- records ----------------------------------------------------------------------------------------------------------


def read_experiment_record(path: Path, fix: str) -> dict[str, Any]:
    """The one reader of `experiment.json` (written by `s2r experiment run`): a JSON object of format
    EXPERIMENT_FORMAT, or an InputError naming the file, what is wrong and `fix`."""
    return read_json_object(path, what="an experiment record", fix=fix, kind=("format", EXPERIMENT_FORMAT))


def read_step_record(path: Path) -> dict[str, Any] | None:
    """The one reader of a step's record (`steps/<step>.json`): None when it has none, or an unreadable one (not
    written whole: the step has not finished)."""
    if not path.exists():
        return None
    try:
        return read_json_object(path, what="a step record", fix="the step runs again")
    except InputError as err:
        logger.warning("%s", err)
        return None


def read_record(step: Step) -> dict[str, Any] | None:
    """The step's record, or None when it has none (or an unreadable one: the step then runs again)."""
    return read_step_record(step.record_path)


def write_record(step: Step, status: str, **extra: Any) -> dict[str, Any]:
    """Write the step's record whole (a temporary file moved into place)."""
    record = {
        "step": step.name,
        "arm": step.arm,
        **({} if step.seed is None else {"seed": step.seed}),
        "status": status,
        "fingerprint": step.fingerprint,
        "settings": step.settings,
        "output": str(step.output),
        **extra,
    }
    write_json(step.record_path, record)
    return record


def write_json(path: Path, data: Any) -> None:
    """Write an experiment record whole, through the one rule for secrets (`redact`): a token given as an override
    (`--set train.overrides.hub_token=...`) or in the experiment file is recorded as REDACTED."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # default=str first (paths, dates), so that redact sees every value as JSON will hold it.
    plain = json.loads(json.dumps(data, default=str))
    write_json_atomically(path, redact(plain))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- status -----------------------------------------------------------------------------------------------------------


@dataclass
class StepStatus:
    """Where a step stands: `done` (skipped when run), `changed`, `interrupted` or `new`; `why` says it in words."""

    state: str
    why: str
    record: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"


def step_status(step: Step) -> StepStatus:
    record = read_record(step)
    if record is None:
        if step.name == "pool" and step.settings.get("scored"):
            return StepStatus("done", "the pool is a scored folder")
        return StepStatus("new", "not run yet")
    if record.get("fingerprint") != step.fingerprint:
        changes = describe_changes(step.name, record.get("settings") or {}, step.settings)
        return StepStatus("changed", f"settings changed ({changes})", record)
    if record.get("status") != "finished":
        return StepStatus("interrupted", "started but did not finish", record)
    problem = output_problem(step)
    if problem:
        return StepStatus("changed", f"its output {problem}", record)
    return StepStatus("done", "up to date", record)


def output_problem(step: Step) -> str | None:
    """What is wrong with a finished step's output (None when it is whole)."""
    if step.name == "pool" and step.settings.get("scored"):
        return None
    if not step.output.is_dir():
        return "is missing"
    if step.name in ("pool", "select"):
        expected = "scored_pool" if step.name == "pool" else "subset"
        return None if s2r_kind(step.output) == expected else f"is not a {expected.replace('_', ' ')} any more"
    if step.name == "train":
        try:
            record = read_provenance(step.output)
        except InputError as err:
            return f"has an unreadable training record ({err})"
        return None if record and record.get("status") == "finished" else "is not a finished training run"
    if step.name == "evaluate":
        try:
            read_results(step.output)
        except InputError:
            return "has no results file"
        return None
    raise ValueError(f"unknown step {step.name!r}")


def describe_changes(step: str, before: dict[str, Any], after: dict[str, Any], limit: int = 3) -> str:
    """Why `step` (pool, select, train, evaluate) runs again, in words that fit that step: a setting of its own by its
    key (`selection.weight: 0.25 -> 0.5`), what it reads from upstream by what it is (`its data (joint/select)
    changed`, `the model it evaluates was trained again`), a digest by the input it stands for."""
    old, new = _flat(before), _flat(after)
    changed = [key for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key) and key != "data_step"]
    parts: list[str] = []
    for key in changed:
        phrase = (
            _change_phrase(step, key, before, after)
            or f"{key}: {_short(old.get(key, '-'))} -> {_short(new.get(key, '-'))}"
        )
        if phrase not in parts:  # a mapping that changed shape (a Hub id to a folder's digest) is one change
            parts.append(phrase)
    shown = parts[:limit] + ([f"{len(parts) - limit} more"] if len(parts) > limit else [])
    return "; ".join(shown) or "its record is from another version"


def _change_phrase(step: str, key: str, before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The words for a changed setting whose value says nothing to a reader (a fingerprint, a digest), by step; None
    for a setting shown as `key: old -> new`."""
    top = key.split(".", 1)[0]
    if step == "pool":
        if top in ("source_files", "source_sha256"):
            return "the source's files changed (pool.source)"
        if top == "files":
            return "the scored pool's files changed (pool.scored)"
    elif step == "select" and top == "pool":
        return "the pool changed"
    elif step == "select" and top == "match_tokens":
        reference = (after.get("match_tokens") or {}).get("arm") or (before.get("match_tokens") or {}).get("arm")
        return f"the subset whose tokens are its budget ({reference}/select) changed"
    elif step == "select" and top == "tokenizer":
        return "the tokenizer that counts its token budget changed (train.model)"
    elif step == "train":
        if top == "data":
            return f"its data ({after.get('data_step') or before.get('data_step') or 'the pool'}) changed"
        if top == "recipe_sha256":
            if before.get("recipe") != after.get("recipe"):  # another recipe: said once, by its name
                return f"recipe: {_short(before.get('recipe', '-'))} -> {_short(after.get('recipe', '-'))}"
            return "the recipe file changed (train.recipe)"
        if top == "model":
            old, new = before.get("model"), after.get("model")
            if isinstance(old, dict) and isinstance(new, dict):
                return "the base model's weights changed (train.model)"
            if isinstance(old, str) and isinstance(new, str):
                return f"the base model changed (train.model: {_short(old)} -> {_short(new)})"
            return "the base model changed (train.model)"
    elif step == "evaluate":
        if top == "model":
            return "the model it evaluates was trained again"
        if top == "data":
            # {benchmark: digest of its local file} ({} when every benchmark is read from the Hub): one phrase for
            # all the keys of one change, naming the benchmarks whose file changed
            old, new = before.get("data") or {}, after.get("data") or {}
            names = sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))
            if len(names) == 1:
                return f"the {names[0]} data changed (evaluate.data.{names[0]})"
            return f"the {', '.join(names) or 'benchmark'} data changed (evaluate.data)"
    return None


def _flat(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
