"""Where a pool comes from: a Hub dataset id, a local folder, or a jsonl/json/parquet/csv file.

Everything is read through `datasets`, so Hub ids, revisions, caching and streaming-free Arrow memory mapping behave
exactly as users know them. Local paths are checked first; anything that is not an existing path is a Hub id.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import re
import zlib
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s2r_hf.core.errors import HubUnreachableError, InputError, SourceNotFoundError
from s2r_hf.core.http_errors import transport_errors
from s2r_hf.core.models import looks_like_local_path

if TYPE_CHECKING:
    from datasets import Dataset

logger = logging.getLogger(__name__)

# file suffix -> datasets' packaged builder
FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class SourceInfo:
    """What was loaded, for cards and reproduction."""

    name: str
    kind: str  # "file", "folder" or "hub"
    config: str | None = None
    split: str = "train"
    revision: str | None = None

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def _file_builder(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):  # datasets decompresses these on the fly
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FILE_BUILDERS:
        raise InputError(
            f"cannot tell the format of {str(path)!r} from its name; supported: {sorted(FILE_BUILDERS)} "
            "(optionally compressed .gz/.bz2/.xz/.zst), a dataset folder, or a Hub dataset id"
        )
    return FILE_BUILDERS[suffixes[-1]]


def _looks_like_path(source: str) -> bool:
    """Spelled as a path (s2r_hf.core.models' rule: no Hub id is), or named as a data file: either way, one that does
    not exist locally was meant as a path."""
    return looks_like_local_path(source) or any(source.lower().endswith(suffix) for suffix in FILE_BUILDERS)


def describe_source(
    source: str | os.PathLike, config: str | None = None, split: str = "train", revision: str | None = None
) -> SourceInfo:
    path = Path(source).expanduser()
    if path.is_file():
        return SourceInfo(name=str(source), kind="file", split=split)
    if path.is_dir():
        return SourceInfo(name=str(source), kind="folder", config=config, split=split)
    return SourceInfo(name=str(source), kind="hub", config=config, split=split, revision=revision)


def load_source(
    source: str | os.PathLike, config: str | None = None, split: str = "train", revision: str | None = None
) -> Dataset:
    """Load one split of a local file, a local folder, or a Hub dataset as a `datasets.Dataset`.

    Input a user can get wrong raises the S2RError family: SourceNotFoundError (also a FileNotFoundError) for what does
    not exist, HubUnreachableError (also a ConnectionError) when the Hub cannot be reached, InputError otherwise.
    The Dataset carries what was loaded (`SourceInfo`) in its lineage (s2r_hf.core.lineage).
    """
    from s2r_hf.core.lineage import note_lineage

    dataset, commit = _load_source(source, config, split, revision)
    described = describe_source(source, config, split, revision).describe()
    if commit is not None:
        described["commit"] = commit  # the revision resolved: what a branch name pointed at when the rows were read
    return note_lineage(dataset, source=described)


def source_identity(source: str | os.PathLike, dataset: Dataset) -> dict[str, str]:
    """What identifies the data a source held when it was read: `{"commit": ...}` for a Hub dataset (the commit its
    revision resolved to, as `load_source` noted it), `{"sha256": ...}` for a local file or folder (its files' bytes,
    s2r_hf.core.digests.files_sha256), {} when neither is known (a Hub dataset read offline from an old cache)."""
    from s2r_hf.core.digests import files_sha256
    from s2r_hf.core.folders import source_files
    from s2r_hf.core.lineage import read_lineage

    path = Path(source).expanduser()
    if path.is_file():
        return {"sha256": files_sha256([path])}
    if path.is_dir():
        return {"sha256": files_sha256(source_files(path), root=path)}
    commit = (read_lineage(dataset).get("source") or {}).get("commit")
    return {"commit": commit} if commit else {}


def _load_source(
    source: str | os.PathLike, config: str | None, split: str, revision: str | None
) -> tuple[Dataset, str | None]:
    """The rows, and for a Hub dataset the commit they were read at (None for a local source)."""
    import datasets
    import pyarrow as pa

    info = _describe_checked(source, config, split, revision)
    try:
        if info.kind == "file":
            path = Path(source).expanduser()
            builder_name = _readable_file_builder(path, source)
            _require_rows_in_file(path, builder_name)
            builder = datasets.load_dataset_builder(builder_name, data_files=str(path))
            return _require_utf8(_build(builder, split, str(source)), str(source)), None
        if info.kind == "folder":
            path = Path(source).expanduser()
            if (path / "state.json").is_file() and (path / "dataset_info.json").is_file():
                return datasets.load_from_disk(str(path)), None  # written by Dataset.save_to_disk
            # Read as the folder's data files, not as `load_dataset(folder)`: that may cache by the folder's name alone.
            from datasets.data_files import EmptyDatasetError

            from s2r_hf.core.folders import load_folder

            try:
                return _require_utf8(load_folder(path, config, split), str(source)), None
            except EmptyDatasetError as err:
                raise InputError(
                    f"the folder {str(source)!r} holds no data files datasets can read; put the pool's "
                    f"{'/'.join(sorted(FILE_BUILDERS))} files in it, or name the file itself"
                ) from err
        return _load_hub(str(source), config, split, revision)
    except (
        datasets.exceptions.DatasetGenerationError,
        pa.ArrowInvalid,
        UnicodeDecodeError,
        *_DECOMPRESSION_ERRORS,
    ) as err:
        cause = err.__cause__ or err
        raise InputError(
            f"could not read {str(source)!r} ({info.kind}): {type(cause).__name__}: {str(cause).rstrip('.')}. "
            "Check that the file is complete and in the format its name says"
        ) from err
    except StopIteration as err:  # datasets' json reader infers the schema from a first batch that is not there
        raise InputError(f"{str(source)!r} ({info.kind}) has no rows; give a file with at least one row") from err


def check_source(
    source: str | os.PathLike, config: str | None = None, split: str = "train", revision: str | None = None
) -> None:
    """Fail now, in seconds and reading no rows, where `load_source` would fail to find or reach the source: a local
    file must exist, be readable and have a format its name says; a folder must exist; a Hub dataset must be
    reachable, or cached when offline (its builder is opened: the file list, no data), with its config and split.

    For checks before a long run (`s2r experiment` checks every step's inputs before the first one runs); the same
    rules and messages as `load_source`, which a source that passes may still refuse for its content.
    """
    info = _describe_checked(source, config, split, revision)
    if info.kind == "file":
        _readable_file_builder(Path(source).expanduser(), source)
    elif info.kind == "hub":
        with _hub_dataset_errors(str(source), revision):
            _hub_builder(str(source), config, split, revision)


def _describe_checked(source: str | os.PathLike, config: str | None, split: str, revision: str | None) -> SourceInfo:
    """What the source is (file, folder or Hub id), refusing what cannot be one: a wrong type, a blank split, a
    config for a file, and a path that does not exist."""
    if not isinstance(source, (str, os.PathLike)):
        hint = " (pick one split, e.g. dataset['train'])" if isinstance(source, dict) else ""
        raise InputError(
            f"a source is a Hub dataset id, a folder, a file or a datasets.Dataset; got {type(source).__name__}{hint}"
        )
    if not isinstance(split, str) or not split.strip():
        raise InputError(f"split must name a split such as 'train' or 'train[:10%]', got {split!r}")
    info = describe_source(source, config, split, revision)
    if info.kind == "file" and config is not None:
        raise InputError(f"a file has no configs, but config {config!r} was given for {str(source)!r}; drop it")
    if info.kind == "hub" and _looks_like_path(str(source)):
        raise SourceNotFoundError(
            f"input {str(source)!r} does not exist (and is not a Hub dataset id of the form org/name)"
        )
    return info


def _readable_file_builder(path: Path, source: str | os.PathLike) -> str:
    """The packaged builder that reads the file (from its name), once it is known to be readable."""
    builder_name = _file_builder(path)
    if not os.access(path, os.R_OK):  # else a PermissionError traceback from deep inside datasets
        raise SourceNotFoundError(f"{str(source)!r} cannot be read: permission denied; check its permissions")
    return builder_name


def _require_utf8(dataset: Dataset, name: str) -> Dataset:
    """datasets' json and csv readers keep bytes that are not UTF-8 in string columns, and the first Arrow string
    function to meet them fails far from the cause; check once here (a linear pass at memory speed)."""
    import pyarrow as pa

    for column_name, column in zip(dataset.data.column_names, dataset.data.columns):
        try:
            column.validate(full=True)
        except pa.ArrowInvalid as err:
            raise InputError(
                f"could not read {name!r}: column {column_name!r} holds text that is not UTF-8 ({err}). Convert the "
                "file to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 IN > OUT`"
            ) from err
    return dataset


# A truncated or corrupt compressed file: gzip and xz end early with EOFError, a damaged stream raises these.
_DECOMPRESSION_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, lzma.LZMAError)


def _require_rows_in_file(path: Path, builder_name: str) -> None:
    """An empty file, or a parquet file with a schema and no rows, fails deep inside datasets; say so plainly."""
    if path.stat().st_size == 0:
        raise InputError(f"{str(path)!r} is empty (0 bytes); give a file with at least one row")
    if builder_name == "json":
        first = _first_non_blank_line(path)
        if first is not None and first.strip() == b"null":
            # pyarrow 26's JSON reader crashes the whole process (a segfault) on a leading `null` line
            raise InputError(
                f"{str(path)!r}: the first row is `null`, not a JSON object; every line must be an object like "
                '{"question": ..., "solution": ...}'
            )
    if builder_name == "parquet" and path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        if pq.ParquetFile(path).metadata.num_rows == 0:
            raise InputError(f"{str(path)!r} has a schema but no rows; give a file with at least one row")


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _first_non_blank_line(path: Path) -> bytes | None:
    """The first line with content (decompressed where needed), or None; reads no further than that."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    if path.suffix.lower() == ".zst":
        return None  # read by datasets through zstandard; not peeked at here
    with opener(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return line
    return None


def _split_names(split: str) -> list[str]:
    """The split names in a split instruction: `train`, `train[:10%]`, `train+test`."""
    return [part.split("[", 1)[0].strip() for part in split.split("+")]


def _build(builder, split: str, name: str) -> Dataset:
    """What `datasets.load_dataset(..., split=split)` does, refusing an empty split in words instead of
    datasets' 'Instruction "train" corresponds to no data!'."""
    from datasets.utils.info_utils import is_small_dataset

    names = _split_names(split)
    # The splits the data files declare are known before anything is built: refuse an unknown one before the work.
    splits = builder.config.data_files or {}
    unknown = [n for n in names if splits and n not in splits]
    if not unknown:
        builder.download_and_prepare()
        splits = builder.info.splits or {}
        unknown = [n for n in names if splits and n not in splits]
    if unknown:
        raise InputError(
            f"{name!r} has no split {unknown[0]!r}; its splits: {sorted(splits)}; pass --split {min(splits)}"
        )
    if all(n in splits for n in names) and sum(splits[n].num_examples or 0 for n in names) == 0:
        raise InputError(f"{name!r} has no rows in split {split!r}; give a source with at least one row")
    try:
        dataset = builder.as_dataset(split=split, in_memory=is_small_dataset(builder.info.dataset_size))
    except ValueError as err:  # a split instruction datasets cannot parse, e.g. train[:200%]
        raise InputError(f"split {split!r} of {name!r} is not valid: {err} (e.g. train, train[:10%])") from err
    if len(dataset) == 0:  # a slice such as train[5:2]
        raise InputError(f"split {split!r} of {name!r} selects no rows; give a split or slice with at least one row")
    return dataset


def _load_hub(repo_id: str, config: str | None, split: str, revision: str | None) -> tuple[Dataset, str | None]:
    """A Hub dataset, with its config and split checked before anything is downloaded, and the commit read."""
    with _hub_dataset_errors(repo_id, revision):
        builder = _hub_builder(repo_id, config, split, revision)
        return _build(builder, split, repo_id), _builder_commit(builder)


# datasets names a Hub data file by the commit its revision resolved to: hf://datasets/org/name@<commit>/path
_COMMIT_IN_URL = re.compile(r"@([0-9a-f]{40})/")


def _builder_commit(builder) -> str | None:
    """The commit a Hub dataset's builder reads its data files at (from their URLs; no request), or None."""
    for files in (builder.config.data_files or {}).values():
        for file in files:
            found = _COMMIT_IN_URL.search(str(file))
            if found:
                return found.group(1)
    return None


def _hub_builder(repo_id: str, config: str | None, split: str, revision: str | None):
    """The Hub dataset's builder (its file list; offline, the cached one), config and split checked; no data read."""
    import datasets

    at = _hub_name(repo_id, revision)
    try:
        builder = datasets.load_dataset_builder(repo_id, name=config, revision=revision)
    except ValueError as err:  # an unknown config ("BuilderConfig 'x' not found. Available: [...]"), a bad id
        with_config = f" with config {config!r}" if config else ""
        raise InputError(f"cannot open {at}{with_config}: {str(err).rstrip('.')}") from err
    available = sorted(builder.config.data_files or {})
    missing = [name for name in _split_names(split) if name not in available]
    if available and missing:
        hint = f"Pass --split {available[0]}"
        if missing[0] in ("default", "extended"):  # OpenR1-Math-220k's old splits are configs today
            hint = f"The {missing[0]!r} subset may be a config here: pass --config {missing[0]} --split {available[0]}"
        raise InputError(
            f"{at} (config {builder.config.name!r}) has no split {missing[0]!r}; its splits: {available}. {hint}"
        )
    return builder


def _hub_name(repo_id: str, revision: str | None) -> str:
    return f"{repo_id!r}" + (f" at revision {revision!r}" if revision else "")


@contextmanager
def _hub_dataset_errors(repo_id: str, revision: str | None):
    """The ways opening or reading a Hub dataset fails, as one SourceNotFoundError or HubUnreachableError."""
    import datasets
    from datasets.data_files import EmptyDatasetError
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    at = _hub_name(repo_id, revision)
    try:
        yield
    except (datasets.exceptions.DatasetNotFoundError, EmptyDatasetError) as err:
        raise SourceNotFoundError(
            f"cannot load the Hub dataset {at}: {err} Check the id and revision; for a private or gated dataset, "
            "log in (hf auth login) or set HF_TOKEN; for a local folder or file, check its path"
        ) from err
    except (ConnectionError, FileNotFoundError, HfHubHTTPError, *transport_errors()) as err:
        # ConnectionError: datasets' "Couldn't reach" and huggingface_hub's OfflineModeIsEnabled. FileNotFoundError:
        # datasets' wording for a data file whose download failed (an HTTP error, a dropped connection).
        if isinstance(err, FileNotFoundError) and not isinstance(err.__cause__ or err, LocalEntryNotFoundError):
            raise
        if _offline():
            what = "offline mode is on (HF_HUB_OFFLINE=1) and it is not in the local cache"
        else:
            what = f"the Hub at {_endpoint()} could not be reached or failed ({_root_cause(err)})"
        raise HubUnreachableError(
            f"cannot load the Hub dataset {at}: {what}. Check the network (or HF_ENDPOINT), unset HF_HUB_OFFLINE, "
            "or pass a local copy (a folder or file) instead"
        ) from err


def _root_cause(err: BaseException) -> str:
    """The first error in a chain, in one line: what the user can act on (refused, timed out, a status code)."""
    while (err.__cause__ or err.__context__) is not None:
        err = err.__cause__ or err.__context__
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def fetch_dataset_repo(
    repo_id: str, revision: str | None = None, *, token: str | None = None, patterns: list[str] | None = None
) -> tuple[Path, str]:
    """(local folder, commit) of a Hub dataset repo as it is at `revision` (default: its default branch), downloaded
    into the Hugging Face cache (only the files matching `patterns`, when given; offline: the cached copy).

    A repo or revision that does not exist is a SourceNotFoundError, a Hub that cannot be reached a
    HubUnreachableError, as for `load_source`.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    at = _hub_name(repo_id, revision)
    try:
        folder = snapshot_download(
            repo_id, repo_type="dataset", revision=revision, token=token, allow_patterns=patterns
        )
    except HFValidationError as err:
        raise InputError(f"{repo_id!r} is not a Hub repo id ({err}); give org/name") from None
    except RevisionNotFoundError as err:
        raise SourceNotFoundError(
            f"the Hub dataset {repo_id!r} has no revision {revision!r}; give a branch, tag or commit it has"
        ) from err
    except (RepositoryNotFoundError, GatedRepoError) as err:
        raise SourceNotFoundError(
            f"there is no Hub dataset {at} at {_endpoint()} that this token can read; check the id, and for a private "
            "or gated repo log in (hf auth login) or set HF_TOKEN"
        ) from err
    except (LocalEntryNotFoundError, HfHubHTTPError, *transport_errors()) as err:
        if _offline():
            what = "offline mode is on (HF_HUB_OFFLINE=1) and it is not in the local cache"
        else:
            what = f"the Hub at {_endpoint()} could not be reached or failed ({_root_cause(err)})"
        raise HubUnreachableError(
            f"cannot download the Hub dataset {at}: {what}. Check the network (or HF_ENDPOINT), unset HF_HUB_OFFLINE, "
            "or pass a local copy (a folder) instead"
        ) from err
    # The snapshot folder is named by the commit it holds.
    return Path(folder), Path(folder).name
