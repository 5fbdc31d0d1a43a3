"""Floor 6, folders written to disk: artifacts (the scored pool and subset folders with their cards), pool_report (the
pool report: counts, quadrants, pictures), plots (the distributions figure).
"""
