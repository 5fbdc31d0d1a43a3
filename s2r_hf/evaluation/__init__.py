"""Evaluation with lighteval: the paper's tasks and protocol, a subprocess runner, grading, and run comparison.

`results` is the results format (the folder `s2r evaluate` writes, its one reader); `runner` launches lighteval in a
subprocess, `worker` is that process; `compare` and `publish` read results. `tasks` and `worker` import lighteval and
run only in the lighteval process; everything else here never imports it (runner, results, presets, compare, publish,
and grading, which calls s2r-hf's own grader, s2r_hf.answers), so that s2r-hf's training environment never loads it.
"""

# The metric module's path (`s2r_hf.evaluation.metric.metric_path()`) is reachable from the package itself: the module
# is a path lookup, cheap to import.
from s2r_hf.evaluation import metric

__all__ = ["metric"]
