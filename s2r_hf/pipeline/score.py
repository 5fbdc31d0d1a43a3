"""Scoring a pool: source -> adapter -> trace length and rethink count -> difficulty.

`score_pool` is what `s2r score` runs. Each step is a batched `Dataset.map`, so datasets' fingerprint cache makes a
re-run with the same settings free and a changed setting recompute only what depends on it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.core.errors import InputError, OptionTypeError
from s2r_hf.core.options import check_choice, check_field_types, options_of
from s2r_hf.core.rows import require_num_proc
from s2r_hf.hygiene.decontaminate import DEFAULT_BOILERPLATE, DEFAULT_RULE, DEFAULT_THRESHOLD
from s2r_hf.pipeline.hygiene import (
    check_hygiene_options,
    decontaminate_pool,
    handle_near_duplicates,
    hygiene_drops,
    load_hygiene_benchmarks,
)
from s2r_hf.signals.difficulty import RolloutConfig, parse_scorer_spec
from s2r_hf.signals.judge.scorer import JudgeConfig
from s2r_hf.signals.sampled.config import SampledConfig

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)


ADAPTERS = ("auto", "openr1", "generic", "chinese-distill", "sharegpt", "s1k")
RETHINK_LANGUAGES = (
    "en",
    "zh",
)  # keys of s2r_hf.signals.length.RETHINK_LANGUAGES (not imported: `s2r --help` stays light)
OPENR1_MODES = ("problem", "generations")


@dataclass
class ScoreConfig:
    """How to build and score a pool: the options of `s2r score`, of `score_pool` and of the builder, defined once.

    The scorer settings are nested configs, each defined next to its scorer: `rollout` (RolloutConfig: flags_column),
    `judge` (s2r_hf.signals.judge.scorer.JudgeConfig: model, revision, system prompt, ...) and `sampled`
    (s2r_hf.signals.sampled.config.SampledConfig: rollout model, k, sampling settings, ...). Only the one `difficulty`
    names is used; changing the others' settings is refused, as they would be ignored.
    """

    source: str = field(
        default="",
        metadata={
            "help": "Hub dataset id, local folder, or jsonl/json/parquet/csv file",
            "builder": "pool",
            "cli": False,  # the POOL argument of `s2r score`
        },
    )
    config: str | None = field(
        default=None,
        metadata={"help": "dataset config of the source, e.g. default for OpenR1", "group": "source",
                  "builder": "pool_config"},
    )  # fmt: skip
    split: str = field(default="train", metadata={"help": "split to read", "group": "source", "builder": "pool_split"})
    revision: str | None = field(
        default=None,
        metadata={"help": "Hub revision (branch, tag or commit) to read", "group": "source",
                  "builder": "pool_revision"},
    )  # fmt: skip
    license: str | None = field(
        default=None, metadata={"help": "license of the source, written into the card", "group": "source"}
    )
    synthetic: bool = field(
        default=False, metadata={"help": "the source is synthetic (stated in the card)", "group": "source"}
    )
    adapter: str = field(
        default="auto",
        metadata={"help": "how to read the source: openr1, generic, chinese-distill, sharegpt, s1k, or auto (the "
                          "one whose columns are there)", "group": "pool"},
    )  # fmt: skip
    openr1_mode: str = field(
        default="problem",
        metadata={"help": "openr1: one row per problem (its verified trace) or per verified generation "
                          "(problem, generations)", "group": "pool"},
    )  # fmt: skip
    question_column: str | None = field(
        default=None,
        metadata={"help": "generic: the question column (else the pool needs 'messages')", "group": "pool"},
    )
    trace_column: str | None = field(
        default=None, metadata={"help": "generic: the reasoning trace column", "group": "pool"}
    )
    answer_column: str | None = field(
        default=None, metadata={"help": "generic: the final answer column", "group": "pool"}
    )
    id_column: str | None = field(
        default=None,
        metadata={"help": "generic: a unique id column (default: a hash of question and trace)", "group": "pool"},
    )
    require_final_answer: bool = field(
        default=False, metadata={"help": "generic: drop traces with no \\boxed{} answer", "group": "pool"}
    )
    tokenizer: str | None = field(
        default=None,
        metadata={"help": "tokenizer (Hub id or folder) to count trace tokens; default: characters",
                  "group": "scores"},
    )  # fmt: skip
    tokenizer_revision: str | None = field(
        default=None, metadata={"help": "Hub revision of the tokenizer", "group": "scores"}
    )
    discount_repeated_steps: bool = field(
        default=False,
        metadata={"help": "count a reasoning step (paragraph) that repeats an earlier one exactly only once",
                  "group": "scores"},
    )  # fmt: skip
    rethink_markers: str | None = field(
        default=None,
        metadata={"help": "words counted as rethinking, comma-separated (e.g. 'Wait,Maybe'); default: the list of "
                          "--rethink-language", "group": "scores"},
    )  # fmt: skip
    rethink_language: str | None = field(
        default=None,
        metadata={"help": "the default rethink markers: en (Wait, Alternatively, Maybe, However) or zh (等等, 不对, "
                          "或者, ...); default: zh for the chinese-distill adapter, en otherwise", "group": "scores"},
    )  # fmt: skip
    difficulty: str = field(
        default="rollout",
        metadata={"help": "rollout (1 - verified-correct rollouts / rollouts), column:NAME, judge, or sampled (1 - "
                          "pass rate of --rollouts completions of --rollout-model)",
                  "group": "scores"},
    )  # fmt: skip
    sampled_difficulty: str | None = field(
        default=None,
        metadata={"help": "a scored pool `s2r score --difficulty sampled` wrote (folder or Hub dataset id): its pass "
                          "rates joined by s2r_id as s2r_sampled_difficulty (1 - pass rate; null on rows it did not "
                          "sample), for the report to check this pool's difficulty against", "group": "scores"},
    )  # fmt: skip
    rollout: RolloutConfig = field(
        default_factory=RolloutConfig,
        metadata={"help": "settings of the rollout scorer", "group": "scores", "prefix": ""},
    )
    judge: JudgeConfig = field(
        default_factory=JudgeConfig,
        metadata={"help": "settings of the judge scorer", "group": "judge", "prefix": "judge_",
                  "names": {"model": "judge"}},
    )  # fmt: skip
    sampled: SampledConfig = field(
        default_factory=SampledConfig,
        metadata={"help": "settings of the sampled scorer", "group": "sampled", "prefix": "rollout_",
                  "names": {"rollouts": "rollouts", "keep_rollouts": "keep_rollouts"}},
    )  # fmt: skip
    sample: float | None = field(
        default=None,
        metadata={"help": "score only a seeded random share, in (0, 1], of the pool's rows (after adaptation and "
                          "decontamination), e.g. 0.05 to sample rollouts for training a judge", "group": "scores"},
    )  # fmt: skip
    sample_seed: int = field(default=0, metadata={"help": "the seed of --sample's choice of rows", "group": "scores"})
    num_proc: int | None = field(
        default=None, metadata={"help": "processes for the map steps (judge: one per GPU)", "group": "scores"}
    )
    # Pool hygiene (s2r_hf.hygiene): decontamination runs before scoring, near duplicates after it.
    decontaminate: str | None = field(
        default=None,
        metadata={"help": "drop questions that copy a problem of these benchmarks: comma-separated names "
                          "(math500,aime24,aime25,amc23,minerva,olympiadbench) or all; read from the Hub unless "
                          "--benchmark-data gives a local file", "group": "hygiene"},
    )  # fmt: skip
    benchmark_data: str | None = field(
        default=None,
        metadata={"help": "NAME=PATH: read benchmark NAME from a local file or folder (repeatable; in Python, "
                          "comma-separated)", "group": "hygiene", "cli": False},
    )  # fmt: skip
    decontaminate_rule: str = field(
        default=DEFAULT_RULE,
        metadata={"help": "when a question counts as a copy of a benchmark problem: coverage (its shared n-grams "
                          "cover at least --decontaminate-threshold of the problem's words; numbers masked, template "
                          "n-grams left out) or any-ngram (one shared n-gram: open-r1's rule)", "group": "hygiene"},
    )  # fmt: skip
    decontaminate_ngram: int | None = field(
        default=None,
        metadata={"help": "words per n-gram of decontamination (at least 3; default: 5 for coverage, 8 for "
                          "any-ngram)", "group": "hygiene"},
    )  # fmt: skip
    decontaminate_threshold: float = field(
        default=DEFAULT_THRESHOLD,
        metadata={"help": "coverage: the share of a benchmark problem's words, in (0, 1], that a question must "
                          "cover to be dropped", "group": "hygiene"},
    )  # fmt: skip
    decontaminate_boilerplate: int = field(
        default=DEFAULT_BOILERPLATE,
        metadata={"help": "coverage: an n-gram found in this many benchmark problems or more is a template phrase "
                          "and not counted (0: count every n-gram)", "group": "hygiene"},
    )  # fmt: skip
    near_duplicates: str = field(
        default="off",
        metadata={"help": "near-duplicate questions (MinHash): off, cluster (add s2r_question_cluster, for "
                          "`s2r select --max-per-cluster`), or drop (keep the best row per cluster)",
                  "group": "hygiene"},
    )  # fmt: skip
    near_duplicate_threshold: float = field(
        default=0.8, metadata={"help": "Jaccard similarity of question shingles, in (0, 1]", "group": "hygiene"}
    )
    near_duplicate_weight: float = field(
        default=0.25,
        metadata={"help": "drop keeps the row with the best joint rank at this weight on difficulty",
                  "group": "hygiene"},
    )  # fmt: skip

    def __post_init__(self):
        # A dict is accepted for a nested config (from YAML or JSON, say) and checked like keywords would be.
        for name, kind in (("rollout", RolloutConfig), ("judge", JudgeConfig), ("sampled", SampledConfig)):
            given = getattr(self, name)
            if isinstance(given, dict):
                unknown = sorted(set(given) - {spec.name for spec in fields(kind)})
                if unknown:
                    known = [spec.name for spec in fields(kind)]
                    raise OptionTypeError(f"{name} got unknown setting(s) {unknown}; {kind.__name__} takes {known}")
                setattr(self, name, kind(**given))
        check_field_types(self)
        if not self.source:
            raise InputError("no source given: name a Hub dataset id, a local folder or a file")
        optional_names = ("config", "revision", "tokenizer", "tokenizer_revision", "question_column", "trace_column",
                          "answer_column", "id_column")  # fmt: skip
        for name in optional_names:
            if getattr(self, name) is not None and not getattr(self, name).strip():
                # An empty --tokenizer would silently count characters, an empty --revision build a broken Hub URL.
                raise InputError(f"{name} is an empty string; give a value or leave the option out")
        if not self.split.strip():
            raise InputError("split must name a split such as 'train' or 'train[:10%]', got an empty string")
        check_choice("adapter", self.adapter, ADAPTERS)
        if self.rethink_language is not None:
            check_choice("rethink_language", self.rethink_language, RETHINK_LANGUAGES)
        if self.rethink_markers is not None:
            if self.rethink_language is not None:
                raise InputError(
                    "give rethink_markers (--rethink-markers) or rethink_language (--rethink-language), not both: "
                    "the markers replace the language's list"
                )
            from s2r_hf.signals.length import parse_rethink_markers

            parse_rethink_markers(self.rethink_markers)  # a blank list fails now, not after the adapter
        check_choice("openr1_mode", self.openr1_mode, OPENR1_MODES)
        require_num_proc(self.num_proc)
        if self.tokenizer_revision is not None and self.tokenizer is None:
            raise InputError("tokenizer_revision needs a tokenizer (--tokenizer NAME)")
        check_hygiene_options(self)
        if self.sampled_difficulty is not None:
            if not self.sampled_difficulty.strip():
                raise InputError("sampled_difficulty is an empty string; name a sampled scored pool or leave it out")
            if self.difficulty.partition(":")[0] == "sampled":
                raise InputError(
                    f"sampled_difficulty (--sampled-difficulty {self.sampled_difficulty}) checks another difficulty "
                    "against sampled pass rates, but difficulty is 'sampled' itself; drop one of the two"
                )
        name, _ = parse_scorer_spec(self.difficulty)
        if self.sample is not None and not 0 < self.sample <= 1:
            raise InputError(f"sample (--sample) is the share of rows to score, in (0, 1]; got {self.sample}")
        if self.sample is None and self.sample_seed != 0:
            raise InputError("sample_seed (--sample-seed) seeds --sample; give --sample SHARE too, or drop it")
        nested = (("rollout", self.rollout, RolloutConfig), ("judge", self.judge, JudgeConfig),
                  ("sampled", self.sampled, SampledConfig))  # fmt: skip
        for scorer, config, kind in nested:
            if not isinstance(config, kind):
                raise OptionTypeError(f"{scorer} must be a {kind.__name__}, got {config!r} ({type(config).__name__})")
            changed = [key for key, value in asdict(config).items() if value != asdict(kind())[key]]
            if changed and name != scorer:
                flags = [o.flag for o in options_of(ScoreConfig) if o.path[0] == scorer and o.path[1] in changed]
                raise InputError(
                    f"{changed} (flags {flags}) are settings of the {scorer} scorer, but difficulty is "
                    f"{self.difficulty!r}; drop them or use difficulty {scorer!r}"
                )

    def scorer_options(self) -> dict[str, Any]:
        """The keywords of the chosen difficulty scorer, from its nested config."""
        name, _ = parse_scorer_spec(self.difficulty)
        nested = {"rollout": self.rollout, "judge": self.judge, "sampled": self.sampled}.get(name)
        return asdict(nested) if nested is not None else {}

    def rethink_markers_for(self, adapter: str) -> tuple[tuple[str, ...], str | None]:
        """The rethink markers to count and their language (None for a list the user gave)."""
        from s2r_hf.signals.length import RETHINK_LANGUAGES, parse_rethink_markers

        if self.rethink_markers is not None:
            return parse_rethink_markers(self.rethink_markers), None
        language = self.rethink_language or ("zh" if adapter == "chinese-distill" else "en")
        return RETHINK_LANGUAGES[language], language

    def adapter_options(self, adapter: str) -> dict[str, Any]:
        if adapter not in ("openr1", "generic"):  # the other layouts take no options
            given = [
                name
                for name in ("question_column", "trace_column", "answer_column", "id_column", "require_final_answer")
                if getattr(self, name) not in (None, False)
            ]
            given += ["openr1_mode"] if self.openr1_mode != OPENR1_MODES[0] else []
            if given:
                raise InputError(f"{given} do not apply to the {adapter} adapter; drop them, or pass --adapter generic")
            return {}
        if adapter == "openr1":
            generic = [
                name
                for name in ("question_column", "trace_column", "answer_column", "id_column")
                if getattr(self, name) is not None
            ] + (["require_final_answer"] if self.require_final_answer else [])
            if generic:
                raise InputError(
                    f"{generic} apply to the generic adapter; the source looks like OpenR1 "
                    "(pass --adapter generic to use them)"
                )
            return {"mode": self.openr1_mode}
        if self.openr1_mode != OPENR1_MODES[0]:
            raise InputError(
                f"openr1_mode {self.openr1_mode!r} (--openr1-mode) applies to the openr1 adapter, but the source is "
                "read with the generic one; drop it, or pass --adapter openr1 for an OpenR1-Math-220k source"
            )
        return {
            "question_column": self.question_column,
            "trace_column": self.trace_column,
            "answer_column": self.answer_column,
            "id_column": self.id_column,
            "require_final_answer": self.require_final_answer,
        }


def score_pool(config: ScoreConfig, *, command: str | None = None) -> tuple[Dataset, dict[str, Any]]:
    """Build and score the pool. Returns it with the card metadata (`s2r` block) that says how it was made."""
    pool, metadata, _ = _score_pool(config, command=command)
    return pool, metadata


def _score_pool(config: ScoreConfig, *, command: str | None = None) -> tuple[Dataset, dict[str, Any], Dataset | None]:
    # Loaded here, not with the module: ScoreConfig builds the parser of `s2r score`, and `s2r --help` needs no pool
    # reader or scorer.
    from s2r_hf.core.digests import rows_sha256
    from s2r_hf.pipeline.sampled_reference import join_sampled_difficulty, load_sampled_reference
    from s2r_hf.pool.adapters import detect_adapter, make_adapter
    from s2r_hf.pool.sources import describe_source, load_source, source_identity
    from s2r_hf.signals.difficulty import add_rollout_difficulty_if_flagged, make_difficulty_scorer
    from s2r_hf.signals.length import add_trace_columns, describe_length, load_tokenizer

    if not isinstance(config, ScoreConfig):
        raise OptionTypeError(
            f"score_pool takes a ScoreConfig, got {type(config).__name__}; e.g. score_pool(ScoreConfig(source=...))"
        )
    # Check everything that can be checked before the expensive steps, so a bad option fails in seconds, not after
    # an hour: the scorer and its options, the tokenizer and the judge (they exist and load), then, once the source
    # is adapted, the columns the scorer reads. Only then the trace-length pass and the difficulty.
    scorer = make_difficulty_scorer(config.difficulty, **config.scorer_options())
    benchmarks = load_hygiene_benchmarks(config)  # a missing or malformed benchmark fails here, before any work
    tokenizer = load_tokenizer(config.tokenizer, config.tokenizer_revision) if config.tokenizer else None
    if config.difficulty in ("judge", "sampled"):
        scorer.check_reachable()  # a local folder that is complete, or a Hub judge that exists: no weights loaded
    sampled = load_sampled_reference(config.sampled_difficulty) if config.sampled_difficulty else None

    source_info = describe_source(config.source, config.config, config.split, config.revision)
    dataset = load_source(config.source, config.config, config.split, config.revision)
    source_block = {**source_info.describe(), **source_identity(config.source, dataset)}
    adapter_name = detect_adapter(dataset.column_names) if config.adapter == "auto" else config.adapter
    adapter = make_adapter(adapter_name, **config.adapter_options(adapter_name))
    pool, report = adapter.adapt(dataset, num_proc=config.num_proc)
    pool, hygiene = decontaminate_pool(pool, benchmarks, config)  # before scoring: no judge time on dropped rows
    pool, sample = sample_rows(pool, config.sample, config.sample_seed)
    scorer.check(pool)
    if sampled is not None:  # joined before any model loads: a pool sharing no id with it fails now
        pool, sampled_record = join_sampled_difficulty(pool, sampled)
    markers, language = config.rethink_markers_for(adapter_name)
    pool = add_trace_columns(
        pool,
        tokenizer,
        discount_repeated_steps=config.discount_repeated_steps,
        num_proc=config.num_proc,
        rethink_markers=markers,
    )
    pool = scorer.add_difficulty(pool, num_proc=config.num_proc)
    rollout = None
    if parse_scorer_spec(config.difficulty)[0] == "judge":
        # Where the pool also has verified rollouts, keep their difficulty beside the judge's: `s2r inspect` then
        # shows how well the judge agrees with the pass rates of the very questions it scored.
        pool, rollout = add_rollout_difficulty_if_flagged(pool, num_proc=config.num_proc)
    pool, hygiene = handle_near_duplicates(pool, config, hygiene)  # after scoring: drop keeps the best-ranked row
    held_out = None
    if parse_scorer_spec(config.difficulty)[0] == "judge":
        from s2r_hf.signals.judge.held_out import compare_held_out

        # A judge `s2r train-judge` calibrated, scoring rows it held out: its held-out AUC and Spearman against the
        # untrained base judge's, for the report.
        held_out = compare_held_out(pool, scorer.folder)

    metadata = {
        "kind": "scored_pool",
        "version": __version__,
        "synthetic": config.synthetic,
        "license": config.license,
        "source": source_block,
        "adapter": {"name": report.adapter, "mode": report.mode, **report.options},
        "rows_in": report.rows_in,
        "rows": report.rows,
        "dropped": report.dropped,
        "length": describe_length(tokenizer, config.discount_repeated_steps, markers, language),
        "difficulty": scorer.describe(),
        **({"rollout_difficulty": rollout} if rollout else {}),
        **({"sample": sample} if sample else {}),
        **({"sampled_difficulty": sampled_record} if sampled is not None else {}),
        **({"judge_held_out": held_out} if held_out else {}),
        "command": command,
        # Every setting but the source (recorded above): `s2r verify --pool SOURCE` scores it again the same way.
        "settings": score_settings(config),
    }
    if hygiene:
        metadata.update(rows=len(pool), dropped={**report.dropped, **hygiene_drops(hygiene)}, hygiene=hygiene)
    if sample:  # the rows --sample left out are counted like every other drop, so rows_in - dropped = rows
        left_out = f"outside the --sample share {sample['share']:g}"
        not_sampled = sample["rows_before"] - sample["rows"]
        metadata.update(rows=len(pool), dropped={**metadata["dropped"], left_out: not_sampled})
    metadata["rows_sha256"] = rows_sha256(pool)  # the scored rows themselves: s2r verify tells a changed pool by it
    return pool, metadata, getattr(scorer, "rollouts", None)


def sample_rows(pool: Dataset, share: float | None, seed: int) -> tuple[Dataset, dict[str, Any] | None]:
    """A seeded share of the pool's rows, in pool order, and its card record (None when `share` is None).

    Each row is ranked by a hash of the seed and its s2r_id, and the round(share x rows) lowest (at least one) are
    kept: the same rows whatever the pool's order or the machine, and a larger share holds every row of a smaller one.
    """
    import hashlib

    from s2r_hf.core.columns import ID
    from s2r_hf.core.rows import arrow_column

    if share is None:
        return pool, None
    ids = arrow_column(pool, ID).to_pylist()
    ranks = sorted(range(len(ids)), key=lambda i: hashlib.blake2b(f"{seed}:{ids[i]}".encode(), digest_size=8).digest())
    keep = max(1, round(share * len(ids))) if ids else 0
    chosen = sorted(ranks[:keep])
    sampled = pool.select(chosen) if keep < len(ids) else pool
    return sampled, {"share": share, "seed": seed, "rows_before": len(ids), "rows": len(chosen)}


def score_pool_with_rollouts(
    config: ScoreConfig, *, command: str | None = None
) -> tuple[Dataset, dict, Dataset | None]:
    """`score_pool`, plus the kept completions of `--difficulty sampled --keep-rollouts` (None otherwise)."""
    return _score_pool(config, command=command)


def score_settings(config: ScoreConfig) -> dict[str, Any]:
    """The settings of a ScoreConfig as its card records them: every field but `source`, nested configs as dicts."""
    settings = asdict(config)
    settings.pop("source")
    return settings
