"""What resuming and re-running only what changed save, against the naive way: running the whole experiment again.

The shipped tiny experiment (`tiny-cpu`: the embedded demo pool, arms full, random 10% and joint 10%) with a tiny
offline model (2-layer Qwen2, hidden 32), 2 optimizer steps per arm and 2 MATH500 problems per evaluation (real
lighteval), through the real command line, in one run:

1. the whole experiment from nothing (what the naive way pays every time);
2. the same command again: every step up to date (what a re-run after a crash at the very end pays);
3. the joint arm's weight changed: that arm's select, train and evaluate only;
4. an evaluation setting changed (max new tokens): the three evaluations only, no training.

Each is timed as a whole process (the interpreter's start and imports included), and the ratio is against (1).

Then two measures of issue 20's statistics:

5. the cost of training seeds: `seeds: [0, 1, 2]` (`--seeds 3`) set on the experiment the runs above left, which
   trains and evaluates the added seeds only; N seeds from nothing cost (1) plus this run, against (1) for one seed.
   Runs 1-4 therefore train as seed 0 (`seeds: [0]`, the arm's steps named `joint/seed0/...`);
6. the report's statistics for 500 problems x 16 samples x 5 arms (`--bootstrap-problems`, `--bootstrap-samples`):
   each arm's interval and four paired differences from the reference arm, 10,000 draws each (`--resamples`), with
   s2r_hf.evaluation.intervals (vectorised), against the naive way: a Python loop over the draws, indexing the
   problems drawn (the same numbers, checked).

    python benchmarks/bench_experiment.py                        # 3 arms, 2 steps, 2 problems, the four runs, 3 seeds
    python benchmarks/bench_experiment.py --only joint --steps 1 --problems 1 --runs 2 --seeds 2 --resamples 500

Every run's settings are checked before the first run starts, those of runs left out by --runs too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = "tiny-cpu"  # the shipped example
MATH500 = REPO.parent / "shared" / "data" / "benchmarks" / "math500" / "test.jsonl"
sys.path.insert(0, str(REPO / "tests"))


def timed_run(flags: list[str], *extra: str) -> tuple[float, list[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "s2r_hf.cli", "experiment", "run", EXPERIMENT, *flags, *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the experiment failed:\n{done.stderr[-3000:]}")
    lines = [line for line in done.stderr.splitlines() if "s2r_hf.experiment.runner" in line]
    ran = [line.split(": ")[1] for line in lines if line.endswith(("running", "resuming", "running it again"))]
    return seconds, ran


def step_seconds(settings: list[str]) -> dict[str, list[float]]:
    """{step name: seconds of each of its runs} from the step records the last run left (the experiment's own reader:
    the steps folder holds other files too, such as the weights digest cache)."""
    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.experiment.steps import experiment_steps, read_record

    steps: dict[str, list[float]] = {}
    for step in experiment_steps(load_experiment(EXPERIMENT, settings)):
        record = read_record(step)
        if record is not None and record.get("status") == "finished":
            steps.setdefault(step.name, []).append(record.get("seconds") or 0.0)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="ARM", help="run these arms only (default: all three)")
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per arm")
    parser.add_argument("--problems", type=int, default=2, help="MATH500 problems per evaluation")
    parser.add_argument("--runs", type=int, default=4, choices=range(1, 5), help="the first RUNS of the four runs")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds of run 5 (below 2: no run 5)")
    parser.add_argument("--bootstrap-problems", type=int, default=500, help="problems per arm of measure 6")
    parser.add_argument("--bootstrap-samples", type=int, default=16, help="samples per problem of measure 6")
    parser.add_argument("--bootstrap-arms", type=int, default=5, help="arms of measure 6 (one is the reference)")
    parser.add_argument("--resamples", type=int, default=10_000, help="bootstrap draws of measure 6")
    args = parser.parse_args()
    if args.only is not None and "joint" not in args.only:
        sys.exit(f"--only must keep the joint arm (runs 3 and 4 change its settings), got {' '.join(args.only)}")
    if not MATH500.exists():
        sys.exit(f"the MATH500 file is not at {MATH500}; this benchmark needs ../shared/data")
    from fixtures.tiny_models import build_qwen2, build_tokenizer
    from transformers import AutoTokenizer

    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.pool.demo import generate_rows

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        build_tokenizer([row["problem"] + "\n" + row["generations"][0] for row in generate_rows()], tmp / "tok")
        build_qwen2(AutoTokenizer.from_pretrained(tmp / "tok"), tmp / "model")
        output = tmp / "experiment"
        settings = [
            f"train.model={tmp / 'model'}",
            f"output={output}",
            f"train.overrides.max_steps={args.steps}",
            "train.overrides.max_length=1024",
            f"evaluate.max_samples={args.problems}",
            "evaluate.max_new_tokens=8",
            f"evaluate.data.math500={MATH500}",
            "seeds=[0]",  # run 5 adds seeds to this experiment: the seed-0 steps it already has are kept
        ]
        flags = [word for setting in settings for word in ("--set", setting)]
        if args.only:
            flags += ["--only", *args.only]
        all_runs = [
            ("1. whole experiment, from nothing", []),
            ("2. same command again (all up to date)", []),
            ("3. joint weight 0.25 -> 0.5", ["--set", "arms.joint.weight=0.5"]),
            ("4. max new tokens 8 -> 12", ["--set", "arms.joint.weight=0.5", "--set", "evaluate.max_new_tokens=12"]),
        ]
        # Every run's settings are checked before the first starts: a setting renamed in the experiment file's
        # schema fails here in a second, not after minutes of training (and with --runs, even in the runs left out).
        for _, extra in all_runs:
            load_experiment(EXPERIMENT, settings + extra[1::2])
        results = []
        for label, extra in all_runs[: args.runs]:
            seconds, ran = timed_run(flags, *extra)
            results.append((label, seconds, ran))
        steps = step_seconds(settings + all_runs[args.runs - 1][1][1::2])
        seeded = None
        if args.seeds >= 2:
            seeds = f"seeds=[{', '.join(map(str, range(args.seeds)))}]"
            last = all_runs[args.runs - 1][1]  # the settings the last run left the experiment at
            load_experiment(EXPERIMENT, [*settings, *last[1::2], seeds])
            seeded = timed_run(flags, *last, "--set", seeds)
    naive = results[0][1]
    arms = ", ".join(args.only) if args.only else "3 arms"
    print(f"tiny-cpu experiment ({arms}), whole processes; naive = run the whole experiment again:\n")
    print(f"{'run':<42} {'seconds':>8} {'vs naive':>9}  steps run")
    for label, seconds, ran in results:
        print(f"{label:<42} {seconds:>8.1f} {naive / seconds:>8.1f}x  {', '.join(ran) or '-'}")
    print("\nmean seconds per step (the last run of each, from the step records):")
    for step, values in steps.items():
        print(f"  {step:<9} {sum(values) / len(values):6.1f} s  (n={len(values)})")
    if seeded is not None:
        seconds, ran = seeded
        print(
            f"\n5. {args.seeds} training seeds, from nothing: {naive + seconds:.1f} s (run 1, then {seconds:.1f} s "
            f"to add seeds 1-{args.seeds - 1}), {(naive + seconds) / naive:.2f}x the cost of one seed (run 1)  steps "
            f"run: {', '.join(ran)}"
        )
    vectorised, loop, draws = time_statistics(
        args.bootstrap_problems, args.bootstrap_samples, args.bootstrap_arms, args.resamples
    )
    print(
        f"\n6. intervals and paired differences, {args.bootstrap_problems} problems x {args.bootstrap_samples} samples "
        f"x {args.bootstrap_arms} arms, {draws:,} draws each: vectorised {vectorised:.3f} s; a Python loop over the "
        f"draws {loop:.3f} s ({loop / vectorised:.1f}x); the same intervals"
    )


def time_statistics(problems: int, samples: int, arms: int, resamples: int) -> tuple[float, float, int]:
    """Seconds of arm_statistics (every arm's interval, each other arm's paired difference from the first) on random
    per-sample results, and of the same numbers drawn in a Python loop; checked to agree."""
    import numpy as np

    from s2r_hf.core.bootstrap import CONFIDENCE, problem_stream
    from s2r_hf.evaluation.intervals import _rng_seed, arm_statistics
    from s2r_hf.evaluation.per_problem import ProblemScores

    rng = np.random.default_rng(0)
    ids = tuple(str(problem) for problem in range(problems))
    # Each arm: its 0/1 samples, right with a probability that depends on the problem and the arm.
    difficulty = rng.random(problems)
    scores = {}
    for arm in range(arms):
        right = rng.random((problems, samples)) < np.clip(difficulty + 0.02 * arm, 0, 1)[:, None]
        scores[f"arm{arm}"] = [{"bench": ProblemScores("bench", ids, right.mean(axis=1), samples)}]
    started = time.perf_counter()
    statistics = arm_statistics(scores, "arm0", resamples=resamples)
    vectorised = time.perf_counter() - started

    started = time.perf_counter()
    tail = 100 * (1 - CONFIDENCE) / 2
    looped = {}
    reference = scores["arm0"][0]["bench"].scores
    for arm, runs in scores.items():
        values = runs[0]["bench"].scores
        picks = np.random.default_rng(problem_stream(_rng_seed("bench"))).integers(0, problems, (resamples, problems))
        means = [values[picks[b]].mean() for b in range(resamples)]
        looped[arm] = np.percentile(means, [tail, 100 - tail])
        if arm != "arm0":  # the same problems drawn (one stream for the problems, whatever they are drawn for)
            differences = [(values[picks[b]] - reference[picks[b]]).mean() for b in range(resamples)]
            looped[f"{arm} - arm0"] = np.percentile(differences, [tail, 100 - tail])
    loop = time.perf_counter() - started
    for arm, entry in statistics["arms"].items():
        interval = entry["benchmarks"]["bench"]
        assert np.allclose([interval["low"], interval["high"]], looped[arm], atol=1e-9), arm
    for arm, entry in statistics["differences"].items():
        assert np.allclose([entry["bench"]["low"], entry["bench"]["high"]], looped[f"{arm} - arm0"], atol=1e-9), arm
    return vectorised, loop, resamples


if __name__ == "__main__":
    main()
