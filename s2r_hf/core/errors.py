"""Errors for input a user can fix. Each message says what was wrong, what was received and how to fix it.

They subclass the built-in type a Python user would expect (ValueError, KeyError, TypeError) and `S2RError`, which the
CLI prints as one line instead of a traceback; anything else is a bug and keeps its traceback. The whole family lives
here, whichever layer raises it, and is exported from `s2r_hf`, so a caller can catch any of them without knowing
which module raises it.
"""

from __future__ import annotations

from pathlib import Path


class S2RError(Exception):
    """An input problem the user can fix."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class InputError(S2RError, ValueError):
    """A value is out of range, empty, inconsistent or unreadable."""


class InputProblemsError(InputError):
    """Several input problems found in one pass, before a long run starts (`s2r experiment run` checks the inputs of
    every step it is about to run first): `problems` holds each one's message, and the CLI prints one line for each,
    so the user fixes them all at once instead of meeting them one run at a time."""

    def __init__(self, problems: list[str]):
        super().__init__(list(problems))  # the only argument, so that the error pickles and copies as itself

    @property
    def problems(self) -> list[str]:
        return list(self.args[0])

    def __str__(self) -> str:
        numbered = "; ".join(f"({number}) {problem}" for number, problem in enumerate(self.problems, 1))
        return f"{len(self.problems)} input problems: {numbered}"


class ColumnError(S2RError, KeyError):
    """A column the operation needs is missing."""


class ColumnTypeError(S2RError, TypeError):
    """A column holds values of the wrong type."""


class OutputError(S2RError, OSError):
    """The output cannot or may not be written (it is an input, not s2r's, unwritable, or the disk is full)."""


class OutputExistsError(OutputError, FileExistsError):
    """The output folder exists and replacing it was not asked for."""


class SourceNotFoundError(InputError, FileNotFoundError):
    """The input (a path, a Hub dataset, or its revision) does not exist or cannot be accessed."""


class HubUnreachableError(InputError, ConnectionError):
    """The Hub could not be reached (offline mode, refused connection, timeout) and nothing usable is cached."""


class OptionTypeError(S2RError, TypeError):
    """An option (a config field or keyword argument) was given a value of the wrong type."""


class ModelError(S2RError, OSError):
    """A model or tokenizer named by the user is missing, cannot be reached, or cannot serve as asked."""


class ResourceError(S2RError, RuntimeError):
    """The machine ran out of something (GPU memory) that a setting can reduce."""


class RunInterrupted(S2RError, RuntimeError):
    """Ctrl-C stopped a run; the message says what was kept and how to resume. The CLI exits 130, as a shell does."""


class MissingDependencyError(S2RError, ImportError):
    """An optional dependency (lighteval, evaluate, vllm, trl) is needed and not installed."""


class DuplicateConfigError(InputError):
    """Two subsets of one publish would have the same config name (or names that differ only in case).

    `names` are the two names (equal, or equal but for case), `folders` the two folders, `explicit` whether the caller
    gave the names (otherwise they were derived from the subset names), so that each surface (Python, CLI) can say how
    to fix it in its own terms.
    """

    def __init__(self, message: str, *, names: tuple[str, str], folders: tuple[Path, Path], explicit: bool):
        super().__init__(message)
        self.names = names
        self.folders = folders
        self.explicit = explicit


class PublishError(S2RError, RuntimeError):
    """Writing to the Hub failed; the message says what, what the Hub answered, and how to fix it."""


class EvaluationError(S2RError, RuntimeError):
    """The lighteval process failed; its own output (shown above the error) says why."""


class StepFailedError(S2RError, RuntimeError):
    """A step's child process failed; its own output (above) says why. The experiment resumes from this step."""


class RayJobError(S2RError, RuntimeError):
    """A Ray step of `s2r score --engine ray` failed after Ray's own retries; the message says which, and that a rerun
    resumes from the finished batches."""


class RunInterruptedError(RunInterrupted):
    """Ctrl-C stopped the run (and the step's child, which runs in its own process group and never sees it)."""
