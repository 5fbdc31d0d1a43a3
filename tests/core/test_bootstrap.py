"""The bootstrap intervals on hand-made per-problem scores whose answer is known, and against independent
computations: a loop over the draws with the same RNG (the same numbers), and the normal approximation on a large
case (close to it)."""

from __future__ import annotations

import numpy as np
import pytest

from s2r_hf.core.bootstrap import (
    RESAMPLES,
    interval_of_average,
    paired_difference,
    problem_stream,
    resample_counts,
    seed_stream,
    seeds_and_problems_interval,
)
from s2r_hf.core.errors import InputError


def test_two_arms_that_differ_clearly_have_an_interval_without_zero():
    # 200 problems: the arm solves the first 150, the reference the first 50 (the same problems, nested): every
    # problem's difference is 1 (problems 50..149) or 0, and the mean difference is exactly 100/200.
    arm = np.array([1.0] * 150 + [0.0] * 50)
    reference = np.array([1.0] * 50 + [0.0] * 150)
    difference = paired_difference(arm, reference)
    assert difference.mean == 0.5
    assert not difference.contains_zero
    # A difference of 0/1 values with p = 0.5: standard error sqrt(0.25 / 200) = 0.0354; the interval is about
    # 0.5 ± 1.96 × 0.0354.
    assert difference.low == pytest.approx(0.5 - 1.96 * 0.0354, abs=0.01)
    assert difference.high == pytest.approx(0.5 + 1.96 * 0.0354, abs=0.01)
    assert (difference.seeds, difference.problems) == (1, 200)


def test_two_arms_that_do_not_differ_have_an_interval_holding_zero():
    # The same 200 problems, the same score on 196 of them; on the other 4 each arm wins two: a mean difference of 0.
    reference = np.array([1.0] * 100 + [0.0] * 100)
    arm = reference.copy()
    arm[[0, 1]] = 0.0
    arm[[150, 151]] = 1.0
    difference = paired_difference(arm, reference)
    assert difference.mean == 0.0
    assert difference.contains_zero
    assert difference.low < 0 < difference.high
    # Unpaired, the same two arms (each about 50%) would give an interval some ±10 points wide; paired, the 196 equal
    # problems cancel: at most 4 problems in 200 move the difference, so the interval stays within ±2 points.
    assert difference.low >= -0.02 and difference.high <= 0.02


def test_the_vectorised_bootstrap_is_a_loop_over_the_draws_with_the_same_rng():
    rng = np.random.default_rng(7)
    scores = rng.random((3, 40)).round(2)  # 3 seeds, 40 problems
    reference = rng.random((2, 40)).round(2)
    draws = 500
    interval = seeds_and_problems_interval(scores, resamples=draws, seed=11)
    paired = paired_difference(scores, reference, resamples=draws, seed=11)

    # The slow way: pick indices draw by draw, from the same RNG streams (one for the seeds, one for the problems).
    seed_picks = np.random.default_rng(seed_stream(11)).integers(0, 3, size=(draws, 3))
    problem_picks = np.random.default_rng(problem_stream(11)).integers(0, 40, size=(draws, 40))
    means = [scores[seed_picks[b]][:, problem_picks[b]].mean() for b in range(draws)]
    assert np.allclose(interval.draws, means, rtol=0, atol=1e-12)
    assert interval.low == pytest.approx(np.percentile(means, 2.5), abs=1e-12)
    assert interval.high == pytest.approx(np.percentile(means, 97.5), abs=1e-12)

    # The paired difference draws the very problems the interval drew (the same stream).
    per_problem = scores.mean(axis=0) - reference.mean(axis=0)
    differences = [per_problem[problem_picks[b]].mean() for b in range(draws)]
    assert np.allclose(paired.draws, differences, rtol=0, atol=1e-12)
    assert paired.mean == pytest.approx(per_problem.mean(), abs=1e-15)


def test_on_a_large_case_the_interval_agrees_with_the_normal_approximation():
    rng = np.random.default_rng(3)
    scores = (rng.random(4000) < 0.3).astype(float)  # one seed, 4,000 problems right with probability 0.3
    interval = seeds_and_problems_interval(scores)
    half_width = 1.96 * scores.std(ddof=1) / np.sqrt(scores.size)
    assert interval.low == pytest.approx(scores.mean() - half_width, abs=0.002)
    assert interval.high == pytest.approx(scores.mean() + half_width, abs=0.002)
    assert interval.draws.shape == (RESAMPLES,)  # 10,000 draws by default


def test_the_seed_level_is_in_the_interval():
    # Three seeds, each scoring the same on every problem: 0.2, 0.4, 0.6. Drawing problems changes nothing; drawing
    # three seeds with replacement gives means from 0.2 (all three the first: 1/27 = 3.7% of draws, more than the
    # 2.5% tail) to 0.6. An interval over problems alone would be [0.4, 0.4].
    scores = np.array([[0.2] * 30, [0.4] * 30, [0.6] * 30])
    interval = seeds_and_problems_interval(scores)
    assert interval.mean == pytest.approx(0.4)
    assert (interval.low, interval.high) == (pytest.approx(0.2), pytest.approx(0.6))
    assert (interval.seeds, interval.problems) == (3, 30)


def test_intervals_are_reproducible_and_the_average_takes_the_draws_together():
    scores = np.array([1.0, 0.0, 1.0, 1.0, 0.0] * 8)
    first, again = seeds_and_problems_interval(scores), seeds_and_problems_interval(scores)
    assert (first.low, first.high) == (again.low, again.high)
    other = seeds_and_problems_interval(1 - scores, seed=1)
    average = interval_of_average([first, other])
    assert average.mean == pytest.approx(0.5)
    assert np.allclose(average.draws, (first.draws + other.draws) / 2)
    assert average.problems == 80


def test_counts_are_the_draws_of_integers():
    rng = np.random.default_rng(5)
    counts = resample_counts(rng, 6, 4)
    picks = np.random.default_rng(5).integers(0, 6, size=(4, 6))
    assert counts.tolist() == [np.bincount(row, minlength=6).tolist() for row in picks]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: seeds_and_problems_interval([[0.5, float("nan")]]), "not a finite number"),
        (lambda: seeds_and_problems_interval([]), "at least one seed and one problem"),
        (lambda: paired_difference([1.0, 0.0], [1.0, 0.0, 1.0]), "same problems in both arms; got 2 and 3"),
        (lambda: seeds_and_problems_interval([1.0], resamples=0), "resamples must be a whole number"),
        (lambda: seeds_and_problems_interval([1.0], confidence=95), "confidence must be between 0 and 1"),
    ],
)
def test_bad_input_is_one_line(call, match):
    with pytest.raises(InputError, match=match):
        call()
