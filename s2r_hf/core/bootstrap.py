"""Bootstrap intervals for accuracies measured on a few problems and a few training seeds, in one place.

Two questions a reader of an evaluation asks, each answered by a percentile bootstrap with a fixed RNG seed (so a
report read twice gives the same numbers) and RESAMPLES draws by default:

- `seeds_and_problems_interval(scores)`: how sure is an arm's mean, given `scores[seed, problem]` (a problem's pass@1
  under each training seed)? Two levels, as the data were made: each draw takes the seeds with replacement, then the
  problems with replacement (the same problem draw for every seed drawn, since the seeds answered the same problems),
  and averages. With one seed it is the ordinary bootstrap over problems.
- `paired_difference(scores, reference)`: does an arm differ from a reference arm on the same problems? Each problem's
  score is averaged over its arm's seeds, the difference is taken problem by problem, and the problems are drawn with
  replacement: both arms always see the same drawn problems, so how hard the benchmark happens to be cancels out.

Everything is vectorised: a draw is a row of counts (how often each seed or problem was taken), made with one
`integers` call and one `bincount` for all draws, and the draws' means are matrix products. No Python loop runs over
the draws. The problems are drawn from their own RNG stream (`problem_stream(seed)`), the seeds from another
(`seed_stream(seed)`): the problem draws depend on the RNG seed, the number of problems and of draws alone, so every
arm of a benchmark, and every paired difference, resamples the very same problems, and they are made once (a cache of
the last few) however many arms are compared.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from s2r_hf.core.errors import InputError

if TYPE_CHECKING:
    import numpy as np

RESAMPLES = 10_000
CONFIDENCE = 0.95
RNG_SEED = 0  # every report draws the same resamples: the same folder always gives the same intervals


@dataclass(frozen=True)
class Interval:
    """A mean and its percentile-bootstrap interval, with what it stands on (seeds and problems); `draws`: the
    bootstrap's means, one per draw (kept for intervals of averages over benchmarks, not for printing)."""

    mean: float
    low: float
    high: float
    seeds: int
    problems: int
    draws: np.ndarray | None = None

    @property
    def contains_zero(self) -> bool:
        return self.low <= 0.0 <= self.high

    def describe(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "seeds": self.seeds, "problems": self.problems}


def resample_counts(rng: np.random.Generator, size: int, resamples: int) -> np.ndarray:
    """(resamples, size) counts: row b says how often each of `size` items was drawn in draw b (size draws with
    replacement). The draws are `rng.integers(0, size, (resamples, size))`, row by row."""
    import numpy as np

    picks = rng.integers(0, size, size=(resamples, size))
    offsets = (np.arange(resamples) * size)[:, None]
    return np.bincount((picks + offsets).ravel(), minlength=resamples * size).reshape(resamples, size)


def problem_stream(seed: int | list[int]) -> list[int]:
    """The RNG seed of the problems' draws (`numpy.random.default_rng(problem_stream(seed))`)."""
    return [*_as_list(seed), 0]


def seed_stream(seed: int | list[int]) -> list[int]:
    """The RNG seed of the training seeds' draws."""
    return [*_as_list(seed), 1]


def _as_list(seed: int | list[int]) -> list[int]:
    return list(seed) if isinstance(seed, (list, tuple)) else [seed]


@functools.lru_cache(maxsize=4)
def _problem_weights(stream: tuple[int, ...], size: int, resamples: int):
    """(resamples, size) weights of the problems in each draw (counts / size), read-only: shared by every caller."""
    import numpy as np

    weights = resample_counts(np.random.default_rng(list(stream)), size, resamples) / size
    weights.setflags(write=False)
    return weights


def seeds_and_problems_interval(
    scores, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE, seed: int | list[int] = RNG_SEED
) -> Interval:
    """The mean of `scores[seed, problem]` and its two-level bootstrap interval (in each draw, the seeds drawn with
    replacement, then the problems)."""
    import numpy as np

    matrix = _matrix(scores, "scores")
    _check_draws(resamples, confidence)
    n_seeds, n_problems = matrix.shape
    seed_weights = resample_counts(np.random.default_rng(seed_stream(seed)), n_seeds, resamples) / n_seeds
    problem_weights = _problem_weights(tuple(problem_stream(seed)), n_problems, resamples)
    # draw b's mean = seed_weights[b] @ matrix @ problem_weights[b]: one (draws x problems) @ (problems x seeds)
    # product, then a row-wise dot with the seed weights
    draws = np.einsum("bs,bs->b", seed_weights, problem_weights @ matrix.T)
    return _interval(float(matrix.mean()), draws, confidence, n_seeds, n_problems)


def paired_difference(
    scores,
    reference,
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int | list[int] = RNG_SEED,
) -> Interval:
    """The mean difference `scores - reference` (each [seed, problem], the same problems in the same order, the seeds
    of each averaged) and its paired bootstrap interval over problems. `seeds` is the smaller arm's seed count."""

    arm, base = _matrix(scores, "scores"), _matrix(reference, "reference")
    if arm.shape[1] != base.shape[1]:
        raise InputError(
            f"a paired comparison needs the same problems in both arms; got {arm.shape[1]} and {base.shape[1]} "
            "problems (evaluate both on the same benchmark rows)"
        )
    _check_draws(resamples, confidence)
    differences = arm.mean(axis=0) - base.mean(axis=0)
    n_problems = differences.shape[0]
    draws = _problem_weights(tuple(problem_stream(seed)), n_problems, resamples) @ differences
    return _interval(float(differences.mean()), draws, confidence, min(arm.shape[0], base.shape[0]), n_problems)


def interval_of_average(intervals: list[Interval], confidence: float = CONFIDENCE) -> Interval:
    """The interval of the average of several means (an arm's accuracy over its benchmarks), from their draws taken
    together: draw b of the average is the average of their draws b (each made with its own RNG seed)."""
    import numpy as np

    if not intervals or any(interval.draws is None for interval in intervals):
        raise InputError("interval_of_average needs at least one interval, each with its bootstrap draws")
    draws = np.mean([interval.draws for interval in intervals], axis=0)
    mean = float(np.mean([interval.mean for interval in intervals]))
    seeds = min(interval.seeds for interval in intervals)
    return _interval(mean, draws, confidence, seeds, sum(interval.problems for interval in intervals))


def _interval(mean: float, draws, confidence: float, seeds: int, problems: int) -> Interval:
    import numpy as np

    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    # Clipped to the mean: a percentile of draws whose sums are rounded may sit a hair on the wrong side of it.
    return Interval(mean, min(float(low), mean), max(float(high), mean), seeds, problems, draws)


def _matrix(values, what: str):
    import numpy as np

    matrix = np.asarray(values, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix[None, :]  # one seed
    if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] < 1:
        raise InputError(
            f"{what} must be a [seed, problem] array with at least one seed and one problem, got shape "
            f"{tuple(matrix.shape)}"
        )
    if not np.isfinite(matrix).all():
        raise InputError(f"{what} holds a value that is not a finite number (NaN or infinite); each must be a score")
    return matrix


def _check_draws(resamples: int, confidence: float) -> None:
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise InputError(f"resamples must be a whole number of at least 1, got {resamples!r} (default {RESAMPLES:,})")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1 (0.95 for a 95% interval), got {confidence!r}")
