"""Before any step runs: every input of the steps about to run, checked in one pass, every problem listed at once.

An experiment reads its inputs over hours, each when its step starts; an input found missing by the step that reads it
costs every step before it (offline, the pool was scored and an arm trained before the base model was found not
cached, and again before the benchmark was). So `s2r experiment run` checks them all first, each by the rule of the
command that will read it, and stops with one line per problem (exit code 2) before anything is written:

- pool (scored from `pool.source`): the source (a file, a folder, or a Hub dataset reachable or cached:
  s2r_hf.pool.sources.check_source), the tokenizer (loaded as `s2r score` loads it), the judge (a chat model that
  exists: s2r_hf.core.models.check_model_reachable), each decontamination benchmark;
- train: the training options as `s2r train` parses them (recipe, overrides), the launcher, and the base model (a
  folder holding a chat model, or a Hub model reachable or cached);
- evaluate: lighteval in the interpreter that runs it, and each benchmark (its `evaluate.data` file or folder, or its
  Hub dataset reachable or cached: s2r_hf.pool.benchmarks.check_benchmark).

Only the steps that will run are checked: a step already done reads nothing (a finished experiment reports offline).
Cheap: nothing is downloaded but metadata, no weights are loaded (a tokenizer is).
"""

from __future__ import annotations

import copy
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

from s2r_hf.core.errors import HubUnreachableError, InputError, InputProblemsError, S2RError, SourceNotFoundError
from s2r_hf.core.models import check_model_reachable
from s2r_hf.experiment.config import ExperimentConfig
from s2r_hf.experiment.launch import train_arguments, train_command
from s2r_hf.experiment.steps import Step
from s2r_hf.pool.benchmarks import check_benchmark, parse_data_overrides

DATA_KEY = "evaluate.data"


def check_step_inputs(config: ExperimentConfig, steps: Sequence[Step], known: Sequence[S2RError] = ()) -> None:
    """Check the inputs of `steps` (the steps about to run), with the problems already `known`; raise them all: the
    one problem's own error, or an InputProblemsError listing each (the CLI prints a line for each)."""
    problems = [*known, *step_input_problems(config, steps)]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputProblemsError([str(problem) for problem in problems])


def step_input_problems(config: ExperimentConfig, steps: Sequence[Step]) -> list[S2RError]:
    """The problems of the inputs `steps` read, in the order the steps run (pool, train, evaluate)."""
    names = {step.name for step in steps}
    problems: list[S2RError] = []
    if "pool" in names and config.pool.source is not None:
        problems += pool_problems(config)
    if "train" in names:
        problems += train_problems(config)
    if "evaluate" in names:
        problems += evaluation_problems(config)
    return problems


def split_evaluation_data(config: ExperimentConfig) -> tuple[ExperimentConfig, list[S2RError]]:
    """The config with only the `evaluate.data` entries that exist, and a problem for each of the others.

    The evaluate steps' fingerprints digest these files, so without them no step's status can be known; the steps are
    planned without them (an evaluate step then runs, and its other inputs are checked too), and the missing files are
    listed with every other problem.
    """
    present, missing = _evaluation_data_entries(config)
    if not missing:
        return config, []
    planned = copy.copy(config)
    planned.evaluate = {**config.evaluate, "data": present}
    return planned, list(missing.values())


def _evaluation_data_entries(config: ExperimentConfig) -> tuple[dict[str, str], dict[str, S2RError]]:
    """evaluate.data split into {benchmark: path} that exist, and {benchmark: problem} for the others."""
    data = config.evaluate.get("data")
    present: dict[str, str] = {}
    missing: dict[str, S2RError] = {}
    for name, path in (data or {}).items() if isinstance(data, dict) else ():
        try:
            parse_data_overrides([f"{name}={path}"], DATA_KEY)  # the one rule: a known benchmark, a path that exists
        except S2RError as err:
            missing[name] = err
        else:
            present[name] = path
    return present, missing


# -- each step's inputs -----------------------------------------------------------------------------------------------


def pool_problems(config: ExperimentConfig) -> list[S2RError]:
    """pool.source and what `s2r score` reads beside it: the tokenizer, the judge, the decontamination benchmarks."""
    from s2r_hf.pipeline.hygiene import benchmark_data_items
    from s2r_hf.signals.difficulty import make_difficulty_scorer
    from s2r_hf.signals.length import load_tokenizer

    score = config.pool.score_config()
    problems: list[S2RError] = []
    _collect(problems, "pool.source", check_source_of, score)
    if score.tokenizer:
        _collect(problems, "pool.score.tokenizer", load_tokenizer, score.tokenizer, score.tokenizer_revision)
    try:
        scorer = make_difficulty_scorer(score.difficulty, **score.scorer_options())
    except S2RError as err:
        problems.append(_named(err, "pool.score.difficulty"))
    else:
        if hasattr(scorer, "check_reachable"):  # a model-backed scorer (the judge): it exists, it is a chat model
            _collect(problems, "pool.score.difficulty", scorer.check_reachable)
    if score.decontaminate:
        from s2r_hf.hygiene.decontaminate import benchmark_names

        # Files given in benchmark_data were found when the config was read (here they are read: a file without a
        # problem field fails now); a benchmark without one is read from the Hub.
        given = parse_data_overrides(benchmark_data_items(score.benchmark_data), "pool.score.benchmark_data")
        for name in benchmark_names(score.decontaminate):
            where = "pool.score.benchmark_data" if name in given else "pool.score.decontaminate"
            _collect(problems, f"{where} {name}", check_benchmark, name, given.get(name))
    return problems


def check_source_of(score) -> None:
    from s2r_hf.pool.sources import check_source

    check_source(score.source, score.config, score.split, score.revision)


def train_problems(config: ExperimentConfig) -> list[S2RError]:
    """The launcher, the training options as `s2r train` parses them, and the base model they name."""
    problems: list[S2RError] = []
    _collect(problems, None, check_launcher, config)
    overrides = config.train.overrides
    model, revision = config.train.model, overrides.get("model_revision")
    own_template = bool(overrides.get("chat_template_path"))
    try:
        _, training_args, model_args = parse_train_options(config)
    except S2RError as err:
        problems.append(err)
    else:
        model, revision = model_args.model_name_or_path, model_args.model_revision
        own_template = bool(getattr(training_args, "chat_template_path", None))
        if not model:
            problems.append(
                InputError(
                    f"train.model is not set and the recipe {config.train.recipe!r} names no model_name_or_path; set "
                    "train.model"
                )
            )
    if model:
        role = "train.model" if config.train.model else f"base model (recipe {config.train.recipe!r})"
        # A chat template given to the trainer (--chat_template_path) stands in for the model's own.
        _collect(problems, None, check_model_reachable, str(model), revision, role=role, chat_template=not own_template)
    return problems


def check_launcher(config: ExperimentConfig) -> None:
    launcher = train_command(config, data="pool", output_dir="check")[0]
    if shutil.which(launcher) is None:
        raise InputError(
            f"train.launcher {config.train.launcher!r} starts {launcher!r}, which is not an installed program; install "
            "it, or use {python} (with e.g. `{python} -m torch.distributed.run --nproc_per_node 8`)"
        )


def parse_train_options(config: ExperimentConfig):
    """(ScriptArguments, S2RSFTConfig, ModelConfig) as `s2r train` will parse them for an arm: its config refuses the
    values training would fail on or train nothing with (NaN, no epochs, a zero batch...). Seconds: TRL loads."""
    from s2r_hf.training.sft import parse_train_args

    argv = train_arguments(config, data="pool", output_dir=str(config.output_dir / "check"))
    try:
        return parse_train_args(argv)
    except S2RError as err:
        raise type(err)(f"train: {err}") from None


def evaluation_problems(config: ExperimentConfig) -> list[S2RError]:
    """lighteval in the evaluation interpreter, and every benchmark (its file, or its Hub dataset)."""
    problems: list[S2RError] = []
    _collect(problems, None, check_evaluation_environment, config)
    data, missing = _evaluation_data_entries(config)  # the missing ones: found by split_evaluation_data, first
    for task in config.evaluation_config().task_list:
        if task in missing:
            continue
        if task in data:
            _collect(problems, f"{DATA_KEY}.{task}", check_benchmark, task, data[task])
            continue
        try:
            check_benchmark(task)
        except (HubUnreachableError, SourceNotFoundError) as err:
            # The Hub copy cannot be had: a local one is the way out, given as the experiment takes it.
            problems.append(type(err)(f"evaluate.tasks {task}: {err} (here: --set {DATA_KEY}.{task}=FILE_OR_FOLDER)"))
        except S2RError as err:
            problems.append(_named(err, f"evaluate.tasks {task}"))
    return problems


def check_evaluation_environment(config: ExperimentConfig) -> None:
    """lighteval (and vLLM for that backend) must import in the interpreter the evaluate steps will run it with."""
    from s2r_hf.evaluation.runner import probe_interpreter

    evaluation = config.evaluation_config()
    probe_interpreter(evaluation.python or sys.executable, evaluation.backend)


def _collect(problems: list[S2RError], where: str | None, check: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run one check; its problem (an S2RError), named by `where` (the experiment file's key), joins `problems`."""
    try:
        check(*args, **kwargs)
    except S2RError as err:
        problems.append(err if where is None else _named(err, where))


def _named(err: S2RError, where: str) -> S2RError:
    """The same error, its message starting with the key of the experiment file it is about."""
    try:
        named = type(err)(f"{where}: {err}")
    except TypeError:  # an error class with its own arguments: keep it as it is
        return err
    named.__cause__ = err.__cause__
    return named
