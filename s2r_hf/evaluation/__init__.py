"""Evaluation with lighteval: the paper's tasks and protocol, a subprocess runner, grading, and run comparison.

`tasks` and `worker` import lighteval and run only in the lighteval process; everything else here imports it lazily
(grading) or not at all (runner, presets, compare), so that s2r-hf's training environment never loads it.
"""
