"""Sampled rollout difficulty: k completions per question from a model, graded against the pool's gold answer by
s2r_hf.answers; `s2r_difficulty` = 1 - pass rate. One module per concern, each using only those above it:

- config.py: `SampledConfig`, the settings (`s2r score --difficulty sampled --rollout-model M --rollouts 8`);
- generate.py: the backends (transformers `generate`-style sampling with per-completion seeds; vLLM when chosen), and
  the prompt (the paper's reasoning prompt as system turn, the question as user turn, the model's chat template);
- store.py: the resume store: finished completions on disk keyed by question, one atomic parquet file per chunk;
- scorer.py: the batched map function `sampled_difficulty_batch`, the registered scorer `SampledDifficulty` and the
  kept completions (`--keep-rollouts`).
"""
