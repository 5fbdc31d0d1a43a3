"""Floor 2, the per-row columns a ranking uses: length (trace tokens, rethink markers), difficulty (scorers by name),
judge/ (the LLM judge: scoring, torchrun shards, training).
"""
