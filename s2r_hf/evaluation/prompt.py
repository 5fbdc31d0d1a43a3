"""The paper's prompt and the names of our lighteval tasks: shared by the tasks (which import lighteval) and the
runner (which does not)."""

from __future__ import annotations

import re

from s2r_hf.core.prompts import REASONING_SYSTEM_PROMPT

# Select2Reason's evaluation prompt (its one home is s2r_hf.core.prompts: the sampled difficulty asks with it too).
SYSTEM_PROMPT = REASONING_SYSTEM_PROMPT
# Our tasks are named s2r_<benchmark>: lighteval refuses custom tasks named like its built-ins (math_500, aime24, ...).
TASK_PREFIX = "s2r_"

_DETAILS_FILE = re.compile(rf"details_{TASK_PREFIX}([a-z0-9_]+)\|\d+_.*\.parquet")


def task_name(benchmark: str) -> str:
    """`math500` -> `s2r_math500`."""
    return f"{TASK_PREFIX}{benchmark}"


def benchmark_of(task: str) -> str:
    """`s2r_math500|0`, `s2r_math500:0` (Pipeline.get_results' spelling) or `s2r_math500` -> `math500`."""
    return re.split(r"[|:]", task, maxsplit=1)[0].removeprefix(TASK_PREFIX)


def benchmark_of_details(filename: str) -> str | None:
    """The benchmark of a lighteval details file (`details_s2r_math500|0_<date>.parquet`), or None for another file."""
    match = _DETAILS_FILE.fullmatch(filename)
    return match.group(1) if match else None
