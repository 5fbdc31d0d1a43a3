"""Verifying a subset: select again, from the pool its card records, with the settings its card records, and compare.

A subset folder's card (written by `s2r select`, s2r_hf.outputs.artifacts) records its selection settings, the digests
of its ids and rows, and its scored pool's own record (source, revision or file digest, scoring settings, judge and
tokenizer, s2r-hf version, and the digest of the pool's rows). `verify_subset` reads the subset (a local folder or a
Hub dataset repo), finds the pool (the scored folder the card names, or the one `pool` gives; a source given as `pool`
is scored again with the recorded settings), selects again and reports:

- whether the ids and their order are identical, and if not, the first row where they part;
- whether the rows themselves are identical (an id kept with its trace edited is found too);
- every recorded input or setting that differs from what was found: the pool's rows digest, its source's revision,
  commit or file digest, the judge, the tokenizer, the s2r-hf version, ...;
- whether the subset's rows still match the digest its card records (a subset edited after it was written).

A card that lacks something needed to select again (an older card) is an InputError that says what is missing and
how to supply it (`--pool`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf._version import __version__
from s2r_hf.core.columns import ID
from s2r_hf.core.digests import ids_sha256, rows_sha256, short_digest
from s2r_hf.core.errors import InputError, OptionTypeError, SourceNotFoundError
from s2r_hf.core.folders import CARD_FILE, DATA_DIR, SPLIT, load_parquet_files, read_card_metadata
from s2r_hf.core.models import is_org_repo_id
from s2r_hf.core.rows import arrow_column
from s2r_hf.outputs.artifacts import load_scored_pool
from s2r_hf.selection import SelectConfig, select_with_report

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# The files of a subset repo that verifying reads (its plots and results are not needed).
SUBSET_FILES = [CARD_FILE, f"{DATA_DIR}/*"]
# Scoring settings that change how fast the pool is scored, never its scores: not differences worth naming.
_RUNTIME_SETTINGS = {
    "settings.num_proc",
    "settings.revision",  # compared as source.revision
    "settings.judge.device",
    "settings.judge.batch_tokens",
    "settings.judge.chunk_rows",
    "settings.judge.work_dir",
    "settings.sampled.device",
    "settings.sampled.batch_questions",
    "settings.sampled.chunk_rows",
    "settings.sampled.work_dir",
    "difficulty.device",
    "difficulty.batch_tokens",
    # Where the kept completions (--keep-rollouts) lie in the folder: recorded when it is written, not when scored.
    "difficulty.rollouts_file",
    "difficulty.rollouts_rows",
}
# The parts of a scored pool's record compared with the pool found (its name, command and report say nothing about
# its rows that the rest does not).
_COMPARED = ("rows_sha256", "source", "adapter", "length", "difficulty", "rollout_difficulty", "hygiene", "settings",
             "rows_in", "rows", "version")  # fmt: skip
# Parts of a scored pool's record that older cards lack: their absence from a record is not a difference.
_RECORDED_SINCE_VERIFY = ("settings", "rows_sha256", "source.sha256", "source.commit")
# How a difference is named in the report; other keys are named by their dotted path.
_LABELS = {
    "rows_sha256": "pool rows (sha256)",
    "source.name": "pool source",
    "source.commit": "pool source commit",
    "source.revision": "pool source revision",
    "source.sha256": "pool source files (sha256)",
    "difficulty.model": "judge model",
    "difficulty.revision": "judge revision",
    "difficulty.resolved": "judge (resolved)",
    "length.tokenizer": "tokenizer",
    "settings.tokenizer_revision": "tokenizer revision",
    "version": "s2r-hf version that scored the pool",
}


@dataclass
class Difference:
    """One recorded input or setting that differs from what was found."""

    what: str
    recorded: Any
    found: Any

    def line(self) -> str:
        return f"{self.what}: recorded {_shown(self.recorded)}, found {_shown(self.found)}"


@dataclass
class VerificationReport:
    """What `verify_subset` found. `verified` is True when the selection run again gives the subset's rows exactly:
    the same ids in the same order, with the same content, and the subset matches the digest its card records."""

    subset: str  # the folder, or the Hub repo and the commit read
    pool: str  # the scored folder selected from again, or the source scored again
    pool_scored_again: bool
    selection: str  # the recorded selection, in words
    rows: int  # rows in the subset
    selected_rows: int  # rows the selection gives now
    verified: bool
    # The first row (0-based) where the subset and the selection part: {row, subset_id, selection_id, columns}.
    first_difference: dict[str, Any] | None = None
    differences: list[Difference] = field(default_factory=list)
    edited: bool = False  # the subset's rows no longer match the digest its card records
    missing: list[str] = field(default_factory=list)  # what an older card does not record

    def describe(self) -> dict[str, Any]:
        """The report as plain data (for `s2r verify --format json`)."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The report for people: the verdict first, then what differs."""
        what = f"{self.selection} run again on {self.pool}"
        if self.verified:
            out = [f"Verified: {self.subset} holds {self.rows:,} rows, identical ids, order and rows to the {what}."]
        else:
            out = [f"Not verified: {self.subset} is not what the {what} gives."]
            if self.first_difference is not None:
                out.append(_first_difference_line(self.first_difference, self.rows, self.selected_rows))
        if self.edited:
            out.append(
                "The subset's rows do not match the sha256 its card records: they were changed after `s2r select` "
                "wrote them."
            )
        if self.differences:
            heading = "What differs from the record" if not self.verified else "Recorded inputs that differ"
            out.append(f"{heading} (recorded, found):")
            out += [f"  {difference.line()}" for difference in self.differences]
        elif not self.verified and not self.edited:
            out.append(
                "Every recorded input and setting matches what was found: the selection settings in the card, or the "
                "selection code, give other rows than the subset's."
            )
        out += [f"Note: {note}" for note in self.missing]
        return out


def verify_subset(
    subset: str | os.PathLike,
    pool: str | os.PathLike | None = None,
    *,
    revision: str | None = None,
    pool_revision: str | None = None,
    token: str | None = None,
    config: str | None = None,
) -> VerificationReport:
    """Select again what the subset's card records and compare: see the module's docstring.

    `subset`: a folder written by `s2r select`, or a Hub dataset repo id (read at `revision`, default its main branch).
    `pool`: the scored folder to select from, or a source (Hub id, folder, file) to score again with the recorded
    settings (at `pool_revision`, default the recorded revision); default: the scored folder the card names.
    `config`: the subset to verify in a repo of several (`s2r publish` with several folders).
    Bad input (not a subset, an unreadable card, no pool to be found) raises an InputError (or SourceNotFoundError);
    a subset that differs is a report with `verified` False.
    """
    for name, value in (("revision", revision), ("pool_revision", pool_revision), ("token", token), ("config", config)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise OptionTypeError(f"{name} must be a non-empty string or None, got {value!r}")
    folder, shown, remote = _subset_folder(subset, revision, token, config)
    record, files = _subset_record(folder, shown, config)
    shown = shown if config is None else f"{shown} (config {config})"
    select_config, selection = _selection_config(record, shown)
    rows = load_parquet_files(files)
    if ID not in rows.column_names:
        raise InputError(f"{shown} has no {ID!r} column (columns: {rows.column_names}); it was not written by s2r")
    pool_dataset, pool_record, pool_shown, scored_again = _find_pool(record, folder, remote, pool, pool_revision, shown)

    missing: list[str] = []
    differences = _pool_differences(record["pool"], pool_record, pool_dataset, missing)
    if record.get("version") != __version__:
        differences.append(Difference("s2r-hf version that selected", record.get("version"), __version__))

    subset_ids = arrow_column(rows, ID).to_pylist()
    subset_rows_digest = rows_sha256(rows)
    edited = False
    for key, found in (("ids_sha256", ids_sha256(subset_ids)), ("rows_sha256", subset_rows_digest)):
        recorded = record.get(key)
        if recorded is None:
            missing.append(f"the card records no {key} of the subset (written before s2r-hf recorded it)")
        elif recorded != found:
            edited = True
            differences.append(Difference(f"subset {key.split('_')[0]} (sha256)", recorded, found))

    tokenizer = record.get("tokenizer") if select_config.token_budget is not None else None
    selected, _ = select_with_report(pool_dataset, select_config, tokenizer=tokenizer)
    selected_ids = arrow_column(selected, ID).to_pylist()
    first = _first_id_difference(subset_ids, selected_ids)
    if first is None and rows_sha256(selected) != subset_rows_digest:
        first = _first_row_difference(rows, selected)
    return VerificationReport(
        subset=shown,
        pool=pool_shown,
        pool_scored_again=scored_again,
        selection=selection,
        rows=len(subset_ids),
        selected_rows=len(selected_ids),
        verified=first is None and not edited,
        first_difference=first,
        differences=differences,
        edited=edited,
        missing=missing,
    )


# -- the subset --------------------------------------------------------------------------------------------------------


def _subset_folder(
    subset: str | os.PathLike, revision: str | None, token: str | None, config: str | None
) -> tuple[Path, str, bool]:
    """(folder, name shown in the report, whether it was downloaded from the Hub)."""
    if not isinstance(subset, (str, os.PathLike)) or not str(subset).strip():
        raise InputError(f"a subset is a folder written by `s2r select` or a Hub dataset repo id, got {subset!r}")
    path = Path(subset).expanduser()
    if path.exists():
        if revision is not None:
            raise InputError(f"revision {revision!r} applies to a Hub repo, but {str(subset)!r} is a local folder")
        return path, str(subset), False
    if not is_org_repo_id(str(subset)):
        raise SourceNotFoundError(
            f"{str(subset)!r} does not exist (and is not a Hub dataset repo id of the form org/name); name a folder "
            "written by `s2r select`, or a subset repo on the Hub"
        )
    from s2r_hf.pool.sources import fetch_dataset_repo

    patterns = SUBSET_FILES + ([] if config is None else [f"{config}/{SPLIT}-*.parquet"])
    folder, commit = fetch_dataset_repo(str(subset), revision, token=token, patterns=patterns)
    return folder, f"{subset}@{commit[:12]}", True


def _subset_record(folder: Path, shown: str, config: str | None) -> tuple[dict[str, Any], list[Path]]:
    """The `s2r` block of a subset's card (of config `config` in a repo of several subsets) and its parquet files,
    refusing anything that is not one subset with its pool recorded."""
    where = f"{shown} (its card, {CARD_FILE})"
    record = read_card_metadata(folder).get("s2r")
    kind = record.get("kind") if isinstance(record, dict) else None
    if kind == "collection":
        configs = [entry.get("config") for entry in record.get("subsets") or [] if isinstance(entry, dict)]
        if config is None:
            raise InputError(
                f"{shown} holds several subsets (configs {configs}); name the one to verify with --config (config= in "
                "Python)"
            )
        if config not in configs:
            raise InputError(f"{shown} has no config {config!r}; its configs: {configs}")
        record = dict(record["subsets"][configs.index(config)])
        files = sorted((folder / config).glob(f"{SPLIT}-*.parquet"))
    elif kind == "subset":
        if config is not None:
            raise InputError(f"config {config!r} applies to a repo of several subsets, but {shown} holds one; drop it")
        files = sorted((folder / DATA_DIR).glob("*.parquet"))
    else:
        what = "a scored pool" if kind == "scored_pool" else ("no s2r block" if kind is None else f"kind {kind!r}")
        raise InputError(
            f"{where} is not a subset written by `s2r select` (it records {what}); name a subset folder or repo"
        )
    if not files:
        raise InputError(
            f"{shown} has no parquet rows for this subset; name a subset folder or repo `s2r select` wrote"
        )
    if not isinstance(record.get("pool"), dict) or record["pool"].get("kind") != "scored_pool":
        raise InputError(
            f"{where} does not record the scored pool it was selected from (s2r.pool), so it cannot be selected again"
        )
    return record, files


def _selection_config(record: dict[str, Any], shown: str) -> tuple[SelectConfig, str]:
    """The SelectConfig the card records, and the selection in words ("joint selection (ratio 0.1 of 50 rows)")."""
    strategy = record.get("strategy") if isinstance(record.get("strategy"), str) else None
    needed = {"joint": ["weight"], "quadrant": ["weight", "quadrant"], "diverse": ["seed", "group_column"]}
    needed["random"] = ["seed"]
    missing = [] if strategy else ["strategy"]
    sizes = ("ratio", "k", "token_budget")
    missing += [] if any(record.get(key) is not None for key in sizes) else ["ratio or k"]
    missing += [key for key in needed.get(strategy, []) if record.get(key) is None]
    if missing:
        raise InputError(
            f"the card of {shown} does not record {', '.join(missing)} (s2r.{missing[0].split()[0]}), needed to "
            "select again; only a subset `s2r select` wrote can be verified"
        )
    options: dict[str, Any] = {"strategy": strategy, "ratio": record.get("ratio"), "k": record.get("k")}
    if strategy in ("joint", "quadrant"):
        options["weight"] = record["weight"]
    if strategy == "quadrant":
        options["quadrant"] = record["quadrant"].get("name") if isinstance(record["quadrant"], dict) else None
    if strategy in ("random", "diverse"):
        options["seed"] = record["seed"]
    if strategy == "diverse":
        options["group_column"] = record["group_column"]
    options["max_per_cluster"] = record.get("max_per_cluster")
    options["token_budget"] = record.get("token_budget")  # counted again with the tokenizer the card names
    try:
        config = SelectConfig(**options)
    except (InputError, OptionTypeError) as err:  # a card edited by hand: settings of the wrong type or range
        raise InputError(f"the selection settings the card of {shown} records cannot be used: {err}") from None
    size = f"k {config.k}" if config.k is not None else f"ratio {config.ratio}"
    if config.token_budget is not None:
        size = f"token budget {config.token_budget:,}"
    pool_rows = record.get("pool_rows")
    of = f" of {pool_rows:,} rows" if isinstance(pool_rows, int) else ""
    return config, f"{strategy} selection ({size}{of})"


# -- the pool ----------------------------------------------------------------------------------------------------------


def _find_pool(
    record: dict[str, Any],
    subset_folder: Path,
    remote: bool,
    pool: str | os.PathLike | None,
    pool_revision: str | None,
    shown: str,
) -> tuple[Dataset, dict[str, Any], str, bool]:
    """(pool rows, the pool's record, how the report names it, whether it was scored again)."""
    recorded = record["pool"]
    if pool is not None:
        if not isinstance(pool, (str, os.PathLike)) or not str(pool).strip():
            raise InputError(f"pool is a scored folder or a source (Hub id, folder, file), got {pool!r}")
        kind = _s2r_kind(Path(pool).expanduser())
        if kind == "scored_pool":
            if pool_revision is not None:
                raise InputError(
                    f"pool_revision {pool_revision!r} applies to a source scored again, but {str(pool)!r} is a scored "
                    "folder; drop it"
                )
            dataset, pool_record = load_scored_pool(pool)
            return dataset, pool_record, str(pool), False
        if kind is not None:
            raise InputError(
                f"--pool {str(pool)!r} is a folder s2r wrote of kind {kind!r}, not a scored pool nor a source; give "
                "the scored folder the subset was selected from (`s2r score -o`), or its source"
            )
        return _score_again(recorded, str(pool), pool_revision, shown)
    if pool_revision is not None:
        raise InputError("pool_revision applies to a source given as the pool (--pool SOURCE); give the source too")
    candidates = _pool_candidates(record, subset_folder, remote)
    for candidate in candidates:
        if _s2r_kind(candidate) == "scored_pool":
            dataset, pool_record = load_scored_pool(candidate)
            return dataset, pool_record, str(candidate), False
    source = recorded.get("source") or {}
    at = f" --pool-revision {source['revision']}" if source.get("revision") else ""
    looked = ", ".join(repr(str(path)) for path in candidates) or "nowhere: the card names no scored folder"
    name = source.get("name") or ""
    # A recorded name with spaces describes a source (the embedded demo pool) rather than naming one --pool can take.
    source_flag = name if name and not any(character.isspace() for character in name) else "SOURCE"
    raise InputError(
        f"the scored pool {shown} was selected from is not here (looked for {looked}); pass --pool SCORED_FOLDER, "
        f"or --pool {source_flag}{at} to score its source again with the recorded settings"
    )


def _pool_candidates(record: dict[str, Any], subset_folder: Path, remote: bool) -> list[Path]:
    """Where the scored folder may be: where `s2r select` read it (recorded relative to the subset folder), then by its
    name beside the subset folder, then in the current folder (for a subset downloaded from the Hub: only there)."""
    recorded, name = record.get("pool_folder"), record["pool"].get("name")
    places: list[Path] = []
    if isinstance(recorded, str) and recorded.strip() and not remote:
        places.append(Path(os.path.normpath(subset_folder / recorded)))
    for text in (recorded, name):
        if isinstance(text, str) and text.strip():
            places += [] if remote else [subset_folder.parent / Path(text).name]
            places.append(Path(Path(text).name))
    candidates: list[Path] = []
    for place in places:
        if place.absolute() not in {candidate.absolute() for candidate in candidates}:
            candidates.append(place)
    return candidates


def _s2r_kind(folder: Path) -> str | None:
    """The kind in a folder's card (None: not a folder with an s2r card)."""
    if not (folder / CARD_FILE).is_file():
        return None
    record = read_card_metadata(folder).get("s2r")
    return record.get("kind") if isinstance(record, dict) else None


def _score_again(
    recorded: dict[str, Any], source: str, pool_revision: str | None, shown: str
) -> tuple[Dataset, dict[str, Any], str, bool]:
    """Score `source` with the scoring settings the pool's record holds."""
    from s2r_hf.pipeline.score import ScoreConfig, score_pool

    settings = recorded.get("settings")
    if not isinstance(settings, dict):
        command = recorded.get("command")
        how = f"as its card says (`{command}`)" if command else "with the settings its card shows"
        raise InputError(
            f"the card of {shown} records no scoring settings (its pool was scored by s2r-hf "
            f"{recorded.get('version')}, before they were recorded), so its source cannot be scored again here; score "
            f"it {how} and pass the scored folder with --pool"
        )
    settings = dict(settings)
    if pool_revision is not None:
        settings["revision"] = pool_revision
    if isinstance(settings.get("judge"), dict) and settings["judge"].get("work_dir") is not None:
        # The scorer's resume folder on the machine that scored: verifying neither writes there nor resumes from it.
        settings["judge"] = {**settings["judge"], "work_dir": None}
    if isinstance(settings.get("sampled"), dict) and settings["sampled"].get("work_dir") is not None:
        settings["sampled"] = {**settings["sampled"], "work_dir": None}  # the same for the sampled rollouts' store
    try:
        config = ScoreConfig(source=source, **settings)
    except OptionTypeError:
        raise
    except TypeError as err:  # a setting this version of s2r-hf does not have
        raise InputError(
            f"the scoring settings the card of {shown} records do not fit s2r-hf {__version__} ({err}); score the "
            "source with the s2r-hf version the card names and pass the scored folder with --pool"
        ) from None
    logger.info("scoring %s again with the settings the card records", source)
    dataset, pool_record = score_pool(config)
    at = f" at revision {config.revision}" if config.revision else ""
    return dataset, pool_record, f"{source}{at} (scored again)", True


def _pool_differences(
    recorded: dict[str, Any], found: dict[str, Any], dataset: Dataset, missing: list[str]
) -> list[Difference]:
    """Each compared part of the pool's record that differs, the rows' digest computed from the rows themselves."""
    found = {**found, "rows_sha256": rows_sha256(dataset)}  # what the rows are now, whatever the folder's card says
    if recorded.get("rows_sha256") is None:
        missing.append("the card records no rows_sha256 of the pool (scored before s2r-hf recorded it)")
    old, new = _flatten({k: recorded.get(k) for k in _COMPARED}), _flatten({k: found.get(k) for k in _COMPARED})
    local = (recorded.get("source") or {}).get("kind") in ("file", "folder") and (found.get("source") or {}).get(
        "kind"
    ) in ("file", "folder")
    differences = []
    keys = [*old, *(key for key in new if key not in old)]
    for key in sorted(keys, key=lambda key: _COMPARED.index(key.split(".")[0])):  # stable: each part's own order
        if key in _RUNTIME_SETTINGS or (local and key == "source.name"):
            continue  # a local file is known by its digest, wherever it is now
        if key not in old and key.startswith(_RECORDED_SINCE_VERIFY):
            continue  # not recorded by an older card: noted as missing, not as a difference
        if old.get(key) != new.get(key):
            differences.append(Difference(_LABELS.get(key, f"pool {key}"), old.get(key), new.get(key)))
    return differences


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if value is None and prefix == "":
            continue  # a part the record does not have
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# -- the rows ----------------------------------------------------------------------------------------------------------


def _first_id_difference(subset_ids: list[str], selected_ids: list[str]) -> dict[str, Any] | None:
    for row, (mine, theirs) in enumerate(zip(subset_ids, selected_ids)):
        if mine != theirs:
            return {"row": row, "subset_id": mine, "selection_id": theirs, "columns": None}
    if len(subset_ids) != len(selected_ids):
        row = min(len(subset_ids), len(selected_ids))
        mine = subset_ids[row] if row < len(subset_ids) else None
        theirs = selected_ids[row] if row < len(selected_ids) else None
        return {"row": row, "subset_id": mine, "selection_id": theirs, "columns": None}
    return None


def _first_row_difference(rows: Dataset, selected: Dataset) -> dict[str, Any]:
    """Same ids in the same order, other content: the first row, and the columns, that differ."""
    mine, theirs = rows.with_format("arrow"), selected.with_format("arrow")
    for start in range(0, len(rows), 1000):
        left, right = mine[start : start + 1000].to_pylist(), theirs[start : start + 1000].to_pylist()
        for offset, (a, b) in enumerate(zip(left, right)):
            if a != b:
                columns = sorted(name for name in set(a) | set(b) if a.get(name, ...) != b.get(name, ...))
                return {"row": start + offset, "subset_id": a.get(ID), "selection_id": b.get(ID), "columns": columns}
    # Values equal in Python that digest apart (0.0 and -0.0): the first row, no column named.
    return {"row": 0, "subset_id": None, "selection_id": None, "columns": []}


def _first_difference_line(first: dict[str, Any], rows: int, selected_rows: int) -> str:
    row = first["row"]
    if first["columns"] is not None:
        return (
            f"First difference at row {row} (0-based), id {first['subset_id']!r}: the same ids in the same order, but "
            f"column(s) {first['columns']} hold other values than the pool gives."
        )
    if first["subset_id"] is None:
        return (
            f"First difference at row {row} (0-based): the subset ends there ({rows:,} rows), the selection goes on "
            f"with {first['selection_id']!r} ({selected_rows:,} rows)."
        )
    if first["selection_id"] is None:
        return (
            f"First difference at row {row} (0-based): the selection ends there ({selected_rows:,} rows), the subset "
            f"goes on with {first['subset_id']!r} ({rows:,} rows)."
        )
    return (
        f"First difference at row {row} (0-based): the subset has id {first['subset_id']!r}, the selection gives "
        f"{first['selection_id']!r}."
    )


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value):
        return short_digest(value)  # a commit or a sha256: its first 12 digits say which
    if value is None:
        return "(none)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
