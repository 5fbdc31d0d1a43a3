"""The files a commit uploads, as the commit reads them: a local file or bytes made at commit time, read in chunks and
hashed as the Hub hashes them (sha256 for LFS files, the git blob id for regular ones), with a search for Hub tokens
in the same pass, so a shard of hundreds of MB is read once and never held in memory whole."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from s2r_hf.core.errors import InputError
from s2r_hf.core.redaction import find_hub_tokens

_CHUNK_BYTES = 8 * 1024 * 1024

# What a repo file is made from: a local file (its path) or the bytes themselves.
FileSource = str | os.PathLike | bytes


@dataclass(frozen=True)
class LocalFile:
    """One file of a commit: where it is on disk, or its bytes."""

    path: Path | None
    content: bytes | None  # files made at commit time (a card, results) have content instead of a path

    @classmethod
    def of(cls, repo_path: str, source: FileSource) -> LocalFile:
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(None, bytes(source))
        if not isinstance(source, (str, os.PathLike)):
            raise InputError(
                f"{repo_path!r} maps to a {type(source).__name__}; give a local file path or the content as bytes"
            )
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{repo_path!r} maps to {str(path)!r}, which is not a file")
        return cls(path, None)

    def chunks(self) -> Iterator[bytes]:
        """The content in pieces, so that shards of hundreds of MB are never held in memory whole."""
        if self.content is not None:
            yield self.content
            return
        with open(self.path, "rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                yield chunk

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else self.path.stat().st_size

    def scan(self, needle: bytes) -> tuple[str, str, bool, bool]:
        """(sha256, git blob sha1, whether `needle` occurs, whether any Hub-token-shaped bytes occur), in one pass
        over the content. When a token-shaped string is found the pass stops there: the file is refused, so its
        digests are not needed."""
        sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\x00" % self.size)
        found, tail = False, b""

        def hashed() -> Iterator[bytes]:
            nonlocal found, tail
            for chunk in self.chunks():
                sha256.update(chunk)
                sha1.update(chunk)
                window = tail + chunk
                found = found or (bool(needle) and needle in window)
                tail = window[-(len(needle) - 1) :] if len(needle) > 1 else b""
                yield chunk

        shaped = find_hub_tokens(hashed())
        return sha256.hexdigest(), sha1.hexdigest(), found, shaped
