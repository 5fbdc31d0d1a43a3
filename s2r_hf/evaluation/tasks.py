"""lighteval tasks for the six math benchmarks, under the paper's prompt: a module with `TASKS_TABLE`.

Each benchmark of s2r_hf.pool.benchmarks is a task named `s2r_<benchmark>` (`s2r_math500`, `s2r_aime24`, ...), so that
none clashes with lighteval's built-ins (`math_500`, `aime24`, ...). A task:

- asks the question as the user turn, under the system prompt "Please reason step by step, and put your final answer
  within \\boxed{}." (the model config carries it, so the tokenizer's chat template places it);
- grades the final answer with s2r-hf's one grader (s2r_hf.answers, through s2r_hf.evaluation.grading: the last
  `\\boxed{}` first, then structural, symbolic and numeric equivalence), as pass@1 averaged over the samples, plus
  maj@N (a majority vote over the samples' answers, equivalent answers voting together) where the protocol asks for
  it: the very function `s2r_hf.grade_answer` is, so a task's score and a user's own loop never differ;
- reads `id`, `problem` and `answer` rows. The runner writes them, normalised by `s2r_hf.pool.benchmarks.load_benchmark`
  from the Hub dataset or the user's local file, into a parquet folder and points the task at it. Run with this module
  as `--custom-tasks` directly, the tasks read the Hub datasets and normalise each row the same way.

This module imports lighteval: only lighteval processes (s2r_hf.evaluation.worker, or `lighteval --custom-tasks`)
import it.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np
from lighteval.metrics.metrics_sample import PassAtK, SamplingMetric
from lighteval.metrics.utils.metric_utils import SampleLevelComputation, SampleLevelMetric
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc, SamplingMethod

from s2r_hf.evaluation.grading import gold_choice, majority_correct, score_sample
from s2r_hf.evaluation.presets import PRESETS, TaskSettings
from s2r_hf.evaluation.prompt import SYSTEM_PROMPT, TASK_PREFIX, benchmark_of, task_name
from s2r_hf.pool.benchmarks import BENCHMARK_ANSWER, BENCHMARK_ID, BENCHMARK_PROBLEM, BENCHMARKS, normalise_benchmark

__all__ = ["SYSTEM_PROMPT", "TASKS_TABLE", "TASK_PREFIX", "build_task", "math_prompt", "task_name", "tasks_module"]

LOCAL_SPLIT = "test"  # the split of the normalised parquet folders the runner writes


def math_prompt(line: dict[str, Any], task_name: str | None = None) -> Doc:
    """A benchmark row -> lighteval Doc: the problem as the query, the boxed gold answer as the only choice."""
    if set(line) >= {BENCHMARK_ID, BENCHMARK_PROBLEM, BENCHMARK_ANSWER} and isinstance(line[BENCHMARK_ANSWER], str):
        row = line
    else:  # a raw Hub row: normalise it as load_benchmark does (answer fields differ from benchmark to benchmark)
        from datasets import Dataset

        row = normalise_benchmark(Dataset.from_list([line]), benchmark_of(task_name or "?"), "the Hub")[0]
    return Doc(
        task_name=task_name,
        query=row[BENCHMARK_PROBLEM],
        choices=[gold_choice(row[BENCHMARK_ANSWER])],
        gold_index=0,
        specific={"id": row[BENCHMARK_ID], "answer": row[BENCHMARK_ANSWER]},
    )


class MajorityVote(SamplingMetric, SampleLevelComputation):
    """maj@n: the most common answer among the n samples (equivalent answers vote together) against the gold.

    lighteval's own maj@n votes on whole completions as strings, which for long chains of thought all differ; this one
    votes on the extracted final answers, as the paper's maj@16 does.
    """

    def __init__(self, n: int):
        super().__init__(strip_strings=True)
        self.n = n

    def compute(self, doc: Doc, model_response, **kwargs) -> float:
        answers = [self.preprocess(text) for text in model_response.final_text[: self.n]]
        return float(majority_correct(answers, doc.specific["answer"]))

    def num_samples(self) -> int:
        return self.n


def metrics_for(settings: TaskSettings) -> list[SampleLevelMetric]:
    """pass@1 over `num_samples` samples (and maj@num_samples when asked), scored by the one grader."""
    n = settings.num_samples
    found = [
        SampleLevelMetric(
            metric_name="pass@1",
            sample_level_fn=PassAtK(k=1, n=n, strip_strings=True, sample_scoring_function=score_sample),
            category=SamplingMethod.GENERATIVE,
            corpus_level_fn=np.mean,
            higher_is_better=True,
        )
    ]
    if settings.majority and n > 1:
        found.append(
            SampleLevelMetric(
                metric_name=f"maj@{n}",
                sample_level_fn=MajorityVote(n),
                category=SamplingMethod.GENERATIVE,
                corpus_level_fn=np.mean,
                higher_is_better=True,
            )
        )
    return found


def build_task(benchmark: str, settings: TaskSettings, data_dir: str | None = None) -> LightevalTaskConfig:
    """The lighteval task of `benchmark`: its Hub dataset, or the normalised parquet folder `data_dir`."""
    spec = BENCHMARKS[benchmark]
    if data_dir is None:
        repo, subset, split = spec.hub_repo, spec.hub_config or "default", spec.split
    else:
        repo, subset, split = data_dir, "default", LOCAL_SPLIT
    return LightevalTaskConfig(
        name=task_name(benchmark),
        prompt_function=math_prompt,
        hf_repo=repo,
        hf_subset=subset,
        hf_avail_splits=[split],
        evaluation_splits=[split],
        few_shots_split=None,
        few_shots_select=None,
        # lighteval's transformers backend takes the generation length from the task, not from the model's
        # generation parameters: the task must carry the run's max_new_tokens.
        generation_size=settings.max_new_tokens,
        metrics=metrics_for(settings),
        stop_sequence=[],
        version=1,
    )


def tasks_module(tasks: dict[str, tuple[TaskSettings, str | None]], name: str = "s2r_tasks") -> types.ModuleType:
    """A module object holding `TASKS_TABLE` for {benchmark: (settings, data folder or None)}: lighteval's Registry
    takes a module as `custom_tasks`, so a run's tasks need no file of their own."""
    module = types.ModuleType(name, "Select2Reason math benchmarks (s2r-hf)")
    module.TASKS_TABLE = [build_task(benchmark, settings, data) for benchmark, (settings, data) in tasks.items()]
    return module


# `lighteval ... --custom-tasks s2r_hf/evaluation/tasks.py`: the paper's settings, reading the Hub datasets.
TASKS_TABLE = [build_task(benchmark, PRESETS["paper"].settings_for(benchmark)) for benchmark in BENCHMARKS]
