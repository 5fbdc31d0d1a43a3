"""Choosing the subset: the joint ranker of Select2Reason and the paper's baselines, vectorised over Arrow/numpy.

Ranks. Difficulty rank 1 is the hardest question, length rank 1 the longest trace. Tied values share the mean of the
positions they occupy (fractional ranking: two rows tied for first both get 1.5), so ties never favour one row.
`joint = weight * difficulty_rank + (1 - weight) * length_rank`; the smallest joint rank is the best row.

Order. Rows are ordered by (key, `s2r_id`): equal keys are broken by the id, which the adapters make unique and derive
from the source (not from the row position), so the selection is the same for any order of the input rows. Only the
rows that can still make the cut (key at most the k-th smallest) are compared by id, and their ids must be unique.

Size. `k` rows, or `ratio` of the pool: `ratio * n` rounded half up (computed in decimal, so 0.1 * 25 = 2.5 -> 3),
and never less than 1.

Token budget. Instead of a size, `token_budget` N takes rows in the strategy's order while the subset's trainer tokens
(each row's `messages` with the student's chat template applied, as TRL's SFTTrainer tokenizes it:
s2r_hf.signals.length.count_trainer_tokens; no truncation) stay within N: the row that would take the total past N is
not taken, and the selection stops there (no smaller row further down is taken in its place), so the subset is a prefix
of the strategy's order and holds at most N tokens, less than one row short of it. Rows are counted in batches, in
rank order, only as far as needed. A budget below the first row's tokens, or above the whole pool's, is refused. It
excludes ratio and k, and does not apply to `diverse` (whose group quotas are fixed by a row count).

Strategies. `joint` (the paper's, default weight 0.25); `longest` and `hardest` (the joint ranker with weight 0 and 1);
`random` (seeded); `diverse` (the same fraction from each value of a column, e.g. `problem_type`, random within each
value; largest-remainder rounding makes the group sizes add up to exactly k). An option is refused with a strategy
that would ignore it (`weight` outside joint and quadrant, `seed` outside random and diverse, `group_column` outside
diverse: `OPTION_STRATEGIES`), here for every surface, rather than silently dropped.

Quadrants. `quadrant` separates length from difficulty: the pool is split at its medians (long = length above the
median, hard = difficulty above the median; a value equal to the median falls on the short / easy side), and the subset
is the best of one quadrant (long-hard, long-easy, short-hard, short-easy) by the joint rank at the configured weight.
When the quadrant holds fewer than k rows, the rest comes from its neighbours in a fixed order: first the quadrant on
the same length side (difficulty flipped), then the one on the same difficulty side (length flipped), then the
opposite quadrant, each best joint rank first. Length goes first because it is the signal the paper weighs most
(w = 0.25). The report and the card say how many rows came from each quadrant.

Clusters. With `max_per_cluster` N (and an `s2r_question_cluster` column, from s2r_hf.hygiene.near_duplicates), every
strategy first orders the whole pool its own way and skips rows past the first N of their cluster, then chooses k
rows among the rest: near-identical questions, or the several traces of one OpenR1 problem, fill at most N places.
`drop_near_duplicates` goes further, for `s2r score --near-duplicates drop`: it keeps only the best row of each cluster
(by the joint rank) in the pool itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from s2r_hf.core.columns import (
    DIFFICULTY,
    DIFFICULTY_RANK,
    ID,
    JOINT_RANK,
    LENGTH_RANK,
    QUESTION_CLUSTER,
    RANK_COLUMNS,
    TRACE_LENGTH,
)
from s2r_hf.core.errors import ColumnError, ColumnTypeError, InputError, OptionTypeError
from s2r_hf.core.lineage import note_lineage, read_lineage
from s2r_hf.core.options import check_field_types
from s2r_hf.core.rows import arrow_column, require_dataset
from s2r_hf.core.stats import average_ranks

if TYPE_CHECKING:
    import numpy as np
    from datasets import Dataset

logger = logging.getLogger(__name__)

_DEFAULT_RATIO = 0.1  # SelectConfig.ratio's default: a ratio at this value beside a token budget was not given
STRATEGIES = ("joint", "random", "longest", "hardest", "diverse", "quadrant")
# The weight on difficulty each ranked strategy uses (None: the configured weight).
_STRATEGY_WEIGHT = {"joint": None, "longest": 0.0, "hardest": 1.0, "quadrant": None}
QUADRANTS = ("long-hard", "long-easy", "short-hard", "short-easy")
# The strategies that use each option; any other strategy would ignore it, so giving it there is refused.
# (`quadrant` and `max_per_cluster` have their own rules in SelectConfig.)
OPTION_STRATEGIES = {
    "weight": ("joint", "quadrant"),
    "seed": ("random", "diverse"),
    "group_column": ("diverse",),
}


@dataclass
class SelectConfig:
    """How to choose the subset."""

    ratio: float | None = field(
        default=_DEFAULT_RATIO,
        metadata={"help": "fraction of the pool to keep, in (0, 1], rounded half up (at least 1 row)"},
    )
    k: int | None = field(default=None, metadata={"help": "number of rows to keep (instead of ratio)"})
    weight: float = field(default=0.25, metadata={"help": "weight on the difficulty rank in [0, 1]; 0 = longest"})
    strategy: str = field(default="joint", metadata={"help": f"one of {', '.join(STRATEGIES)}"})
    seed: int = field(default=0, metadata={"help": "seed of the random and diverse strategies"})
    group_column: str = field(default="problem_type", metadata={"help": "column the diverse strategy stratifies by"})
    quadrant: str | None = field(
        default=None, metadata={"help": f"the quadrant strategy's quadrant: one of {', '.join(QUADRANTS)}"}
    )
    max_per_cluster: int | None = field(
        default=None,
        metadata={"help": "take at most N rows per s2r_question_cluster (near-duplicate questions, or the traces of "
                          "one problem), skipping the rest while filling the subset; needs `s2r score "
                          "--near-duplicates cluster`"},
    )  # fmt: skip
    token_budget: int | None = field(
        default=None,
        metadata={"help": "instead of ratio or k: take rows in the strategy's order while the subset's trainer tokens "
                          "(the student's chat template applied, as TRL counts them) stay within N"},
    )  # fmt: skip

    def __post_init__(self):
        check_field_types(self)  # numpy numbers are accepted and made plain; "0.5" or True are not numbers
        if self.token_budget is not None:
            self._check_token_budget()
        elif self.k is not None:
            if self.k < 1:
                raise InputError(f"k must be a positive integer, got {self.k}")
            self.ratio = None
        elif self.ratio is None:
            raise InputError("give a ratio in (0, 1] or a number of rows k")
        elif not 0 < self.ratio <= 1:
            raise InputError(f"ratio must be in (0, 1], got {self.ratio}")
        if not 0 <= self.weight <= 1:
            raise InputError(f"weight must be in [0, 1], got {self.weight}")
        if self.strategy not in STRATEGIES:
            raise InputError(f"unknown strategy {self.strategy!r}; known: {list(STRATEGIES)}")
        if self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed}")
        if not self.group_column:
            raise InputError("group_column must name a column, got an empty string")
        if self.strategy == "quadrant" and self.quadrant not in QUADRANTS:
            got = "none was given" if self.quadrant is None else f"got {self.quadrant!r}"
            raise InputError(f"the quadrant strategy needs --quadrant, one of {', '.join(QUADRANTS)}; {got}")
        if self.strategy != "quadrant" and self.quadrant is not None:
            raise InputError(
                f"quadrant {self.quadrant!r} applies to the quadrant strategy, not {self.strategy!r}; drop it, or "
                "pass --strategy quadrant"
            )
        # An option at its default was not given: a command line, the builder or `s2r train` pass every default along.
        defaults = {spec.name: spec.default for spec in fields(self)}
        changed = {name: getattr(self, name) for name in OPTION_STRATEGIES if getattr(self, name) != defaults[name]}
        check_options_fit(self.strategy, changed)
        if self.max_per_cluster is not None and self.max_per_cluster < 1:
            raise InputError(f"max_per_cluster must be a positive integer, got {self.max_per_cluster}")
        if self.max_per_cluster is not None and self.strategy == "quadrant":
            # Skipping rows would move the medians the quadrants are split at; not supported yet.
            raise InputError(
                "max_per_cluster does not apply to the quadrant strategy (its quadrants are split at the pool's "
                "medians); use it with joint, longest, hardest, random or diverse"
            )

    def _check_token_budget(self) -> None:
        """A budget is a positive number of tokens, in place of a size; ratio at its default was not given."""
        if self.token_budget < 1:
            raise InputError(f"token_budget must be a positive integer number of tokens, got {self.token_budget}")
        given = [name for name, value in (("k", self.k), ("ratio", self.ratio)) if value not in (None, _DEFAULT_RATIO)]
        if given:
            raise InputError(
                f"token_budget {self.token_budget} and {given[0]} {getattr(self, given[0])} both set the subset's "
                f"size; give one of them (a budget takes rows until the tokens reach it)"
            )
        if self.strategy == "diverse":
            raise InputError(
                "token_budget does not apply to the diverse strategy (its group quotas are set by a number of rows); "
                "give k or ratio, or use another strategy"
            )
        self.ratio = None

    @property
    def effective_weight(self) -> float | None:
        """The weight on difficulty the ranking really uses (None for random and diverse)."""
        if self.strategy not in _STRATEGY_WEIGHT:
            return None
        fixed = _STRATEGY_WEIGHT[self.strategy]
        return self.weight if fixed is None else fixed


def flag_of(option: str) -> str:
    """The command-line flag of a SelectConfig option (`group_column` -> `--group-column`)."""
    return "--" + option.replace("_", "-")


def check_options_fit(strategy: str, given: Mapping[str, Any], *, spell: Callable[[str], str] = flag_of) -> None:
    """Refuse an option that `strategy` would ignore (`given`: name -> value, the options set), saying which strategies
    use it and how to fix it; `spell` writes an option's name as the caller's surface does (a flag, a YAML key).

    The one rule for every surface: SelectConfig (and so `s2r select`, `s2r train --selection_*`, the builder) and an
    experiment's arms, which know which keys their file gives.
    """
    for name, users in OPTION_STRATEGIES.items():
        if name in given and strategy not in users:
            which = f"the {users[0]} strategy" if len(users) == 1 else f"the {' and '.join(users)} strategies"
            raise InputError(
                f"{spell(name)} {given[name]!r} applies to {which}, not {strategy!r}, which would ignore it; drop it, "
                f"or set {spell('strategy')} to {' or '.join(users)}"
            )


def subset_size(pool_size: int, ratio: float | None = None, k: int | None = None) -> int:
    """How many rows to keep: k, or ratio * pool_size rounded half up, at least 1."""
    if pool_size < 1:
        raise InputError("the pool is empty: there is nothing to select from")
    if k is not None:
        if k > pool_size:
            raise InputError(f"k = {k} is larger than the pool ({pool_size} rows); ask for at most {pool_size}")
        return k
    exact = Decimal(repr(ratio)) * pool_size
    return max(1, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _numeric_column(dataset: Dataset, name: str, hint: str) -> np.ndarray:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if name not in dataset.column_names:
        raise ColumnError(f"column {name!r} not in the dataset; columns: {dataset.column_names}. {hint}")
    column = arrow_column(dataset, name)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        # Booleans or strings would be cast to numbers silently, lists fail deep in Arrow: neither is a score.
        raise ColumnTypeError(f"column {name!r} must hold numbers; got {column.type} ({hint})")
    if column.null_count:
        raise InputError(f"column {name!r} has {column.null_count} null values; score every row ({hint})")
    values = pc.cast(column, "float64").to_numpy(zero_copy_only=False)
    if np.isnan(values).any():
        raise InputError(f"column {name!r} has {int(np.isnan(values).sum())} NaN values; score every row ({hint})")
    return values


def _difficulty_column(dataset: Dataset) -> np.ndarray:
    """s2r_difficulty: numbers in [0, 1], as every scorer writes them; anything else was not made by s2r."""
    import numpy as np

    values = _numeric_column(dataset, DIFFICULTY, "run `s2r score`")
    outside = np.flatnonzero((values < 0) | (values > 1))
    if outside.size:
        raise InputError(
            f"column {DIFFICULTY!r} must hold scores in [0, 1]; {outside.size} rows are outside (e.g. rows "
            f"{outside[:5].tolist()}: {values[outside[:5]].tolist()}). Score the pool again (`s2r score`)"
        )
    return values


def _ids(dataset: Dataset):
    if ID not in dataset.column_names:
        raise ColumnError(
            f"column {ID!r} not in the dataset; columns: {dataset.column_names}. Build the pool with an adapter "
            "(s2r_hf.load_pool or `s2r score`), which gives every row a stable unique id"
        )
    ids = arrow_column(dataset, ID)
    if ids.null_count:
        raise InputError(
            f"column {ID!r} has {ids.null_count} null ids; every row needs a unique id for a deterministic selection. "
            "Build the pool again with an adapter (s2r_hf.load_pool or `s2r score`)"
        )
    return ids


def _id_order(ids) -> np.ndarray:
    """Position of each id in sorted id order: the deterministic tie-breaker.

    The ids compared must be unique, or equal keys could still come out in input order; sorting them makes that a
    comparison of neighbours.
    """
    import numpy as np
    import pyarrow.compute as pc

    order = pc.sort_indices(ids)
    in_order = ids.take(order)
    if len(ids) > 1 and pc.any(pc.equal(in_order.slice(1), in_order.slice(0, len(ids) - 1))).as_py():
        raise InputError(f"column {ID!r} has repeated ids; ids must be unique for a deterministic selection")
    position = np.empty(len(ids), dtype=np.int64)
    position[order.to_numpy()] = np.arange(len(ids))
    return position


def _smallest_keys(key: np.ndarray, ids, k: int) -> np.ndarray:
    """Indices of the k rows with the smallest (key, id), in that order.

    Only rows whose key is at most the k-th smallest key can make the cut, so ids are compared among those
    candidates alone: a linear-time partition instead of sorting every id of the pool.
    """
    import numpy as np

    if k < len(key):
        threshold = np.partition(key, k - 1)[k - 1]
        candidates = np.flatnonzero(key <= threshold)
    else:
        candidates = np.arange(len(key))
    tie_break = _id_order(ids.take(candidates))
    return candidates[np.lexsort((tie_break, key[candidates]))[:k]]


def _random_priority(id_position: np.ndarray, seed: int) -> np.ndarray:
    """A seeded random priority per row that depends on the ids, not on the row order."""
    import numpy as np

    permutation = np.random.default_rng(seed).permutation(len(id_position))
    return permutation[id_position]


def _largest_remainder_quotas(group_sizes: np.ndarray, k: int) -> np.ndarray:
    """Split k over groups in proportion to their sizes, exactly k in total (integer arithmetic, no float drift)."""
    import numpy as np

    total = int(group_sizes.sum())
    scaled = group_sizes.astype(object) * k  # Python ints: no overflow for any pool size
    quotas = np.array([value // total for value in scaled], dtype=np.int64)
    remainders = np.array([value % total for value in scaled], dtype=object)
    short = k - int(quotas.sum())
    # Largest remainder first; equal remainders go to the group that sorts first (groups are in sorted order).
    order = sorted(range(len(group_sizes)), key=lambda g: (-remainders[g], g))
    quotas[order[:short]] += 1
    return quotas


@dataclass
class SelectionReport:
    """What was selected and by which rule, for cards and summaries."""

    strategy: str
    rows: int
    pool_rows: int
    ratio: float | None
    k: int | None
    weight: float | None
    seed: int | None
    group_column: str | None
    rule: str
    group_counts: dict[str, int] | None = None
    # The quadrant strategy: {name, length_median, difficulty_median, sizes: {quadrant: rows in the pool},
    # taken: {quadrant: rows selected from it, in fill order}}.
    quadrant: dict[str, Any] | None = None
    max_per_cluster: int | None = None
    rows_past_cluster_cap: int | None = None  # pool rows beyond the first max_per_cluster of their cluster
    # A token budget: the budget, the trainer tokens of the rows taken, and the tokenizer that counted them.
    token_budget: int | None = None
    tokens_taken: int | None = None
    tokenizer: str | None = None

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def _rank_columns(dataset: Dataset, weight: float | None) -> dict[str, np.ndarray]:
    """Rank columns for whichever signals the dataset has; the joint rank when it has both."""
    ranks: dict[str, np.ndarray] = {}
    if DIFFICULTY in dataset.column_names:
        ranks[DIFFICULTY_RANK] = average_ranks(_difficulty_column(dataset))
    if TRACE_LENGTH in dataset.column_names:
        ranks[LENGTH_RANK] = average_ranks(_numeric_column(dataset, TRACE_LENGTH, "run `s2r score`"))
    if weight is not None and len(ranks) == 2:
        ranks[JOINT_RANK] = weight * ranks[DIFFICULTY_RANK] + (1.0 - weight) * ranks[LENGTH_RANK]
    return ranks


def split_quadrants(length: np.ndarray, difficulty: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Each row's quadrant (an index into QUADRANTS), the length median and the difficulty median.

    Long means a length above the median and hard a difficulty above the median, strictly: a row at the median falls
    on the short / easy side, so the split depends on the values alone.
    """
    import numpy as np

    length, difficulty = np.asarray(length, dtype=np.float64), np.asarray(difficulty, dtype=np.float64)
    length_median, difficulty_median = float(np.median(length)), float(np.median(difficulty))
    return quadrant_index(length, difficulty, length_median, difficulty_median), length_median, difficulty_median


def quadrant_index(length, difficulty, length_median: float, difficulty_median: float) -> np.ndarray:
    """Each row's quadrant (an index into QUADRANTS) for given medians: long / hard means strictly above."""
    import numpy as np

    long, hard = np.asarray(length) > length_median, np.asarray(difficulty) > difficulty_median
    return np.where(long, np.where(hard, 0, 1), np.where(hard, 2, 3))


def quadrant_fill_order(name: str) -> list[str]:
    """The quadrant, then its neighbour on the same length side, the one on the same difficulty side, the opposite."""
    length_side, difficulty_side = name.split("-")
    other_length = {"long": "short", "short": "long"}[length_side]
    other_difficulty = {"hard": "easy", "easy": "hard"}[difficulty_side]
    return [
        name,
        f"{length_side}-{other_difficulty}",
        f"{other_length}-{difficulty_side}",
        f"{other_length}-{other_difficulty}",
    ]


def _quadrant_rows(dataset: Dataset, config: SelectConfig, k: int, ranks: dict[str, np.ndarray], ids):
    """The best k rows of the configured quadrant by joint rank, filled from the neighbours in fill order."""
    import numpy as np

    quadrant, length_median, difficulty_median = split_quadrants(
        _numeric_column(dataset, TRACE_LENGTH, "run `s2r score`"), _difficulty_column(dataset)
    )
    order = quadrant_fill_order(config.quadrant)
    position = np.array([order.index(name) for name in QUADRANTS])[quadrant]
    # Joint ranks lie in [1, n]: a step of n + 1 per fill position keeps whole quadrants apart in one key.
    chosen = _smallest_keys(position * (len(quadrant) + 1.0) + ranks[JOINT_RANK], ids, k)
    taken = np.bincount(position[chosen], minlength=4)
    details = {
        "name": config.quadrant,
        "length_median": length_median,
        "difficulty_median": difficulty_median,
        "sizes": {name: int(np.count_nonzero(quadrant == index)) for index, name in enumerate(QUADRANTS)},
        "taken": {name: int(count) for name, count in zip(order, taken) if count},
    }
    return chosen, details


def check_group_column(dataset: Dataset, config: SelectConfig) -> None:
    """The diverse strategy's group column exists and holds one label per row (cheap: the schema alone)."""
    import pyarrow as pa

    if config.strategy != "diverse":
        return
    if config.group_column not in dataset.column_names:
        raise ColumnError(
            f"the diverse strategy stratifies by {config.group_column!r}, which is not a column; columns: "
            f"{dataset.column_names}. Name one with --group-column"
        )
    group_type = dataset.data.schema.field(config.group_column).type
    if pa.types.is_nested(group_type):
        raise ColumnTypeError(
            f"the diverse strategy stratifies by one value per row, but column {config.group_column!r} holds "
            f"{group_type}; name a column of labels (strings or numbers) with --group-column"
        )


def _chosen_rows(dataset: Dataset, config: SelectConfig, k: int, ranks: dict[str, np.ndarray]):
    """Indices of the chosen rows, best first, and per-group counts (diverse) or the quadrant details (quadrant)."""
    import numpy as np
    import pyarrow.compute as pc

    ids = _ids(dataset)
    if config.strategy in _STRATEGY_WEIGHT:
        needed = {"joint": (DIFFICULTY, TRACE_LENGTH), "longest": (TRACE_LENGTH,), "hardest": (DIFFICULTY,)}
        needed["quadrant"] = needed["joint"]
        missing = [name for name in needed[config.strategy] if name not in dataset.column_names]
        if missing:
            raise ColumnError(
                f"the {config.strategy} strategy needs column(s) {missing}; columns: {dataset.column_names}. "
                "Score the pool first (`s2r score`, or s2r_hf.score_pool)"
            )
        if config.strategy == "quadrant":
            return _quadrant_rows(dataset, config, k, ranks, ids)
        key = {"joint": JOINT_RANK, "longest": LENGTH_RANK, "hardest": DIFFICULTY_RANK}[config.strategy]
        return _smallest_keys(ranks[key], ids, k), None

    priority = _random_priority(_id_order(ids), config.seed)
    if config.strategy == "random":
        return np.argsort(priority, kind="stable")[:k], None

    check_group_column(dataset, config)
    groups_text = pc.cast(arrow_column(dataset, config.group_column), "string").fill_null("None")
    names, groups = np.unique(groups_text.to_numpy(zero_copy_only=False).astype(str), return_inverse=True)
    sizes = np.bincount(groups, minlength=len(names))
    quotas = _largest_remainder_quotas(sizes, k)
    by_group = np.lexsort((priority, groups))  # grouped, then by random priority within a group
    group_start = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank_in_group = np.arange(len(by_group)) - group_start[groups[by_group]]
    chosen = by_group[rank_in_group < quotas[groups[by_group]]]
    chosen = chosen[np.argsort(priority[chosen], kind="stable")]
    counts = {str(name): int(quota) for name, quota in zip(names, quotas) if quota}
    return chosen, counts


def _within_cluster_cap(dataset: Dataset, config: SelectConfig, order: np.ndarray) -> np.ndarray:
    """For rows in the strategy's `order`, whether each is within the first `max_per_cluster` of its cluster."""
    import numpy as np

    if QUESTION_CLUSTER not in dataset.column_names:
        raise ColumnError(
            f"max_per_cluster needs column {QUESTION_CLUSTER!r}; columns: {dataset.column_names}. Score the pool "
            "with `s2r score --near-duplicates cluster` (or add it with s2r_hf.cluster_questions)"
        )
    clusters = arrow_column(dataset, QUESTION_CLUSTER).to_numpy(zero_copy_only=False).astype(str)
    _, codes = np.unique(clusters[order], return_inverse=True)
    by_cluster = np.argsort(codes, kind="stable")  # within a cluster, still in the strategy's order
    sorted_codes = codes[by_cluster]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    place = np.empty(len(order), dtype=np.int64)
    place[by_cluster] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return place < config.max_per_cluster


def _chosen_rows_capped(dataset: Dataset, config: SelectConfig, k: int, ranks: dict[str, np.ndarray]):
    """`_chosen_rows` over the rows within the first `max_per_cluster` of their cluster, in the strategy's own order.

    The strategy orders the whole pool (best first; random priority for random and diverse); a row past the cap of its
    cluster in that order is skipped, and the strategy then chooses k rows among those left, so the subset still has
    its size. Returns (chosen rows, group counts, number of rows skipped).
    """
    import numpy as np

    order, _ = _chosen_rows(dataset, config, len(dataset), ranks)
    allowed = np.sort(order[_within_cluster_cap(dataset, config, order)])
    if len(allowed) < k:
        clusters = len(set(arrow_column(dataset, QUESTION_CLUSTER).to_pylist()))
        raise InputError(
            f"only {len(allowed)} rows are within {config.max_per_cluster} per question cluster "
            f"({clusters} clusters), fewer than the {k} asked for; ask for fewer rows or raise max_per_cluster"
        )
    chosen, group_counts = _chosen_rows(
        dataset.select(allowed), config, k, {name: values[allowed] for name, values in ranks.items()}
    )
    return allowed[chosen], group_counts, len(dataset) - len(allowed)


# -- the token budget --------------------------------------------------------------------------------------------------

# Rows counted in the first batch of a token budget; each next batch is sized to what the budget still holds at the
# rows' mean count so far (a tenth more, so that one more batch rarely remains), within these bounds.
_FIRST_BUDGET_BATCH = 64
_LAST_BUDGET_BATCH = 8192


def budget_tokenizer(tokenizer, chat_template: str | None = None):
    """The tokenizer a token budget counts with: a tokenizer object, or a Hub id or folder to load it from."""
    import os

    from s2r_hf.signals.length import load_tokenizer

    if tokenizer is None:
        raise InputError(
            "token_budget counts the tokens the trainer will see, with the student model's tokenizer; give it "
            "(tokenizer=..., or `s2r select --tokenizer MODEL`)"
        )
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = load_tokenizer(os.fspath(tokenizer))
    if not callable(getattr(tokenizer, "apply_chat_template", None)):
        raise OptionTypeError(
            f"the token budget's tokenizer must be a transformers tokenizer, got {type(tokenizer).__name__}"
        )
    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
        raise InputError(
            f"the tokenizer {name!r} has no chat template, so the trainer's tokens cannot be counted; give the "
            "student's tokenizer, which has one"
        )
    return tokenizer


def rows_within_budget(
    dataset: Dataset, order: np.ndarray, budget: int, tokenizer, chat_template: str | None = None
) -> tuple[int, int]:
    """(rows, tokens): the longest prefix of `order` whose trainer tokens stay within `budget`.

    Rows are counted in batches (one batched tokenizer call each) in `order`, only as far as the budget reaches.
    Refuses a budget below the first row's tokens and one above the tokens of all the rows in `order`.
    """
    rows, tokens, first = _count_in_order(dataset, order, budget, tokenizer, chat_template)
    if rows == 0:
        raise InputError(
            f"token_budget {budget:,} is below the first row's {first:,} trainer tokens (the row the strategy ranks "
            f"best): no row fits; give a budget of at least {first:,}"
        )
    if rows == len(order) and tokens < budget:
        raise InputError(
            f"token_budget {budget:,} is more than the {tokens:,} trainer tokens of all {rows:,} rows the strategy "
            f"can take; give at most {tokens:,} (or train on the whole pool)"
        )
    return rows, tokens


def trainer_tokens(dataset: Dataset, tokenizer, chat_template: str | None = None) -> int:
    """The trainer tokens of every row of `dataset` (its `messages`), counted in batches: a subset's tokens in the
    training data, as a token budget counts them (match_tokens gives one arm's to the others)."""
    import numpy as np

    return _count_in_order(dataset, np.arange(len(dataset)), None, tokenizer, chat_template)[1]


def _count_in_order(dataset: Dataset, order: np.ndarray, budget: int | None, tokenizer, chat_template: str | None):
    """(rows, tokens, the first row's tokens) of the longest prefix of `order` within `budget` (None: every row),
    counted in batches sized to the rows the budget still holds, so that few rows past it are counted."""
    import numpy as np

    from s2r_hf.core.columns import MESSAGES
    from s2r_hf.signals.length import count_trainer_tokens

    if MESSAGES not in dataset.column_names:
        raise ColumnError(
            f"trainer tokens are counted on {MESSAGES!r}, which is not a column; columns: {dataset.column_names}"
        )
    conversations = dataset.select_columns([MESSAGES]).with_format("arrow")
    taken_rows, taken_tokens, first, start, batch = 0, 0, 0, 0, _FIRST_BUDGET_BATCH
    while start < len(order):
        chunk = order[start : start + batch]
        counts = np.asarray(count_trainer_tokens(conversations[chunk][MESSAGES].to_pylist(), tokenizer, chat_template))
        first = first or int(counts[0])
        running = taken_tokens + np.cumsum(counts)
        fits = len(chunk) if budget is None else int(np.searchsorted(running, budget, side="right"))
        if fits < len(chunk):  # the row after these would take the total past the budget: stop here
            return taken_rows + fits, int(running[fits - 1]) if fits else taken_tokens, first
        taken_rows, taken_tokens = taken_rows + len(chunk), int(running[-1])
        start = start + len(chunk)
        if budget is None:
            batch = _LAST_BUDGET_BATCH
        else:
            expected = (budget - taken_tokens) / max(taken_tokens / taken_rows, 1.0)
            batch = int(min(max(1.1 * expected + 1, _FIRST_BUDGET_BATCH), _LAST_BUDGET_BATCH))
    return taken_rows, taken_tokens, first


def _budget_size(base: Dataset, config: SelectConfig, ranks, tokenizer, chat_template) -> tuple[int, int]:
    """(k, tokens) of a token budget: the rows the strategy takes, in its order, while the tokens stay within it."""
    import numpy as np

    order, _ = _chosen_rows(base, config, len(base), ranks)
    if config.max_per_cluster is not None:
        # The order the capped selection takes its rows in (_chosen_rows_capped): the strategy's own, among the rows
        # within the cap (for random, a draw among those rows, not the pool's).
        allowed = np.sort(order[_within_cluster_cap(base, config, order)])
        inner, _ = _chosen_rows(base.select(allowed), config, len(allowed), {n: v[allowed] for n, v in ranks.items()})
        order = allowed[inner]
    return rows_within_budget(base, order, config.token_budget, tokenizer, chat_template)


def select_with_report(
    dataset: Dataset, config: SelectConfig, *, tokenizer=None, chat_template: str | None = None
) -> tuple[Dataset, SelectionReport]:
    """The chosen rows (best first) with rank columns added, and a report of how they were chosen.

    `tokenizer` (a tokenizer, or a Hub id or folder) counts the trainer tokens of a token budget (the student's; needed
    only with `config.token_budget`); `chat_template` replaces its template, as the trainer's would.
    """
    from datasets.fingerprint import Hasher

    require_dataset(dataset, "the pool to select from")
    budget = config.token_budget is not None
    # The size is checked before any ranking (a k above the pool, an empty pool); a budget's once the rows are counted.
    k = subset_size(len(dataset), 1.0 if budget else config.ratio, None if budget else config.k)
    if budget:
        tokenizer = budget_tokenizer(tokenizer, chat_template)
    stale = [name for name in RANK_COLUMNS if name in dataset.column_names]
    base = dataset.remove_columns(stale) if stale else dataset
    ranks = _rank_columns(base, config.effective_weight)
    tokens_taken = None
    if budget:
        k, tokens_taken = _budget_size(base, config, ranks, tokenizer, chat_template)
    if config.max_per_cluster is None:
        chosen, group_counts = _chosen_rows(base, config, k, ranks)
        past_cap = None
    else:
        chosen, group_counts, past_cap = _chosen_rows_capped(base, config, k, ranks)
    quadrant, group_counts = (group_counts, None) if config.strategy == "quadrant" else (None, group_counts)
    # The result is a function of the input and the settings: derive the fingerprints from those rather than let
    # datasets hash every rank and index array again.
    tokenizer_name = (getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__) if budget else None
    # The budget's subset depends on the tokenizer too (by name: a tokenizer object does not hash cheaply).
    settings = asdict(config) if tokenizer_name is None else {**asdict(config), "tokenizer": tokenizer_name}
    fingerprint = Hasher.hash((base._fingerprint, settings, chat_template, "s2r-select-v1"))
    for name, values in ranks.items():
        base = base.add_column(name, values, new_fingerprint=Hasher.hash((fingerprint, name)))
    subset = base.select(chosen, new_fingerprint=fingerprint)
    if config.token_budget is not None:
        rule = (
            f"rows in {config.strategy} order while the trainer tokens stay within {config.token_budget:,}: "
            f"{k:,} rows, {tokens_taken:,} tokens"
        )
    elif config.k is not None:
        rule = f"k = {k}"
    else:
        rule = f"{config.ratio} × {len(dataset)} rounded half up = {k}"
    report = SelectionReport(
        strategy=config.strategy,
        rows=k,
        pool_rows=len(dataset),
        ratio=config.ratio,
        k=config.k,
        weight=config.effective_weight,
        seed=config.seed if config.strategy in ("random", "diverse") else None,
        group_column=config.group_column if config.strategy == "diverse" else None,
        rule=rule,
        group_counts=group_counts,
        quadrant=quadrant,
        max_per_cluster=config.max_per_cluster,
        rows_past_cluster_cap=past_cap,
        token_budget=config.token_budget,
        tokens_taken=tokens_taken,
        tokenizer=tokenizer_name,
    )
    logger.info("selected %d of %d rows with the %s strategy", k, len(dataset), config.strategy)
    # The subset says how it was chosen and from what, wherever it goes next (prepare_sft_dataset, a training card).
    pool = read_lineage(dataset).get("source") or {}
    note_lineage(subset, selection={**report.describe(), "pool": pool.get("name")})
    return subset, report


def select(
    dataset: Dataset,
    ratio: float | None = 0.1,
    *,
    k: int | None = None,
    weight: float = 0.25,
    strategy: str = "joint",
    seed: int = 0,
    group_column: str = "problem_type",
    quadrant: str | None = None,
    max_per_cluster: int | None = None,
    token_budget: int | None = None,
    tokenizer=None,
) -> Dataset:
    """Keep the rows Select2Reason ranks best: `s2r_hf.select(pool, ratio=0.1, weight=0.25)`.

    The input is a scored pool (`s2r score` or s2r_hf.score_pool). The result keeps every column, adds the rank
    columns, lists the best row first, and can go straight to TRL's SFTTrainer. `token_budget=N` (with `tokenizer`,
    the student's: a tokenizer or its Hub id or folder) sizes the subset by trainer tokens instead of rows.
    """
    require_dataset(dataset, "the pool to select from")
    config = SelectConfig(
        ratio=ratio, k=k, weight=weight, strategy=strategy, seed=seed, group_column=group_column, quadrant=quadrant,
        max_per_cluster=max_per_cluster, token_budget=token_budget,
    )  # fmt: skip
    return select_with_report(dataset, config, tokenizer=tokenizer)[0]


# -- one row per question cluster --------------------------------------------------------------------------------------


def drop_near_duplicates(dataset: Dataset, *, weight: float = 0.25) -> tuple[Dataset, int]:
    """Keep one row per `s2r_question_cluster`: the one with the best joint rank at `weight` (ties: smallest id).

    Needs a scored pool (difficulty and trace length) with the cluster column (s2r_hf.hygiene.near_duplicates'
    `cluster_questions`). Returns the kept rows in their original order and the number dropped. Unlike
    `max_per_cluster`, which caps a subset, this removes the other rows of each cluster from the pool itself
    (`s2r score --near-duplicates drop`).
    """
    from datasets.fingerprint import Hasher

    require_dataset(dataset, "the dataset to deduplicate")
    if QUESTION_CLUSTER not in dataset.column_names:
        raise ColumnError(
            f"column {QUESTION_CLUSTER!r} not in the dataset; columns: {dataset.column_names}. Add it with "
            "s2r_hf.cluster_questions (or `s2r score --near-duplicates cluster`)"
        )
    # Every row, best first, exactly as the joint selection orders them.
    ranked, _ = select_with_report(dataset, SelectConfig(k=len(dataset), weight=weight, strategy="joint"))
    row_of = {row_id: row for row, row_id in enumerate(arrow_column(dataset, ID).to_pylist())}
    kept_clusters: set[str] = set()
    kept = []
    for row_id, cluster in zip(
        arrow_column(ranked, ID).to_pylist(), arrow_column(ranked, QUESTION_CLUSTER).to_pylist()
    ):
        if cluster not in kept_clusters:
            kept_clusters.add(cluster)
            kept.append(row_of[row_id])
    dropped = len(dataset) - len(kept)
    if not dropped:
        return dataset, 0
    fingerprint = Hasher.hash((dataset._fingerprint, weight, "s2r-near-duplicates-drop-v1"))
    return dataset.select(sorted(kept), new_fingerprint=fingerprint), dropped
