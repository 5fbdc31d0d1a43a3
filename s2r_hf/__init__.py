"""s2r-hf: Select2Reason data selection for long chain-of-thought SFT, on the Hugging Face stack.

The public API is imported lazily so that `import s2r_hf` and `s2r --help` stay fast: datasets, torch and
transformers load only when a function that needs them is first used.
"""

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING

from s2r_hf._version import __version__

# public name -> module that defines it
_PUBLIC = {
    # the error family: every error s2r raises on purpose (S2RError and its subclasses), to catch by name
    "S2RError": "s2r_hf.core.errors",
    "InputError": "s2r_hf.core.errors",
    "InputProblemsError": "s2r_hf.core.errors",
    "ColumnError": "s2r_hf.core.errors",
    "ColumnTypeError": "s2r_hf.core.errors",
    "OutputError": "s2r_hf.core.errors",
    "OutputExistsError": "s2r_hf.core.errors",
    "SourceNotFoundError": "s2r_hf.core.errors",
    "HubUnreachableError": "s2r_hf.core.errors",
    "OptionTypeError": "s2r_hf.core.errors",
    "ModelError": "s2r_hf.core.errors",
    "ResourceError": "s2r_hf.core.errors",
    "RunInterrupted": "s2r_hf.core.errors",
    "MissingDependencyError": "s2r_hf.core.errors",
    "DuplicateConfigError": "s2r_hf.core.errors",
    "PublishError": "s2r_hf.core.errors",
    "EvaluationError": "s2r_hf.core.errors",
    "StepFailedError": "s2r_hf.core.errors",
    "RayJobError": "s2r_hf.core.errors",
    "RunInterruptedError": "s2r_hf.core.errors",
    "load_pool": "s2r_hf.pool.adapters",
    "OpenR1Adapter": "s2r_hf.pool.openr1",
    "GenericAdapter": "s2r_hf.pool.generic",
    "PoolReport": "s2r_hf.pool.adapter_base",
    "load_source": "s2r_hf.pool.sources",
    "add_trace_columns": "s2r_hf.signals.length",
    "add_difficulty": "s2r_hf.signals.difficulty",
    "DIFFICULTY_SCORERS": "s2r_hf.signals.difficulty",
    "score_pool": "s2r_hf.pipeline.score",
    "ScoreConfig": "s2r_hf.pipeline.score",
    "select": "s2r_hf.selection",
    "SelectConfig": "s2r_hf.selection",
    "STRATEGIES": "s2r_hf.selection",
    "write_dataset_folder": "s2r_hf.core.folders",
    "load_dataset_folder": "s2r_hf.core.folders",
    "publish_subset": "s2r_hf.hub.subsets",
    "publish_subsets": "s2r_hf.hub.subsets",
    "commit_files": "s2r_hf.hub.commit",
    "CommitResult": "s2r_hf.hub.commit",
    "RetryPolicy": "s2r_hf.hub.retry",
    "plot_distributions": "s2r_hf.outputs.plots",
    "JudgeDifficulty": "s2r_hf.signals.judge.scorer",
    "judge_difficulty_batch": "s2r_hf.signals.judge.scorer",
    "JudgeConfig": "s2r_hf.signals.judge.scorer",
    "SampledConfig": "s2r_hf.signals.sampled.config",
    "SampledDifficulty": "s2r_hf.signals.sampled.scorer",
    "sampled_difficulty_batch": "s2r_hf.signals.sampled.scorer",
    "Select2ReasonBuilder": "s2r_hf.pipeline.builder",
    "train_judge": "s2r_hf.signals.judge.training",
    "JudgeTrainingConfig": "s2r_hf.signals.judge.training_config",
    "grade_answer": "s2r_hf.evaluation.grading",
    "evaluate_model": "s2r_hf.evaluation.runner",
    "EvaluationConfig": "s2r_hf.evaluation.runner",
    "compare_results": "s2r_hf.evaluation.compare",
    "push_results": "s2r_hf.evaluation.publish",
    "describe_pool": "s2r_hf.outputs.pool_report",
    "write_report": "s2r_hf.outputs.inspect",
    "prepare_sft_dataset": "s2r_hf.training.sft_data",
    "SFTDataReport": "s2r_hf.training.sft_data",
    "S2RSFTConfig": "s2r_hf.training.configs",
    "CALLBACKS": "s2r_hf.training.callbacks",
    "SelectionReportCallback": "s2r_hf.training.callbacks",
    "PushToHubRevisionCallback": "s2r_hf.training.callbacks",
    "EvaluateCallback": "s2r_hf.training.callbacks",
    "decontaminate": "s2r_hf.hygiene.decontaminate",
    "DecontaminationReport": "s2r_hf.hygiene.decontaminate",
    "cluster_questions": "s2r_hf.hygiene.near_duplicates",
    "ExperimentConfig": "s2r_hf.experiment.config",
    "load_experiment": "s2r_hf.experiment.config",
    "run_experiment": "s2r_hf.experiment.runner",
    "build_report": "s2r_hf.experiment.report",
    "publish_experiment": "s2r_hf.experiment.publish",
    "drop_near_duplicates": "s2r_hf.selection",
    "publish_model": "s2r_hf.training.publish",
    "gather_collection": "s2r_hf.hub.collections",
    "verify_subset": "s2r_hf.outputs.verify",
    "VerificationReport": "s2r_hf.outputs.verify",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    # A subpackage or module named as an attribute (`s2r_hf.evaluation.metric.metric_path()` after a bare
    # `import s2r_hf`, as the README writes it) is imported when first named, as `import s2r_hf.evaluation` would.
    if name.isidentifier() and not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 's2r_hf' has no attribute {name!r}")


if TYPE_CHECKING:  # let type checkers and IDEs see the lazy names
    from s2r_hf.core.errors import (
        ColumnError,
        ColumnTypeError,
        DuplicateConfigError,
        EvaluationError,
        HubUnreachableError,
        InputError,
        InputProblemsError,
        MissingDependencyError,
        ModelError,
        OptionTypeError,
        OutputError,
        OutputExistsError,
        PublishError,
        RayJobError,
        ResourceError,
        RunInterrupted,
        RunInterruptedError,
        S2RError,
        SourceNotFoundError,
        StepFailedError,
    )
    from s2r_hf.core.folders import load_dataset_folder, write_dataset_folder
    from s2r_hf.evaluation.compare import compare_results
    from s2r_hf.evaluation.grading import grade_answer
    from s2r_hf.evaluation.publish import push_results
    from s2r_hf.evaluation.runner import EvaluationConfig, evaluate_model
    from s2r_hf.experiment.config import ExperimentConfig, load_experiment
    from s2r_hf.experiment.publish import publish_experiment
    from s2r_hf.experiment.report import build_report
    from s2r_hf.experiment.runner import run_experiment
    from s2r_hf.hub.collections import gather_collection
    from s2r_hf.hub.commit import CommitResult, commit_files
    from s2r_hf.hub.retry import RetryPolicy
    from s2r_hf.hub.subsets import publish_subset, publish_subsets
    from s2r_hf.hygiene.decontaminate import DecontaminationReport, decontaminate
    from s2r_hf.hygiene.near_duplicates import cluster_questions
    from s2r_hf.outputs.inspect import write_report
    from s2r_hf.outputs.plots import plot_distributions
    from s2r_hf.outputs.pool_report import describe_pool
    from s2r_hf.outputs.verify import VerificationReport, verify_subset
    from s2r_hf.pipeline.builder import Select2ReasonBuilder
    from s2r_hf.pipeline.score import ScoreConfig, score_pool
    from s2r_hf.pool.adapter_base import PoolReport
    from s2r_hf.pool.adapters import load_pool
    from s2r_hf.pool.generic import GenericAdapter
    from s2r_hf.pool.openr1 import OpenR1Adapter
    from s2r_hf.pool.sources import load_source
    from s2r_hf.selection import STRATEGIES, SelectConfig, drop_near_duplicates, select
    from s2r_hf.signals.difficulty import DIFFICULTY_SCORERS, add_difficulty
    from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty, judge_difficulty_batch
    from s2r_hf.signals.judge.training import train_judge
    from s2r_hf.signals.judge.training_config import JudgeTrainingConfig
    from s2r_hf.signals.length import add_trace_columns
    from s2r_hf.signals.sampled.config import SampledConfig
    from s2r_hf.signals.sampled.scorer import SampledDifficulty, sampled_difficulty_batch
    from s2r_hf.training.callbacks import (
        CALLBACKS,
        EvaluateCallback,
        PushToHubRevisionCallback,
        SelectionReportCallback,
    )
    from s2r_hf.training.configs import S2RSFTConfig
    from s2r_hf.training.publish import publish_model
    from s2r_hf.training.sft_data import SFTDataReport, prepare_sft_dataset
