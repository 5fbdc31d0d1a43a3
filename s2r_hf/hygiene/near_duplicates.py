"""Near-duplicate questions: MinHash + LSH clusters in an `s2r_question_cluster` column, and dropping all but one.

A top 10% full of near-identical questions wastes the budget the method exists to save. Questions are compared as
sets of word shingles (3 consecutive words of s2r_hf.hygiene.text's normalised words, where a Chinese or Japanese
character is a word: 3 consecutive characters there); two questions are near
duplicates when the Jaccard similarity of their shingle sets is at least the threshold (default 0.8, about two
changed words in fifty). Clusters are the connected groups of near-duplicate pairs (so a chain A~B~C is one cluster).

How. Questions whose normalised words are identical are one cluster outright (OpenR1's per-generation rows of one
problem always share a cluster this way). Every question gets a MinHash signature (128 permutations), computed with
its shingles in a batched, `num_proc`-parallel map. LSH then splits the signatures into bands (datasketch's
`MinHashLSH` chooses the bands and rows per band for the threshold, tuned for recall); distinct questions that agree
on a whole band are candidate pairs, and each candidate is checked with the exact Jaccard of the two shingle sets,
so the threshold is applied exactly and LSH only decides which pairs are looked at.

Library: datasketch (MIT, maintained since 2015, pure Python + numpy, no compiled parts, installed everywhere numpy
is) computes the MinHash signatures and the band layout. Compared with: rensa (Rust, faster signatures, but younger,
fewer releases and a compiled wheel per platform); datatrove's MinhashDedup (built for web-scale corpora: a
multi-stage pipeline of signature, bucket and cluster steps that writes files to disk between stages, heavy for a pool
of 10^5 questions inside one `s2r score` run); text-dedup (scripts rather than a library). The bands are matched with
`numpy.unique` over the signature matrix rather than in `MinHashLSH`'s in-memory tables, which hold a Python set per
bucket: on 200,000 questions those took 1.6 GB of memory and about three times as long (benchmarks/bench_hygiene.py).

The cluster id is the smallest `s2r_id` in the cluster (the row number, as text, when there is no `s2r_id`), so it
does not depend on the row order. Keeping one row per cluster is the selection's (s2r_hf.selection.drop_near_duplicates:
the best joint rank); it needs the scored columns, which is why `s2r score` clusters after scoring: the judge then also
scores the duplicates, the price of keeping the best one.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.core.columns import ID, MESSAGES, QUESTION_CLUSTER
from s2r_hf.core.errors import InputError, OptionTypeError
from s2r_hf.core.rows import arrow_column, require_dataset, require_num_proc
from s2r_hf.hygiene.text import WORD_RULE, batch_questions, check_question_source, question_words, word_ngrams

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.8
SHINGLE_WORDS = 3
SHINGLING = f"{SHINGLE_WORDS}-word shingles ({WORD_RULE})"  # recorded in the card
NUM_PERM = 128
# LSH bands chosen for recall (datasketch weighs false positives against false negatives): every candidate is checked
# with the exact Jaccard, so a false positive costs one check, a false negative a missed duplicate. With 128
# permutations this finds a pair at the threshold with probability about 0.93-0.95, and 0.05 above it 0.99.
LSH_WEIGHTS = (0.05, 0.95)
_KEY = "_s2r_question_key"  # temporary columns: the normalised question, its shingle hashes
_SHINGLES = "_s2r_question_shingles"
_SIGNATURE = "_s2r_question_minhash"
SEED = 1


def require_threshold(threshold: Any, option: str = "threshold") -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise OptionTypeError(f"{option} must be a number in (0, 1], got {threshold!r} ({type(threshold).__name__})")
    if not 0 < threshold <= 1:
        raise InputError(
            f"{option} must be a Jaccard similarity in (0, 1], got {threshold} (the default is {DEFAULT_THRESHOLD})"
        )
    return float(threshold)


def _shingle_batch(batch, *, question_column):
    """Per row: the normalised question, the sorted 32-bit hashes of its word shingles, and their MinHash."""
    from datasketch import MinHash
    from datasketch.hashfunc import sha1_hash32

    template = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_identity)
    keys, shingles, signatures = [], [], []
    for question in batch_questions(batch, question_column):
        words = question_words(question)
        grams = word_ngrams(words, SHINGLE_WORDS) if len(words) >= SHINGLE_WORDS else [" ".join(words)] * bool(words)
        hashes = sorted({sha1_hash32(gram.encode("utf-8")) for gram in grams})
        minhash = template.copy()
        minhash.update_batch(hashes)  # no shingles (an empty question): the untouched signature, never queried
        keys.append(" ".join(words))
        shingles.append(hashes)
        signatures.append(minhash.hashvalues)
    return {_KEY: keys, _SHINGLES: shingles, _SIGNATURE: signatures}


def _identity(value):
    return value  # the shingles are hashed already (with datasketch's own 32-bit sha1 hash, its default)


def _shared_buckets(band):
    """Groups of positions whose band (a row slice of their signatures) is equal, for groups of two or more."""
    import numpy as np

    keys = np.ascontiguousarray(band).view(np.dtype((np.void, band.dtype.itemsize * band.shape[1]))).ravel()
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[inverse] > 1)
    if not shared.size:
        return []
    shared = shared[np.argsort(inverse[shared], kind="stable")]  # grouped by bucket, positions ascending within
    return np.split(shared, np.flatnonzero(np.diff(inverse[shared])) + 1)


class _Clusters:
    """Union-find over row numbers."""

    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


@dataclass
class NearDuplicateReport:
    threshold: float
    rows: int
    clusters: int  # clusters of two or more rows
    rows_in_clusters: int
    largest_cluster: int
    rows_dropped: int = 0
    shingles: str = SHINGLING

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def cluster_questions(
    dataset: Dataset,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    question_column: str | None = None,
    num_proc: int | None = None,
    mapper: Callable[..., Dataset] | None = None,
) -> tuple[Dataset, NearDuplicateReport]:
    """Add `s2r_question_cluster`: rows whose questions are near duplicates (Jaccard >= threshold) share its value.

    `mapper(dataset, function, fn_kwargs=..., desc=..., columns=...)` replaces the signature map (another engine,
    s2r_hf.pipeline.ray_engine): it runs the function on `columns` and returns a dataset of its output columns only,
    row for row. The clustering itself is global and runs here, on the signatures.
    """
    import numpy as np
    from datasets.fingerprint import Hasher
    from datasketch import MinHashLSH

    require_dataset(dataset, "the dataset to cluster")
    require_num_proc(num_proc)
    threshold = require_threshold(threshold)
    check_question_source(dataset, question_column)
    base = dataset.remove_columns(QUESTION_CLUSTER) if QUESTION_CLUSTER in dataset.column_names else dataset
    fingerprint = Hasher.hash((base._fingerprint, threshold, question_column, __version__, "s2r-clusters-v2"))
    if mapper is not None:
        fn_kwargs = {"question_column": question_column}
        columns = [question_column or MESSAGES]
        shingled = mapper(base, _shingle_batch, fn_kwargs=fn_kwargs, desc="Question shingles", columns=columns)
    else:
        shingled = base.map(
            _shingle_batch,
            batched=True,
            num_proc=num_proc,
            remove_columns=base.column_names,
            fn_kwargs={"question_column": question_column},
            new_fingerprint=Hasher.hash((fingerprint, "shingles")),
            desc="Question shingles",
        )
    keys = arrow_column(shingled, _KEY).to_pylist()
    shingle_column = arrow_column(shingled, _SHINGLES).combine_chunks()
    offsets, hashes = shingle_column.offsets.to_numpy(), shingle_column.values.to_numpy()
    signature_column = arrow_column(shingled, _SIGNATURE).combine_chunks()
    start = signature_column.offsets[0].as_py()
    signatures = signature_column.values.to_numpy()[start : start + len(keys) * NUM_PERM].reshape(-1, NUM_PERM)

    # Identical questions: one cluster outright; only the first row of each distinct question goes further.
    clusters = _Clusters(len(keys))
    first_of: dict[str, int] = {}
    for row, key in enumerate(keys):
        clusters.union(first_of.setdefault(key, row), row)
    distinct = [row for row in first_of.values() if offsets[row + 1] > offsets[row]]  # empty questions: text only

    def shingles(row):
        return hashes[offsets[row] : offsets[row + 1]]

    # datasketch chooses the bands (it cannot for a threshold of 1: at 0.99 identical sets still always collide).
    bands = MinHashLSH(threshold=min(threshold, 0.99), num_perm=NUM_PERM, weights=LSH_WEIGHTS)
    rows = np.asarray(distinct, dtype=np.int64)
    checked: set[tuple[int, int]] = set()
    for start, end in ((band * bands.r, (band + 1) * bands.r) for band in range(bands.b)):
        for bucket in _shared_buckets(signatures[rows, start:end]):
            for row, other in itertools.combinations(rows[bucket].tolist(), 2):
                if (row, other) in checked or clusters.find(row) == clusters.find(other):
                    continue
                checked.add((row, other))
                common = np.intersect1d(shingles(row), shingles(other), assume_unique=True).size
                if common / (shingles(row).size + shingles(other).size - common) >= threshold:
                    clusters.union(row, other)

    roots = [clusters.find(row) for row in range(len(keys))]
    labels = arrow_column(base, ID).to_pylist() if ID in base.column_names else [str(row) for row in range(len(keys))]
    name_of: dict[int, str] = {}
    for row, root in enumerate(roots):  # the cluster's name: its smallest id
        if root not in name_of or labels[row] < name_of[root]:
            name_of[root] = labels[row]
    sizes: dict[int, int] = {}
    for root in roots:
        sizes[root] = sizes.get(root, 0) + 1
    shared = [size for size in sizes.values() if size > 1]
    clustered = base.add_column(
        QUESTION_CLUSTER, [name_of[root] for root in roots], new_fingerprint=Hasher.hash((fingerprint, "column"))
    )
    report = NearDuplicateReport(
        threshold=threshold,
        rows=len(keys),
        clusters=len(shared),
        rows_in_clusters=sum(shared),
        largest_cluster=max(sizes.values(), default=0),
    )
    logger.info("near duplicates: %d clusters hold %d of %d rows", report.clusters, report.rows_in_clusters, len(keys))
    return clustered, report
