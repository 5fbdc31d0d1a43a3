"""Generic Hub writing, knowing no other layer (floor 7): training/publish.py and evaluation/publish.py build on it.

- `commit.py`: `commit_files`, one atomic, idempotent, retried commit to a repo of any type (dataset, model, space),
  with its `RetryPolicy`, `CommitPlan` (what will change, for the message) and `CommitResult`; it raises
  `PublishError` (defined with the whole error family in s2r_hf.core.errors).
- `subsets.py`: `publish_subset` / `publish_subsets`, subset folders written by `s2r select`, built on `commit_files`.
- `cards.py`: `read_remote_card`, a repo's README.md as it is on the Hub (its metadata: s2r_hf.core.cards).
- `collections.py`: `gather_collection`, repos gathered in a Hub collection (idempotent; through `call_hub`).
"""
