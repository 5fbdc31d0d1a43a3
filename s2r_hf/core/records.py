"""Reading the JSON records s2r writes (a training record, an experiment, a step, a results file, a model's config).

`read_json_object` is the one reader: it returns the file's JSON object, or raises an InputError that names the file
and says which of these was wrong: it is missing (SourceNotFoundError), a folder, unreadable, not UTF-8 JSON, not a
JSON object, or a record of another kind. Each kind of record keeps its own reader in its layer (the training record
in s2r_hf.training.provenance, the experiment record in s2r_hf.experiment.report, ...), which calls this one and adds
what only that kind knows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, SourceNotFoundError


def read_json_object(
    path: str | os.PathLike,
    *,
    what: str = "an s2r record",
    fix: str = "write it again",
    kind: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object in the file `path`; an InputError naming the file and what was wrong otherwise.

    `what` names the record in errors ("the training record of `s2r train`"), `fix` says how to get a good one
    ("remove it, or choose another output_dir"). `kind=(key, value)` also requires `record[key] == value`
    (`("kind", "s2r_training")`, `("format", "s2r-experiment/1")`): a JSON object of another kind is refused too.
    """
    path = Path(path)
    if not path.exists():
        raise SourceNotFoundError(f"{str(path)!r} does not exist (expected {what} there); {fix}")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder, not {what} (a JSON file); {fix}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{str(path)!r} is not {what}: it is not UTF-8 text ({err.reason}); {fix}") from None
    except OSError as err:
        raise InputError(f"{str(path)!r} cannot be read ({err.strerror or err}); {fix}") from err
    try:
        record = json.loads(text)
    except ValueError as err:
        # An empty or cut-off file: a write that did not finish, or a file of another program.
        raise InputError(f"{str(path)!r} is not {what}: it is not JSON ({err}); {fix}") from None
    if not isinstance(record, dict):
        raise InputError(f"{str(path)!r} is not {what}: it holds a JSON {_json_type(record)}, not an object; {fix}")
    if kind is not None:
        key, expected = kind
        if record.get(key) != expected:
            found = f"{key!r} is {record[key]!r}" if key in record else f"it has no {key!r}"
            raise InputError(f"{str(path)!r} is not {what} ({found}, expected {expected!r}); {fix}")
    return record


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null", int: "number", float: "number"}
    return names.get(type(value), type(value).__name__)


# -- the two token counts of a training run ----------------------------------------------------------------------------

# "Training tokens" has two meanings, each with one name in every record, card and table:
# - DATA_TOKENS, "tokens in the training data": the subset's trainer tokens (the chat template applied, as TRL counts
#   them), once each: one epoch. A training record keeps it in `data`; a token budget is counted in it.
# - TRAINED_TOKENS, "tokens processed by the trainer": the trainer's own count over every step it ran
#   (TrainerState.num_input_tokens_seen, non-padding tokens), across a resume too. A training record keeps it in
#   `training`. It differs from DATA_TOKENS by the epochs (or max_steps) and the padding.
DATA_TOKENS = "data_tokens"
TRAINED_TOKENS = "trained_tokens"
# The keys records written before these names used: a training record's data.tokens_trained and training.tokens, and
# an evaluation's model.training_tokens (documented as the trainer state's num_input_tokens_seen).
OLD_TOKEN_KEYS = {"data": {"tokens_trained": DATA_TOKENS}, "training": {"tokens": TRAINED_TOKENS}}
OLD_TRAINED_TOKENS = "training_tokens"


def upgrade_token_keys(record: dict[str, Any]) -> dict[str, Any]:
    """A training record (s2r_training.json) with the token counts under their names, whatever version wrote it: the
    old keys are renamed in place (a value under the new name wins). Returns the record."""
    for part, renames in OLD_TOKEN_KEYS.items():
        section = record.get(part)
        if not isinstance(section, dict):
            continue
        for old, new in renames.items():
            if old in section:
                value = section.pop(old)
                section.setdefault(new, value)
    return record


def token_counts(record: dict[str, Any] | None) -> dict[str, int | None]:
    """{data_tokens, trained_tokens} of a training record, old or new (None where it has none); the record is left as
    it is."""
    record = record or {}
    parts = {part: dict(record.get(part) or {}) for part in OLD_TOKEN_KEYS}
    upgrade_token_keys(parts)
    return {DATA_TOKENS: parts["data"].get(DATA_TOKENS), TRAINED_TOKENS: parts["training"].get(TRAINED_TOKENS)}
