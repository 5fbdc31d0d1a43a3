"""The resume store of sampled completions: a killed or repeated run generates only what is missing.

With `work_dir` set, each chunk's completions are written as soon as they exist, as one parquet file (question key,
completion index, text, new tokens, capped) under a folder keyed by the model's identity and every setting that changes
completions. Files appear whole or not at all (s2r_hf.core.folders.write_table_atomically). Completions are stored, not
verdicts: grading is cheap and is done again from the pool's gold answers on every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import write_json_atomically, write_table_atomically
from s2r_hf.signals.judge.store import stable_digest
from s2r_hf.signals.sampled.generate import Completion


class CompletionStore:
    """Finished completions of one model and sampling setting, keyed by question text (its BLAKE2b digest)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._known: dict[str, list[Completion]] | None = None

    @classmethod
    def for_model(cls, work_dir: str | Path, identity: str, settings: dict[str, Any]) -> CompletionStore:
        description = {"identity": identity, **settings}
        folder = Path(work_dir).expanduser() / f"sampled-{stable_digest(description)[:24]}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / "sampled.json").exists():
                write_json_atomically(folder / "sampled.json", description)
        except OSError as err:  # a file in the way, no permission, a full disk
            raise InputError(
                f"cannot write the rollouts' resume store under {str(work_dir)!r} (--rollout-work-dir): {err}. Give a "
                "writable folder, or none"
            ) from err
        return cls(folder)

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet"))

    def known(self) -> dict[str, list[Completion]]:
        if self._known is None:
            import pyarrow.parquet as pq

            found: dict[str, dict[int, Completion]] = {}
            for part in self.parts():
                try:
                    table = pq.read_table(part).to_pydict()
                except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
                    raise InputError(
                        f"the resume store file {part} cannot be read ({err}); it was damaged after writing or written "
                        "by another version. Delete it: its questions will be sampled again"
                    ) from err
                names = ("key", "index", "text", "new_tokens", "capped")
                for key, index, text, tokens, capped in zip(*(table[name] for name in names), strict=True):
                    found.setdefault(key, {})[index] = Completion(text, tokens, capped)
            self._known = {key: [by_index[i] for i in sorted(by_index)] for key, by_index in found.items()}
        return self._known

    def add(self, completions: Mapping[str, Sequence[Completion]]) -> Path | None:
        """Write the completions of the given question keys as one part file (nothing when there are none)."""
        import pyarrow as pa

        if not completions:
            return None
        columns: dict[str, list] = {"key": [], "index": [], "text": [], "new_tokens": [], "capped": []}
        for key, row in completions.items():
            for index, completion in enumerate(row):
                columns["key"].append(key)
                columns["index"].append(index)
                columns["text"].append(completion.text)
                columns["new_tokens"].append(completion.new_tokens)
                columns["capped"].append(completion.capped)
        table = pa.table({**columns, "index": pa.array(columns["index"], pa.int32())})
        path = write_table_atomically(self.folder / f"part-{uuid.uuid4().hex}.parquet", table)
        self.known().update({key: list(row) for key, row in completions.items()})
        return path
