"""Floor 6, folders written to disk: artifacts (the scored pool and subset folders with their cards), pool_report (the
pool report: counts, quadrants, pictures), inspect (`s2r inspect`: the report in a folder of its own), plots (the
distributions figure).
"""
