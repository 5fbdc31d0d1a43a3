"""Errors for input a user can fix. Each message says what was wrong, what was received and how to fix it.

They subclass the built-in type a Python user would expect (ValueError, KeyError, TypeError) and `S2RError`, which the
CLI prints as one line instead of a traceback; anything else is a bug and keeps its traceback.
"""


class S2RError(Exception):
    """An input problem the user can fix."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class InputError(S2RError, ValueError):
    """A value is out of range, empty, inconsistent or unreadable."""


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
