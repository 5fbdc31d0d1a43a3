"""The lighteval process of one evaluation run: `python -m s2r_hf.evaluation.worker PLAN.json`.

s2r_hf.evaluation.runner writes the plan (model, backend, benchmarks with their settings and data folders, seed,
output folder) and starts this module with the interpreter the user chose, so lighteval (and vLLM) may live in another
environment than s2r-hf's training stack. Importing lighteval turns autograd off for the whole process; here that
harms nothing.

Benchmarks with equal generation settings share one lighteval Pipeline (a lighteval model holds one set of generation
parameters): the paper's protocol gives two, the sampled benchmarks and the greedy ones. For each:

- lighteval's sample cache is disabled before the model is built: it is keyed on the model config, not the weights, so
  retrained weights at the same path would be served the old generations, and for a local model it creates its folder
  inside the model folder. `_NoSampleCache` stands in while the model and the pipeline are built (a custom model
  class needs none of its own); `model._cache = None` then turns the cache off for generation (lighteval's `cached`
  decorator skips a None cache).
- sampling is switched on explicitly (`do_sample`): lighteval's transformers backend passes temperature and top_p to
  `generate` but not `do_sample`, so a model whose generation_config.json lacks `do_sample: true` would decode
  greedily N identical samples.

The worker writes lighteval's results and details under `<output>/lighteval/` and a summary, `worker.json`: the raw
metric values and stderrs per benchmark, and per benchmark the number of problems and samples, the mean generated
tokens, the mean count of rethinking markers and which rows of the benchmark were evaluated.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import sys
import types
from pathlib import Path
from typing import Any

logger = logging.getLogger("s2r_hf.evaluation.worker")

SUMMARY_FILE = "worker.json"
# The transformers backend's batch size on a CPU when none is given. lighteval's own default (no batch size) detects
# the largest batch by trying 512 sequences of the full generation length (16,384 tokens in the paper preset) and
# halving on a CUDA out-of-memory error, which a CPU never raises: a 2-problem smoke run sat there for 13 minutes,
# growing to 10 GB. One sequence at a time is also the quickest on a CPU (measured on the tests' 2-layer model, two
# MATH500 problems of about 4,000 generated tokens: 17 s at batch size 1, 49 s at 2).
CPU_BATCH_SIZE = 1
# Seconds one nltk download may wait on the network (online runs; offline ones never download).
NLTK_TIMEOUT_SECONDS = 20


class _NoSampleCache:
    """Stands in for lighteval's SampleCache while a model is built: it records nothing and creates no folder."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def _init_registry(self, registry: Any) -> None:
        pass


def _skip_tiny_benchmarks() -> None:
    """lighteval 0.13 imports every built-in task module to build its registry, and tiny_benchmarks downloads a pickle
    from GitHub at import unless the file sits in the installed package: offline, every run would fail. We never use
    those tasks, so an empty stand-in module is registered instead (the installed package is left untouched)."""
    import importlib.util

    spec = importlib.util.find_spec("lighteval.tasks.tasks.tiny_benchmarks")
    if spec is None or spec.origin is None or (Path(spec.origin).parent / "tinyBenchmarks.pkl").is_file():
        return
    stand_in = types.ModuleType("lighteval.tasks.tasks.tiny_benchmarks")
    stand_in.TASKS_TABLE = []
    sys.modules[stand_in.__name__] = stand_in


def _keep_nltk_off_the_network() -> None:
    """lighteval 0.13 imports every built-in task module to build its registry, and ifeval's calls
    `nltk.download("punkt")` (and "punkt_tab") at import when that data is missing; nltk fetches with no timeout, so
    behind a proxy that never answers every run hung at "LOADING TASKS". Our math tasks never use nltk's data.

    Offline (HF_HUB_OFFLINE), nothing may reach the network: `nltk.download` becomes a stand-in that logs what it did
    not fetch and returns False (nltk's own answer for a failed download); a metric that truly needs the data then
    fails on nltk's LookupError, which names the resource and how to install it. Online, a download is bounded by
    NLTK_TIMEOUT_SECONDS and a failure is a warning, as nltk reports it, not a hang.
    """
    try:
        import nltk
        import nltk.downloader
    except ImportError:  # lighteval's math extra does not need it; nothing would download then
        return
    from huggingface_hub import constants

    original = nltk.download

    def offline_download(info_or_id: Any = None, *args: Any, **kwargs: Any) -> bool:
        logger.warning(
            "offline (HF_HUB_OFFLINE is set): not downloading the nltk data %r; no s2r task needs it (install it "
            "with `python -m nltk.downloader %s` where there is a network, if a metric of yours does)",
            info_or_id,
            info_or_id,
        )
        return False

    def bounded_download(*args: Any, **kwargs: Any) -> bool:
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(NLTK_TIMEOUT_SECONDS)  # nltk's urlopen calls pass no timeout of their own
        try:
            return original(*args, **kwargs)
        except OSError as err:  # URLError and socket timeouts are OSErrors
            logger.warning("could not download nltk data %r (%s); continuing without it", args[:1], err)
            return False
        finally:
            socket.setdefaulttimeout(previous)

    replacement = offline_download if constants.HF_HUB_OFFLINE else bounded_download
    nltk.download = replacement
    nltk.downloader.download = replacement


def _disable_sample_cache(backend: str) -> None:
    from lighteval.models.transformers import transformers_model

    transformers_model.SampleCache = _NoSampleCache
    if backend == "vllm":
        from lighteval.models.vllm import vllm_model

        vllm_model.SampleCache = _NoSampleCache


def _generation_parameters(settings: dict, seed: int):
    from lighteval.models.model_input import GenerationParameters

    return GenerationParameters(
        temperature=settings["temperature"],
        top_p=settings["top_p"],
        max_new_tokens=settings["max_new_tokens"],
        repetition_penalty=settings["repetition_penalty"],
        seed=seed,
    )


def transformers_options(model: dict, cuda: bool) -> dict[str, Any]:
    """The device options of lighteval's TransformersModelConfig for the plan's `model`: on a CPU, an explicit batch
    size always (the plan's, else CPU_BATCH_SIZE, logged), since lighteval's detection never ends there."""
    batch_size = model.get("batch_size")
    if batch_size is None and not cuda:
        batch_size = CPU_BATCH_SIZE
        logger.info(
            "no CUDA device: generating with batch size %d on the CPU (lighteval's batch-size detection never ends "
            "on a CPU); --batch-size N changes it",
            batch_size,
        )
    return {
        "device": "cuda" if cuda else "cpu",
        "batch_size": batch_size,  # None on a GPU: lighteval finds the largest batch that fits
        "model_parallel": None if cuda else False,
    }


def _model_config(model: dict, settings: dict, seed: int, system_prompt: str):
    generation = _generation_parameters(settings, seed)
    backend = model["backend"]
    if backend == "transformers":
        import torch
        from lighteval.models.transformers.transformers_model import TransformersModelConfig

        return TransformersModelConfig(
            model_name=model["name_or_path"],
            revision=model.get("revision") or "main",
            dtype=model.get("dtype") or "auto",
            **transformers_options(model, torch.cuda.is_available()),
            system_prompt=system_prompt,
            generation_parameters=generation,
        )
    if backend == "vllm":
        from lighteval.models.vllm.vllm_model import VLLMModelConfig

        return VLLMModelConfig(
            model_name=model["name_or_path"],
            revision=model.get("revision") or "main",
            dtype=model.get("dtype") or "bfloat16",
            data_parallel_size=model.get("data_parallel_size") or 1,
            tensor_parallel_size=model.get("tensor_parallel_size") or 1,
            max_model_length=model.get("max_model_length"),
            gpu_memory_utilization=model.get("gpu_memory_utilization") or 0.9,
            seed=seed,
            system_prompt=system_prompt,
            generation_parameters=generation,
        )
    from lighteval.models.custom.custom_model import CustomModelConfig

    return CustomModelConfig(
        model_name=model["name"],
        model_definition_file_path=model["name_or_path"],
        system_prompt=system_prompt,
        generation_parameters=generation,
    )


def _launcher(backend: str):
    from lighteval.pipeline import ParallelismManager

    return {
        "transformers": ParallelismManager.ACCELERATE,
        "vllm": ParallelismManager.VLLM,
        "custom": ParallelismManager.CUSTOM,
    }[backend]


def run_group(plan: dict, benchmarks: list[str], output: Path) -> tuple[dict, dict]:
    """Evaluate benchmarks that share generation settings in one Pipeline; (lighteval results, per-task stats)."""
    import torch
    from lighteval.logging.evaluation_tracker import EvaluationTracker
    from lighteval.models.model_loader import load_model
    from lighteval.pipeline import Pipeline, PipelineParameters
    from transformers import set_seed

    from s2r_hf.evaluation.presets import TaskSettings
    from s2r_hf.evaluation.prompt import SYSTEM_PROMPT, benchmark_of, task_name
    from s2r_hf.evaluation.tasks import tasks_module

    planned = plan["tasks"]
    tasks = {name: (TaskSettings(**planned[name]["settings"]), planned[name]["data_dir"]) for name in benchmarks}
    settings = plan["tasks"][benchmarks[0]]["settings"]
    seed = plan["seed"]
    set_seed(seed)
    model = load_model(config=_model_config(plan["model"], settings, seed, SYSTEM_PROMPT))
    model._cache = _NoSampleCache()  # the Pipeline registers its tasks with the model's cache; this one ignores them
    pipeline = Pipeline(
        tasks=",".join(f"{task_name(name)}|0" for name in benchmarks),
        pipeline_parameters=PipelineParameters(
            launcher_type=_launcher(plan["model"]["backend"]),
            custom_tasks_directory=tasks_module(tasks),
            max_samples=plan.get("max_samples"),
        ),
        evaluation_tracker=EvaluationTracker(output_dir=str(output / "lighteval"), save_details=True),
        model=model,
    )
    pipeline.model._cache = None  # never read nor write lighteval's sample cache (see the module docstring)
    config_dict = getattr(pipeline.model, "generation_config_dict", None)
    if isinstance(config_dict, dict) and settings["temperature"] > 0:
        config_dict["do_sample"] = True
    torch.manual_seed(seed)
    pipeline.evaluate()
    pipeline.save_and_push_results()
    results = pipeline.get_results()["results"]
    stats = {}
    for full_name, details in pipeline.get_details().items():
        stats[benchmark_of(full_name)] = _stats(details)
    raw = {benchmark_of(name): values for name, values in results.items() if name != "all"}
    return raw, stats


def _stats(details: list) -> dict:
    from s2r_hf.signals.length import count_rethinks

    texts, token_counts = [], []
    for detail in details:
        response = detail.model_response
        texts += list(response.text)
        token_counts += [len(tokens) for tokens in (response.output_tokens or [])]
    return {
        "problems": len(details),
        # Which rows of the benchmark's test.parquet were evaluated (lighteval numbers a task's rows from 0 in `id`):
        # with --max-samples, the runner keeps only these in the output's copy of the benchmark.
        "rows": sorted(int(detail.doc.id) for detail in details),
        "samples": len(texts),
        "mean_generated_tokens": (sum(token_counts) / len(token_counts)) if token_counts else None,
        "mean_rethinks": (sum(count_rethinks(text) for text in texts) / len(texts)) if texts else None,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m s2r_hf.evaluation.worker PLAN.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # One warning per answer that has no extractable final answer drowns the progress bars; the details keep them.
    logging.getLogger("lighteval.metrics.dynamic_metrics").setLevel(logging.ERROR)
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    output = Path(plan["output_dir"])
    import lighteval

    _skip_tiny_benchmarks()
    _keep_nltk_off_the_network()
    _disable_sample_cache(plan["model"]["backend"])
    groups: dict[str, list[str]] = {}
    for name, task in plan["tasks"].items():
        settings = task["settings"]
        key = json.dumps(
            [settings[field] for field in ("temperature", "top_p", "max_new_tokens", "repetition_penalty")]
        )
        groups.setdefault(key, []).append(name)
    results: dict = {}
    stats: dict = {}
    for benchmarks in groups.values():
        logger.info("evaluating %s", ", ".join(benchmarks))
        group_results, group_stats = run_group(plan, benchmarks, output)
        results.update(group_results)
        stats.update(group_stats)
    summary = {"lighteval_version": lighteval.__version__, "results": results, "stats": stats}
    (output / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    return 0


def main_on_a_full_disk() -> int:
    """`main`, with a disk that fills (or turns read-only) under the run said in one line, exit code 3."""
    try:
        return main()
    except OSError as err:
        if err.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
            raise
        print(f"lighteval process: could not write {err.filename or 'its output'}: {err.strerror}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    from s2r_hf.core.entry import run_entry

    # Ctrl-C reaches this process and `s2r evaluate` at once: s2r says it was interrupted, in one line, so this
    # process says nothing (a traceback from inside lighteval here would bury that line).
    sys.exit(run_entry(main_on_a_full_disk, prog="lighteval process", interrupted=None))
