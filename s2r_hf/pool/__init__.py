"""Floor 1, where rows come from: sources (a Hub id, a local file or folder), adapters (a source to the pool shape:
OpenR1 and generic), layouts (other public long-CoT layouts), benchmarks (evaluation sets), demo (the embedded pool).
"""
