"""What a `datasets.Dataset` carries about where its rows came from: its source, and the selection that chose them.

A user's own script hands TRL a Dataset, not a folder with a card, so the facts the model card needs (which pool,
which selection) must travel with the Dataset itself. They are kept in `Dataset.info.description`, as one JSON line
after the marker `s2r-lineage: ` (any description the dataset had is kept above it), because `info` is the one part
of a Dataset that `datasets` copies into the result of every transform (`map`, `filter`, `select`, `select_columns`,
`remove_columns`, `add_column`, `shuffle`, `train_test_split`, `concatenate_datasets`) and that `save_to_disk` and
`load_from_disk` keep. An attribute set on the Dataset object would be lost at the first `map`; a column would be
trained on. The description is not part of the YAML `push_to_hub` writes into a dataset card.

Keys: `source` (`{name, kind, config, split, revision}`: what was loaded, by `load_dataset_folder` or `load_source`) and
`selection` (the selection report of `select`, with `pool`: the source it selected from).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Dataset

LINEAGE_MARK = "s2r-lineage: "


def read_lineage(dataset: Dataset) -> dict[str, Any]:
    """The lineage `dataset` carries ({} when none, or when the line was edited into something that is not JSON)."""
    description = getattr(getattr(dataset, "info", None), "description", None) or ""
    for line in reversed(description.splitlines()):
        if line.startswith(LINEAGE_MARK):
            try:
                lineage = json.loads(line[len(LINEAGE_MARK) :])
            except ValueError:
                return {}
            return lineage if isinstance(lineage, dict) else {}
    return {}


def note_lineage(dataset: Dataset, **facts: Any) -> Dataset:
    """Record `facts` (merged over what `dataset` already carries; a None value removes a key) and return `dataset`.

    Changes this Dataset object only: every transform of datasets copies `info`, so the dataset a result was made
    from keeps its own lineage.
    """
    lineage = {**read_lineage(dataset), **facts}
    lineage = {key: value for key, value in lineage.items() if value is not None}
    kept = [line for line in (dataset.info.description or "").splitlines() if not line.startswith(LINEAGE_MARK)]
    if lineage:
        kept.append(LINEAGE_MARK + json.dumps(lineage, sort_keys=True, default=str))
    dataset.info.description = "\n".join(kept)
    return dataset
