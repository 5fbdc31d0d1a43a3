"""The LLM difficulty judge, one module per concern; imports flow one way, each module using only those above it:

- prompt.py: the judge's prompt and the "0"/"1" verdict tokens, shared by the scorer and the trainer;
- model.py: the runtime: resolving a judge (`resolve_judge`; the checks of a local folder or Hub id are every model's,
  s2r_hf.core.models), loading it (`LoadedJudge`), batch planning, the shared-prefix cache, device and dtype;
- store.py: the resume store: finished scores on disk keyed by question, atomic writes, stable digests;
- scorer.py: `JudgeConfig`, the batched map function `judge_difficulty_batch`, the registered scorer `JudgeDifficulty`;
- training.py: fine-tuning a difficulty-aware judge (`train_judge`), its card from hub_cards/judge.md;
- distributed.py: one shard per torchrun rank, then one checked merge (`python -m s2r_hf.signals.judge.distributed`).
"""
