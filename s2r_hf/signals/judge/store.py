"""The judge's resume store: finished scores on disk, so a crashed or repeated run scores only what is missing.

With `work_dir` set, every scored batch is written at once as a small parquet file of (question hash, score, cut flag)
under a folder keyed by the judge's identity, its revision, the prompt and the settings that change scores. A rerun
reads those and scores only what is missing. Every file appears whole or not at all (written, then renamed).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import write_json_atomically, write_table_atomically


def question_key(question: str) -> str:
    """Scores are keyed by the question text alone: its 128-bit BLAKE2b digest."""
    return hashlib.blake2b(question.encode("utf-8"), digest_size=16).hexdigest()


class ScoreStore:
    """Finished scores of one judge setting, as small parquet files written atomically one per scored batch.

    Scores depend on the question text and the judge alone, so they are keyed by a hash of the question: a rerun finds
    them whatever the batching, the number of workers or the row order, and duplicate questions are scored once.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._known: dict[str, tuple[float, bool]] | None = None

    @classmethod
    def for_judge(cls, work_dir: str | Path, identity: str, settings: dict[str, Any]) -> ScoreStore:
        digest = stable_digest({"identity": identity, **settings})
        folder = Path(work_dir) / f"judge-{digest[:24]}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            info = folder / "judge.json"
            if not info.exists():
                write_json_atomically(info, {"identity": identity, **settings})
        except OSError as err:  # a file in the way, no permission, a full disk
            raise InputError(
                f"cannot write the judge's resume store under work_dir {str(work_dir)!r}: {err}. Give a writable "
                "folder (or no work_dir)"
            ) from err
        return cls(folder)

    def known(self) -> dict[str, tuple[float, bool]]:
        if self._known is None:
            import pyarrow.parquet as pq

            self._known = {}
            for part in sorted(self.folder.glob("part-*.parquet")):
                try:
                    table = pq.read_table(part).to_pydict()
                except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
                    raise InputError(
                        f"the resume store file {part} cannot be read ({err}); it was not written by this version or "
                        "was damaged after writing. Delete it: its questions will be scored again"
                    ) from err
                for key, score, cut in zip(table["key"], table["difficulty"], table["truncated"], strict=True):
                    self._known[key] = (score, cut)
        return self._known

    def add(self, keys: Sequence[str], scores: Sequence[float], truncated: Sequence[bool]) -> Path:
        import pyarrow as pa

        table = pa.table(
            {"key": list(keys), "difficulty": pa.array(scores, pa.float64()), "truncated": list(truncated)}
        )
        # Written whole or not at all: a killed run leaves at most a hidden temporary file, never a partial part.
        path = write_table_atomically(self.folder / f"part-{uuid.uuid4().hex}.parquet", table)
        known = self.known()
        for key, score, cut in zip(keys, scores, truncated, strict=True):
            known[key] = (score, cut)
        return path


def stable_digest(value: Any) -> str:
    """SHA-256 of a JSON-able value, the same whatever the order of its keys."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()
