"""The `s2r` command line: a thin dispatcher over the modules in s2r_hf/commands.

Each command module exposes `HELP`, `add_arguments(parser)` and `run(args) -> int` and imports its heavy dependencies
inside `run`, so `s2r --help` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from importlib import import_module

from s2r_hf._version import __version__
from s2r_hf.core.entry import run_entry
from s2r_hf.core.options import DefaultsHelpFormatter
from s2r_hf.core.redaction import redact_argv

COMMANDS = (
    "s2r_hf.commands.score",
    "s2r_hf.commands.select",
    "s2r_hf.commands.demo",
    "s2r_hf.commands.train_judge",
    "s2r_hf.commands.publish",
    "s2r_hf.commands.verify",
    "s2r_hf.commands.evaluate",
    "s2r_hf.commands.compare",
    "s2r_hf.commands.inspect",
    "s2r_hf.commands.train",
    "s2r_hf.commands.experiment",
)


def command_name(module_name: str) -> str:
    return module_name.rsplit(".", 1)[1].replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2r",
        description="Select2Reason: score a long chain-of-thought pool and select the subset that teaches the most.",
    )
    parser.add_argument("--version", action="version", version=f"s2r-hf {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS:
        module = import_module(module_name)
        sub = subparsers.add_parser(
            command_name(module_name),
            help=module.HELP,
            description=module.HELP,
            formatter_class=DefaultsHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "pass_through", False):
        parser.parse_args(argv)  # reports the unknown arguments as argparse does, and exits
    args.extra = extra  # a pass-through command (s2r train) hands them to its own parser
    # Cards and records keep the exact command, quoted so that it can be pasted back into a shell, with every secret
    # (--token, --hub_token, --set train.overrides.hub_token=..., a Hub-token-shaped word) replaced: this is the one
    # place a command line is made, so nothing downstream ever holds the token.
    args.command_line = shlex.join(redact_argv(["s2r", *argv]))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    # Folders are written whole or not at all, which is what Ctrl-C leaves.
    return run_entry(
        lambda: args.run(args),
        prog=f"s2r {args.command}",
        interrupted="interrupted; an output folder is written whole or not at all",
    )


if __name__ == "__main__":
    sys.exit(main())
