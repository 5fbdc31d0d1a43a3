"""Floor 5, what `s2r score` and the `datasets` builder run: score (a pool to a scored pool: adapter, signals, hygiene),
hygiene (the hygiene steps inside scoring), builder (`Select2ReasonBuilder`).
"""
