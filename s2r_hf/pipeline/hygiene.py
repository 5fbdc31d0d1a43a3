"""The hygiene steps of `s2r score` (ScoreConfig's hygiene options): checks, then decontamination before scoring and
near-duplicate clustering after it, each recorded under `hygiene` in the scored pool's card metadata.

The steps read the hygiene options of a config (`HygieneOptions`: the fields ScoreConfig defines for them) and never
ScoreConfig itself, which calls them: so s2r_hf.pipeline.score builds on this module, not the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from s2r_hf.core.errors import InputError
from s2r_hf.hygiene.decontaminate import (
    ANY_NGRAM_RULE,
    benchmark_names,
    check_rule_settings,
    decontaminate,
    load_benchmarks,
    require_boilerplate,
    require_coverage_threshold,
    require_ngram,
    require_rule,
)
from s2r_hf.hygiene.near_duplicates import cluster_questions, require_threshold
from s2r_hf.pool.benchmarks import parse_data_overrides
from s2r_hf.selection import drop_near_duplicates

if TYPE_CHECKING:
    from datasets import Dataset


class HygieneOptions(Protocol):
    """What the hygiene steps read of a config: the hygiene fields of s2r_hf.pipeline.score.ScoreConfig."""

    decontaminate: str | None
    decontaminate_rule: str
    decontaminate_ngram: int | None
    decontaminate_threshold: float
    decontaminate_boilerplate: int
    benchmark_data: str | None
    near_duplicates: str
    near_duplicate_threshold: float
    near_duplicate_weight: float
    num_proc: int | None


NEAR_DUPLICATE_MODES = ("off", "cluster", "drop")


def benchmark_data_items(benchmark_data: str | None) -> list[str]:
    """ScoreConfig.benchmark_data ("math500=a.jsonl,aime24=b/") as NAME=PATH items."""
    return [item for item in (benchmark_data or "").split(",") if item.strip()]


def check_hygiene_options(config: HygieneOptions) -> None:
    """Refuse bad hygiene options in one line, before any work (called by ScoreConfig.__post_init__)."""
    require_rule(config.decontaminate_rule, "decontaminate_rule (--decontaminate-rule)")
    if config.decontaminate_ngram is not None:
        require_ngram(config.decontaminate_ngram, "decontaminate_ngram (--decontaminate-ngram)")
    require_coverage_threshold(config.decontaminate_threshold, "decontaminate_threshold (--decontaminate-threshold)")
    require_boilerplate(config.decontaminate_boilerplate, "decontaminate_boilerplate (--decontaminate-boilerplate)")
    check_rule_settings(
        config.decontaminate_rule,
        threshold=config.decontaminate_threshold,
        boilerplate=config.decontaminate_boilerplate,
        options=("decontaminate_threshold (--decontaminate-threshold)",
                 "decontaminate_boilerplate (--decontaminate-boilerplate)"),
    )  # fmt: skip
    require_threshold(config.near_duplicate_threshold, "near_duplicate_threshold (--near-duplicate-threshold)")
    if config.near_duplicates not in NEAR_DUPLICATE_MODES:
        raise InputError(f"near_duplicates must be one of {list(NEAR_DUPLICATE_MODES)}, got {config.near_duplicates!r}")
    if not 0 <= config.near_duplicate_weight <= 1:
        raise InputError(f"near_duplicate_weight must be in [0, 1], got {config.near_duplicate_weight}")
    if config.decontaminate is None:
        if config.benchmark_data:
            raise InputError("--benchmark-data gives benchmark files, but --decontaminate names no benchmark to use")
        return
    paths = parse_data_overrides(benchmark_data_items(config.benchmark_data), "--benchmark-data")
    names = benchmark_names(config.decontaminate)
    extra = sorted(set(paths) - set(names))
    if extra:
        raise InputError(
            f"--benchmark-data names {extra}, which --decontaminate does not list ({', '.join(names)}); "
            "add them there or drop the path"
        )


def load_hygiene_benchmarks(config: HygieneOptions) -> dict[str, Dataset] | None:
    if config.decontaminate is None:
        return None
    return load_benchmarks(config.decontaminate, benchmark_data_items(config.benchmark_data))


def decontaminate_pool(
    pool: Dataset, benchmarks: dict[str, Dataset] | None, config: HygieneOptions, *, mapper=None
) -> tuple[Dataset, dict[str, Any]]:
    """Drop the rows that overlap a benchmark; a pool left empty is an error naming the filter.

    `mapper`: the engine's batch runner (s2r_hf.hygiene.decontaminate.decontaminate's); None = `Dataset.map`.
    """
    if benchmarks is None:
        return pool, {}
    clean, report = decontaminate(
        pool,
        benchmarks,
        rule=config.decontaminate_rule,
        ngram=config.decontaminate_ngram,
        threshold=config.decontaminate_threshold,
        boilerplate=config.decontaminate_boilerplate,
        num_proc=config.num_proc,
        mapper=mapper,
    )
    if not len(clean):
        raise InputError(
            f"decontamination (--decontaminate {config.decontaminate}) dropped all {report.rows_in} rows: every "
            f"question copies a benchmark problem ({describe_rule(report.describe())}). Is the pool a benchmark? "
            "s2r_hf.decontaminate(pool, ...) returns the matched pairs, with the words each shares"
        )
    return clean, {"decontamination": {**report.describe(), "pairs": report.pairs}}


def handle_near_duplicates(pool: Dataset, config: HygieneOptions, hygiene: dict[str, Any], *, mapper=None):
    """Add the cluster column (cluster), and keep the best-ranked row per cluster (drop); `mapper` as above."""
    if config.near_duplicates == "off":
        return pool, hygiene
    pool, report = cluster_questions(
        pool, threshold=config.near_duplicate_threshold, num_proc=config.num_proc, mapper=mapper
    )
    if config.near_duplicates == "drop":
        pool, report.rows_dropped = drop_near_duplicates(pool, weight=config.near_duplicate_weight)
    summary = {**report.describe(), "mode": config.near_duplicates}
    if config.near_duplicates == "drop":
        summary["weight"] = config.near_duplicate_weight
    return pool, {**hygiene, "near_duplicates": summary}


def describe_rule(decontamination: dict[str, Any]) -> str:
    """The rule of a decontamination summary (the card's), in a few words: "covering >= 0.6 of a problem in 5-word
    n-grams" or "8-word n-gram". A card written before rules had names was any-ngram's."""
    ngram = decontamination["ngram"]
    if decontamination.get("rule", ANY_NGRAM_RULE) == ANY_NGRAM_RULE:
        return f"{ngram}-word n-gram"
    return f"covering >= {decontamination['threshold']:g} of a problem in {ngram}-word n-grams"


def hygiene_drops(hygiene: dict[str, Any]) -> dict[str, int]:
    """The rows hygiene dropped, by reason, for the card's and the command's `dropped` counts."""
    drops = {}
    decontamination = hygiene.get("decontamination")
    if decontamination:
        drops[f"overlapping a benchmark ({describe_rule(decontamination)})"] = decontamination["rows_dropped"]
    near = hygiene.get("near_duplicates")
    if near and near["mode"] == "drop":
        drops["near-duplicate questions"] = near["rows_dropped"]
    return drops
