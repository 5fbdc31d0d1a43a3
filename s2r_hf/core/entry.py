"""How every entry point ends: `s2r` and each `python -m s2r_hf...` module run their work through `run_entry`.

What the user can fix ends in one line on stderr (a line per problem when several were found at once) and exit code 2
(argparse's own code for bad usage): an `S2RError`, whose message says what was wrong and how to fix it, and a missing
optional dependency (the `train` or `eval` extra), named with its install command (s2r_hf.core.extras). Ctrl-C exits
130, as a shell does, with one line saying what was kept. Anything else is a bug and keeps its traceback, a
ModuleNotFoundError of a package that is no extra of ours included. Every line goes through the one rule for secrets
(`s2r_hf.core.redaction`), so a token inside a message never reaches a terminal log.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from s2r_hf.core.errors import InputProblemsError, RunInterrupted, S2RError
from s2r_hf.core.extras import missing_extra_message
from s2r_hf.core.redaction import redact_text


def say(line: str) -> None:
    """Print one line on stderr: a library's multi-line message quoted in ours is joined, a token redacted."""
    print(redact_text(re.sub(r"\s*\n\s*", " ", line.strip())), file=sys.stderr)


def run_entry(main: Callable[[], int | None], *, prog: str, interrupted: str | None = "interrupted") -> int:
    """Run `main` and return the process's exit code: its own (None is 0), or 2 and 130 as above.

    `prog` starts every line (`s2r train`, `python -m s2r_hf.signals.judge.distributed score`); `interrupted` is the
    line for Ctrl-C, saying what was kept (None: say nothing, when the parent that also got Ctrl-C says it).
    """
    try:
        code = main()
    except RunInterrupted as err:  # Ctrl-C caught by the run itself, with what it kept and how to resume
        say(f"{prog}: {err}")
        return 130
    except S2RError as err:
        # Input problems: the message already says what was wrong and how to fix it; a traceback would bury it.
        # Several found in one pass (InputProblemsError): a line for each.
        for problem in err.problems if isinstance(err, InputProblemsError) else [str(err)]:
            say(f"{prog}: error: {problem}")
        return 2
    except ModuleNotFoundError as err:
        message = missing_extra_message(err)
        if message is None:
            raise
        say(f"{prog}: error: {message}")
        return 2
    except KeyboardInterrupt:
        # A traceback from deep inside datasets or the trainer says nothing the user can act on.
        if interrupted is not None:
            say(f"{prog}: {interrupted}")
        return 130
    return 0 if code is None else code
