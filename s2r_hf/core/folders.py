"""Dataset folders in the Hub layout: `data/train-0000i-of-0000n.parquet` shards plus a README.md card.

`datasets.load_dataset(folder)` opens such a folder, and a later `s2r publish` pushes it unchanged. Folders are written
into a temporary sibling and moved into place only when complete, so a failure never leaves half a dataset behind.

The card has no `configs:` entry: datasets' default patterns find `data/train-*.parquet` locally and on the Hub, and a
`configs:` entry would make datasets 5.x cache `load_dataset(folder)` under the folder's name alone, returning the rows
of an earlier folder of that name. The package itself reads folders through `load_parquet_files`, keyed by the files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.cards import split_card
from s2r_hf.core.errors import InputError, OutputError, OutputExistsError, S2RError, SourceNotFoundError
from s2r_hf.core.locks import locked_output
from s2r_hf.core.records import read_json_object

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

SPLIT = "train"
DATA_DIR = "data"
CARD_FILE = "README.md"
# Shards of about this many bytes (in memory), like push_to_hub's default, so the Hub viewer and streaming handle them.
MAX_SHARD_BYTES = 500 * 1024 * 1024
# The kinds of folder s2r writes (the `kind` of the card's s2r block): the only folders --overwrite may replace.
S2R_KINDS = ("scored_pool", "subset", "collection", "merged_pool", "evaluation")
# Marks a staging folder as s2r's, so that the next run may remove it if this one is killed.
STAGING_MARK = ".s2r-staging"


# Every kind of folder an s2r command writes, in words, with the command that writes it: an output guard meeting a
# folder of another kind names what it holds ("holds a training run (written by s2r train)").
FOLDER_KINDS = {
    "scored_pool": ("a scored pool", "s2r score"),
    "subset": ("a subset", "s2r select"),
    "collection": ("a collection of subsets", "s2r publish"),
    "merged_pool": ("a merged judge pool", "python -m s2r_hf.signals.judge.distributed"),
    "evaluation": ("an evaluation", "s2r evaluate"),
    "training": ("a training run", "s2r train"),
    "judge": ("a trained judge", "s2r train-judge"),
    "experiment": ("an experiment", "s2r experiment"),
    "pool_report": ("a pool report", "s2r inspect"),
}


@dataclass(frozen=True)
class FolderOwner:
    """How s2r knows an existing output folder for one it wrote, and so may write into or replace.

    `writer` wrote it (in words, for errors: "s2r train"), `marker` shows it ("s2r_training.json"), `kind_of(folder)`
    is the kind of folder it holds, or None when `writer` did not write it; `overwrite_option` is the option that
    replaces it, named in errors; `kind` is the one kind it writes (None when it writes several).
    """

    writer: str
    marker: str
    kind_of: Callable[[Path], str | None]
    overwrite_option: str = "--overwrite"
    kind: str | None = None

    @classmethod
    def marked_by(cls, marker: str, writer: str, kind: str, overwrite_option: str = "--overwrite") -> FolderOwner:
        """The owner of folders that hold the file `marker` (a record `writer` writes first): of kind `kind`."""
        return cls(writer, marker, lambda folder: kind if (folder / marker).is_file() else None, overwrite_option, kind)


def check_writable(
    path: str | os.PathLike,
    overwrite: bool,
    *,
    inputs: Iterable[str | os.PathLike | None] = (),
    kind: str | None = None,
    owner: FolderOwner | None = None,
    reuse: bool = False,
) -> Path:
    """Fail early, before any work, unless `path` may be written: returns it resolved, or raises OutputError.

    The one output-folder guard of s2r. `--overwrite` replaces only a folder s2r wrote (by default: its README.md has
    an `s2r` block of a known kind, and of `kind` when given; `owner` says how other outputs are known), never an
    input nor a folder holding one, never the current folder, one above it, the home folder or `/`. An output inside
    an input folder is refused too: it would change what the input means on the next run. With `reuse` (a run that
    resumes into its folder) an existing folder is accepted without `overwrite` when it is empty or `owner`'s.
    A folder s2r did not write is refused in the same words wherever it is met (`foreign_folder_error`); a folder
    another s2r command wrote is named by what it holds and who wrote it (`other_kind_error`).
    """
    owner = owner or S2R_CARD_OWNER
    if not str(path).strip():
        raise OutputError("the output path is empty; name the folder to write, e.g. -o my-subset")
    target = Path(path).expanduser().resolve()
    for source in inputs:
        _check_not_input(target, source)
    cwd, home = Path.cwd().resolve(), Path.home().resolve()
    if target in (cwd, home) or target in cwd.parents:
        what = {cwd: "the current folder", home: "the home folder"}.get(target, "a folder above the current one")
        raise OutputError(
            f"output {str(path)!r} is {what} ({target}); s2r never writes over it: name a new folder, e.g. -o my-subset"
        )
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"output path {str(path)!r} exists and is not a folder; choose another output path")
        if reuse and not any(target.iterdir()):
            _check_can_create_in(target, target)  # an empty folder made for it: written into
            return target
        found = owner.kind_of(target)
        wanted = kind or owner.kind
        ours = found is not None and (wanted is None or found == wanted)
        other = None if ours else (found or folder_kind(target))
        if other is not None:  # another command's folder: named as such, and never replaced nor written into
            raise other_kind_error(path, other, wanted, owner, overwrite, reuse)
        if not overwrite and not reuse:
            raise OutputExistsError(
                f"output folder {str(path)!r} already exists; choose another, or pass {owner.overwrite_option}"
            )
        if not ours:
            raise foreign_folder_error(path, owner, overwrite)
        if reuse:
            _check_can_create_in(target, target)  # resumed or started again inside: written into, not replaced
            return target
    _check_parent_writable(target)
    return target


def foreign_folder_error(path: str | os.PathLike, owner: FolderOwner, overwrite: bool) -> OutputError:
    """The error for an existing output folder that `owner.writer` did not write: the same words wherever it is met."""
    refused = f"{owner.overwrite_option} refused: " if overwrite else ""
    return OutputError(
        f"{refused}output folder {str(path)!r} exists and was not written by {owner.writer} (no {owner.marker}); s2r "
        "writes only into folders it wrote: choose another output folder, or remove it yourself"
    )


def other_kind_error(
    path: str | os.PathLike, found: str, wanted: str | None, owner: FolderOwner, overwrite: bool, reuse: bool
) -> OutputError:
    """The error for an existing output folder that another s2r command wrote: it names what the folder holds and
    which command wrote it, and what this command's option (`owner`'s) would replace (never a folder of another
    kind)."""
    folder = f"output folder {str(path)!r}"
    option = owner.overwrite_option
    held = f"holds {describe_kind(found, owner.writer)}"
    if overwrite:
        replaces = f"replaces only {describe_kind(wanted, owner.writer)}" if wanted else "does not replace it"
        return OutputError(f"{option} refused: {folder} {held}, and {option} {replaces}; choose another output folder")
    if reuse:
        instead = f", not {describe_kind(wanted, owner.writer)}" if wanted else ""
        return OutputError(f"{folder} {held}{instead}; choose another output folder")
    replaces = f"; {option} replaces only {describe_kind(wanted, owner.writer)}:" if wanted else ";"
    return OutputExistsError(f"{folder} already exists and {held}{replaces} choose another output folder")


def describe_kind(kind: str, writer: str = "s2r") -> str:
    """A kind of s2r folder in words, with the command that writes it: "a training run (written by s2r train)"; a
    kind FOLDER_KINDS does not know (a FolderOwner of a caller's own) by its name, written by `writer`."""
    noun, known_writer = FOLDER_KINDS.get(kind, (f"a {kind.replace('_', ' ')}", writer))
    return f"{noun} (written by {known_writer})"


def check_writable_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Fail early, before any work, unless the output file `path` may be written: returns it resolved.

    The rules of `check_writable` for a file: never an input nor inside an input folder (symlinks resolved), never a
    folder, and its folder must exist and be writable (s2r does not create folders for a single file).
    """
    if not str(path).strip():
        raise OutputError("the output file name is empty; name the file to write, e.g. -o table.md")
    target = Path(path).expanduser().resolve()
    for source in inputs:
        _check_not_input(target, source)
    if target.is_dir():
        raise OutputError(f"output {str(path)!r} is a folder; name the file to write inside it")
    if target.exists() and not target.is_file():
        # A device or a pipe (/dev/null, a FIFO): moving a file into place would replace the node itself.
        raise OutputError(f"output {str(path)!r} is not a regular file ({target}); name a file to write")
    _check_parent_writable(target)
    if not target.parent.is_dir():
        raise OutputError(
            f"cannot write {str(path)!r}: the folder {str(target.parent)!r} does not exist; create it first, or "
            "choose another path"
        )
    return target


def write_file_atomically(path: str | os.PathLike, content: bytes) -> Path:
    """Write `content` to `path` whole or not at all; the one atomic file write of s2r.

    The bytes go to a hidden sibling `.<name>.tmp-<8 hex>` (created exclusively, permissions from the umask), which is
    moved over `path` once complete: a reader sees the old file or the new one, never a part. On any failure (a full
    or read-only disk, Ctrl-C) the sibling is removed and `path` is left as it was; a disk error is an OutputError
    saying what happened and how to fix it.
    """
    path = Path(path)
    temporary = path.parent / f".{path.name}.tmp-{secrets.token_hex(4)}"
    try:
        with open(temporary, "xb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException as err:
        with contextlib.suppress(OSError):  # it may never have been created
            temporary.unlink()
        if isinstance(err, OSError) and not isinstance(err, S2RError):
            if err.filename is not None and Path(err.filename) == temporary:  # name the file asked for, not ours
                err = OSError(err.errno, err.strerror)
            raise OutputError(_disk_error_message(path, err)) from err
        raise
    return path


def current_umask() -> int:
    """This process's umask, read without changing it where the system says it (Linux's /proc/self/status)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)  # elsewhere: set and restore at once (0o077, so that nothing is ever created more open)
    os.umask(mask)
    return mask


def follow_umask(folder: str | os.PathLike, pattern: str) -> list[Path]:
    """Give the files of `folder` matching `pattern` that a library wrote owner-only (0600) the mode the umask gives
    a new file (0644 under umask 022), as every file s2r writes itself has; returns the files changed.

    safetensors 0.8 writes through a temporary file created 0600 and renamed into place, whatever the umask
    (safetensors issue #782), so `model.safetensors` alone could not be read by the group or the other users that
    read the rest of the folder. Only files at exactly 0600 are changed: a mode the user chose is left as it is.
    """
    wanted = 0o666 & ~current_umask()
    changed = []
    for path in sorted(Path(folder).glob(pattern)):
        if path.is_file() and not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600 != wanted:
            path.chmod(wanted)
            changed.append(path)
    return changed


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """`write_file_atomically` for text, encoded as UTF-8."""
    return write_file_atomically(path, text.encode("utf-8"))


def write_json_atomically(path: str | os.PathLike, value: Any, **dumps_options: Any) -> Path:
    """`write_file_atomically` for a JSON document: indented by 2 (unless `indent` is given), ending in a newline.

    `dumps_options` go to `json.dumps` (`default=str`, `ensure_ascii=False`, `sort_keys=True`, ...).
    """
    dumps_options.setdefault("indent", 2)
    return write_text_atomically(path, json.dumps(value, **dumps_options) + "\n")


def write_table_atomically(path: str | os.PathLike, table: Any) -> Path:
    """`write_file_atomically` for a pyarrow Table, as one parquet file (built in memory, then written whole)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return write_file_atomically(path, sink.getvalue().to_pybytes())


def _check_not_input(target: Path, source: str | os.PathLike | None) -> None:
    if source is None or not str(source).strip() or not Path(source).expanduser().exists():
        return  # a Hub id, not a local path
    source_path = Path(source).expanduser().resolve()
    if target == source_path:
        reason = "is the input"
    elif target in source_path.parents:
        reason = f"holds the input {str(source)!r}"
    elif source_path.is_dir() and source_path in target.parents:
        reason = f"is inside the input folder {str(source)!r} (it would change what that input holds)"
    else:
        return
    raise OutputError(f"output {str(target)!r} {reason}; write the output to a folder outside the input")


def _check_parent_writable(target: Path) -> None:
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    _check_can_create_in(ancestor, target)


def _check_can_create_in(folder: Path, target: Path) -> None:
    """`target` is written by creating files in `folder` (which exists): it must be a folder we may write to."""
    if not folder.is_dir():
        raise OutputError(f"cannot write {str(target)!r}: {str(folder)!r} is a file, not a folder; choose another path")
    if _on_read_only_disk(folder):
        raise OutputError(
            f"cannot write {str(target)!r}: {str(folder)!r}: {os.strerror(errno.EROFS)}; choose an output folder you "
            "can write to"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {str(target)!r}: no permission to create files in {str(folder)!r}; choose a folder "
            "you can write to"
        )


def _on_read_only_disk(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): os.access alone decides
        return False


def s2r_kind(folder: str | os.PathLike) -> str | None:
    """The kind of s2r folder (scored_pool, subset, collection) per its card, or None if s2r did not write it."""
    folder = Path(folder)
    if folder.is_symlink() or not (folder / CARD_FILE).is_file():
        return None
    try:
        block = read_card_metadata(folder).get("s2r")
    except (ValueError, OSError):  # unreadable YAML: not a card s2r wrote
        return None
    found = block.get("kind") if isinstance(block, dict) else None
    return found if found in S2R_KINDS else None


# Dataset folders (scored pools, subsets, ...) and evaluations: known by the s2r block of their card.
S2R_CARD_OWNER = FolderOwner("s2r", f"{CARD_FILE} with an s2r block", s2r_kind)
# The other commands' folders, each known by the record its command writes into it first. They live here, beside the
# guard, so that every command's guard can name another command's folder (`s2r evaluate -o` on a training run says
# "holds a training run (written by s2r train)"), whichever modules the command imported.
TRAINING_RECORD = "s2r_training.json"
JUDGE_RECORD = "s2r_judge_training.json"
EXPERIMENT_RECORD = "experiment.json"
POOL_REPORT_RECORD = "report.json"
POOL_REPORT_KIND = "pool_report"  # report.json's "kind"


def _pool_report_kind(folder: Path) -> str | None:
    """POOL_REPORT_KIND for a folder `s2r inspect` wrote (its report.json says so), None for any other."""
    try:
        read_json_object(folder / POOL_REPORT_RECORD, what="a pool report", kind=("kind", POOL_REPORT_KIND))
    except InputError:
        return None
    return POOL_REPORT_KIND


TRAINING_OWNER = FolderOwner.marked_by(TRAINING_RECORD, "s2r train", "training", "--overwrite_output_dir")
JUDGE_OWNER = FolderOwner.marked_by(JUDGE_RECORD, "s2r train-judge", "judge")
EXPERIMENT_OWNER = FolderOwner.marked_by(EXPERIMENT_RECORD, "s2r experiment", "experiment")
POOL_REPORT_OWNER = FolderOwner(
    "s2r inspect", f"{POOL_REPORT_RECORD} of kind {POOL_REPORT_KIND}", _pool_report_kind, kind=POOL_REPORT_KIND
)
KNOWN_OWNERS = (S2R_CARD_OWNER, TRAINING_OWNER, JUDGE_OWNER, EXPERIMENT_OWNER, POOL_REPORT_OWNER)


def folder_kind(folder: str | os.PathLike) -> str | None:
    """The kind of s2r folder `folder` holds (a key of FOLDER_KINDS), whichever command wrote it; None for a folder
    no s2r command wrote."""
    for owner in KNOWN_OWNERS:
        found = owner.kind_of(Path(folder))
        if found is not None:
            return found
    return None


def write_dataset_folder(
    dataset: Dataset,
    path: str | os.PathLike,
    card: str,
    *,
    overwrite: bool = False,
    extra_files: Mapping[str, bytes] | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    inputs: Iterable[str | os.PathLike | None] = (),
    kind: str | None = None,
) -> Path:
    """Write `dataset` as parquet shards with `card` as README.md (plus `extra_files`, name -> bytes) into `path`.

    The rules of `check_writable` apply (`inputs`: the paths the dataset was read from; `kind`: the s2r kind the
    folder may replace). The folder is written beside `path` and moved into place when complete; a disk error
    (full, read-only) raises OutputError and leaves nothing behind.
    """
    path = check_writable(path, overwrite, inputs=inputs, kind=kind)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(_disk_error_message(path, err)) from err
    # Two runs writing one folder: the second would remove the first's staging folder as "stale". One at a time.
    with locked_output(path):
        return _write_dataset_folder(dataset, path, card, overwrite, extra_files, max_shard_bytes)


def _write_dataset_folder(
    dataset: Dataset,
    path: Path,
    card: str,
    overwrite: bool,
    extra_files: Mapping[str, bytes] | None,
    max_shard_bytes: int,
) -> Path:
    with staged_folder(path, overwrite) as staging:
        # The table under an indices mapping may be much larger than the rows selected: scale by the share kept.
        estimated_bytes = dataset.data.nbytes * len(dataset) // max(1, dataset.data.num_rows)
        num_shards = min(max(1, -(-estimated_bytes // max_shard_bytes)), max(1, len(dataset)))
        (staging / DATA_DIR).mkdir()
        for index in range(num_shards):
            shard = dataset.shard(num_shards, index, contiguous=True) if num_shards > 1 else dataset
            shard.to_parquet(str(staging / DATA_DIR / f"{SPLIT}-{index:05d}-of-{num_shards:05d}.parquet"))
        (staging / CARD_FILE).write_text(card, encoding="utf-8")
        for name, content in (extra_files or {}).items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
    logger.info("wrote %d rows to %s", len(dataset), path)
    return path


def _disk_error_message(path: Path, err: OSError) -> str:
    what = f"{err.strerror or err}" + (f" ({err.filename})" if err.filename else "")
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = "free some space there, or write to another disk with -o"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "choose an output folder you can write to"
    else:
        fix = "check the output path and the disk, then run again"
    return f"could not write {str(path)!r}: {what}; nothing was written. {fix[0].upper()}{fix[1:]}"


@contextlib.contextmanager
def staged_folder(path: Path, overwrite: bool) -> Iterator[Path]:
    """A folder written whole or not at all: yields a new staging folder beside `path` to fill, moved into place as
    `path` when the block ends, removed when it fails (an existing `path` is then left as it was).

    Staging folders a killed run left beside `path` are removed first, so the caller holds `locked_output(path)` when
    two runs may write the same folder. A disk error (full, read-only) is an OutputError naming `path`.
    """
    staging = None
    try:
        remove_stale_staging(path)
        staging = make_staging(path, "tmp")
        yield staging
        move_into_place(staging, path, overwrite)
    except BaseException as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, S2RError):
            raise OutputError(_disk_error_message(path, err)) from err
        raise


def make_staging(path: Path, role: str) -> Path:
    """A new sibling folder `.<name>.<role>-<random>` (permissions from the umask), marked as s2r's staging."""
    while True:
        staging = path.parent / f".{path.name}.{role}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        (staging / STAGING_MARK).touch()
        return staging


def remove_stale_staging(path: str | os.PathLike) -> list[Path]:
    """Remove the staging folders a killed run left beside `path` (`.<name>.tmp-*`, `.<name>.old-*`, s2r's only)."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(tmp|old)-[0-9a-f]{{8}}")
    removed = []
    for candidate in path.parent.iterdir() if path.parent.is_dir() else ():
        if not pattern.fullmatch(candidate.name) or candidate.is_symlink() or not candidate.is_dir():
            continue
        if (candidate / STAGING_MARK).is_file() or s2r_kind(candidate) is not None:
            logger.info("removing %s, left by an interrupted run", candidate)
            shutil.rmtree(candidate)
            removed.append(candidate)
    return removed


def move_into_place(staging: Path, path: Path, overwrite: bool) -> None:
    """Move a finished staging folder (from `make_staging`) to `path`. An existing `path` (with overwrite) is retired
    beside it and removed once the new one is in place, or put back if the move fails."""
    (staging / STAGING_MARK).unlink()
    if not path.exists():
        os.replace(staging, path)
        return
    if not overwrite:  # appeared while we were writing
        raise OutputExistsError(f"output folder {str(path)!r} appeared while writing; nothing was replaced")
    retired = path.parent / f".{path.name}.old-{secrets.token_hex(4)}"
    os.replace(path, retired)
    (retired / STAGING_MARK).touch()  # if this run dies now, the next one removes what it retired
    try:
        os.replace(staging, path)
    except OSError:
        (retired / STAGING_MARK).unlink()
        os.replace(retired, path)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def shard_files(folder: str | os.PathLike) -> list[Path]:
    """The parquet shards of a folder in the Hub layout, in order."""
    shards = sorted(Path(folder, DATA_DIR).glob("*.parquet"))
    if not shards:
        raise InputError(
            f"{str(folder)!r} has no {DATA_DIR}/*.parquet shards; make one with `s2r score` or `s2r select`"
        )
    return shards


def files_fingerprint(files: Iterable[str | os.PathLike]) -> str:
    """A digest of each file's resolved path, size and modification time (ns): any rewrite changes it."""
    digest = hashlib.sha256()
    for file in files:
        resolved = Path(file).resolve()
        stat = resolved.stat()
        digest.update(f"{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def source_files(path: str | os.PathLike) -> list[Path]:
    """The files behind a local source: the file itself, or every file in the folder (hidden ones left out)."""
    path = Path(path).expanduser()
    if path.is_file():
        return [path]
    return sorted(
        file
        for file in path.rglob("*")
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts)
    )


def load_parquet_files(files: Sequence[str | os.PathLike], split: str = SPLIT) -> Dataset:
    """Read parquet files into one memory-mapped Dataset, cached under a key made of their paths, sizes and mtimes.

    (`load_dataset(folder)` may key its cache on the folder's name alone; this never returns rows that are not in
    `files` now.) A truncated or corrupt file raises InputError naming it.
    """
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets.packaged_modules.parquet.parquet import Parquet

    schemas = {}
    rows = 0
    for file in files:
        try:
            metadata = pq.read_metadata(file)
        except (pa.ArrowInvalid, OSError) as err:
            raise InputError(
                f"{str(file)!r} is not a readable parquet file ({err}); it is truncated or corrupt: write it again "
                "(re-run the command that made it)"
            ) from err
        rows += metadata.num_rows
        schemas[str(file)] = metadata.schema.to_arrow_schema()
    if files and rows == 0:
        raise InputError(f"the parquet files {[str(file) for file in files]} hold no rows; give at least one row")
    named = list(schemas.items())
    for name, schema in named[1:]:
        if schema.names != named[0][1].names:
            differ = sorted(set(schema.names) ^ set(named[0][1].names))
            differ = f"columns in one only: {differ[:5]}{' ...' if len(differ) > 5 else ''}" if differ else "order"
            raise InputError(
                f"the parquet files of one split must have the same columns, but {name!r} and {named[0][0]!r} differ "
                f"({differ}); remove the stray file or write the folder again"
            )
    builder = Parquet(data_files={split: [str(file) for file in files]}, hash=files_fingerprint(files)[:16])
    try:
        builder.download_and_prepare()
    except datasets.exceptions.DatasetGenerationError as err:
        cause = err.__cause__ or err
        detail = " ".join(str(cause).split())[:300]  # one line: datasets' schema errors print whole feature dicts
        raise InputError(
            f"could not read the parquet files {[str(file) for file in files]}: {type(cause).__name__}: {detail}; "
            "one of them is corrupt: write it again"
        ) from err
    return builder.as_dataset(split=split)


def load_dataset_folder(path: str | os.PathLike) -> Dataset:
    """Load a folder written by `write_dataset_folder`: the rows its shards hold now, whatever was cached before."""
    path = Path(path)
    if not (path / CARD_FILE).is_file() or not (path / DATA_DIR).is_dir():
        raise SourceNotFoundError(
            f"{str(path)!r} is not an s2r dataset folder (expected {CARD_FILE} and {DATA_DIR}/*.parquet); "
            "make one with `s2r score` or `s2r select`"
        )
    from s2r_hf.core.lineage import note_lineage

    # The source travels with the rows: a subset selected from them, trained on in a script, names its pool.
    source = {"name": str(path), "kind": "folder", "config": None, "split": SPLIT, "revision": None}
    return note_lineage(load_parquet_files(shard_files(path)), source=source)


def load_folder(path: str | os.PathLike, config: str | None = None, split: str = SPLIT) -> Dataset:
    """Load one split of any local dataset folder, keyed by its data files rather than by the folder's name.

    datasets resolves which files make the config and split (card `configs:`, or its default patterns); they are then
    read as explicit data files: parquet through `load_parquet_files`, other formats through `load_dataset` with
    `data_files`, whose cache key covers each file's path and mtime.
    """
    import datasets

    try:
        builder = datasets.load_dataset_builder(str(path), name=config)
    except ValueError as err:  # "BuilderConfig 'x' not found. Available: [...]", a traceback otherwise
        if config is None or "BuilderConfig" not in str(err):
            raise
        raise InputError(
            f"{str(path)!r} has no config {config!r} ({' '.join(str(err).split())}); name one of its configs, or none"
        ) from err
    data_files = builder.config.data_files or {}
    if split not in data_files:
        raise InputError(f"{str(path)!r} has no split {split!r}; its splits: {sorted(data_files)}; pass --split")
    files = list(data_files[split])
    if all(file.endswith(".parquet") for file in files):
        return load_parquet_files(files, split)
    return datasets.load_dataset(str(path), name=config, data_files={split: files}, split=split)


def read_card_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The YAML metadata of a folder's README.md card (empty dict when it has none)."""
    folder = Path(path)
    made_by = "name a folder written by `s2r score` or `s2r select`"
    if not folder.exists():
        raise SourceNotFoundError(f"{str(folder)!r} does not exist; {made_by}")
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is a file, not a folder; {made_by}")
    card_path = folder / CARD_FILE
    if not card_path.is_file():
        raise SourceNotFoundError(f"{str(folder)!r} has no {CARD_FILE} card, so s2r did not write it; {made_by}")
    where, fix = f"the card {str(card_path)!r}", "fix its YAML header, or write the folder again"
    try:
        text = card_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{where} cannot be read ({type(error).__name__}: {error}); {fix}") from None
    return split_card(text, where=where, fix=fix)[0]
