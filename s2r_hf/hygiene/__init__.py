"""Pool hygiene: questions that overlap a benchmark (decontaminate) and near-identical questions (near_duplicates).

Both read a row's question the same way (s2r_hf.hygiene.text) and run inside `s2r score` (options in ScoreConfig),
or on any `datasets.Dataset` through their public functions.
"""
