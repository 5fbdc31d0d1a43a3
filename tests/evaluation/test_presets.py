"""Presets and run options: the paper's protocol per benchmark, overrides, and refused values (no lighteval here)."""

from __future__ import annotations

import pytest

from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.presets import PRESETS, TaskSettings, get_preset
from s2r_hf.evaluation.runner import EvaluationConfig


def test_paper_preset_samples_the_competitions_and_decodes_the_rest_greedily():
    paper = get_preset("paper")
    for name in ("aime24", "aime25", "amc23"):
        settings = paper.settings_for(name)
        assert (settings.temperature, settings.top_p, settings.num_samples) == (0.6, 0.95, 16)
        assert settings.metrics() == ["pass@1", "maj@16"]
        assert settings.max_new_tokens == 16_384
        assert settings.repetition_penalty == 1.0
    for name in ("math500", "minerva", "olympiadbench"):
        settings = paper.settings_for(name)
        assert settings.greedy and settings.num_samples == 1
        assert settings.metrics() == ["pass@1"]
        assert settings.describe() == "greedy n=1 max_new=16384"


def test_open_r1_preset_uses_the_model_card_settings_everywhere():
    open_r1 = PRESETS["open-r1"]
    for name in ("math500", "aime24"):
        settings = open_r1.settings_for(name)
        assert (settings.temperature, settings.top_p, settings.max_new_tokens) == (0.6, 0.95, 32_768)
        assert settings.metrics() == ["pass@1"]


def test_overrides_apply_where_they_mean_something():
    paper = get_preset("paper")
    sampled = paper.settings_for("aime24", max_new_tokens=512, num_samples=4, repetition_penalty=1.05)
    assert (sampled.max_new_tokens, sampled.num_samples, sampled.repetition_penalty) == (512, 4, 1.05)
    assert sampled.metrics() == ["pass@1", "maj@4"]
    assert sampled.describe() == "T=0.6 top_p=0.95 n=4 max_new=512 rep=1.05"
    greedy = paper.settings_for("math500", num_samples=4)
    assert greedy.num_samples == 1  # greedy decoding draws one sample whatever is asked


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"temperature": 0.0, "num_samples": 4}, "need sampling"),
        ({"top_p": 0.0}, "top_p"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"num_samples": 0}, "num_samples"),
    ],
)
def test_task_settings_refuse_meaningless_values(changes, message):
    values = {"temperature": 0.6, "top_p": 0.95, "num_samples": 16, "majority": True, "max_new_tokens": 64}
    with pytest.raises(InputError, match=message):
        TaskSettings(**{**values, **changes})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tasks": "math500,gsm8k"}, "unknown benchmark 'gsm8k'.*known: math500, aime24"),
        ({"preset": "deepseek"}, "unknown preset 'deepseek'; known: paper, open-r1"),
        ({"max_samples": 0}, "--max-samples must be a positive integer, got 0"),
        ({"max_new_tokens": -1}, "--max-new-tokens must be a positive integer"),
        ({"backend": "tgi"}, "backend must be one of"),
        ({"tensor_parallel_size": 2}, "use --backend vllm"),
        ({"max_samples": "2"}, "max_samples must be an integer"),
    ],
)
def test_evaluation_config_refuses_bad_options(options, message):
    with pytest.raises((InputError, TypeError), match=message):
        EvaluationConfig(**options)


def test_evaluation_config_gives_each_task_its_settings():
    config = EvaluationConfig(tasks="amc23, math500", max_new_tokens=32, num_samples=8)
    settings = config.settings()
    assert list(settings) == ["amc23", "math500"]
    assert (settings["amc23"].num_samples, settings["amc23"].max_new_tokens) == (8, 32)
    assert (settings["math500"].num_samples, settings["math500"].max_new_tokens) == (1, 32)


def test_the_runner_side_never_imports_lighteval():
    """lighteval turns autograd off at import and takes ~20 s: only the worker process may load it."""
    import subprocess
    import sys

    code = (
        "import sys, s2r_hf.evaluation.runner, s2r_hf.evaluation.compare, s2r_hf.evaluation.publish, s2r_hf.cli\n"
        "s2r_hf.cli.build_parser()\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'lighteval'], 'lighteval imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
