"""One definition per option: config dataclasses become command-line flags, builder settings and keyword checks.

Each option is a field of a config dataclass (`ScoreConfig`, `SelectConfig`, `JudgeConfig`, `JudgeTrainingConfig`,
...) with a default and `metadata={"help": ...}`. This module reads those fields, so the CLI flags, the builder's
settings and the validation of Python keywords all come from the same place and cannot drift:

- `options_of(ScoreConfig)` flattens a config into `Option`s. A field holding another config (ScoreConfig.judge is a
  `JudgeConfig`) contributes that config's fields under a prefix (`judge_`), with per-field names where the short form
  reads better (`JudgeConfig.model` is `judge`). The flat name is the builder keyword and the argparse `dest`; the flag
  is the flat name with dashes (`--judge-batch-tokens`).
- `add_arguments(parser, options)` adds one flag per option. Defaults are argparse.SUPPRESS, so the parsed namespace
  holds only what the user typed (`given(args, options)`), and `build(ScoreConfig, values)` fills in the rest from
  the dataclass defaults: the default is written once, in the dataclass, and shown in `--help` from there.
- `DefaultsHelpFormatter` is the --help of every parser of s2r (the generated flags and the hand-written ones, TRL's
  too): a real default is shown once, an unset one (None) not at all.
- `check_field_types(config)` checks and normalises the values of a config in its `__post_init__`: a numpy integer
  is an integer, a bool is not, and a wrong type names the value and its type.

Field metadata read here (all optional but `help`): `help`; `group` (the --help section); `builder` (the builder
keyword when it differs from the flat name); `cli: False` (a field the command takes positionally); and, on a field
holding a nested config, `prefix` and `names` (field -> flat name).

Only the standard library is imported here, so `s2r --help` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import math
import numbers
import os
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from s2r_hf.core.errors import InputError, OptionTypeError, S2RError

_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class Option:
    """One field of a config, as every surface names it."""

    name: str  # flat name: the builder keyword and the argparse dest
    path: tuple[str, ...]  # attribute path inside the top config, e.g. ("judge", "model")
    kind: type  # bool, int, float or str
    optional: bool  # None is an accepted value
    default: Any
    help: str
    group: str | None
    builder_name: str
    cli: bool

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _field_kind(hint: Any) -> tuple[Any, bool]:
    """(the non-None type, whether None is allowed) of a field's resolved annotation."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        return (rest[0] if len(rest) == 1 else hint), True
    return hint, False


def _default(spec: dataclasses.Field) -> Any:
    if spec.default is not dataclasses.MISSING:
        return spec.default
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    raise TypeError(f"option field {spec.name!r} has no default; every option needs one")


def options_of(
    cls: type, *, prefix: str = "", names: dict[str, str] | None = None, group: str | None = None
) -> list[Option]:
    """The flattened options of config dataclass `cls` (nested configs expanded), in field order."""
    hints = typing.get_type_hints(cls)
    names = names or {}
    found: list[Option] = []
    for spec in dataclasses.fields(cls):
        if not spec.init:
            continue
        if "help" not in spec.metadata:
            raise TypeError(f"{cls.__name__}.{spec.name} has no metadata['help']; every option needs one")
        kind, optional = _field_kind(hints[spec.name])
        field_group = spec.metadata.get("group", group)
        if dataclasses.is_dataclass(kind):
            nested = options_of(
                kind,
                prefix=prefix + spec.metadata.get("prefix", spec.name + "_"),
                names=spec.metadata.get("names"),
                group=field_group,
            )
            found += [dataclasses.replace(option, path=(spec.name, *option.path)) for option in nested]
            continue
        if kind not in _SCALARS:
            raise TypeError(f"{cls.__name__}.{spec.name}: options must be bool, int, float or str, not {kind}")
        name = names.get(spec.name) or prefix + spec.name
        found.append(
            Option(
                name=name,
                path=(spec.name,),
                kind=kind,
                optional=optional,
                default=_default(spec),
                help=spec.metadata["help"],
                group=field_group,
                builder_name=spec.metadata.get("builder", name),
                cli=spec.metadata.get("cli", True),
            )
        )
    return found


# ---- command line -------------------------------------------------------------------------------------------------


# A help text that already speaks of its default ("default: the preset's", "None = ...") is left as written.
_SAYS_DEFAULT = re.compile(r"default|None =", re.IGNORECASE)


def shown_default(value: Any, *, flag: str | None = None) -> str | None:
    """How --help shows a default, or None when there is nothing to show: None (unset: the help says what happens),
    an empty list or text, and an on/off flag that is off unless typed. A flag with a --no- form (`flag`, given for
    those) shows the spelling that is in force."""
    if value is None or value is argparse.SUPPRESS or value == "" or value == [] or value == ():
        return None
    if isinstance(value, enum.Enum):  # transformers' option values (SchedulerType.LINEAR reads as 'linear')
        value = value.value
    if isinstance(value, bool) and flag is not None:
        return flag if value else "--no-" + flag.lstrip("-")
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value)
    return str(value)


def _with_default(text: str | None, shown: str | None) -> str:
    """`text` with ` (default: X)` added once; `text` is an argparse help string (a literal % is written %%)."""
    text = text or ""
    if shown is None or "%(default)" in text or _SAYS_DEFAULT.search(text):
        return text
    return f"{text} (default: {shown.replace('%', '%%')})"


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """--help that shows each flag's real default once, and nothing where there is none.

    argparse's own ArgumentDefaultsHelpFormatter prints `(default: None)` for every unset flag and adds a second
    default to a help text that already says its own. Every parser of s2r uses this one (`formatter_class=`).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text  # a required positional has no default
        if action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction):
            return text  # store_true and the like: off unless typed, which the flag itself says
        long_flags = [name for name in action.option_strings if name.startswith("--")]
        flag = long_flags[0] if isinstance(action, argparse.BooleanOptionalAction) and long_flags else None
        return _with_default(text, shown_default(action.default, flag=flag))


def _help_with_default(option: Option) -> str:
    text = option.help.replace("%", "%%")  # argparse formats help strings with %
    if option.kind is bool and option.default is False and not option.optional:
        return text  # a plain --x switch, off unless typed
    return _with_default(text, shown_default(option.default, flag=option.flag if option.kind is bool else None))


def add_arguments(
    parser: argparse.ArgumentParser,
    options: list[Option],
    *,
    flags: dict[str, list[str]] | None = None,
    titles: dict[str, str] | None = None,
    exclusive: tuple[tuple[str, ...], ...] = (),
    required: tuple[str, ...] = (),
) -> None:
    """One flag per option.

    `flags` adds extra spellings (e.g. `-o`), `titles` names the --help sections by group, each tuple of names in
    `exclusive` may not be given together, and the names in `required` must be given.
    """
    flags = flags or {}
    titles = titles or {}
    groups: dict[str, Any] = {}
    exclusive_groups: dict[tuple[str, ...], Any] = {}
    for option in options:
        if not option.cli:
            continue
        target = parser
        if option.group is not None:
            if option.group not in groups:
                groups[option.group] = parser.add_argument_group(titles.get(option.group, option.group))
            target = groups[option.group]
        for names in exclusive:
            if option.name in names:
                if names not in exclusive_groups:
                    exclusive_groups[names] = target.add_mutually_exclusive_group()
                target = exclusive_groups[names]
        kwargs: dict[str, Any] = {"dest": option.name, "default": argparse.SUPPRESS, "help": _help_with_default(option)}
        if option.name in required:
            kwargs.update(required=True, help=option.help.replace("%", "%%"))
        if option.kind is bool:
            # A flag that only switches on reads best as --x; one that defaults on (or to auto) needs --no-x too.
            plain = option.default is False and not option.optional
            kwargs["action"] = "store_true" if plain else argparse.BooleanOptionalAction
        else:
            kwargs["type"] = option.kind
            kwargs["metavar"] = {int: "N", float: "X"}.get(option.kind) or option.name.rsplit("_", 1)[-1].upper()
        target.add_argument(*flags.get(option.name, []), option.flag, **kwargs)


def given(args: argparse.Namespace, options: list[Option]) -> dict[str, Any]:
    """The options the user typed, by flat name (defaults are not in the namespace: see add_arguments)."""
    return {option.name: getattr(args, option.name) for option in options if hasattr(args, option.name)}


# ---- building configs -----------------------------------------------------------------------------------------------


def build(cls: type, values: dict[str, Any], *, by: str = "name", options: list[Option] | None = None) -> Any:
    """Config `cls` from flat values (keyed by flat name, or by builder name with by="builder_name").

    Nested configs are built from their own options; anything not in `values` keeps its dataclass default.
    """
    options = options_of(cls) if options is None else options
    known = {getattr(option, by): option for option in options}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for {cls.__name__}; known: {sorted(known)}")
    tree: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = known[key].path
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return _instantiate(cls, tree)


def _instantiate(cls: type, tree: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in tree.items():
        kind, _ = _field_kind(hints[key])
        kwargs[key] = _instantiate(kind, value) if isinstance(value, dict) and dataclasses.is_dataclass(kind) else value
    try:
        return cls(**kwargs)
    except S2RError:
        raise
    except ValueError as err:
        # The values come from the user, so a config that refuses one (a plain ValueError from a __post_init__ not
        # written with our error family) is an input error: one line on the command line, not a traceback.
        raise InputError(f"{cls.__name__}: {err}") from err


def flatten(config: Any, *, by: str = "name", options: list[Option] | None = None) -> dict[str, Any]:
    """The flat values of a config instance: the inverse of `build`."""
    options = options_of(type(config)) if options is None else options
    flat = {}
    for option in options:
        value = config
        for part in option.path:
            value = getattr(value, part)
        flat[getattr(option, by)] = value
    return flat


# ---- value checks -------------------------------------------------------------------------------------------------


def check_field_types(config: Any) -> None:
    """Check each scalar field of a config against its annotation and normalise it in place.

    int fields take any integer (Python or numpy; bools are refused) and become `int`; float fields take any real
    number and become `float` (NaN and infinity are refused: no option of ours means anything with them); bool
    fields take `True`/`False` (numpy's too); str fields take a `pathlib.Path` too. The message names the field, the
    value and its type.
    """
    hints = typing.get_type_hints(type(config))
    for spec in dataclasses.fields(config):
        kind, optional = _field_kind(hints[spec.name])
        value = getattr(config, spec.name)
        if value is None and optional:
            continue
        if kind not in _SCALARS:
            continue
        setattr(config, spec.name, _checked(spec.name, kind, value, optional))


def _checked(name: str, kind: type, value: Any, optional: bool) -> Any:
    expected = {bool: "True or False", int: "an integer", float: "a number", str: "a string"}[kind]
    # numpy's bool is `numpy.bool_` before numpy 2 and `numpy.bool` since; neither subclasses bool.
    numpy_bool = type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")
    is_bool = isinstance(value, bool) or numpy_bool
    if kind is bool and is_bool:
        return bool(value)
    if kind is int and isinstance(value, numbers.Integral) and not is_bool:
        return int(value)
    if kind is float and isinstance(value, numbers.Real) and not is_bool:
        number = float(value)
        if not math.isfinite(number):
            raise InputError(f"{name} must be a finite number, got {number}")
        return number
    if kind is str and isinstance(value, str):
        return value
    if kind is str and isinstance(value, os.PathLike):  # a folder or file given as a pathlib.Path
        return os.fspath(value)
    raise OptionTypeError(
        f"{name} must be {expected}{' or None' if optional else ''}, got {value!r} ({type(value).__name__})"
    )


def check_choice(name: str, value: str, choices: tuple[str, ...] | list[str]) -> None:
    if value not in choices:
        raise InputError(f"{name} must be one of {list(choices)}, got {value!r}")
