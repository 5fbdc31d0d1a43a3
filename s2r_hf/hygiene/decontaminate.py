"""Decontamination: drop pool rows whose question covers a benchmark problem.

A subset that holds benchmark problems inflates every score it is evaluated on. Questions and problems are compared
as words after normalisation (s2r_hf.hygiene.text: case, spacing and LaTeX layout do not count), in runs of n
consecutive words (n-grams). Two rules, chosen by name (`DECONTAMINATION_RULES`):

- `coverage` (the default, n = 5). A question is contaminated by a benchmark problem when the n-grams it shares with
  the problem cover at least a share `threshold` (default 0.6) of the problem's words. Three things make the share mean
  what it says:
  - numbers are masked (every number reads `0`), so a problem copied with its numbers changed still matches;
  - an n-gram found in `boilerplate` (default 4) or more distinct benchmark problems is a template phrase ("where m
    and n are relatively prime positive integers"), not evidence: it neither counts for the share nor makes a match,
    and the words only such n-grams hold are left out of the problem's words (a problem made of template phrases
    alone is measured on all its n-grams; a run of such n-grams longer than TEMPLATE_WORDS words is the context
    several parts of one problem share, and counts);
  - a problem shorter than n words (mostly formula: "Simplify $\\sqrt{242}$." is 2 words, as a formula is one word)
    has no n-gram: it matches a question that holds all its words in a row.
  Covering a share of the problem's words (rather than of its n-grams, as Tulu 3 counts) keeps a cut copy's share
  close to the part kept: the first 80% of a problem covers about 80% of its words whatever its length. A question
  cut short inside a formula (opened, never closed: its pieces match nothing) covers the problem's formula when the
  formula's start, glued as a whole formula is, begins it and holds at least CUT_FORMULA_SHARE of it, right after
  the n - 1 words before that formula in the problem (all of them, near its start): the n-gram ending in the
  formula counts.
- `any-ngram` (n = 8): open-r1's rule. One shared n-gram (numbers kept, no boilerplate) is a match; a problem
  shorter than n words matches a question whose words are exactly its words. On competition math, template phrases
  shared by many problems make it drop clean rows (a quarter of the LIMO pool against the six benchmarks).

Each match is reported as a pair: pool id, benchmark, benchmark id, the share of the problem's words covered, and up
to three runs of shared words as evidence (longest first; numbers read `0` under `coverage`).

Speed: the n-grams of every benchmark problem go into one dict (n-gram -> the problems that hold it), built once;
each pool row looks up its own n-grams and measures only the problems it shares one with, so the work grows with the
pool's n-grams, not with pool x benchmark pairs. The rows are checked in a batched `Dataset.map` (`num_proc`
processes).

Benchmarks are named as in s2r_hf.pool.benchmarks (math500, aime24, ...) and read with its `load_benchmark`: from the
Hub by default, or from local files.
"""

from __future__ import annotations

import logging
import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnError, HubUnreachableError, InputError, OptionTypeError, SourceNotFoundError
from s2r_hf.hygiene.text import (
    WORD_RULE,
    batch_questions,
    check_question_source,
    question_words,
    question_words_cut,
    word_ngrams,
)
from s2r_hf.pool.benchmarks import BENCHMARKS, load_benchmark, parse_data_overrides, require_benchmark_names

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

COVERAGE_RULE = "coverage"
ANY_NGRAM_RULE = "any-ngram"
# The rules by name (the registry `require_rule` checks against), each with what it means.
DECONTAMINATION_RULES = {
    COVERAGE_RULE: "the n-grams a question shares with a benchmark problem cover at least the threshold's share of "
    "the problem's words (numbers masked, template n-grams left out)",
    ANY_NGRAM_RULE: "a question shares one n-gram with a benchmark problem (open-r1's rule)",
}
DEFAULT_RULE = COVERAGE_RULE
# n per rule: 8 is open-r1's; the coverage rule's defaults were chosen on injected benchmark problems of a development
# split (benchmarks/bench_decontamination.py), under the constraint of keeping at least 98% of the real LIMO pool.
DEFAULT_NGRAMS = {COVERAGE_RULE: 5, ANY_NGRAM_RULE: 8}
DEFAULT_NGRAM = DEFAULT_NGRAMS[DEFAULT_RULE]
MIN_NGRAM = 3  # shorter n-grams ("find the value") are shared by unrelated problems
DEFAULT_THRESHOLD = 0.6
DEFAULT_BOILERPLATE = 4
# The longest template phrase: "a geometric sequence is a sequence in which each term after the first is obtained from
# the previous term by multiplying it by a constant" (OlympiadBench) is 27 words; the contexts shared by the parts of a
# multi-part problem run to 50 words and more.
TEMPLATE_WORDS = 40
EVIDENCE_RUNS = 3  # runs of shared words kept per matched pair
EVIDENCE_WORDS = 40  # a longer run is cut to its first words in the record
PAIRS_FILE = "decontamination.jsonl"  # written next to the scored pool
_MATCHES = "_s2r_benchmark_matches"  # temporary column: the benchmark problems a row overlaps
# A question cut inside a formula continues a problem's formula that its glued start begins and holds at least this
# share of (chosen on the development split of benchmarks/bench_decontamination.py: the largest share that keeps the
# best recall of cut copies there; with none, "find the value of $|\\log" continued "find the value of $\\log_2 ...$").
CUT_FORMULA_SHARE = 0.25
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # 12, 3.25, 1,000: one number each


def require_ngram(ngram: Any, option: str = "ngram") -> int:
    if isinstance(ngram, bool) or not isinstance(ngram, int):
        raise OptionTypeError(f"{option} must be an integer number of words, got {ngram!r} ({type(ngram).__name__})")
    if ngram < MIN_NGRAM:
        raise InputError(
            f"{option} must be at least {MIN_NGRAM} words, got {ngram}: shorter n-grams are shared by unrelated "
            f"problems (the defaults: {', '.join(f'{n} for {rule}' for rule, n in DEFAULT_NGRAMS.items())})"
        )
    return ngram


def require_rule(rule: Any, option: str = "rule") -> str:
    if not isinstance(rule, str) or rule not in DECONTAMINATION_RULES:
        raise InputError(f"{option} must be one of {', '.join(DECONTAMINATION_RULES)}, got {rule!r}")
    return rule


def require_coverage_threshold(threshold: Any, option: str = "threshold") -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise OptionTypeError(f"{option} must be a number in (0, 1], got {threshold!r} ({type(threshold).__name__})")
    if not 0 < threshold <= 1:  # NaN fails too
        raise InputError(
            f"{option} must be a share of a benchmark problem's words in (0, 1], got {threshold} (the default is "
            f"{DEFAULT_THRESHOLD})"
        )
    return float(threshold)


def require_boilerplate(boilerplate: Any, option: str = "boilerplate") -> int:
    if isinstance(boilerplate, bool) or not isinstance(boilerplate, numbers.Integral):
        raise OptionTypeError(f"{option} must be an integer number of problems, got {boilerplate!r}")
    if boilerplate != 0 and boilerplate < 2:
        raise InputError(
            f"{option} must be 0 (off) or at least 2 benchmark problems, got {boilerplate}: an n-gram of a single "
            f"problem is that problem's text, not a template (the default is {DEFAULT_BOILERPLATE})"
        )
    return int(boilerplate)


def check_rule_settings(rule: str, *, threshold: float, boilerplate: int, options: Sequence[str] = ()) -> None:
    """The threshold and the boilerplate count are settings of the coverage rule: refuse them changed with another
    rule, where they would be ignored. `options` names them as the caller's user typed them (flags, keywords)."""
    names = list(options) or ["threshold", "boilerplate"]
    changed = [
        name
        for name, value, default in zip(names, (threshold, boilerplate), (DEFAULT_THRESHOLD, DEFAULT_BOILERPLATE))
        if value != default
    ]
    if rule != COVERAGE_RULE and changed:
        raise InputError(
            f"{' and '.join(changed)} set the {COVERAGE_RULE} rule, but the rule is {rule!r}; drop them or use "
            f"the {COVERAGE_RULE} rule"
        )


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
    """What decontamination dropped, under which rule: counts per benchmark, and every matched (pool row, benchmark
    problem) pair with its evidence."""

    ngram: int
    rows_in: int
    rows_dropped: int
    benchmarks: dict[str, dict[str, int]]  # name -> {"problems": ..., "rows_dropped": ...}
    # pool_id, benchmark, benchmark_id, coverage (share of the problem's words), shared (runs of shared words)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    words: str = WORD_RULE  # how a question is cut into words, recorded in the card
    rule: str = DEFAULT_RULE
    threshold: float | None = DEFAULT_THRESHOLD  # the coverage rule's; None under any-ngram
    boilerplate: int | None = DEFAULT_BOILERPLATE  # the coverage rule's (0: off); None under any-ngram
    numbers: str = "masked"  # "masked" (every number reads 0) or "kept"

    def describe(self) -> dict[str, Any]:
        """The card's summary: everything but the pairs (they go to a file)."""
        summary = asdict(self)
        del summary["pairs"]
        return summary


def words_for_rule(text: str, mask_numbers: bool) -> list[str]:
    """The words a rule compares: question_words, with every number read as 0 when numbers are masked."""
    return question_words(_NUMBER.sub("0", text) if mask_numbers else text)


@dataclass
class _Problem:
    """A benchmark problem as the matcher measures it."""

    reference: tuple[str, str]  # (benchmark, benchmark id)
    words: list[str]
    grams: list[str]  # its n-grams in order (none for a problem shorter than n words)
    counted: list[bool]  # per n-gram: not boilerplate
    content: int  # words held by a counted n-gram: the share's denominator
    starts: dict[str, list[int]] = field(default_factory=dict)  # counted n-gram -> where it starts in the problem


@dataclass
class _Index:
    """The benchmark problems, indexed once: what every batch of pool rows is matched against."""

    rule: str
    ngram: int
    threshold: float
    mask_numbers: bool
    problems: list[_Problem]
    by_ngram: dict[str, list[int]]  # counted n-gram -> the problems holding it
    short_by_first: dict[str, list[int]]  # coverage: first word of a short problem -> those problems
    short_by_text: dict[str, list[int]]  # any-ngram: words of a short problem -> those problems
    # coverage: the n - 1 words before a problem's word (fewer: all the words before it, at the problem's start) ->
    # (problem, the word's position), where a question cut inside that word (a formula) can continue
    contexts: dict[str, list[tuple[int, int]]] = field(default_factory=dict)


def _build_index(benchmarks: dict[str, Dataset], rule: str, ngram: int, threshold: float, boilerplate: int) -> _Index:
    from s2r_hf.pool.benchmarks import BENCHMARK_ID, BENCHMARK_PROBLEM

    mask_numbers = rule == COVERAGE_RULE
    problems = []
    for name, benchmark in benchmarks.items():
        for problem_id, text in zip(benchmark[BENCHMARK_ID], benchmark[BENCHMARK_PROBLEM]):
            words = words_for_rule(text, mask_numbers)
            grams = list(word_ngrams(words, ngram))
            problems.append(_Problem((name, str(problem_id)), words, grams, [True] * len(grams), len(words)))

    if rule == COVERAGE_RULE and boilerplate:
        # How many distinct problems hold each n-gram: a problem listed twice (in two benchmarks) counts once.
        holders: dict[str, set[str]] = {}
        for problem in problems:
            text = " ".join(problem.words)
            for gram in problem.grams:
                holders.setdefault(gram, set()).add(text)
        frequent = {gram for gram, texts in holders.items() if len(texts) >= boilerplate}
        for problem in problems:
            counted = _template_free([gram not in frequent for gram in problem.grams], ngram)
            if any(counted):  # a problem made of template phrases alone is measured on all its n-grams
                problem.counted = counted
                problem.content = _covered_words(counted, ngram, len(problem.words))

    by_ngram: dict[str, list[int]] = {}
    short_by_first: dict[str, list[int]] = {}
    short_by_text: dict[str, list[int]] = {}
    for position, problem in enumerate(problems):
        for start, (gram, counted) in enumerate(zip(problem.grams, problem.counted)):
            if counted:
                problem.starts.setdefault(gram, []).append(start)
        if not problem.grams:
            if not problem.words:
                continue  # a problem with no letter or digit (a bare image reference) can match nothing
            if rule == COVERAGE_RULE:
                short_by_first.setdefault(problem.words[0], []).append(position)
            else:
                short_by_text.setdefault(" ".join(problem.words), []).append(position)
            continue
        for gram in dict.fromkeys(gram for gram, counted in zip(problem.grams, problem.counted) if counted):
            by_ngram.setdefault(gram, []).append(position)
    contexts: dict[str, list[tuple[int, int]]] = {}
    if rule == COVERAGE_RULE:
        for position, problem in enumerate(problems):
            for word in range(1, len(problem.words)):
                # a word an n-gram ends: only where that n-gram counts; in a short problem, every word but the first
                if problem.grams and (word < ngram - 1 or not problem.counted[word - ngram + 1]):
                    continue
                context = " ".join(problem.words[max(0, word - ngram + 1) : word])
                contexts.setdefault(context, []).append((position, word))
    return _Index(rule, ngram, threshold, mask_numbers, problems, by_ngram, short_by_first, short_by_text, contexts)


def _template_free(counted: list[bool], ngram: int) -> list[bool]:
    """`counted` (per n-gram: not frequent) with the long runs of frequent n-grams counted again: a run of more than
    TEMPLATE_WORDS words that several problems share is a context they build on (a multi-part problem's statement, a
    previous subproblem and its solution), which a question that copies it has copied, not a template phrase."""
    counted = list(counted)
    start = None
    for position, flag in enumerate([*counted, True]):
        if not flag and start is None:
            start = position
        elif flag and start is not None:
            if position - start + ngram - 1 > TEMPLATE_WORDS:
                counted[start:position] = [True] * (position - start)
            start = None
    return counted


def _covered_words(marks: Sequence[bool], ngram: int, length: int) -> int:
    """How many of `length` words the marked n-grams (by start) hold."""
    covered = bytearray(length)
    for start, marked in enumerate(marks):
        if marked:
            covered[start : start + ngram] = b"\x01" * ngram
    return sum(covered)


def _shared_runs(words: Sequence[str], covered: bytearray) -> list[str]:
    """The runs of covered words, longest first (ties: in text order), each cut to EVIDENCE_WORDS words."""
    runs = []
    start = None
    for position, flag in enumerate([*covered, 0]):
        if flag and start is None:
            start = position
        elif not flag and start is not None:
            runs.append((start, position))
            start = None
    runs.sort(key=lambda run: (run[0] - run[1], run[0]))
    return [" ".join(words[a : min(b, a + EVIDENCE_WORDS)]) for a, b in runs[:EVIDENCE_RUNS]]


def _covered(problem: _Problem, shared: list[str], ngram: int) -> bytearray:
    """Per word of the problem: 1 where one of the counted n-grams it shares with the question covers it."""
    covered = bytearray(len(problem.words))
    for gram in shared:
        for start in problem.starts[gram]:
            covered[start : start + ngram] = b"\x01" * ngram
    return covered


def _cut_words(words: list[str], cut: tuple[int, str], index: _Index) -> dict[int, list[int]]:
    """Coverage: where a question cut inside a formula continues. Its last words before the formula are the n - 1 words
    before a problem's word (or all the words before it, from the problem's start) and the formula's glued start
    begins that word: {problem: [the word's positions]}."""
    before, start = cut
    head = words[:before]
    ends: dict[int, list[int]] = {}
    for width in range(1, min(index.ngram - 1, len(head)) + 1):
        for position, word in index.contexts.get(" ".join(head[-width:]), ()):
            # a context shorter than n - 1 words is a problem's start: the question's head must end with all of it
            whole = index.problems[position].words[word]
            if (
                (word == width or width == index.ngram - 1)
                and whole.startswith(start)
                and len(start) >= CUT_FORMULA_SHARE * len(whole)
            ):
                ends.setdefault(position, []).append(word)
    return ends


def match_question(question: str, index: _Index) -> list[dict[str, Any]]:
    """The benchmark problems that `question` is contaminated by under the index's rule, with the evidence."""
    ngram = index.ngram
    if index.contexts:
        words, cut = question_words_cut(_NUMBER.sub("0", question))
    else:
        words, cut = words_for_rule(question, index.mask_numbers), None
    shared_grams: dict[int, list[str]] = {}  # candidate problem -> the n-grams it shares; in the order first met
    for gram in dict.fromkeys(word_ngrams(words, ngram)):
        for position in index.by_ngram.get(gram, ()):
            shared_grams.setdefault(position, []).append(gram)
    # a question cut inside a formula: the n-gram ending in that formula counts when the formula's start begins it
    ends = _cut_words(words, cut, index) if cut else {}
    for position in ends:
        shared_grams.setdefault(position, [])
    found = []
    for position, shared in shared_grams.items():
        problem = index.problems[position]
        cut_ends = ends.get(position, ())
        # k shared n-grams cover at most k * n words: most candidates (a phrase or two in common) end here, unmeasured
        if index.rule == COVERAGE_RULE and (len(shared) + bool(cut_ends)) * ngram < index.threshold * problem.content:
            continue
        covered = _covered(problem, shared, ngram)
        for word in cut_ends:
            covered[max(0, word - ngram + 1) : word + 1] = b"\x01" * (word + 1 - max(0, word - ngram + 1))
        coverage = sum(covered) / problem.content
        if index.rule == ANY_NGRAM_RULE or coverage >= index.threshold:
            found.append((position, coverage, _shared_runs(problem.words, covered)))
    if index.short_by_first:  # coverage: a short problem's words, in a row, anywhere in the question
        met = {position for position, _, _ in found}  # a short problem a cut formula already matched
        for start in [start for start, word in enumerate(words) if word in index.short_by_first]:
            for position in index.short_by_first[words[start]]:
                short = index.problems[position].words
                if position not in met and words[start : start + len(short)] == short:
                    met.add(position)
                    found.append((position, 1.0, [" ".join(short[:EVIDENCE_WORDS])]))
    if index.short_by_text and len(words) < ngram:  # any-ngram: the question is the short problem
        text = " ".join(words)
        found += [(position, 1.0, [text]) for position in index.short_by_text.get(text, ())]
    return [
        {
            "benchmark": index.problems[position].reference[0],
            "benchmark_id": index.problems[position].reference[1],
            # rounded down, so that a share shown as 0.5 was at least 0.5
            "coverage": math.floor(coverage * 1000) / 1000,
            "shared": shared,
        }
        for position, coverage, shared in found
    ]


def _match_batch(batch, *, question_column, index):
    return {_MATCHES: [match_question(question, index) for question in batch_questions(batch, question_column)]}


def decontaminate(
    dataset: Dataset,
    benchmarks: str | list[str] | dict[str, Dataset],
    *,
    rule: str = DEFAULT_RULE,
    ngram: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    boilerplate: int = DEFAULT_BOILERPLATE,
    data: list[str] | dict[str, str] | None = None,
    question_column: str | None = None,
    num_proc: int | None = None,
    mapper: Callable[..., Dataset] | None = None,
) -> tuple[Dataset, DecontaminationReport]:
    """Drop the rows of `dataset` whose question is contaminated by a benchmark problem under `rule`.

    `rule`: "coverage" (default: the shared `ngram`-word n-grams cover at least `threshold` of the problem's words,
    numbers masked, n-grams found in `boilerplate` or more benchmark problems not counted, 0 = count all) or
    "any-ngram" (open-r1's: one shared n-gram). `ngram` defaults to the rule's (5 for coverage, 8 for any-ngram).
    `benchmarks`: names ("math500,aime24", a list, or "all"; read from
    the Hub, or from `data` = {name: local path}), or already loaded benchmarks {name: Dataset with `id` and `problem`
    columns}. Questions are the first user turn of `messages`, or `question_column`. Returns the kept rows (order
    unchanged) and a report with the matched pairs; a pair's `pool_id` is the row's `s2r_id`, or its row number when
    the dataset has none. `mapper(dataset, function, fn_kwargs=..., desc=..., columns=...)` replaces the matching map
    (another engine, s2r_hf.pipeline.ray_engine): it runs the function on `columns` and returns a dataset of its output
    columns only, row for row.
    """
    from datasets.fingerprint import Hasher

    from s2r_hf._version import __version__
    from s2r_hf.core.rows import arrow_column, require_dataset, require_num_proc

    require_dataset(dataset, "the dataset to decontaminate")
    require_num_proc(num_proc)
    rule = require_rule(rule)
    ngram = DEFAULT_NGRAMS[rule] if ngram is None else require_ngram(ngram)
    threshold = require_coverage_threshold(threshold)
    boilerplate = require_boilerplate(boilerplate)
    check_rule_settings(rule, threshold=threshold, boilerplate=boilerplate)
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
    benchmark_index = _build_index(benchmarks, rule, ngram, threshold, boilerplate)

    # The matches are a function of the rows, the benchmark problems and the rule's settings: say so, rather than let
    # datasets hash the index passed to every worker.
    content = {name: (list(bench["id"]), list(bench["problem"])) for name, bench in benchmarks.items()}
    settings = (rule, ngram, threshold, boilerplate)
    fingerprint = Hasher.hash(
        (dataset._fingerprint, content, settings, question_column, __version__, "s2r-decontam-v4")
    )
    fn_kwargs = {"question_column": question_column, "index": benchmark_index}
    desc = f"Benchmark n-grams ({rule}, n = {ngram})"
    if mapper is not None:
        matched = mapper(dataset, _match_batch, fn_kwargs=fn_kwargs, desc=desc, columns=[question_column or MESSAGES])
    else:
        matched = dataset.map(
            _match_batch,
            batched=True,
            num_proc=num_proc,
            remove_columns=dataset.column_names,  # only the matches are written, not a copy of the pool
            fn_kwargs=fn_kwargs,
            new_fingerprint=fingerprint,
            desc=desc,
        )
    matches = arrow_column(matched, _MATCHES).to_pylist()
    dropped = [row for row, found in enumerate(matches) if found]
    ids = arrow_column(dataset, ID).to_pylist() if ID in dataset.column_names else None
    pairs = [{"pool_id": ids[row] if ids is not None else str(row), **pair} for row in dropped for pair in matches[row]]
    per_benchmark = {
        name: {
            "problems": len(bench),
            "rows_dropped": sum(1 for row in dropped if any(pair["benchmark"] == name for pair in matches[row])),
        }
        for name, bench in benchmarks.items()
    }
    dropped_set = set(dropped)
    kept = [row for row in range(len(dataset)) if row not in dropped_set]
    clean = dataset.select(kept, new_fingerprint=Hasher.hash((fingerprint, "kept"))) if dropped else dataset
    coverage_rule = rule == COVERAGE_RULE
    report = DecontaminationReport(
        ngram,
        len(dataset),
        len(dropped),
        per_benchmark,
        pairs,
        rule=rule,
        threshold=threshold if coverage_rule else None,
        boilerplate=boilerplate if coverage_rule else None,
        numbers="masked" if coverage_rule else "kept",
    )
    logger.info("decontamination (%s, n = %d): %d of %d rows dropped", rule, ngram, len(dropped), len(dataset))
    return clean, report
