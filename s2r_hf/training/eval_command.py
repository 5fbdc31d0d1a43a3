"""The command the evaluate callback runs on a checkpoint (s2r_hf.training.callbacks.EvaluateCallback), and its checks,
made when `s2r train` reads its options (s2r_hf.training.configs), long before the first checkpoint is saved.
"""

from __future__ import annotations

import shlex
import shutil
import string

from s2r_hf.core.errors import InputError

# How the evaluate callback runs the evaluation: a command template, split like a shell line, then each word filled in.
# {python}: the evaluation interpreter; {checkpoint}: the saved model folder; {output}: where the command writes its
# results ({"results": {benchmark: {metric: value}}}), as a JSON file at that path or as a folder holding results.json
# (what `s2r evaluate -o` writes); {output_dir}: the folder holding {output}; {benchmarks}: the names joined by commas.
DEFAULT_EVAL_COMMAND = "{python} -m s2r_hf.cli evaluate {checkpoint} --tasks {benchmarks} -o {output}"
EVAL_PLACEHOLDERS = ("python", "checkpoint", "output", "output_dir", "benchmarks")


def check_eval_program(template: str, python: str | None) -> None:
    """The evaluation's program must exist now: a missing one would show only after the whole training ran."""
    if python is not None and not shutil.which(python):
        raise InputError(
            f"--eval_python {python!r} is not an executable interpreter; give the path of one, or leave it out to "
            "evaluate with this one"
        )
    first = shlex.split(template)[0]
    if "{" in first:  # {python} (checked above) or a word only known at run time
        return
    if not shutil.which(first):
        raise InputError(f"eval_command starts with {first!r}, which is not a program found here; check the path")


def check_eval_command(template: str) -> None:
    """The command template must name the checkpoint and the results file, and only known placeholders."""
    if not isinstance(template, str) or not template.strip():
        raise InputError(f"eval_command must be a command line, got {template!r}")
    try:
        words = shlex.split(template)
        names = {name for word in words for _, name, _, _ in string.Formatter().parse(word) if name is not None}
    except ValueError as err:
        raise InputError(f"eval_command {template!r} cannot be parsed: {err}") from err
    unknown = sorted(names - set(EVAL_PLACEHOLDERS))
    if unknown:
        raise InputError(
            f"eval_command has unknown placeholder {{{unknown[0]}}}; known: {', '.join(EVAL_PLACEHOLDERS)}"
        )
    for needed in ("checkpoint", "output"):
        if needed not in names:
            raise InputError(f"eval_command must contain {{{needed}}} (got {template!r})")
