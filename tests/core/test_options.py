"""One definition per option: every config field is a CLI flag, a builder setting and an API keyword, and checked."""

import argparse
import dataclasses
import inspect
import math

import numpy as np
import pytest
from datasets import Dataset

from s2r_hf.cli import build_parser
from s2r_hf.commands import score as score_command
from s2r_hf.commands import select as select_command
from s2r_hf.commands import train_judge as train_judge_command
from s2r_hf.core.columns import DIFFICULTY, ID, TRACE_LENGTH
from s2r_hf.core.errors import InputError, OptionTypeError
from s2r_hf.core.options import build, flatten, options_of
from s2r_hf.pipeline.builder import Select2ReasonConfig, builder_options
from s2r_hf.pipeline.score import ScoreConfig
from s2r_hf.selection import SelectConfig, select
from s2r_hf.signals.difficulty import RolloutConfig, add_difficulty, make_difficulty_scorer
from s2r_hf.signals.judge import distributed
from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

CONFIGS = (ScoreConfig, SelectConfig, JudgeConfig, JudgeTrainingConfig, RolloutConfig)

# A valid value different from the default, per flat option name; anything not listed is derived from its type.
OTHER_VALUES = {
    "adapter": "generic",
    "openr1_mode": "generations",
    "difficulty": "column:hardness",
    "judge_device": "cpu",
    "judge_dtype": "float16",
    "device": "cpu",
    "dtype": "float16",
    "strategy": "random",
    "ratio": 0.5,
    "weight": 0.75,
    "eval_fraction": 0.25,
    "warmup_ratio": 0.5,
    "min_eval_rows": 5,
    "save_dtype": "bfloat16",
    "lr_scheduler_type": "linear",
    "scheduler": "linear",
    "rethink_language": "zh",
    "quadrant": "long-hard",
    "decontaminate": "math500",
    "benchmark_data": f"math500={__file__}",
    "near_duplicates": "cluster",
    "near_duplicate_threshold": 0.5,
    "near_duplicate_weight": 0.75,
    "decontaminate_rule": "any-ngram",
    "decontaminate_threshold": 0.8,
    "rollout_top_p": 0.5,
    "rollout_backend": "transformers",
    "engine": "ray",
    "ray_address": "127.0.0.1:6379",
    "rollout_device": "cpu",
    "rollout_dtype": "float16",
}
# What else a value needs to be accepted: the scorer its setting belongs to, the tokenizer its revision is for.
CONTEXT = {
    "flags_column": {"difficulty": "rollout"},
    "tokenizer_revision": {"tokenizer": "some-org/tok"},
    "quadrant": {"strategy": "quadrant"},
    "seed": {"strategy": "random"},  # options a strategy would ignore are refused (s2r_hf.selection)
    "group_column": {"strategy": "diverse"},
    "benchmark_data": {"decontaminate": "math500"},
    "sample_seed": {"sample": 0.5},
    "ray_address": {"engine": "ray"},
}


def other_value(option):
    if option.name in OTHER_VALUES:
        return OTHER_VALUES[option.name]
    if option.kind is bool:
        return not option.default if option.default is not None else True
    if option.kind is int:
        return (option.default or 0) + 3
    if option.kind is float:
        return (option.default or 0) * 2 + 1
    return f"{option.name}-value"


def context_of(option):
    if option.name.startswith("judge"):
        return {"difficulty": "judge"}
    if option.path[0] == "sampled":
        return {"difficulty": "sampled"}
    return CONTEXT.get(option.name, {})


def value_at(config, path):
    for part in path:
        config = getattr(config, part)
    return config


def argv_for(option, value):
    if option.kind is bool:
        return [option.flag] if value else [option.flag.replace("--", "--no-", 1)]
    return [option.flag, str(value)]


@pytest.mark.parametrize("config_class", CONFIGS, ids=lambda c: c.__name__)
def test_every_field_has_a_default_and_a_help_text(config_class):
    options = options_of(config_class)
    assert options and all(option.help for option in options)
    required = {ScoreConfig: {"source": "x"}, JudgeTrainingConfig: {"output_dir": "out"}}.get(config_class, {})
    config = build(config_class, required)
    assert config == config_class(**required)  # what is not given keeps the dataclass default
    assert build(config_class, flatten(config)) == config


def test_score_options_cover_every_nested_field_once():
    names = [option.name for option in options_of(ScoreConfig)]
    assert len(names) == len(set(names))
    judge = {option.path[1] for option in options_of(ScoreConfig) if option.path[0] == "judge"}
    assert judge == {f.name for f in dataclasses.fields(JudgeConfig)}
    assert {"judge", "judge_system_prompt", "judge_question_column", "flags_column", "tokenizer"} <= set(names)


def _parse(argv):
    return build_parser().parse_args(argv)


@pytest.mark.parametrize("option", options_of(ScoreConfig), ids=lambda o: o.name)
def test_every_score_option_round_trips_from_the_cli_and_the_builder(option):
    value = other_value(option)
    assert value != option.default
    context = context_of(option)
    if option.cli:
        argv = ["score", "pool.jsonl", "-o", "out"]
        for name, given in context.items():
            argv += ["--" + name.replace("_", "-"), str(given)]
        config = score_command.config_from_args(_parse([*argv, *argv_for(option, value)]))
        assert value_at(config, option.path) == value
    elif option.name == "benchmark_data":  # a repeatable flag of its own: one --benchmark-data NAME=PATH each
        argv = ["score", "P", "-o", "out", "--decontaminate", "math500", "--benchmark-data", value]
        assert score_command.config_from_args(_parse(argv)).benchmark_data == value
    else:
        assert option.name == "source"  # the POOL argument
        assert score_command.config_from_args(_parse(["score", "P", "-o", "out"])).source == "P"

    fields = {f.name: f for f in dataclasses.fields(Select2ReasonConfig)}
    assert fields[option.builder_name].default == option.default
    builder_config = Select2ReasonConfig(name="x", **{"pool": "pool.jsonl", **context, option.builder_name: value})
    assert value_at(builder_config.score_config(), option.path) == value


@pytest.mark.parametrize("option", options_of(SelectConfig), ids=lambda o: o.name)
def test_every_select_option_round_trips_from_the_cli_the_builder_and_the_api(option, tmp_path):
    value = other_value(option)
    context = context_of(option)
    argv = ["select", "S", "-o", "out"] + [part for name, given in context.items() for part in ("--" + name, given)]
    config = select_command.config_from_args(_parse([*argv, *argv_for(option, value)]))
    assert value_at(config, option.path) == value
    builder_config = Select2ReasonConfig(name="x", pool="pool.jsonl", **{**context, option.builder_name: value})
    assert value_at(builder_config.select_config(), option.path) == value
    # select()'s keywords are SelectConfig's fields, with the same defaults
    assert inspect.signature(select).parameters[option.name].default == option.default


def test_builder_settings_are_exactly_the_score_and_select_options():
    own = {f.name for f in dataclasses.fields(Select2ReasonConfig)} - {
        "name",
        "version",
        "data_dir",
        "data_files",
        "description",
    }
    assert own == {option.builder_name for option in builder_options()}
    assert {"require_final_answer", "k", "group_column", "flags_column", "judge_system_prompt"} <= own
    # the builder's source names, and the judge model under its short name
    assert {"pool", "pool_config", "pool_split", "pool_revision", "judge"} <= own


def test_the_builder_leaves_the_other_scorers_settings_at_their_defaults():
    config = Select2ReasonConfig(name="x", pool="p", difficulty="rollout", judge_system_prompt="Hard? 1 or 0.")
    assert config.score_config().judge == JudgeConfig()
    assert Select2ReasonConfig(name="scored", pool="p", ratio=None).select_config() is None
    assert Select2ReasonConfig(name="scored", pool="p", ratio=None, k=4).select_config().k == 4


@pytest.mark.parametrize("option", options_of(JudgeTrainingConfig, names=train_judge_command.SHORT_NAMES),
                         ids=lambda o: o.name)  # fmt: skip
def test_every_train_judge_option_round_trips_from_the_cli(option):
    value = other_value(option)
    argv = ["train-judge", "pool.jsonl"] + ([] if option.name == "output" else ["-o", "out"])
    config = train_judge_command.config_from_args(_parse([*argv, *argv_for(option, value)]))
    assert value_at(config, option.path) == value


def test_train_judge_keeps_its_short_flag_names():
    config = train_judge_command.config_from_args(
        _parse(["train-judge", "p", "-o", "o", "--epochs", "2", "--lr", "3e-5", "--batch-size", "4",
                "--grad-accum", "2", "--scheduler", "linear"])
    )  # fmt: skip
    assert (config.num_train_epochs, config.learning_rate, config.per_device_train_batch_size) == (2.0, 3e-5, 4)
    assert (config.gradient_accumulation_steps, config.lr_scheduler_type, config.output_dir) == (2, "linear", "o")
    assert train_judge_command.config_from_args(_parse(["train-judge", "p", "-o", "o"])) == JudgeTrainingConfig(
        output_dir="o"
    )


@pytest.mark.parametrize("option", options_of(JudgeConfig), ids=lambda o: o.name)
def test_every_judge_option_round_trips_from_the_distributed_cli_and_the_api(option):
    value = other_value(option)
    args = distributed.build_parser().parse_args(["score", "--pool", "p", "--out", "o", *argv_for(option, value)])
    config = distributed.config_from_args(args)
    assert value_at(config, option.path) == value
    assert getattr(JudgeDifficulty(**{option.name: value}).config, option.name) == value
    assert getattr(make_difficulty_scorer("judge", **{option.name: value}).config, option.name) == value


def test_distributed_defaults_are_the_judge_defaults():
    args = distributed.build_parser().parse_args(["score", "--pool", "p", "--out", "o"])
    assert distributed.config_from_args(args) == JudgeConfig()


def test_scorer_keywords_come_from_their_configs():
    assert make_difficulty_scorer("rollout", flags_column="flags").flags_column == "flags"
    with pytest.raises(InputError, match=r"the rollout difficulty scorer takes no option\(s\) \['model'\]"):
        make_difficulty_scorer("rollout", model="x")
    with pytest.raises(InputError, match=r"takes no option\(s\) \['flags_column'\]; it takes \['model'"):
        make_difficulty_scorer("judge", flags_column="x")


def test_judge_reads_a_question_column_given_as_a_keyword(tiny_model_dir):
    """add_difficulty(pool, "judge", question_column=...) raised TypeError: the keyword now reaches JudgeConfig."""
    pool = Dataset.from_dict({ID: ["a", "b"], "problem": ["What is 1 + 1?", "Prove Fermat's last theorem."]})
    by_column = add_difficulty(pool, "judge", model=str(tiny_model_dir), question_column="problem")
    direct = JudgeDifficulty(model=str(tiny_model_dir)).config
    assert direct.question_column is None
    assert len(by_column[DIFFICULTY]) == 2 and all(0 < value < 1 for value in by_column[DIFFICULTY])
    assert by_column[DIFFICULTY][0] != by_column[DIFFICULTY][1]  # each row is its own question


def test_scorer_settings_must_match_the_scorer():
    judge_only = r"\['system_prompt'\] \(flags \['--judge-system-prompt'\]\) are settings of the judge scorer"
    with pytest.raises(InputError, match=judge_only):
        ScoreConfig(source="x", judge=JudgeConfig(system_prompt="Hard? 1 or 0."))
    rollout_only = r"\['flags_column'\] \(flags \['--flags-column'\]\) are settings of the rollout scorer"
    with pytest.raises(InputError, match=rollout_only):
        ScoreConfig(source="x", difficulty="judge", rollout=RolloutConfig(flags_column="f"))
    nested = ScoreConfig(source="x", difficulty="judge", judge={"model": "m", "question_column": "q"})
    assert nested.scorer_options()["question_column"] == "q" and nested.judge.model == "m"
    assert ScoreConfig(source="x").scorer_options() == {"flags_column": "correctness_math_verify"}


# ---- values and types -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ratio": "0.5"}, OptionTypeError, r"ratio must be a number or None, got '0.5' \(str\)"),
        ({"weight": "0.25"}, OptionTypeError, r"weight must be a number, got '0.25' \(str\)"),
        ({"k": True}, OptionTypeError, r"k must be an integer or None, got True \(bool\)"),
        ({"k": 3.0}, OptionTypeError, r"k must be an integer or None, got 3.0 \(float\)"),
        ({"seed": np.float64(1)}, OptionTypeError, r"seed must be an integer, got np.float64\(1.0\) \(float64\)"),
        ({"ratio": math.nan}, InputError, "ratio must be a finite number, got nan"),
        ({"ratio": math.inf}, InputError, "ratio must be a finite number, got inf"),
        ({"weight": math.nan}, InputError, "weight must be a finite number, got nan"),
        ({"ratio": -0.1}, InputError, r"ratio must be in \(0, 1\], got -0.1"),
        ({"k": 0}, InputError, "k must be a positive integer, got 0"),
        ({"seed": -1}, InputError, "seed must be a non-negative integer, got -1"),
        ({"strategy": 3}, OptionTypeError, r"strategy must be a string, got 3 \(int\)"),
        ({"group_column": ""}, InputError, "group_column must name a column"),
    ],
)
def test_select_config_refuses_bad_values_naming_value_and_type(kwargs, error, message):
    with pytest.raises(error, match=message):
        SelectConfig(**kwargs)


def test_numpy_numbers_are_numbers():
    config = SelectConfig(k=np.int64(3), weight=np.float32(0.5))
    assert (config.k, config.weight) == (3, 0.5) and (type(config.k), type(config.weight)) == (int, float)
    config = SelectConfig(strategy="random", seed=np.int32(5))
    assert config.seed == 5 and type(config.seed) is int
    # A numpy number equal to the default is the default: not an option given to a strategy that ignores it.
    assert SelectConfig(strategy="random", weight=np.float32(0.25)).weight == 0.25
    assert SelectConfig(ratio=np.float64(0.1)).ratio == 0.1 and type(SelectConfig(ratio=np.float64(0.1)).ratio) is float
    with pytest.raises(OptionTypeError, match=r"got np.True_ \(bool\)|got True \(bool_\)"):
        SelectConfig(k=np.bool_(True))


def _scored(n):
    # difficulty and length disagree, so the joint ranking is not either one alone
    return Dataset.from_dict(
        {
            ID: [f"r{i:02d}" for i in range(n)],
            DIFFICULTY: [((i * 7) % n) / n for i in range(n)],
            TRACE_LENGTH: [100 + (i * 5) % n for i in range(n)],
        }
    )


def test_select_takes_numpy_sizes_like_python_ones():
    pool = _scored(25)
    assert select(pool, k=np.int64(3))[ID] == select(pool, k=3)[ID]
    # 0.1 x 25 = 2.5 -> 3 rows: numpy's float repr must not upset the half-up rounding
    assert len(select(pool, ratio=np.float64(0.1))) == 3
    assert select(pool, ratio=np.float64(0.1))[ID] == select(pool, ratio=0.1)[ID]
    with pytest.raises(OptionTypeError, match=r"ratio must be a number or None, got '0.5' \(str\)"):
        select(pool, ratio="0.5")
    with pytest.raises(OptionTypeError, match=r"weight must be a number, got '0.25' \(str\)"):
        select(pool, weight="0.25")


def test_a_nan_difficulty_is_named_as_nan():
    pool = _scored(4).remove_columns(DIFFICULTY).add_column(DIFFICULTY, [0.1, math.nan, 0.5, math.nan])
    with pytest.raises(InputError, match=r"column 's2r_difficulty' has 2 NaN values"):
        select(pool, k=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_proc": 0}, InputError, "num_proc must be at least 1, got 0"),
        ({"num_proc": "2"}, OptionTypeError, r"num_proc must be an integer or None, got '2' \(str\)"),
        (
            {"adapter": "openr2"},
            InputError,
            r"adapter must be one of \['auto', 'openr1', 'generic', .*\], got 'openr2'",
        ),
        ({"require_final_answer": "yes"}, OptionTypeError, r"require_final_answer must be True or False, got 'yes'"),
        ({"difficulty": "oracle"}, InputError, "unknown difficulty scorer 'oracle'"),
        ({"tokenizer_revision": "main"}, InputError, "tokenizer_revision needs a tokenizer"),
        ({"rollout": {"flags_column": 3}}, OptionTypeError, r"flags_column must be a string, got 3 \(int\)"),
    ],
)
def test_score_config_refuses_bad_values(kwargs, error, message):
    with pytest.raises(error, match=message):
        ScoreConfig(source="pool.jsonl", **kwargs)


def test_help_shows_the_dataclass_defaults():
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    score_command.add_arguments(parser)
    text = " ".join(parser.format_help().split())
    assert "--judge-max-question-tokens N Questions longer than this many judge tokens" in text
    assert "(default: 4096)" in text and "(default: correctness_math_verify)" in text


def test_paths_are_accepted_where_a_string_names_a_file_or_folder(tmp_path):
    config = ScoreConfig(source=tmp_path / "pool.jsonl", tokenizer=tmp_path / "tok")
    assert (config.source, config.tokenizer) == (str(tmp_path / "pool.jsonl"), str(tmp_path / "tok"))
    with pytest.raises(OptionTypeError, match=r"source must be a string, got 123 \(int\)"):
        ScoreConfig(source=123)
