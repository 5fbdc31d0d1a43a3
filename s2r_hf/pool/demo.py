"""The embedded demo pool: SYNTHETIC rows in the exact shape of OpenR1-Math-220k, generated deterministically.

No real OpenR1 rows may be shipped, so the default job of `s2r demo` runs on this. The problems are simple generated
exercises with correct answers; the "traces" are templated reasoning with the features the method cares about: varied
length, rethinking markers, exactly repeated steps, wrong, truncated and incomplete generations. They are not model
output. The file `s2r_hf/data/openr1-synthetic.jsonl.gz` is this module's output; regenerate it with

    python -m s2r_hf.pool.demo --update-package-file

(`-o FILE` writes a copy elsewhere; `--help` lists the options), and a test checks that the shipped file equals what
this code generates.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import uuid
from pathlib import Path
from typing import Any

from s2r_hf.core.entry import run_entry

DEMO_POOL_FILE = Path(__file__).resolve().parents[1] / "data" / "openr1-synthetic.jsonl.gz"  # s2r_hf/data
DEMO_ROWS = 200
DEMO_SEED = 2505_17266
DEMO_LICENSE = "apache-2.0"

PROBLEM_TYPES = ("Algebra", "Number Theory", "Combinatorics", "Geometry", "Calculus")
RETHINK_OPENERS = (
    "Wait, let me double-check that step.",
    "Alternatively, I could verify this another way.",
    "Hmm. Maybe I made an arithmetic slip; let me recompute.",
    "However, I should make sure nothing was missed.",
)


def _algebra(rng: random.Random) -> tuple[str, int, list[str]]:
    a, x, b = rng.randint(2, 12), rng.randint(-20, 40), rng.randint(-50, 50)
    c = a * x + b
    steps = [
        f"We need x with {a}x + {b} = {c}.",
        f"Subtract {b} from both sides: {a}x = {c} - ({b}) = {c - b}.",
        f"Divide by {a}: x = {c - b} / {a} = {x}.",
        f"Check: {a} * {x} + {b} = {a * x} + {b} = {c}. Correct.",
    ]
    return f"Solve for $x$: ${a}x + {b} = {c}$.", x, steps


def _number_theory(rng: random.Random) -> tuple[str, int, list[str]]:
    g = rng.randint(2, 30)
    p, q = rng.sample([1, 2, 3, 5, 7, 11, 13, 17], 2)
    m, n = g * p * rng.randint(1, 9), g * q * rng.randint(1, 9)
    answer = math.gcd(m, n)
    steps = [f"We want gcd({m}, {n}). Use the Euclidean algorithm."]
    a, b = max(m, n), min(m, n)
    while b:
        steps.append(f"{a} = {a // b} * {b} + {a % b}.")
        a, b = b, a % b
    steps.append(f"The last nonzero remainder is {a}.")
    return f"What is the greatest common divisor of ${m}$ and ${n}$?", answer, steps


def _combinatorics(rng: random.Random) -> tuple[str, int, list[str]]:
    n = rng.randint(5, 16)
    k = rng.randint(2, min(6, n - 1))
    answer = math.comb(n, k)
    steps = [
        f"Choosing {k} of {n} distinct items without order is C({n}, {k}).",
        f"C({n}, {k}) = {n}! / ({k}! * {n - k}!).",
        "Expand the falling factorial: " + " * ".join(str(n - i) for i in range(k)) + f" = {math.perm(n, k)}.",
        f"Divide by {k}! = {math.factorial(k)}: {math.perm(n, k)} / {math.factorial(k)} = {answer}.",
    ]
    return f"In how many ways can a committee of {k} be chosen from {n} people?", answer, steps


def _geometry(rng: random.Random) -> tuple[str, int, list[str]]:
    base, height = 2 * rng.randint(2, 30), rng.randint(3, 40)
    answer = base * height // 2
    steps = [
        "The area of a triangle is half the base times the height.",
        f"Base {base}, height {height}: base * height = {base * height}.",
        f"Half of {base * height} is {answer}.",
    ]
    return f"A triangle has base ${base}$ and height ${height}$. What is its area?", answer, steps


def _calculus(rng: random.Random) -> tuple[str, int, list[str]]:
    a, b, c, x = rng.randint(1, 9), rng.randint(-9, 9), rng.randint(-9, 9), rng.randint(-5, 5)
    answer = 3 * a * x * x + 2 * b * x + c
    steps = [
        f"f(x) = {a}x^3 + {b}x^2 + {c}x, so f'(x) = {3 * a}x^2 + {2 * b}x + {c}.",
        f"At x = {x}: {3 * a} * {x * x} + {2 * b} * {x} + {c}.",
        f"That is {3 * a * x * x} + {2 * b * x} + {c} = {answer}.",
    ]
    return f"Let $f(x) = {a}x^3 + {b}x^2 + {c}x$. Compute $f'({x})$.", answer, steps


_MAKERS = {
    "Algebra": _algebra,
    "Number Theory": _number_theory,
    "Combinatorics": _combinatorics,
    "Geometry": _geometry,
    "Calculus": _calculus,
}


def _trace(rng: random.Random, steps: list[str], answer: int, *, truncated: bool) -> str:
    """A templated 'long CoT' trace: the steps, some rethinking, some exact repeats, then a boxed answer."""
    body = ["Let me work through this carefully."]
    for step in steps:
        body.append(step)
        if rng.random() < 0.35:
            body.append(rng.choice(RETHINK_OPENERS))
            body.append(step)  # re-deriving the same step verbatim: what the repeated-step discount removes
    body.extend(rng.choice(RETHINK_OPENERS) + " " + rng.choice(steps) for _ in range(rng.randint(0, 6)))
    if truncated:
        return "<think>\n" + "\n\n".join(body[: max(1, len(body) // 2)])
    return "<think>\n" + "\n\n".join(body) + f"\n</think>\n\nSo the answer is $\\boxed{{{answer}}}$."


def _row(rng: random.Random) -> dict[str, Any]:
    problem_type = rng.choice(PROBLEM_TYPES)
    problem, answer, steps = _MAKERS[problem_type](rng)
    n_generations = rng.randint(2, 4)
    generations, complete, finish, correct = [], [], [], []
    for _ in range(n_generations):
        truncated = rng.random() < 0.12
        wrong = not truncated and rng.random() < 0.3
        generations.append(_trace(rng, steps, answer + rng.randint(1, 9) if wrong else answer, truncated=truncated))
        complete.append(not truncated)
        finish.append("length" if truncated else "stop")
        correct.append(not truncated and not wrong)
    if not any(correct):  # OpenR1's `messages` always holds a verified trace: make sure one exists
        generations[0] = _trace(rng, steps, answer, truncated=False)
        complete[0], finish[0], correct[0] = True, "stop", True
    verified = correct.index(True)
    if rng.random() < 0.05:  # a few rows whose verified trace was flagged incomplete, as happens in the real pool
        complete[verified] = False
    return {
        "problem": problem,
        "solution": " ".join(steps),
        "answer": str(answer),
        "problem_type": problem_type,
        "question_type": "math-word-problem",
        "source": "synthetic",
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "is_reasoning_complete": complete,
        "generations": generations,
        "correctness_math_verify": correct,
        "correctness_llama": [None if rng.random() < 0.2 else flag for flag in correct],
        "finish_reasons": finish,
        "correctness_count": sum(correct),
        "messages": [{"role": "user", "content": problem}, {"role": "assistant", "content": generations[verified]}],
    }


def generate_rows(n: int = DEMO_ROWS, seed: int = DEMO_SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_row(rng) for _ in range(n)]


def serialise(rows: list[dict[str, Any]]) -> bytes:
    """Gzipped JSON lines with a fixed timestamp, so the same rows always give the same bytes."""
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def build_parser():
    import argparse

    from s2r_hf.core.options import DefaultsHelpFormatter

    parser = argparse.ArgumentParser(
        prog="python -m s2r_hf.pool.demo",
        description="Write the SYNTHETIC demo pool (gzipped JSON lines, the same bytes every time). "
        f"The package ships it as s2r_hf/data/{DEMO_POOL_FILE.name}; `s2r demo` reads that copy.",
        formatter_class=DefaultsHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="FILE", help="write the pool to this file (.jsonl.gz)")
    target.add_argument(
        "--update-package-file",
        action="store_true",
        help=f"rewrite the shipped copy ({DEMO_POOL_FILE}), after a change to this generator",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    parser.add_argument("--rows", type=int, metavar="N", default=DEMO_ROWS, help="rows to generate")
    parser.add_argument("--seed", type=int, metavar="N", default=DEMO_SEED, help="seed of the generator")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line: write the pool where asked; the shipped copy only with --update-package-file."""
    from s2r_hf.core.errors import InputError, OutputExistsError
    from s2r_hf.core.folders import check_writable_file, write_file_atomically

    parser = build_parser()
    args = parser.parse_args(argv)

    def write() -> int:
        if args.rows < 1:
            raise InputError(f"--rows must be at least 1, got {args.rows}")
        if args.update_package_file:
            if (args.rows, args.seed) != (DEMO_ROWS, DEMO_SEED):
                raise InputError(
                    f"the shipped demo pool has {DEMO_ROWS} rows of seed {DEMO_SEED} (a test checks it); write other "
                    "sizes and seeds with -o FILE"
                )
            target = DEMO_POOL_FILE
        else:
            target = check_writable_file(args.output)
            if target == DEMO_POOL_FILE:
                raise InputError(
                    f"{args.output!r} is the shipped demo pool; rewrite it with --update-package-file, or choose "
                    "another FILE"
                )
            if target.exists() and not args.overwrite:
                raise OutputExistsError(
                    f"{args.output!r} exists; add --overwrite to replace it, or choose another FILE"
                )
        write_file_atomically(target, serialise(generate_rows(args.rows, args.seed)))
        print(f"{args.rows} synthetic rows written to {args.output or target}")
        return 0

    return run_entry(write, prog=parser.prog)


if __name__ == "__main__":
    import sys

    sys.exit(main())
