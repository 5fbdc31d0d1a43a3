"""Math-Verify's verdicts on the peer cases (tests/answers/peer_cases/*.jsonl), for bench_grader.py's
--math-verify-python.

Run only with the interpreter of a separate environment holding math-verify (it pins latex2sympy2_extended 1.11,
which the eval extra's lighteval 0.13 cannot share):

    python -m venv /tmp/mv && /tmp/mv/bin/pip install math-verify==0.9.0
    /tmp/mv/bin/python benchmarks/math_verify_verdicts.py tests/answers/peer_cases > verdicts.json

Each case is graded as a Math-Verify user grades by default, `verify(parse(gold), parse(prediction))`; a text from which
`parse` extracts nothing is parsed again in `$...$` (hendrycks' and NeMo-Skills' cases are bare answers): Math-Verify's
LaTeX extraction reads math spans, and without them it misses answers such as `\\frac{1}{2}` that it grades right when
delimited. Prints one JSON object: {source: [true/false per case, in file order]}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from math_verify import parse, verify


def parsed(text: str) -> list:
    return parse(text) or parse(f"${text}$")


def main() -> None:
    folder = Path(sys.argv[1])
    verdicts = {}
    for path in sorted(folder.glob("*.jsonl")):
        cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
        verdicts[path.stem] = [bool(verify(parsed(case["gold"]), parsed(case["prediction"]))) for case in cases]
    print(json.dumps(verdicts))


if __name__ == "__main__":
    main()
