"""What a command prints when it ends (the CLI's output, not the library's): summary tables, the paths it wrote, and
the next command to run."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

from s2r_hf.core.numbers import plain_number

# The model the printed `s2r train` suggestions name: the small instruct model of the README's own example.
SUGGESTED_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    line = "  ".join("-" * width for width in widths)
    out = ["  ".join(header.ljust(width) for header, width in zip(headers, widths)), line]
    out.extend("  ".join(value.ljust(width) for value, width in zip(row, widths)) for row in cells)
    return "\n".join(out)


def column_stats(dataset, name: str) -> str:
    """'mean (min-max)' of a numeric column, for summaries: plain numbers, never 1.08e+03."""
    import pyarrow.compute as pc

    from s2r_hf.core.rows import arrow_column

    column = arrow_column(dataset, name)
    low_high = pc.min_max(column).as_py()
    low, high = plain_number(low_high["min"]), plain_number(low_high["max"])
    return f"{plain_number(pc.mean(column).as_py())} ({low}-{high})"


def shown_path(path: str | os.PathLike) -> str:
    """A path as printed: relative to the current folder when it is inside it, else as the user typed it.

    So every path a command prints reads the same way, whether the library handed back an absolute path or the typed
    one.
    """
    typed = os.fspath(path)
    absolute = os.path.abspath(os.path.expanduser(typed))
    here = os.getcwd()
    if absolute == here or absolute.startswith(here.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, here)
    return typed


def shell_path(path: str | os.PathLike) -> str:
    """`shown_path`, quoted for a shell where needed, for a command line the user pastes."""
    return shlex.quote(shown_path(path))


def sibling(path: str | os.PathLike, name: str) -> Path:
    """The folder `name` beside `path` (in the same parent folder)."""
    return Path(shown_path(path)).parent / name


def next_after_subset(scored: str | os.PathLike, subset: str | os.PathLike) -> str:
    """The `Next:` line after a subset is written (`s2r select`, `s2r demo`): look at it, or train on it."""
    model_dir = sibling(subset, Path(shown_path(subset)).name + "-model")
    inspect = f"s2r inspect {shell_path(scored)} --subset {shell_path(subset)}"
    train = (
        f"s2r train --config tiny-cpu --model_name_or_path {SUGGESTED_MODEL} --dataset_name {shell_path(subset)} "
        f"--output_dir {shell_path(model_dir)}"
    )
    return f"Next: {inspect} (the report on the pool and the subset), or train on it: {train}"
