"""Decontamination: drop pool rows whose question shares a word n-gram with a benchmark problem.

A subset that holds benchmark problems inflates every score it is evaluated on. The test is open-r1's: a pool question
is contaminated when it shares one run of n consecutive words (default 8) with a problem of a benchmark, compared
after normalisation (s2r_hf.hygiene.text: case, spacing and LaTeX layout do not count). A benchmark problem shorter
than n words has no n-gram; it matches a question whose words are exactly its words.

Speed: the n-grams of every benchmark problem go into one dict (n-gram -> the problems that hold it), built once;
each pool row then looks up its own n-grams, so the work grows with the pool's n-grams, not with pool x benchmark
pairs. The rows are checked in a batched `Dataset.map` (`num_proc` processes).

Benchmarks are named as in s2r_hf.pool.benchmarks (math500, aime24, ...) and read with its `load_benchmark`: from the
Hub
by default, or from local files. Each match is reported as a pair (pool id, benchmark, benchmark id, shared n-gram),
for inspection: with n = 8, template phrases that recur across competition problems ("where m and n are relatively
prime positive integers") match too, which the pairs make visible; a larger n is stricter.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID
from s2r_hf.core.errors import ColumnError, HubUnreachableError, InputError, OptionTypeError, SourceNotFoundError
from s2r_hf.hygiene.text import WORD_RULE, batch_questions, check_question_source, question_words, word_ngrams
from s2r_hf.pool.benchmarks import BENCHMARKS, load_benchmark, parse_data_overrides, require_benchmark_names

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

DEFAULT_NGRAM = 8
MIN_NGRAM = 3  # shorter n-grams ("find the value") are shared by unrelated problems
PAIRS_FILE = "decontamination.jsonl"  # written next to the scored pool
_MATCHES = "_s2r_benchmark_matches"  # temporary column: the benchmark problems a row overlaps


def require_ngram(ngram: Any, option: str = "ngram") -> int:
    if isinstance(ngram, bool) or not isinstance(ngram, int):
        raise OptionTypeError(f"{option} must be an integer number of words, got {ngram!r} ({type(ngram).__name__})")
    if ngram < MIN_NGRAM:
        raise InputError(
            f"{option} must be at least {MIN_NGRAM} words, got {ngram}: shorter n-grams are shared by unrelated "
            f"problems (the default is {DEFAULT_NGRAM})"
        )
    return ngram


def benchmark_names(names: str | list[str] | tuple[str, ...], option: str = "--decontaminate") -> list[str]:
    """Checked benchmark names from "math500,aime24", a list, or "all" (every benchmark s2r-hf knows)."""
    if isinstance(names, str) and names.strip() == "all":
        return list(BENCHMARKS)
    return require_benchmark_names(names, option)


def load_benchmarks(
    names: str | list[str] | tuple[str, ...], data: list[str] | dict[str, str] | None = None
) -> dict[str, Dataset]:
    """{name: benchmark} read with s2r_hf.pool.benchmarks.load_benchmark; `data` maps names to local files or
    folders."""
    names = benchmark_names(names)
    paths = parse_data_overrides(data, "--benchmark-data")
    extra = sorted(set(paths) - set(names))
    if extra:
        raise InputError(
            f"--benchmark-data names {extra}, which --decontaminate does not list ({', '.join(names)}); "
            "add them there or drop the path"
        )
    loaded = {}
    for name in names:
        try:
            loaded[name] = load_benchmark(name, paths.get(name))
        except (HubUnreachableError, SourceNotFoundError) as err:
            if name in paths:
                raise
            raise type(err)(f"{err}. For a benchmark: --benchmark-data {name}=PATH reads a local copy") from None
    return loaded


@dataclass
class DecontaminationReport:
    """What decontamination dropped: counts per benchmark, and every matched (pool row, benchmark problem) pair."""

    ngram: int
    rows_in: int
    rows_dropped: int
    benchmarks: dict[str, dict[str, int]]  # name -> {"problems": ..., "rows_dropped": ...}
    pairs: list[dict[str, str]] = field(default_factory=list)  # pool_id, benchmark, benchmark_id, ngram
    words: str = WORD_RULE  # how a question is cut into words, recorded in the card

    def describe(self) -> dict[str, Any]:
        """The card's summary: everything but the pairs (they go to a file)."""
        summary = asdict(self)
        del summary["pairs"]
        return summary


def _benchmark_index(benchmarks: dict[str, Dataset], ngram: int):
    """(n-gram -> benchmark problems holding it, full text of a short problem -> those problems), built once."""
    from s2r_hf.pool.benchmarks import BENCHMARK_ID, BENCHMARK_PROBLEM

    by_ngram: dict[str, list[tuple[str, str]]] = {}
    by_text: dict[str, list[tuple[str, str]]] = {}
    for name, benchmark in benchmarks.items():
        for problem_id, problem in zip(benchmark[BENCHMARK_ID], benchmark[BENCHMARK_PROBLEM]):
            words = question_words(problem)
            reference = (name, str(problem_id))
            if len(words) < ngram:
                by_text.setdefault(" ".join(words), []).append(reference)
            for gram in dict.fromkeys(word_ngrams(words, ngram)):  # each n-gram once per problem, in order
                by_ngram.setdefault(gram, []).append(reference)
    return by_ngram, by_text


def _match_batch(batch, *, question_column, by_ngram, by_text, ngram):
    """Per row: the benchmark problems it overlaps, each with the first n-gram they share."""
    matches = []
    for question in batch_questions(batch, question_column):
        words = question_words(question)
        found: dict[tuple[str, str], str] = {}
        for gram in word_ngrams(words, ngram):
            for reference in by_ngram.get(gram, ()):
                found.setdefault(reference, gram)
        if len(words) < ngram:
            text = " ".join(words)
            for reference in by_text.get(text, ()):
                found.setdefault(reference, text)
        matches.append(
            [
                {"benchmark": name, "benchmark_id": problem_id, "ngram": gram}
                for (name, problem_id), gram in found.items()
            ]
        )
    return {_MATCHES: matches}


def decontaminate(
    dataset: Dataset,
    benchmarks: str | list[str] | dict[str, Dataset],
    *,
    ngram: int = DEFAULT_NGRAM,
    data: list[str] | dict[str, str] | None = None,
    question_column: str | None = None,
    num_proc: int | None = None,
) -> tuple[Dataset, DecontaminationReport]:
    """Drop the rows of `dataset` whose question shares an `ngram`-word n-gram with a benchmark problem.

    `benchmarks`: names ("math500,aime24", a list, or "all"; read from the Hub, or from `data` = {name: local path}),
    or already loaded benchmarks {name: Dataset with `id` and `problem` columns}. Questions are the first user turn of
    `messages`, or `question_column`. Returns the kept rows (order unchanged) and a report with the matched pairs;
    a pair's `pool_id` is the row's `s2r_id`, or its row number when the dataset has none.
    """
    from datasets.fingerprint import Hasher

    from s2r_hf._version import __version__
    from s2r_hf.core.rows import arrow_column, require_dataset, require_num_proc

    require_dataset(dataset, "the dataset to decontaminate")
    require_num_proc(num_proc)
    ngram = require_ngram(ngram)
    check_question_source(dataset, question_column)
    if not isinstance(benchmarks, dict):
        benchmarks = load_benchmarks(benchmarks, data)
    elif data:
        raise InputError("data (local benchmark paths) applies to benchmark names; the benchmarks given are loaded")
    for name, bench in benchmarks.items():
        require_dataset(bench, f"benchmark {name!r}")
        missing = [column for column in ("id", "problem") if column not in bench.column_names]
        if missing:
            raise ColumnError(
                f"benchmark {name!r} has no column(s) {missing}; columns: {bench.column_names}. Load it with "
                "s2r_hf.pool.benchmarks.load_benchmark, or pass its name"
            )
    by_ngram, by_text = _benchmark_index(benchmarks, ngram)

    # The matches are a function of the rows, the benchmark problems and n: say so, rather than let datasets hash the
    # index passed to every worker.
    content = {name: (list(bench["id"]), list(bench["problem"])) for name, bench in benchmarks.items()}
    fingerprint = Hasher.hash((dataset._fingerprint, content, ngram, question_column, __version__, "s2r-decontam-v2"))
    matched = dataset.map(
        _match_batch,
        batched=True,
        num_proc=num_proc,
        remove_columns=dataset.column_names,  # only the matches are written, not a copy of the pool
        fn_kwargs={"question_column": question_column, "by_ngram": by_ngram, "by_text": by_text, "ngram": ngram},
        new_fingerprint=fingerprint,
        desc=f"Benchmark n-grams (n = {ngram})",
    )
    matches = arrow_column(matched, _MATCHES).to_pylist()
    dropped = [index for index, found in enumerate(matches) if found]
    ids = arrow_column(dataset, ID).to_pylist() if ID in dataset.column_names else None
    pairs = [
        {"pool_id": ids[index] if ids is not None else str(index), **pair}
        for index in dropped
        for pair in matches[index]
    ]
    per_benchmark = {
        name: {
            "problems": len(bench),
            "rows_dropped": sum(1 for index in dropped if any(pair["benchmark"] == name for pair in matches[index])),
        }
        for name, bench in benchmarks.items()
    }
    dropped_set = set(dropped)
    kept = [index for index in range(len(dataset)) if index not in dropped_set]
    clean = dataset.select(kept, new_fingerprint=Hasher.hash((fingerprint, "kept"))) if dropped else dataset
    report = DecontaminationReport(ngram, len(dataset), len(dropped), per_benchmark, pairs)
    logger.info("decontamination: %d of %d rows share a benchmark n-gram (n = %d)", len(dropped), len(dataset), ngram)
    return clean, report
