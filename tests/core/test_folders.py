"""Dataset folders: what --overwrite may replace, permissions, staging left by killed runs, reads keyed by the files,
corrupt shards and disk errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import Dataset
from fixtures.env import REPO_ROOT

from s2r_hf.core.errors import InputError, OutputError, OutputExistsError, S2RError
from s2r_hf.core.folders import (
    CARD_FILE,
    STAGING_MARK,
    check_writable,
    load_dataset_folder,
    remove_stale_staging,
    s2r_kind,
    write_dataset_folder,
)

SUBSET_CARD = "---\ns2r:\n  kind: subset\n  name: out\n---\n# a subset\n"
SCORED_CARD = "---\ns2r:\n  kind: scored_pool\n  name: scored\n---\n# a scored pool\n"


def rows(*values: int) -> Dataset:
    return Dataset.from_dict({"x": list(values)})


def write(path: Path, *values: int, card: str = SUBSET_CARD, **kwargs) -> Path:
    return write_dataset_folder(rows(*values), path, card, **kwargs)


# -- what --overwrite may replace ----------------------------------------------------------------------------------


def test_an_s2r_folder_is_replaced_and_read_back_as_its_new_rows(tmp_path):
    out = write(tmp_path / "out", 1, 2, 3)
    assert load_dataset_folder(out)["x"] == [1, 2, 3]
    with pytest.raises(OutputExistsError, match="already exists; choose another, or pass --overwrite"):
        write(tmp_path / "out", 4)
    write(tmp_path / "out", 4, 5, overwrite=True)
    assert load_dataset_folder(out)["x"] == [4, 5]
    assert s2r_kind(out) == "subset"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging or retired folder left


def test_a_folder_s2r_did_not_write_is_never_replaced(tmp_path):
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("months of work")
    with pytest.raises(OutputError, match=r"--overwrite refused: output folder .*thesis' exists and was not written"):
        write(mine, 1, overwrite=True)
    (mine / CARD_FILE).write_text("---\nlicense: mit\n---\nsomeone's dataset\n")  # a card, but not s2r's
    with pytest.raises(OutputError, match="was not written by s2r"):
        write(mine, 1, overwrite=True)
    assert sorted(p.name for p in mine.iterdir()) == [CARD_FILE, "chapter1.tex"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        write(a_file, 1, overwrite=True)


def test_a_scored_pool_is_not_replaced_by_a_subset(tmp_path):
    scored = write(tmp_path / "scored", 1, 2, card=SCORED_CARD)
    with pytest.raises(
        OutputError, match=r"holds a scored pool \(written by s2r score\), and --overwrite replaces only a"
    ):
        write(scored, 9, overwrite=True, kind="subset")
    assert load_dataset_folder(scored)["x"] == [1, 2]


@pytest.mark.parametrize("output", ["", " ", ".", "..", "~", "/"])
def test_empty_path_current_folder_its_ancestors_and_home_are_refused(tmp_path, monkeypatch, output):
    work = tmp_path / "home" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (work / CARD_FILE).write_text(SUBSET_CARD)  # even a folder that looks like s2r's
    with pytest.raises(OutputError, match=r"output path is empty|current folder|home folder|above the current one"):
        check_writable(output, overwrite=True)
    assert (work / CARD_FILE).is_file()


def test_the_input_a_folder_holding_it_and_a_folder_inside_it_are_refused(tmp_path):
    scored = write(tmp_path / "project" / "scored", 1, 2, card=SCORED_CARD)
    for output, reason in [
        (scored, "is the input"),
        (tmp_path / "project", "holds the input"),
        (scored / "subset", "is inside the input folder"),
    ]:
        with pytest.raises(OutputError, match=reason):
            check_writable(output, overwrite=True, inputs=[scored])
    pool_file = tmp_path / "data" / "pool.jsonl"
    pool_file.parent.mkdir()
    pool_file.write_text("{}\n")
    with pytest.raises(OutputError, match="holds the input"):
        check_writable(tmp_path / "data", overwrite=True, inputs=[str(pool_file)])
    with pytest.raises(OutputError, match="is the input"):  # another spelling of the same path
        check_writable(tmp_path / "project" / ".." / "project" / "scored", overwrite=True, inputs=[scored])
    assert check_writable(tmp_path / "subset", overwrite=True, inputs=[scored, "open-r1/OpenR1-Math-220k"])
    assert load_dataset_folder(scored)["x"] == [1, 2]


# -- permissions and staging -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_permissions_come_from_the_umask(tmp_path, umask, folder_mode, file_mode):
    old = os.umask(umask)
    try:
        out = write(tmp_path / "out", 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == folder_mode
    assert stat.S_IMODE((out / "data").stat().st_mode) == folder_mode
    assert stat.S_IMODE((out / CARD_FILE).stat().st_mode) == file_mode


@pytest.mark.parametrize(("umask", "file_mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_weights_safetensors_wrote_owner_only_get_the_umask_mode(tmp_path, umask, file_mode):
    import torch
    from safetensors.torch import save_file

    from s2r_hf.core.folders import current_umask, follow_umask

    chosen = tmp_path / "chosen.safetensors"  # a mode the user set is not ours to change
    chosen.write_bytes(b"")
    chosen.chmod(0o640)
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        save_file({"w": torch.zeros(2)}, tmp_path / "model.safetensors")
        (tmp_path / "config.json").write_text("{}")
        changed = follow_umask(tmp_path, "*.safetensors")
    finally:
        os.umask(old)
    assert changed == [tmp_path / "model.safetensors"]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert modes == {"model.safetensors": file_mode, "config.json": file_mode, "chosen.safetensors": 0o640}


def test_staging_left_by_a_killed_run_is_removed_by_the_next_run(tmp_path):
    killed_write = tmp_path / ".out.tmp-0123abcd"
    (killed_write / "data").mkdir(parents=True)
    (killed_write / STAGING_MARK).touch()
    killed_swap = tmp_path / ".out.old-89abcdef"  # killed between retiring the old folder and removing it
    killed_swap.mkdir()
    (killed_swap / CARD_FILE).write_text(SUBSET_CARD)
    not_marked = tmp_path / ".out.tmp-fedcba98"  # right name, but nothing says s2r made it
    not_marked.mkdir()
    other_name = tmp_path / ".outer.tmp-0123abcd"
    other_name.mkdir()
    (other_name / STAGING_MARK).touch()
    write(tmp_path / "out", 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.tmp-fedcba98", ".outer.tmp-0123abcd", "out"]
    assert remove_stale_staging(tmp_path / "out") == []


def test_a_failure_part_way_leaves_nothing(tmp_path):
    class Exploding:
        data = property(lambda self: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        write_dataset_folder(Exploding(), tmp_path / "out", SUBSET_CARD)
    assert list(tmp_path.iterdir()) == []


# -- unwritable and full disks ----------------------------------------------------------------------------------------


def test_a_path_under_a_file_is_refused_before_any_work(tmp_path):
    (tmp_path / "report.txt").write_text("x")
    with pytest.raises(OutputError, match=r"report.txt' is a file, not a folder"):
        check_writable(tmp_path / "report.txt" / "sub" / "out", overwrite=False)


def test_a_disk_error_while_writing_is_one_error_and_leaves_nothing(tmp_path):
    """The file size limit (RLIMIT_FSIZE) makes the writes fail with a real OSError (EFBIG), as a full disk would."""
    code = f"""
import resource, signal, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
from datasets import Dataset
from s2r_hf.core.errors import OutputError
from s2r_hf.core.folders import write_dataset_folder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
data = Dataset.from_dict({{"text": ["x" * 1000 + str(i) for i in range(2000)]}})
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
try:
    write_dataset_folder(data, {str(tmp_path / "out")!r}, "card")
except OutputError as err:
    print(err)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    message = result.stdout.strip()
    assert message.startswith(f"could not write {str(tmp_path / 'out')!r}: File too large")
    assert "nothing was written. Free some space there, or write to another disk with -o" in message
    assert list(tmp_path.iterdir()) == []


# -- reading ---------------------------------------------------------------------------------------------------------


def test_a_truncated_shard_is_named(tmp_path):
    out = write(tmp_path / "out", *range(100))
    shard = next((out / "data").glob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.raises(InputError, match=rf"{shard.name}' is not a readable parquet file .*truncated or corrupt"):
        load_dataset_folder(out)


def test_a_folder_written_with_a_configs_card_is_still_read_as_it_is_now(tmp_path):
    """Folders written by earlier versions carry a `configs:` entry (path-blind cache key in `load_dataset(folder)`)."""
    old_card = (
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n"
        "s2r:\n  kind: subset\n---\n"
    )
    first = write(tmp_path / "a" / "out", 1, 2, card=old_card)
    second = write(tmp_path / "b" / "out", 3, card=old_card)
    assert load_dataset_folder(first)["x"] == [1, 2]
    assert load_dataset_folder(second)["x"] == [3]
    write(first, 7, 8, 9, card=old_card, overwrite=True)
    assert load_dataset_folder(first)["x"] == [7, 8, 9]


def test_output_errors_are_s2r_errors_and_os_errors():
    assert issubclass(OutputError, S2RError) and issubclass(OutputError, OSError)
    assert issubclass(OutputExistsError, FileExistsError)


def test_a_failed_swap_puts_the_earlier_output_back(tmp_path, monkeypatch):
    out = write(tmp_path / "out", 1, 2)
    real_replace = os.replace

    def refuse_the_new_folder(src, dst):
        if ".tmp-" in str(src):  # the finished staging folder moving into place
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse_the_new_folder)
    with pytest.raises(OutputError, match="No space left on device"):
        write(out, 3, card=SUBSET_CARD, overwrite=True)
    monkeypatch.undo()
    assert load_dataset_folder(out)["x"] == [1, 2]  # the earlier subset, back in place
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # no staging or retired folder left


def test_a_second_writer_of_one_folder_is_refused_and_the_first_ones_staging_kept(tmp_path):
    """Two runs writing one folder (`s2r score -o same` twice at once): the second used to remove the first's staging
    folder as stale. Now it is refused with one line while the first holds the folder's lock."""
    from datasets import Dataset

    from s2r_hf.core.errors import OutputError
    from s2r_hf.core.folders import STAGING_MARK, make_staging, write_dataset_folder
    from s2r_hf.core.locks import locked_output

    out = tmp_path / "scored"
    with locked_output(out, "s2r score"):  # the first run, still writing
        first_staging = make_staging(out, "tmp")
        with pytest.raises(OutputError, match=r"another s2r command is writing .*scored"):
            write_dataset_folder(Dataset.from_dict({"x": [1, 2]}), out, "card")
        assert (first_staging / STAGING_MARK).is_file()  # untouched
        assert not out.exists()
    written = write_dataset_folder(Dataset.from_dict({"x": [1, 2]}), out, "card")  # once it is done: free
    assert (written / "README.md").read_text() == "card"
