"""The error family: every error s2r raises on purpose is defined in s2r_hf.core.errors and importable from s2r_hf."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import s2r_hf
from s2r_hf.core import errors

PACKAGE = Path(s2r_hf.__file__).parent


def family_classes_in_source() -> dict[str, list[str]]:
    """Class name -> the modules defining it, for every class of the package that derives from S2RError.

    Read from the source, not by importing, so a module whose optional dependency is missing is still checked. A class
    is in the family when one of its bases is S2RError or (transitively) another class of the family.
    """
    definitions: list[tuple[str, str, list[str]]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = [base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases]
                definitions.append((node.name, module, bases))
    family = {"S2RError"}
    while True:
        grown = family | {name for name, _, bases in definitions if family & set(bases)}
        if grown == family:
            break
        family = grown
    found: dict[str, list[str]] = {}
    for name, module, _ in definitions:
        if name in family:
            found.setdefault(name, []).append(module)
    return found


def test_every_error_class_of_the_package_is_defined_in_core_errors():
    found = family_classes_in_source()
    elsewhere = {name: modules for name, modules in found.items() if modules != ["s2r_hf.core.errors"]}
    assert not elsewhere, f"error classes defined outside s2r_hf/core/errors.py: {elsewhere}"
    # The scan is not vacuous: it sees the classes that used to live in hub/, evaluation/ and experiment/.
    assert {"PublishError", "DuplicateConfigError", "EvaluationError", "StepFailedError"} <= set(found)


def test_the_whole_family_is_exported_from_s2r_hf():
    family = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls) and issubclass(cls, errors.S2RError) and cls.__module__ == errors.__name__
    }
    assert set(family) == set(family_classes_in_source())
    for name, cls in family.items():
        assert name in s2r_hf.__all__, f"{name} is not in s2r_hf.__all__"
        assert getattr(s2r_hf, name) is cls
    from s2r_hf import DuplicateConfigError, InputError, PublishError, RunInterruptedError, S2RError

    # Each keeps its base: the built-in type a Python user would catch, and S2RError.
    assert issubclass(PublishError, RuntimeError) and issubclass(PublishError, S2RError)
    assert issubclass(DuplicateConfigError, InputError) and issubclass(DuplicateConfigError, ValueError)
    assert issubclass(RunInterruptedError, errors.RunInterrupted)
    assert issubclass(errors.MissingDependencyError, ImportError)


def test_an_s2r_error_prints_its_message_without_the_quotes_of_key_error():
    assert str(errors.ColumnError("column 'x' not in the pool")) == "column 'x' not in the pool"
    assert str(KeyError("column 'x' not in the pool")) == "\"column 'x' not in the pool\""
