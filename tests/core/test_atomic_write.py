"""The one atomic write (s2r_hf.core.folders): a file, and a folder, appear whole or not at all; a failure leaves the
earlier one as it was and no temporary file or staging folder behind."""

from __future__ import annotations

import json
import os
import stat

import pytest

from s2r_hf.core.errors import OutputError
from s2r_hf.core.folders import (
    staged_folder,
    write_file_atomically,
    write_json_atomically,
    write_table_atomically,
    write_text_atomically,
)


def names(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_file_is_replaced_whole_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "record.json"
    assert write_file_atomically(path, b"first") == path
    write_file_atomically(path, b"second, longer")
    assert path.read_bytes() == b"second, longer"
    assert names(tmp_path) == ["record.json"]


def test_text_and_json_are_thin_wrappers_with_fixed_bytes(tmp_path):
    write_text_atomically(tmp_path / "a.md", "caf\u00e9\n")
    assert (tmp_path / "a.md").read_bytes() == b"caf\xc3\xa9\n"
    write_json_atomically(tmp_path / "b.json", {"b": 1, "a": [1, 2], "path": tmp_path}, default=str)
    expected = '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ],\n  "path": "' + str(tmp_path) + '"\n}\n'
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == expected
    write_json_atomically(tmp_path / "c.json", {"q": "\u00e9"}, indent=None, ensure_ascii=False)
    assert (tmp_path / "c.json").read_bytes() == '{"q": "\u00e9"}\n'.encode()


def test_a_table_is_one_parquet_file(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"key": ["a", "b"], "score": [0.25, 0.75]})
    write_table_atomically(tmp_path / "part.parquet", table)
    assert pq.read_table(tmp_path / "part.parquet").to_pydict() == {"key": ["a", "b"], "score": [0.25, 0.75]}
    assert names(tmp_path) == ["part.parquet"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_permissions_come_from_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_file_atomically(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == mode


def test_a_full_disk_leaves_the_old_file_intact_and_no_temporary_file(tiny_disk):
    """A real ENOSPC (a 64 KiB tmpfs): the earlier file stays, byte for byte, and the error says how to fix it."""
    path = tiny_disk / "report.json"
    write_file_atomically(path, b'{"old": true}\n')
    with pytest.raises(OutputError) as caught:
        write_file_atomically(path, b"x" * 200_000)
    message = str(caught.value)
    assert message.startswith(f"could not write {str(path)!r}: No space left on device")
    assert "nothing was written. Free some space there" in message
    assert path.read_bytes() == b'{"old": true}\n'
    assert names(tiny_disk) == ["report.json"]


def test_a_read_only_disk_is_an_output_error_and_leaves_nothing(read_only_folder):
    path = read_only_folder / "a.md"
    with pytest.raises(OutputError) as caught:
        write_text_atomically(path, "text")
    assert str(caught.value) == (
        f"could not write {str(path)!r}: Read-only file system; nothing was written. Choose an output folder you can "
        "write to"
    )  # the file asked for, not the temporary file's name
    assert names(read_only_folder) == []


def test_an_interrupt_while_moving_into_place_keeps_the_old_file(tmp_path, monkeypatch):
    """Ctrl-C (or any exception) between writing and renaming: not wrapped, and the temporary file is removed."""
    path = tmp_path / "steps.json"
    path.write_bytes(b"old")

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file_atomically(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert names(tmp_path) == ["steps.json"]


def test_the_temporary_file_is_a_hidden_sibling_named_after_the_file(tmp_path, monkeypatch):
    """One naming scheme, `.<name>.tmp-<8 hex>`, the one the staging folders use."""
    seen = []
    real_replace = os.replace

    def spy(source, target):
        seen.append((os.path.basename(source), os.path.dirname(source)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    write_file_atomically(tmp_path / "card.md", b"x")
    ((name, folder),) = seen
    assert folder == str(tmp_path)
    assert name.startswith(".card.md.tmp-") and len(name) == len(".card.md.tmp-") + 8
    int(name[-8:], 16)


# -- folders ---------------------------------------------------------------------------------------------------------


def test_a_staged_folder_replaces_the_old_one_only_when_complete(tmp_path):
    out = tmp_path / "out"
    with staged_folder(out, overwrite=False) as staging:
        (staging / "a.txt").write_text("1")
    assert names(out) == ["a.txt"]
    with pytest.raises(ZeroDivisionError), staged_folder(out, overwrite=True) as staging:
        (staging / "b.txt").write_text("2")
        _ = 1 / 0
    assert names(out) == ["a.txt"] and names(tmp_path) == ["out"]  # the old folder, and no staging folder
    with staged_folder(out, overwrite=True) as staging:
        (staging / "b.txt").write_text("2")
    assert names(out) == ["b.txt"] and names(tmp_path) == ["out"]


def test_a_disk_error_in_a_staged_folder_is_one_output_error(tiny_disk):
    out = tiny_disk / "out"
    with (
        pytest.raises(OutputError, match=r"could not write .*out': No space left on device"),
        staged_folder(out, overwrite=False) as staging,
    ):
        (staging / "big").write_bytes(b"x" * 200_000)
    assert names(tiny_disk) == []


def test_json_written_atomically_reads_back(tmp_path):
    write_json_atomically(tmp_path / "r.json", {"kind": "s2r_training", "n": 1})
    assert json.loads((tmp_path / "r.json").read_text()) == {"kind": "s2r_training", "n": 1}
