"""Floor 0: what every layer shares, importing nothing else of s2r_hf.

errors (the whole error family), columns (the column names), rows (what a pool row is), options (option checks),
stats (ranks, Spearman, AUC), folders (Hub-layout dataset folders, the one atomic write of a file or a folder, the one
output-folder guard), records (the one JSON record reader), figures (the one reproducible PNG setup), locks, cards
(rendering cards, and the one reader and writer of their metadata), models (the one "local folder or Hub id?" rule and
the model checks), redaction (the one rule for secrets), children (subprocesses tied to us), weights (a model's
identity), http_errors (which exceptions mean "the network failed"), extras (the optional dependencies and the one
message for a missing one), entry (how every entry point ends: one line and exit code 2 for what the user can fix, a
missing extra included).
"""
