"""The optional dependencies (pyproject.toml's extras): which extra installs each, and the one message saying so.

`s2r train` needs `trl` (the `train` extra); evaluation needs `lighteval` and `evaluate`,
and grading `latex2sympy2_extended` (the `eval` extra); `s2r score --engine ray` needs `ray` (the `ray` extra).
Every place that finds one missing says it in the same words, naming the extra and its install command: the entry
points (s2r_hf.core.entry, for an import that fails) and the checks made before any work (`s2r evaluate`'s probe of
the interpreter that will run lighteval, grading).
"""

from __future__ import annotations

import importlib.util

DISTRIBUTION = "s2r-hf"
# import name -> (the extra that installs it, what needs it). A test checks this against pyproject.toml's extras.
OPTIONAL_PACKAGES = {
    "trl": ("train", "training (s2r train, an experiment's train step)"),
    "lighteval": ("eval", "evaluation (s2r evaluate, an experiment's evaluate step)"),
    "evaluate": ("eval", "the s2r_math evaluation metric"),
    "latex2sympy2_extended": ("eval", "grading math answers (s2r_hf.answers)"),
    "ray": ("ray", "s2r score --engine ray"),
}


def install_command(extra: str) -> str:
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def missing_package_message(package: str) -> str:
    """What to say when optional `package` cannot be imported: what needs it, its extra and the install command."""
    extra, needed_by = OPTIONAL_PACKAGES[package]
    return f"{package} is not installed, and {needed_by} needs it; install the {extra} extra: {install_command(extra)}"


def missing_extra_message(error: ModuleNotFoundError) -> str | None:
    """The message for an import that failed because an optional package is not installed; None for any other.

    Only a missing top-level package counts: `trl` absent is a missing extra, while `trl.something` absent from an
    installed trl (a version without it), or a module of ours that is missing, is a bug and keeps its traceback.
    """
    package = (error.name or "").partition(".")[0]
    if package not in OPTIONAL_PACKAGES or is_importable(package):
        return None
    return missing_package_message(package)


def is_importable(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a half-imported or broken package
        return False
