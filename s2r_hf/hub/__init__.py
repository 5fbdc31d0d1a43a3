"""Everything that writes to the Hugging Face Hub.

- `commit.py`: `commit_files`, one atomic, idempotent, retried commit to a repo of any type (dataset, model, space),
  with its `RetryPolicy`, `CommitPlan` (what will change, for the message) and `CommitResult`; `PublishError`.
- `subsets.py`: `publish_subset` / `publish_subsets`, subset folders written by `s2r select`, built on `commit_files`.
- `models.py`: `publish_model`, a model `s2r train` finished (never its checkpoints or optimizer state; `PUSH_EXCLUDE`).
- `results.py`: `push_results`, an evaluation into a results repo, the model card's model-index and the subset card.
- `collections.py`: `gather_collection`, repos gathered in a Hub collection (idempotent; through `call_hub`).
"""
