"""The two folders the pipeline writes, each with its card: the scored pool and a selected subset.

Both are Hub-layout dataset folders (s2r_hf.core.folders). The card metadata's `s2r` block records how the folder was
made; a subset's card embeds its pool's block, so a published subset says everything needed to reproduce it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.core.cards import render_card
from s2r_hf.core.columns import DIFFICULTY, ID, TRACE_LENGTH
from s2r_hf.core.digests import ids_sha256, rows_sha256
from s2r_hf.core.errors import InputError, OptionTypeError
from s2r_hf.core.folders import check_writable, load_dataset_folder, read_card_metadata, write_dataset_folder
from s2r_hf.core.rows import arrow_column
from s2r_hf.hygiene.decontaminate import PAIRS_FILE
from s2r_hf.outputs.plots import plot_distributions
from s2r_hf.outputs.pool_report import REPORT_FOLDER, describe_pool, report_files
from s2r_hf.selection import SelectConfig, select_with_report

if TYPE_CHECKING:
    from datasets import Dataset

# The sampled scorer's kept completions (`s2r score --keep-rollouts`): the folder's second config.
ROLLOUTS_CONFIG = "rollouts"
ROLLOUTS_FILE = "rollouts/train-00000-of-00001.parquet"
TAGS = ["select2reason", "reasoning", "long-cot", "math"]


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for a row count."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
    ]
    return next((label for bound, label in bounds if rows < bound), "n>100M")


def _hub_metadata(s2r: dict[str, Any], pool: dict[str, Any], rows: int, pretty_name: str) -> dict[str, Any]:
    source = pool["source"]
    # No `configs:` entry: datasets' default patterns find data/train-*.parquet (locally and on the Hub), and with one
    # datasets 5.x would cache `load_dataset(folder)` under the folder's name alone (see s2r_hf.core.folders).
    metadata = {
        "license": pool.get("license") or "other",
        "pretty_name": pretty_name,
        "task_categories": ["text-generation"],
        "size_categories": [size_category(rows)],
        "tags": TAGS + (["synthetic"] if pool.get("synthetic") else []),
    }
    if source["kind"] == "hub":
        metadata["source_datasets"] = [source["name"]]
    metadata["s2r"] = s2r
    return metadata


def write_scored_pool(
    pool: Dataset,
    s2r: dict[str, Any],
    output: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike | None] = (),
    rollouts: Dataset | None = None,
) -> Path:
    """Write the scored pool with its card; `s2r` is the metadata returned by `score_pool`.

    `rollouts` (the sampled scorer's kept completions, from `score_pool_with_rollouts`) go into the same folder, in
    the same staged write, as a second config: `load_dataset(folder)` is the pool, `load_dataset(folder, "rollouts")`
    the completions.

    `--overwrite` replaces only an earlier scored pool, never the source (a local source recorded in `s2r`, and
    `inputs`) nor a folder holding it; see `s2r_hf.core.folders.check_writable`.
    """
    source = s2r.get("source") or {}
    inputs = [*inputs, source.get("name") if source.get("kind") in ("file", "folder") else None]
    check_writable(output, overwrite, inputs=inputs, kind="scored_pool")
    s2r = {**s2r, "name": Path(output).resolve().name}
    # Decontamination's pairs go to their own file first, so that neither the card nor the report holds them.
    s2r, pairs_files = _pairs_file(s2r)
    # The pool report goes into the folder (report/) with the data, and its numbers into the card, which shows them.
    report = describe_pool(pool, s2r)
    files = {f"{REPORT_FOLDER}/{name}": data for name, data in report_files(pool, report).items()}
    files.update(pairs_files)
    s2r["report"] = {**report, "folder": REPORT_FOLDER}
    if rollouts is not None:
        files[ROLLOUTS_FILE] = _parquet_bytes(rollouts)
        s2r["difficulty"] = {**s2r["difficulty"], "rollouts_file": ROLLOUTS_FILE, "rollouts_rows": len(rollouts)}
    metadata = _hub_metadata(s2r, s2r, len(pool), f"{s2r['name']} (scored for Select2Reason)")
    if rollouts is not None:
        # Two configs need a `configs:` entry; the pool stays the default. (datasets then caches load_dataset(folder)
        # by the folder's name: s2r reads folders by their files, see s2r_hf.core.folders.)
        metadata["configs"] = [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}], "default": True},
            {"config_name": ROLLOUTS_CONFIG, "data_files": [{"split": "train", "path": ROLLOUTS_FILE}]},
        ]
    card = render_card("scored_pool.md", metadata)
    return write_dataset_folder(
        pool, output, card, overwrite=overwrite, extra_files=files, inputs=inputs, kind="scored_pool"
    )


def _parquet_bytes(dataset: Dataset) -> bytes:
    import io

    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(dataset.data.table if dataset._indices is None else dataset.flatten_indices().data.table, buffer)
    return buffer.getvalue()


def _pairs_file(s2r: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Decontamination's matched pairs go to a jsonl file beside the data; the card names the file."""
    import json

    decontamination = (s2r.get("hygiene") or {}).get("decontamination")
    if not decontamination or "pairs" not in decontamination:
        return s2r, {}
    pairs = decontamination["pairs"]
    summary = {key: value for key, value in decontamination.items() if key != "pairs"}
    summary.update(pairs_file=PAIRS_FILE, pairs=len(pairs))
    content = "".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in pairs).encode("utf-8")
    return {**s2r, "hygiene": {**s2r["hygiene"], "decontamination": summary}}, {PAIRS_FILE: content}


def load_scored_pool(folder: str | os.PathLike) -> tuple[Dataset, dict[str, Any]]:
    """A folder written by `s2r score`, and its `s2r` metadata block."""
    s2r = read_card_metadata(folder).get("s2r")
    if not isinstance(s2r, dict) or s2r.get("kind") != "scored_pool":
        raise InputError(
            f"{str(folder)!r} is not a scored pool written by `s2r score` (its card has no s2r block of kind "
            "scored_pool); score it first"
        )
    return load_dataset_folder(folder), s2r


def write_subset(
    pool: Dataset,
    pool_s2r: dict[str, Any],
    config: SelectConfig,
    output: str | os.PathLike,
    *,
    overwrite: bool = False,
    command: str | None = None,
    repo_id: str | None = None,
    inputs: Iterable[str | os.PathLike | None] = (),
    tokenizer=None,
    pool_folder: str | os.PathLike | None = None,
) -> tuple[Dataset, Path]:
    """Select from a scored pool and write the subset folder with its card. Returns the subset and the folder.

    `tokenizer` (a tokenizer, a Hub id or a folder) counts the trainer tokens of `config.token_budget`: the student's;
    by default the tokenizer the pool's lengths were counted with (its card says which), if they were counted in tokens.

    `--overwrite` replaces only an earlier subset, never a scored pool, nor `inputs` (the scored pool's folder) or a
    folder holding them; see `s2r_hf.core.folders.check_writable`. `pool_folder`, the scored pool's folder, is recorded
    relative to the subset's folder (a published card names no folder of the machine that wrote it) for `s2r verify`,
    which looks for the pool there.
    """
    if not isinstance(config, SelectConfig):
        raise OptionTypeError(f"config must be a SelectConfig, got {type(config).__name__}; e.g. SelectConfig(k=100)")
    if not isinstance(pool_s2r, dict) or pool_s2r.get("kind") != "scored_pool":
        raise OptionTypeError(
            "pool_s2r must be the s2r metadata of a scored pool (from score_pool or load_scored_pool), got "
            f"{type(pool_s2r).__name__}"
        )
    if not isinstance(output, (str, os.PathLike)):
        raise OptionTypeError(f"output must be a folder path, got {type(output).__name__}")
    check_writable(output, overwrite, inputs=inputs, kind="subset")
    if config.token_budget is not None and tokenizer is None:
        tokenizer = _pool_tokenizer(pool_s2r)
    subset, report = select_with_report(pool, config, tokenizer=tokenizer)
    plots = _distribution_plots(pool, subset, pool_s2r)
    name = Path(output).resolve().name
    s2r = {
        "kind": "subset",
        "name": name,
        "version": __version__,
        **report.describe(),
        "repo_hint": repo_id or f"s2r/{name}",
        "command": command,
        "plots": sorted(plots),
        # What `s2r verify` checks the published rows against: the ids in order, and the rows themselves.
        "ids_sha256": ids_sha256(arrow_column(subset, ID).to_pylist()),
        "rows_sha256": rows_sha256(subset),
        "pool_folder": _relative_path(pool_folder, output),
        "pool": pool_s2r,
    }
    metadata = _hub_metadata(s2r, pool_s2r, len(subset), f"{name} (Select2Reason {config.strategy} subset)")
    card = render_card("subset.md", metadata)
    path = write_dataset_folder(
        subset, output, card, overwrite=overwrite, extra_files=plots, inputs=inputs, kind="subset"
    )
    return subset, path


def _pool_tokenizer(pool_s2r: dict[str, Any]) -> str:
    """The tokenizer the scored pool's lengths were counted with: a token budget's default tokenizer."""
    length = pool_s2r.get("length") if isinstance(pool_s2r.get("length"), dict) else {}
    if length.get("unit") != "tokens" or not length.get("tokenizer"):
        raise InputError(
            "a token budget counts the tokens the trainer sees with the student's tokenizer, and this pool's lengths "
            "were not counted with a tokenizer; give one (`s2r select --tokenizer MODEL`, or tokenizer=...)"
        )
    return str(length["tokenizer"])


def _relative_path(path: str | os.PathLike | None, start: str | os.PathLike) -> str | None:
    """`path` relative to the folder `start` (`../scored`), or None (no path, or one on another drive)."""
    if path is None:
        return None
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()
    except ValueError:  # Windows: another drive has no relative path
        return None


def _distribution_plots(pool: Dataset, subset: Dataset, pool_s2r: dict[str, Any]) -> dict[str, bytes]:
    """PNG histograms of difficulty and length, pool against subset (file name -> bytes)."""

    def values(dataset: Dataset, name: str):
        return arrow_column(dataset, name).to_numpy() if name in dataset.column_names else None

    return plot_distributions(
        values(pool, DIFFICULTY),
        values(pool, TRACE_LENGTH),
        values(subset, DIFFICULTY),
        values(subset, TRACE_LENGTH),
        length_unit=pool_s2r["length"]["unit"],
    )
