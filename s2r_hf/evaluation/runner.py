"""Evaluate a model on the math benchmarks with lighteval, in a separate process: `evaluate_model(...)`.

The run, step by step:

1. The options are checked (`EvaluationConfig`), the model folder too (weights config, tokenizer, chat template), and
   the output folder, before anything slow starts.
2. The interpreter that will run lighteval (`python`, default: this one) is probed: lighteval must import there, and
   vLLM too for the vLLM backend. lighteval's vLLM extra and TRL's cannot share an environment, hence the option.
3. Each benchmark is read once through `s2r_hf.pool.benchmarks.load_benchmark` (its Hub dataset, or the `data` override)
   and written, normalised to `id`/`problem`/`answer`, as `benchmarks/<name>/test.parquet` in the output: the tasks
   read exactly these rows. After the run the file keeps the problems evaluated (with `max_samples`, the ones
   lighteval drew, in the benchmark's order), beside the scores.
4. `python -m s2r_hf.evaluation.worker plan.json` runs lighteval (its progress bars show on the terminal) and writes
   lighteval's results and per-sample details.
5. The tidy results are written (`results.json`, `results.md`, a README.md card; the format is
   s2r_hf.evaluation.results') with the settings, sample counts, seed, lighteval version and the model's revision or
   weights digest; lighteval's details go to `details/<benchmark>.parquet`. The folder appears whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from s2r_hf._version import __version__
from s2r_hf.core.children import run_tied
from s2r_hf.core.errors import (
    EvaluationError,
    InputError,
    MissingDependencyError,
    ModelError,
    OutputError,
)
from s2r_hf.core.extras import missing_package_message
from s2r_hf.core.folders import TRAINING_RECORD, _disk_error_message, check_writable, staged_folder
from s2r_hf.core.http_errors import transport_errors
from s2r_hf.core.locks import locked_output
from s2r_hf.core.models import TOKENIZER_FILES, check_model_reachable, has_chat_template
from s2r_hf.core.options import check_choice, check_field_types
from s2r_hf.core.records import DATA_TOKENS, TRAINED_TOKENS, read_json_object, token_counts
from s2r_hf.core.redaction import redact_command
from s2r_hf.core.weights import weight_files, weights_digest
from s2r_hf.evaluation.presets import PRESETS, TaskSettings, get_preset
from s2r_hf.evaluation.prompt import SYSTEM_PROMPT, benchmark_of_details
from s2r_hf.evaluation.results import DETAILS_DIR, EVALUATION_KIND, RESULTS_FORMAT, is_partial, write_results
from s2r_hf.pool.benchmarks import BENCHMARKS, load_benchmark, parse_data_overrides, require_benchmark_names

logger = logging.getLogger(__name__)

BACKENDS = ("transformers", "vllm", "custom")
# What lighteval's transformers backend (quantized 4bit/8bit included) and vLLM accept for the weights' dtype.
DTYPES = ("auto", "bfloat16", "float16", "float32", "half", "float", "4bit", "8bit")
BENCHMARKS_DIR = "benchmarks"
LIGHTEVAL_DIR = "lighteval"
# Sane upper bounds, checked before any work: beyond them a value is a typo, and lighteval would fail (or try to
# allocate the impossible) only after the model has loaded. 1M new tokens exceeds every model's context today.
UPPER_BOUNDS = {"max_new_tokens": 1_048_576, "num_samples": 1024, "batch_size": 65_536}
MAX_SEED = 2**32 - 1  # numpy's (and so transformers' set_seed's) limit
# config.json fields that bound a model's sequence (prompt and answer), the first one found is used.
CONTEXT_FIELDS = ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")


@dataclass
class EvaluationConfig:
    """How to evaluate: which benchmarks, under which protocol, with which backend."""

    tasks: str = field(
        default="math500,aime24,aime25,amc23",
        metadata={"help": f"comma-separated benchmarks, from: {', '.join(BENCHMARKS)}"},
    )
    preset: str = field(default="paper", metadata={"help": f"protocol: {', '.join(PRESETS)}"})
    backend: str = field(
        default="transformers",
        metadata={
            "help": "transformers, vllm (needs lighteval[vllm] in --python's environment), or custom (MODEL "
            "is a .py file defining a lighteval LightevalModel)"
        },
    )
    max_samples: int | None = field(
        default=None,
        metadata={
            "help": "evaluate N problems of each benchmark (lighteval's fixed shuffle, seed 42): a partial "
            "score, for smoke tests"
        },
    )
    max_new_tokens: int | None = field(default=None, metadata={"help": "new tokens per answer (default: the preset's)"})
    num_samples: int | None = field(
        default=None, metadata={"help": "samples per problem for the sampled benchmarks (default: the preset's)"}
    )
    repetition_penalty: float | None = field(
        default=None, metadata={"help": "repetition penalty (default 1.0; the paper's reference code uses 1.05)"}
    )
    seed: int = field(default=1234, metadata={"help": "seed of the sampling"})
    python: str | None = field(
        default=None, metadata={"help": "interpreter of the environment that runs lighteval (default: this one)"}
    )
    revision: str | None = field(default=None, metadata={"help": "model revision on the Hub (branch, tag or commit)"})
    dtype: str | None = field(default=None, metadata={"help": "weights dtype (default: auto; bfloat16 with vLLM)"})
    batch_size: int | None = field(
        default=None,
        metadata={
            "help": "transformers batch size (default: on a GPU the largest that fits, found by lighteval; 1 on a CPU)"
        },
    )
    data_parallel_size: int = field(default=1, metadata={"help": "vLLM data parallelism (GPUs, one replica each)"})
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM tensor parallelism (GPUs per replica)"})
    label: str | None = field(default=None, metadata={"help": "name of this run in tables (default: the model's)"})
    trained_tokens: int | None = field(
        default=None,
        metadata={
            "help": "tokens processed by the trainer that fine-tuned the model, shown by `s2r compare` (default: "
            "trainer_state.json's num_input_tokens_seen when the model folder has it)"
        },
    )
    data_tokens: int | None = field(
        default=None,
        metadata={
            "help": "tokens in the model's training data, one epoch, shown by `s2r compare` (default: the model "
            "folder's s2r_training.json, when `s2r train` wrote it)"
        },
    )

    def __post_init__(self) -> None:
        check_field_types(self)
        self.task_list = require_benchmark_names(self.tasks)
        get_preset(self.preset)
        check_choice("backend", self.backend, BACKENDS)
        if self.dtype is not None:
            check_choice("dtype", self.dtype, DTYPES)
        for name in ("max_samples", "max_new_tokens", "num_samples", "batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag} must be a positive integer, got {value}")
            bound = UPPER_BOUNDS.get(name)
            if value is not None and bound is not None and value > bound:
                flag = "--" + name.replace("_", "-")
                raise InputError(f"{flag} {value} is beyond any sensible run; give at most {bound:,}")
        for name in ("data_parallel_size", "tensor_parallel_size"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if self.backend != "vllm" and (self.data_parallel_size > 1 or self.tensor_parallel_size > 1):
            raise InputError(
                "data and tensor parallelism are passed to vLLM: use --backend vllm (the transformers backend uses "
                "one device per process)"
            )
        if self.repetition_penalty is not None and self.repetition_penalty <= 0:
            raise InputError(f"--repetition-penalty must be > 0, got {self.repetition_penalty}")
        if not 0 <= self.seed <= MAX_SEED:
            raise InputError(f"--seed must be an integer from 0 to {MAX_SEED}, got {self.seed}")
        for name in (TRAINED_TOKENS, DATA_TOKENS):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise InputError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")

    def settings(self) -> dict[str, TaskSettings]:
        preset = get_preset(self.preset)
        return {
            name: preset.settings_for(
                name,
                max_new_tokens=self.max_new_tokens,
                num_samples=self.num_samples,
                repetition_penalty=self.repetition_penalty,
            )
            for name in self.task_list
        }


@dataclass(frozen=True)
class EvaluationResult:
    """What a run wrote: the output folder, the tidy results (as in results.json) and the Markdown table."""

    output_dir: Path
    data: dict
    markdown: str

    @property
    def results(self) -> dict[str, dict[str, float]]:
        return self.data["results"]


def evaluate_model(
    model: str | os.PathLike,
    output_dir: str | os.PathLike | None = None,
    *,
    data: Mapping[str, str] | Sequence[str] | None = None,
    overwrite: bool = False,
    command: str | None = None,
    config: EvaluationConfig | None = None,
    **options: Any,
) -> EvaluationResult:
    """Evaluate `model` (a local folder or a Hub id; a .py file with backend="custom") and write the results folder.

    `options` are EvaluationConfig's fields (tasks="math500,aime24", preset="paper", max_samples=..., python=...);
    `data` maps benchmarks to local files or folders ({"aime24": "aime24.jsonl"} or ["aime24=aime24.jsonl"]).
    """
    if config is not None and options:
        raise InputError("pass either config= or option keywords, not both")
    config = config or EvaluationConfig(**options)
    model_ref = _check_model(model, config.backend, config.revision)
    _check_context(model_ref, config.max_new_tokens)
    overrides = parse_data_overrides(data if not isinstance(data, Mapping) else dict(data))
    unused = sorted(set(overrides) - set(config.task_list))
    if unused:
        raise InputError(f"--data names {unused[0]!r}, which is not among --tasks ({', '.join(config.task_list)})")
    inputs = [model_ref, *overrides.values()]
    output = output_dir or f"eval-{_model_name(model_ref)}"
    target = check_writable(output, overwrite, inputs=inputs, kind=EVALUATION_KIND)
    _make_parent(target)
    # Held from before any staging folder is removed or made to the end: a second run into the same folder is
    # refused at once instead of removing this run's staging folder as "stale".
    with locked_output(target, "s2r evaluate"):
        check_writable(output, overwrite, inputs=inputs, kind=EVALUATION_KIND)  # a run that ended while we waited
        python = config.python or sys.executable
        lighteval_version = probe_interpreter(python, config.backend)
        tidy, markdown = _evaluate_into(
            target, model_ref, config, overrides, python, lighteval_version, command, overwrite
        )
    logger.info("results written to %s", target)
    return EvaluationResult(target, tidy, markdown)


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(_disk_error_message(target, err)) from err


def _evaluate_into(
    target: Path,
    model_ref: str,
    config: EvaluationConfig,
    overrides: dict[str, str],
    python: str,
    lighteval_version: str,
    command: str | None,
    overwrite: bool,
) -> tuple[dict, str]:
    """The run proper, in a staging folder beside `target` moved into place when whole (the caller holds the lock)."""
    # A full or read-only disk under the staging folder: one line naming the output (staged_folder), not a traceback.
    with staged_folder(target, overwrite) as staging:
        settings = config.settings()
        sources = _write_benchmarks(staging, settings, overrides)
        identity = model_identity(model_ref, config)
        plan = {
            "model": {
                "backend": config.backend,
                "name_or_path": str(Path(model_ref).resolve()) if Path(model_ref).exists() else model_ref,
                "name": _model_name(model_ref),
                "revision": config.revision,
                "dtype": config.dtype,
                "batch_size": config.batch_size,
                "data_parallel_size": config.data_parallel_size,
                "tensor_parallel_size": config.tensor_parallel_size,
            },
            "seed": config.seed,
            "max_samples": config.max_samples,
            "output_dir": str(staging),
            "tasks": {
                name: {"settings": asdict(task_settings), "data_dir": str(staging / BENCHMARKS_DIR / name)}
                for name, task_settings in settings.items()
            },
        }
        plan_path = staging / LIGHTEVAL_DIR / "plan.json"
        plan_path.parent.mkdir(parents=True, exist_ok=True)
        plan_path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
        _run_worker(python, plan_path)
        from s2r_hf.evaluation.worker import SUMMARY_FILE  # the lighteval process's module: not loaded with this one

        summary = json.loads((staging / SUMMARY_FILE).read_text(encoding="utf-8"))
        (staging / SUMMARY_FILE).replace(staging / LIGHTEVAL_DIR / SUMMARY_FILE)
        _collect_details(staging)
        _keep_evaluated_problems(staging, summary, sources)
        tidy = tidy_results(
            summary,
            settings,
            config=config,
            identity=identity,
            sources=sources,
            lighteval_version=summary.get("lighteval_version") or lighteval_version,
            command=command,
        )
        markdown = write_results(staging, tidy)
    return tidy, markdown


# -- checks -------------------------------------------------------------------------------------------------------


def _check_model(model: str | os.PathLike, backend: str, revision: str | None = None) -> str:
    """The model reference as a string; a local folder must hold a config, a tokenizer and a chat template, and a Hub
    model must be reachable (or cached), so that a wrong id fails here in one line, not in lighteval's process."""
    if not isinstance(model, (str, os.PathLike)) or not str(model).strip():
        raise InputError(f"the model is a local folder or a Hub id, got {model!r}")
    ref = str(model)
    path = Path(ref).expanduser()
    if backend == "custom":
        if not path.is_file() or path.suffix != ".py":
            raise InputError(
                f"with --backend custom, MODEL is a Python file defining a lighteval LightevalModel subclass; "
                f"{ref!r} is not a .py file"
            )
        return str(path)
    if not path.exists():
        # A path that does not exist is refused (s2r_hf.core.models' rule); a Hub id costs one metadata request, and
        # lighteval downloads the model later.
        check_model_reachable(ref, revision, role="model")
        return ref
    if not path.is_dir():
        raise ModelError(f"model {ref!r} is a file; give the folder holding config.json, the weights and tokenizer")
    missing = []
    if not (path / "config.json").is_file():
        missing.append("config.json")
    if not any((path / name).is_file() for name in TOKENIZER_FILES):
        missing.append("tokenizer (tokenizer.json or tokenizer_config.json)")
    if not weight_files(path):
        missing.append("weights (*.safetensors, pytorch_model*.bin)")
    if missing:
        raise ModelError(
            f"model folder {ref!r} has no {' and no '.join(missing)}; save the model and its tokenizer "
            "there (model.save_pretrained(dir); tokenizer.save_pretrained(dir))"
        )
    _read_model_config(path / "config.json")
    if not has_chat_template(path):
        raise ModelError(
            f"model folder {ref!r} has no chat template (tokenizer_config.json's chat_template, or "
            "chat_template.jinja): the benchmarks are asked through the model's chat template; save the tokenizer of "
            "the chat model it was fine-tuned from into the folder"
        )
    return str(path)


def _check_context(model: str, max_new_tokens: int | None) -> None:
    """An explicit --max-new-tokens must fit the local model's context (its config.json says how long)."""
    config_path = Path(model) / "config.json"
    if max_new_tokens is None or not config_path.is_file():
        return
    config = _read_model_config(config_path)
    for name in CONTEXT_FIELDS:
        limit = config.get(name)
        if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
            if max_new_tokens > limit:
                raise InputError(
                    f"--max-new-tokens {max_new_tokens} is beyond the model's context ({name} = {limit} in "
                    f"{str(config_path)!r}); give at most {limit}"
                )
            return


def _read_model_config(config_path: Path) -> dict:
    """A model folder's config.json, refused in one line when it is not a JSON object (lighteval would fail on it
    only after starting)."""
    try:
        return read_json_object(config_path, what="a model's config", fix="save the model again")
    except InputError as err:  # the model named by the user cannot serve
        raise ModelError(str(err)) from None


def probe_interpreter(python: str, backend: str) -> str:
    """lighteval's version in `python`'s environment; one clear error when it (or vLLM) is missing there."""
    probe = (
        "import importlib.util, json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        # lighteval must import there, not only have its metadata installed (a half-removed install has that).
        "found = importlib.util.find_spec('lighteval') is not None\n"
        "vllm = importlib.util.find_spec('vllm') is not None\n"
        "print(json.dumps({'lighteval': found and v('lighteval'), 'vllm': vllm}))\n"
    )
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"--python {python!r} cannot be run ({err}); give the path of a Python interpreter") from err
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [""])[-1].strip()
        raise InputError(
            f"--python {python!r} exited with status {done.returncode} when asked to run a short Python probe"
            f"{f' ({said[-200:]})' if said else ', printing nothing'}: it is not a working Python interpreter; give "
            "the path of the Python of an environment with lighteval (e.g. /path/to/env/bin/python)"
        )
    try:
        found = json.loads((done.stdout.strip().splitlines() or [""])[-1])
        found = {"lighteval": found["lighteval"], "vllm": found["vllm"]}
    except (ValueError, KeyError, TypeError):
        raise InputError(
            f"--python {python!r} did not run our probe as a Python interpreter would (it printed "
            f"{done.stdout.strip()[-80:]!r}); give the path of a Python interpreter"
        ) from None
    if not found["lighteval"]:
        raise MissingDependencyError(
            f"{missing_package_message('lighteval')} (in the environment of {python}), or point --python at an "
            "environment that has lighteval"
        )
    if backend == "vllm" and not found["vllm"]:
        raise MissingDependencyError(
            f"the vLLM backend needs vllm, which {python} cannot import; create an environment with "
            "pip install 'lighteval[vllm,math]' s2r-hf (vLLM pins its own torch, so not TRL's environment) and pass "
            "its interpreter: --python /path/to/that/env/bin/python"
        )
    return found["lighteval"]


# -- the run ------------------------------------------------------------------------------------------------------


def _write_benchmarks(staging: Path, settings: dict[str, TaskSettings], overrides: dict[str, str]) -> dict:
    """Each benchmark, normalised by load_benchmark, as benchmarks/<name>/test.parquet; its source and digest."""
    sources = {}
    for name in settings:
        dataset = load_benchmark(name, overrides.get(name))
        folder = staging / BENCHMARKS_DIR / name
        folder.mkdir(parents=True)
        dataset.to_parquet(str(folder / "test.parquet"))
        spec = BENCHMARKS[name]
        sources[name] = {
            "source": str(Path(overrides[name]).resolve()) if name in overrides else spec.hub_repo,
            "rows": len(dataset),
            "sha256": _digest_rows(dataset),
        }
    return sources


def _keep_evaluated_problems(staging: Path, summary: dict, sources: dict) -> None:
    """benchmarks/<name>/test.parquet holds the problems evaluated: with --max-samples, the rows lighteval drew (the
    worker's `rows`), in the benchmark's order. lighteval read the whole benchmark to draw them; `sources` keeps the
    whole benchmark's size and digest."""
    import pyarrow.parquet as pq

    for name, source in sources.items():
        rows = summary["stats"].get(name, {}).get("rows")
        if rows is None or len(rows) == source["rows"]:
            continue
        path = staging / BENCHMARKS_DIR / name / "test.parquet"
        table = pq.read_table(path)
        pq.write_table(table.take(sorted(rows)), path)


def _digest_rows(dataset) -> str:
    digest = hashlib.sha256()
    for row in dataset:
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _run_worker(python: str, plan_path: Path) -> None:
    env = dict(os.environ)
    # The worker imports s2r_hf from this installation, whichever environment runs it (lighteval's may lack s2r-hf).
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    command = [python, "-m", "s2r_hf.evaluation.worker", str(plan_path)]
    logger.info("running lighteval: %s", " ".join(command))
    # It inherits the terminal (lighteval's progress shows) and dies with this process: a killed run leaves no
    # lighteval writing into a staging folder that the next run removes.
    done = run_tied(command, env=env, check=False)
    if done.returncode != 0:
        raise EvaluationError(
            f"the lighteval process exited with status {done.returncode}; its output above says why (nothing was "
            "written)"
        )


def _collect_details(staging: Path) -> None:
    """lighteval's per-sample details (details/<model>/<date>/details_s2r_<name>|0_<date>.parquet) are moved to
    details/<name>.parquet (moved, not copied: with 16 long samples per problem they are large), and its raw results
    (results/<model>/results_<date>.json) to lighteval/.

    lighteval names those folders after the model, and a local model by its absolute path: the output would hold
    empty folders mirroring the user's tree (lighteval/details/home/me/models/qwen/...). They are removed: only
    empty folders, and only inside this run's staging folder, which lighteval wrote and nothing of the user's is in.
    """
    out = staging / DETAILS_DIR
    out.mkdir()
    lighteval_dir = staging / LIGHTEVAL_DIR
    for path in sorted(lighteval_dir.rglob("details_*.parquet")):
        name = benchmark_of_details(path.name)
        if name is not None:
            path.replace(out / f"{name}.parquet")
    for path in sorted((lighteval_dir / "results").rglob("results_*.json")):
        if not (lighteval_dir / path.name).exists():
            path.replace(lighteval_dir / path.name)
    _remove_empty_folders(lighteval_dir)


def _remove_empty_folders(root: Path) -> None:
    """Remove the empty folders under `root`, deepest first (a folder emptied by its children's removal goes too);
    a folder holding anything is kept, and os.rmdir would refuse it anyway."""
    for folder, _, _ in os.walk(root, topdown=False):
        path = Path(folder)
        if path != root and not any(path.iterdir()):
            path.rmdir()


def model_identity(model: str, config: EvaluationConfig) -> dict:
    """What makes scores reproducible: the weights' sha256 for a local folder, the resolved commit for a Hub id."""
    path = Path(model)
    identity: dict[str, Any] = {"name": _model_name(model), "backend": config.backend}
    if path.is_file():  # a custom model definition
        identity.update(path=str(path.resolve()), code_sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        return identity
    if path.is_dir():
        identity.update(path=str(path.resolve()), weights_sha256=weights_digest(path), revision=None)
        identity[TRAINED_TOKENS] = config.trained_tokens if config.trained_tokens is not None else _tokens_seen(path)
        identity[DATA_TOKENS] = config.data_tokens if config.data_tokens is not None else _data_tokens(path)
        return identity
    identity.update(hub_id=model, revision=config.revision or "main", commit=_hub_commit(model, config.revision))
    identity[TRAINED_TOKENS] = config.trained_tokens
    identity[DATA_TOKENS] = config.data_tokens
    return identity


def _data_tokens(folder: Path) -> int | None:
    """The tokens in the training data that `s2r train` recorded in the model folder (s2r_training.json), if any."""
    path = folder / TRAINING_RECORD
    if not path.is_file():
        return None
    try:
        record = read_json_object(path, what="a training record", fix="tokens in the training data unknown")
    except InputError as err:
        logger.warning("%s", err)
        return None
    value = token_counts(record)[DATA_TOKENS]
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _tokens_seen(folder: Path) -> int | None:
    state = folder / "trainer_state.json"
    if not state.is_file():
        return None
    try:
        value = read_json_object(state, what="a trainer state", fix="tokens processed by the trainer unknown").get(
            "num_input_tokens_seen"
        )
    except InputError as err:
        logger.warning("%s", err)
        return None
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def _hub_commit(model: str, revision: str | None) -> str | None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    try:
        return HfApi().model_info(model, revision=revision).sha
    except (HfHubHTTPError, OSError, *transport_errors()) as err:
        logger.warning("could not resolve the commit of %s on the Hub (%s); recording the revision name", model, err)
        return None


def _model_name(model: str) -> str:
    path = Path(model)
    if path.exists():
        return path.resolve().stem if path.is_file() else path.resolve().name
    return model.replace("/", "__")


# -- the results --------------------------------------------------------------------------------------------------


def tidy_results(
    summary: dict,
    settings: dict[str, TaskSettings],
    *,
    config: EvaluationConfig,
    identity: dict,
    sources: dict,
    lighteval_version: str,
    command: str | None,
) -> dict:
    results: dict[str, dict[str, float]] = {}
    table = []
    tasks = {}
    for name, task_settings in settings.items():
        raw = summary["results"].get(name, {})
        stats = summary["stats"].get(name, {})
        results[name] = {}
        for metric in task_settings.metrics():
            if metric not in raw:
                raise EvaluationError(f"lighteval reported no {metric} for {name}; got {sorted(raw)}")
            value = float(raw[metric])
            stderr = raw.get(f"{metric}_stderr")
            results[name][metric] = value
            table.append(
                {
                    "task": name,
                    "metric": metric,
                    "value": value,
                    "stderr": float(stderr) if stderr is not None else None,
                    "problems": stats.get("problems"),
                    "samples": task_settings.num_samples,
                    "settings": task_settings.describe(),
                }
            )
        tasks[name] = {
            "settings": asdict(task_settings),
            "problems": stats.get("problems"),
            "generations": stats.get("samples"),
            "mean_generated_tokens": stats.get("mean_generated_tokens"),
            "mean_rethinks": stats.get("mean_rethinks"),
            "data": sources[name],
        }
    tidy = {
        "format": RESULTS_FORMAT,
        "label": config.label or identity["name"],
        "model": identity,
        "protocol": {
            "preset": config.preset,
            "system_prompt": SYSTEM_PROMPT,
            "seed": config.seed,
            "max_samples": config.max_samples,
            "partial": False,  # set below: whether some benchmark was evaluated on part of its problems
            "backend": config.backend,
            "lighteval_version": lighteval_version,
            "s2r_version": __version__,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": redact_command(command),  # the one rule for secrets: --token's value never reaches a file
        },
        "tasks": tasks,
        "results": results,
        "table": table,
    }
    # A --max-samples beyond a benchmark's size evaluates all of it: partial only when some problem was left out.
    tidy["protocol"]["partial"] = is_partial(tidy)
    return tidy
