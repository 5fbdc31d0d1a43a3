"""The math benchmarks s2r-hf evaluates on and decontaminates against: one registry, one loader.

Evaluation (s2r_hf.evaluation) and decontamination (s2r_hf.hygiene) both name benchmarks by these keys and read them
through `load_benchmark`, so "math500" means the same problems in both places. Each benchmark is read from its Hub
dataset by default, or from a local file or folder; the sources disagree on field names and answer types (a string,
a zero-padded string, an int, a float, a list written as a string, or only a `\\boxed{}` inside a solution), so every
row is normalised to `(id, problem, answer)` with the answer as a string.
"""

from __future__ import annotations

import ast
import math
import numbers
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import InputError

if TYPE_CHECKING:
    from datasets import Dataset

# Columns of a loaded benchmark.
BENCHMARK_ID = "id"
BENCHMARK_PROBLEM = "problem"
BENCHMARK_ANSWER = "answer"

# Fields tried in order; the first present (and non-empty for the row) wins.
PROBLEM_FIELDS = ("problem", "question", "input")
ANSWER_FIELDS = ("answer", "final_answer", "gold_answer", "expected_answer")
SOLUTION_FIELDS = ("solution",)  # used only when no answer field exists: the answer is its last \boxed{}
ID_FIELDS = ("id", "unique_id", "idx", "problem_id")


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a benchmark lives on the Hub and how the paper evaluates it."""

    name: str
    hub_repo: str
    hub_config: str | None
    split: str
    sampled: bool  # the paper's protocol: sampled (16 samples, pass@1 and maj@16) or greedy
    description: str


BENCHMARKS: dict[str, BenchmarkSpec] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("math500", "HuggingFaceH4/MATH-500", None, "test", False, "MATH500 (PRM800K's 500 problems)"),
        BenchmarkSpec("aime24", "HuggingFaceH4/aime_2024", None, "train", True, "AIME 2024, I and II (30)"),
        BenchmarkSpec("aime25", "yentinglin/aime_2025", None, "train", True, "AIME 2025, I and II (30)"),
        BenchmarkSpec("amc23", "math-ai/amc23", None, "test", True, "AMC 2023 (40)"),
        BenchmarkSpec("minerva", "math-ai/minervamath", None, "test", False, "Minerva Math (272)"),
        BenchmarkSpec(
            "olympiadbench", "Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train", False, "OlympiadBench (675)"
        ),
    )
}


def require_benchmark_names(names: str | list[str] | tuple[str, ...], option: str = "--tasks") -> list[str]:
    """Split and check benchmark names ("math500,aime24" or a list); unknown or repeated names raise InputError."""
    items = names.split(",") if isinstance(names, str) else list(names)
    if not all(isinstance(item, str) for item in items):
        raise InputError(f"{option} takes benchmark names, got {names!r}")
    cleaned = [item.strip() for item in items if item.strip()]
    if not cleaned:
        raise InputError(f"{option} needs at least one benchmark; known: {', '.join(BENCHMARKS)}")
    unknown = [name for name in cleaned if name not in BENCHMARKS]
    if unknown:
        raise InputError(f"unknown benchmark {unknown[0]!r} in {option}; known: {', '.join(BENCHMARKS)}")
    repeated = sorted({name for name in cleaned if cleaned.count(name) > 1})
    if repeated:
        raise InputError(f"benchmark {repeated[0]!r} is named twice in {option}; name each once")
    return cleaned


def parse_data_overrides(items: list[str] | dict[str, str] | None, option: str = "--data") -> dict[str, str]:
    """`["math500=/path", ...]` (or a dict) -> {name: path}, with the names checked and each path existing."""
    if not items:
        return {}
    pairs = list(items.items()) if isinstance(items, dict) else []
    if not isinstance(items, dict):
        for item in items:
            name, sep, path = str(item).partition("=")
            if not sep or not name.strip() or not path.strip():
                raise InputError(f"{option} takes NAME=PATH (e.g. math500=data/math500.jsonl), got {item!r}")
            pairs.append((name.strip(), path.strip()))
    overrides: dict[str, str] = {}
    for name, path in pairs:
        require_benchmark_names([name], option)
        if name in overrides:
            raise InputError(f"{option} names {name!r} twice; give one file or folder per benchmark")
        if not Path(path).expanduser().exists():
            raise InputError(f"{option} {name}={path}: {path!r} does not exist; give a local file or folder")
        overrides[name] = str(path)
    return overrides


def load_benchmark(name: str, path: str | os.PathLike | None = None, *, revision: str | None = None) -> Dataset:
    """One benchmark as a Dataset with string columns `id`, `problem` and `answer`, from the Hub or a local path."""
    from s2r_hf.pool.sources import load_source

    require_benchmark_names([name], "benchmark")
    spec = BENCHMARKS[name]
    if path is None:
        raw = load_source(spec.hub_repo, spec.hub_config, spec.split, revision)
        where = f"{spec.hub_repo} (split {spec.split!r})"
    else:
        raw = load_source(path, None, _local_split(Path(path).expanduser()))
        where = str(path)
    return normalise_benchmark(raw, name, where)


def check_benchmark(name: str, path: str | os.PathLike | None = None, *, revision: str | None = None) -> None:
    """Fail now, in seconds, where `load_benchmark` would fail: its Hub dataset must be reachable, or cached when
    offline (s2r_hf.pool.sources.check_source, the same source and split `load_benchmark` reads; no problem is
    downloaded), and a local file or folder must exist and hold a problem and an answer per row (it is read: a
    benchmark is at most a few thousand rows)."""
    from s2r_hf.pool.sources import check_source

    require_benchmark_names([name], "benchmark")
    spec = BENCHMARKS[name]
    if path is None:
        check_source(spec.hub_repo, spec.hub_config, spec.split, revision)
    else:
        check_source(path, None, _local_split(Path(path).expanduser()))
        load_benchmark(name, path)  # a file without a problem field fails here, before any pool is read


def normalise_benchmark(raw: Dataset, name: str, where: str) -> Dataset:
    """Map a benchmark's own fields to `id`, `problem`, `answer` (all strings); rows without a problem or answer are
    an error naming the fields found, since a silently shorter benchmark changes every score."""
    from datasets import Dataset

    columns = raw.column_names
    problem_fields = [field for field in PROBLEM_FIELDS if field in columns]
    answer_fields = [field for field in ANSWER_FIELDS if field in columns]
    solution_fields = [field for field in SOLUTION_FIELDS if field in columns]
    if not problem_fields:
        raise InputError(
            f"benchmark {name!r} from {where} has no problem field (one of {', '.join(PROBLEM_FIELDS)}); "
            f"its fields: {', '.join(columns)}"
        )
    if not answer_fields and not solution_fields:
        raise InputError(
            f"benchmark {name!r} from {where} has no recognisable answer field (one of "
            f"{', '.join(ANSWER_FIELDS + SOLUTION_FIELDS)}); its fields: {', '.join(columns)}"
        )
    id_field = next((field for field in ID_FIELDS if field in columns), None)
    ids, problems, answers = [], [], []
    for index, row in enumerate(raw):
        problem = next((row[field] for field in problem_fields if _present(row[field])), None)
        answer = next((answer_text(row[field]) for field in answer_fields if _present(row[field])), None)
        if answer is None:
            answer = next((last_boxed(row[field]) for field in solution_fields if _present(row[field])), None)
        if not isinstance(problem, str) or not problem.strip():
            raise InputError(f"benchmark {name!r} from {where}: row {index} has no problem text")
        if answer is None or not answer.strip():
            raise InputError(
                f"benchmark {name!r} from {where}: row {index} has no answer (fields tried: "
                f"{', '.join(answer_fields + solution_fields)}); fix the file or give another with --data"
            )
        context = row.get("context")
        if isinstance(context, str) and context.strip():  # OlympiadBench: some problems build on a shared context
            problem = f"{context.strip()}\n\n{problem}"
        ids.append(str(row[id_field]) if id_field is not None and row[id_field] is not None else str(index))
        problems.append(problem)
        answers.append(answer)
    if not problems:
        raise InputError(f"benchmark {name!r} from {where} has no rows")
    return Dataset.from_dict({BENCHMARK_ID: ids, BENCHMARK_PROBLEM: problems, BENCHMARK_ANSWER: answers})


def answer_text(value: Any) -> str | None:
    """A gold answer as a string: 27.0 -> "27", 70 -> "70", 1e-07 -> "0.0000001", "['2', '3']" -> "2, 3", "025" stays
    "025"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return _number_text(value)
    if isinstance(value, (list, tuple)):
        parts = [answer_text(item) for item in value]
        return ", ".join(part for part in parts if part) or None
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):  # OlympiadBench writes its list of answers as a Python literal
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parsed, (list, tuple)):
            return answer_text(parsed)
    return text or None


def _number_text(value: numbers.Real) -> str | None:
    """A number written out in positional notation with its shortest round-trip digits: never `1e-07`, which the
    grader's LaTeX parser does not read as 0.0000001 (so an equal answer would be graded wrong)."""
    if not math.isfinite(float(value)):
        return None
    exact = Decimal(str(value))  # str: the shortest digits that round-trip (numpy's float32 included)
    if exact == exact.to_integral_value():
        return str(int(exact))
    return format(exact, "f")


_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def last_boxed(text: str | None) -> str | None:
    """The content of the last `\\boxed{...}` (or `\\fbox{...}`) in `text`, braces balanced; None when there is none."""
    if not isinstance(text, str):
        return None
    starts = [match.end() for match in _BOXED.finditer(text)]
    for start in reversed(starts):
        depth = 1
        for position in range(start, len(text)):
            if text[position] == "{":
                depth += 1
            elif text[position] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:position].strip()
    return None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _local_split(path: Path) -> str:
    """A local folder holds one split (benchmarks ship as test.jsonl, train.parquet, ...): use whichever it has."""
    if not path.is_dir():
        return "train"  # a single file is always read as datasets' "train" split
    import datasets

    data_files = datasets.load_dataset_builder(str(path)).config.data_files or {}
    if len(data_files) == 1:
        return str(next(iter(data_files)))
    if "test" in data_files:
        return "test"
    raise InputError(f"{str(path)!r} holds splits {sorted(data_files)}; name the file of the benchmark's test split")
