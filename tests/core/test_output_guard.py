"""The one output-folder guard (s2r_hf.core.folders.check_writable) with other owners than the dataset cards: a folder
known by a marker file, resumed into (`reuse`) or replaced (`overwrite`), and a foreign one refused in one shape."""

from __future__ import annotations

import pytest

from s2r_hf.core.errors import OutputError, OutputExistsError
from s2r_hf.core.folders import FolderOwner, check_writable, foreign_folder_error

RUN = FolderOwner.marked_by("s2r_run.json", "s2r run", "run", "--overwrite_output_dir")


def foreign(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("months of work")
    return folder


def test_a_foreign_folder_is_refused_in_one_shape_with_or_without_overwrite(tmp_path):
    mine = foreign(tmp_path)
    shape = (
        f"output folder {str(mine)!r} exists and was not written by s2r run (no s2r_run.json); s2r writes only into "
        "folders it wrote: choose another output folder, or remove it yourself"
    )
    with pytest.raises(OutputError) as resumed:
        check_writable(mine, overwrite=False, owner=RUN, reuse=True)
    assert str(resumed.value) == shape
    with pytest.raises(OutputError) as replaced:
        check_writable(mine, overwrite=True, owner=RUN)
    assert str(replaced.value) == f"--overwrite_output_dir refused: {shape}"
    assert str(foreign_folder_error(mine, RUN, overwrite=False)) == shape
    assert [path.name for path in mine.iterdir()] == ["thesis.tex"]


def test_reuse_accepts_a_new_an_empty_or_an_owned_folder(tmp_path):
    assert check_writable(tmp_path / "new", overwrite=False, owner=RUN, reuse=True) == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_writable(tmp_path / "empty", overwrite=False, owner=RUN, reuse=True) == tmp_path / "empty"
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "s2r_run.json").write_text("{}")
    assert check_writable(tmp_path / "ours", overwrite=False, owner=RUN, reuse=True) == tmp_path / "ours"
    assert check_writable(tmp_path / "ours", overwrite=True, owner=RUN, reuse=True) == tmp_path / "ours"


def test_without_reuse_an_existing_folder_needs_the_owners_overwrite_option(tmp_path):
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "s2r_run.json").write_text("{}")
    with pytest.raises(OutputExistsError, match=r"ours' already exists; choose another, or pass --overwrite_output_d"):
        check_writable(tmp_path / "ours", overwrite=False, owner=RUN)
    assert check_writable(tmp_path / "ours", overwrite=True, owner=RUN) == tmp_path / "ours"
    with pytest.raises(
        OutputError,
        match=r"--overwrite_output_dir refused: .*ours' holds a run \(written by s2r run\), and --overwrite_output_dir "
        r"replaces only a trained judge \(written by s2r train-judge\)",
    ):
        check_writable(tmp_path / "ours", overwrite=True, owner=RUN, kind="judge")


def test_the_location_rules_hold_for_every_owner(tmp_path, monkeypatch):
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "s2r_run.json").write_text("{}")
    monkeypatch.chdir(tmp_path / "ours")
    with pytest.raises(OutputError, match=r"output '\.' is the current folder"):
        check_writable(".", overwrite=True, owner=RUN, reuse=True)
    with pytest.raises(OutputError, match=r"is a folder above the current one"):
        check_writable("..", overwrite=True, owner=RUN, reuse=True)
    (tmp_path / "data").mkdir()
    with pytest.raises(OutputError, match=r"is inside the input folder"):
        check_writable(tmp_path / "data" / "run", overwrite=False, owner=RUN, reuse=True, inputs=[tmp_path / "data"])


def test_a_resumed_folder_must_itself_take_new_files(read_only_folder):
    """Resumed into, not replaced: the folder itself (here on a read-only disk) must be writable, not only its
    parent."""
    with pytest.raises(OutputError) as caught:
        check_writable(read_only_folder, overwrite=False, owner=RUN, reuse=True)
    assert str(caught.value) == (
        f"cannot write {str(read_only_folder)!r}: {str(read_only_folder)!r}: Read-only file system; choose an output "
        "folder you can write to"
    )
