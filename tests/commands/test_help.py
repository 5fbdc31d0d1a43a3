"""Every --help of s2r: each real default shown once, no `(default: None)`, no second default after a help text that
already says its own (s2r_hf.core.options.DefaultsHelpFormatter)."""

from __future__ import annotations

import argparse
import enum
import re

import pytest

from s2r_hf.cli import build_parser
from s2r_hf.core.options import DefaultsHelpFormatter, Option, options_of, shown_default
from s2r_hf.evaluation.runner import EvaluationConfig
from s2r_hf.pipeline.score import ScoreConfig
from s2r_hf.selection import SelectConfig
from s2r_hf.signals.judge.distributed import build_parser as build_distributed_parser
from s2r_hf.signals.judge.scorer import JudgeConfig
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig


def subparsers_of(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += subparsers_of(sub, f"{name} {sub_name}")
    return found


def every_parser() -> list[tuple[str, argparse.ArgumentParser]]:
    """`s2r` and each subcommand (experiment run/plan/report too), the judge's distributed scorer and the demo pool
    writer, built as their entry points build them."""
    from s2r_hf.pool.demo import build_parser as build_demo_pool_parser

    return [
        *subparsers_of(build_parser(), "s2r"),
        *subparsers_of(build_distributed_parser(), "python -m s2r_hf.signals.judge.distributed"),
        *subparsers_of(build_demo_pool_parser(), "python -m s2r_hf.pool.demo"),
    ]


def help_entries(text: str) -> list[str]:
    """The help of each option or positional, one string each (its wrapped lines joined)."""
    entries: list[list[str]] = []
    current = None
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent in (2, 4) and not line.startswith("usage"):
            current = [line.strip()]
            entries.append(current)
        elif current is not None and line.strip() and indent > 4:
            current.append(line.strip())
        else:
            current = None
    return [" ".join(entry) for entry in entries]


def faults(text: str) -> list[str]:
    """Entries showing `(default: None)`, or a default added after a help text that already says one."""
    found = []
    for entry in help_entries(text):
        added = re.search(r" \(default: [^()]*\)$", entry)
        if "(default: None)" in entry or (added and re.search("default|None =", entry[: added.start()], re.I)):
            found.append(entry)
    return found


def sft_help(capsys) -> str:
    pytest.importorskip("trl")
    from s2r_hf.training.sft import parse_train_args

    with pytest.raises(SystemExit) as exit_info:
        parse_train_args(["--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def rope_help(capsys) -> str:
    from s2r_hf.training.rope import main

    with pytest.raises(SystemExit):
        main(["--help"])
    return capsys.readouterr().out


def test_help_shows_no_default_none_and_no_doubled_default(capsys):
    texts = {name: parser.format_help() for name, parser in every_parser()}
    texts["python -m s2r_hf.training.sft"] = sft_help(capsys)
    texts["python -m s2r_hf.training.rope"] = rope_help(capsys)
    assert len(texts) >= 19 and all(help_entries(text) for text in texts.values())
    assert {name: faults(text) for name, text in texts.items() if faults(text)} == {}
    # The six doubled defaults and 67 `(default: None)` of TRL's parser are gone, the defaults TRL states stay.
    sft = " ".join(texts["python -m s2r_hf.training.sft"].split())
    assert "(default: None)" not in sft and "Total number of training epochs to perform. (default: 3.0)" in sft
    assert "interpreter for {python} in eval_command (default: this one) --eval_every_save" in sft


def test_help_shows_every_real_default_once():
    # argparse-level defaults (the hand-written flags): shown whenever there is one.
    for name, parser in every_parser():
        entries = {entry.split()[0].rstrip(","): entry for entry in help_entries(parser.format_help())}
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or action.nargs == 0:
                continue
            shown = shown_default(action.default)
            entry = entries[action.option_strings[0]]
            if shown is not None:
                assert re.search("default", entry, re.I), f"{name} {action.option_strings[0]}: default {shown} missing"
                assert len(re.findall(r"\(default", entry)) <= 1, entry
    # The generated flags (defaults kept in the config dataclasses): every default that means something is shown.
    from s2r_hf.core.options import _help_with_default

    for config in (ScoreConfig, SelectConfig, EvaluationConfig, JudgeTrainingConfig, JudgeConfig):
        for option in options_of(config):
            off_switch = option.kind is bool and option.default is False and not option.optional
            if shown_default(option.default) is None or off_switch or not option.cli:
                continue
            assert re.search("default", _help_with_default(option), re.I), f"{config.__name__}.{option.name}"


def test_defaults_that_were_missing_are_shown():
    texts = {name: " ".join(parser.format_help().split()) for name, parser in every_parser()}
    # Long defaults were hidden (over 40 characters), the distributed scorer's flags had no defaults shown at all.
    prompt = "Please judge the difficulty of this instruction and return 1 if difficult or 0 if not."
    assert f"(default: {prompt})" in texts["s2r score"]
    distributed = texts["python -m s2r_hf.signals.judge.distributed score"]
    assert "how long rank 0 waits for the slowest rank (default: 1440)" in distributed
    assert "subset sizes, as fractions of the pool in (0, 1] (default: 0.1)" in texts["s2r demo"]  # a list: 0.1
    assert "(default: [])" not in texts["s2r experiment run"]  # --set, repeatable, starts empty


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("add", "shown"),
    [
        ({"default": True, "action": argparse.BooleanOptionalAction}, "--flag, --no-flag x (default: --flag)"),
        ({"default": False, "action": argparse.BooleanOptionalAction}, "--flag, --no-flag x (default: --no-flag)"),
        ({"default": False, "action": "store_true"}, "--flag x"),
        ({"default": None}, "--flag FLAG x"),
        ({"default": Colour.RED}, "--flag FLAG x (default: red)"),
        ({"default": [0.1, 0.05], "nargs": "+", "type": float}, "--flag FLAG [FLAG ...] x (default: 0.1 0.05)"),
        ({"default": "main", "help": "branch (default: main)"}, "--flag FLAG branch (default: main)"),
        ({"default": "50%"}, "--flag FLAG x (default: 50%)"),
    ],
)
def test_formatter_shows_each_kind_of_default_once(add, shown):
    parser = argparse.ArgumentParser(prog="p", formatter_class=DefaultsHelpFormatter)
    parser.add_argument("--flag", **{"help": "x", **add})
    assert " ".join(help_entries(parser.format_help())[-1].split()) == shown


def test_generated_switch_that_defaults_on_shows_which_spelling_is_in_force():
    from s2r_hf.core.options import _help_with_default

    option = Option("judge_fast", ("fast",), bool, False, True, "go fast", None, "judge_fast", True)
    assert _help_with_default(option) == "go fast (default: --judge-fast)"
