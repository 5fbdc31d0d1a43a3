"""`s2r experiment`: the paper's comparison (full pool, random, longest, hardest, joint, ...) as one resumable command.

config.py (the experiment file), steps.py (select -> train -> evaluate, each skipped when its output matches its
settings), launch.py (an arm's training command line), preflight.py (every input of the steps about to run, checked
before the first), runner.py (run), plan.py (one command per step, for a scheduler), report.py (the table and the
chart), publish.py (subsets, models and results to the Hub, gathered in a collection).
"""
