"""Floor 0: what every layer shares, importing nothing else of s2r_hf.

errors (the whole error family), columns (the column names), rows (what a pool row is), options (option checks),
stats (ranks and rank statistics), folders (Hub-layout dataset folders, the one atomic write of a file or a folder,
the one output-folder guard), records (the one JSON record reader), figures (the one reproducible PNG setup), locks,
cards (rendering and reading card metadata), redaction (the one rule for secrets), children (subprocesses tied to us),
weights (a model's identity), http_errors (which exceptions mean "the network failed"), extras (the optional
dependencies and the one message for a missing one), entry (how every entry point ends: one line and exit code 2 for
what the user can fix, a missing extra included).
"""
