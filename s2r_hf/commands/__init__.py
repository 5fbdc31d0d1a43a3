"""One module per `s2r` subcommand: `HELP`, `add_arguments(parser)`, `run(args) -> int`; heavy imports inside `run`."""
