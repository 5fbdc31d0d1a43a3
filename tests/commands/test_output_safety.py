"""The command line never destroys what s2r did not write, and output problems are one line with exit code 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from s2r_hf.cli import main
from s2r_hf.core.columns import ID
from s2r_hf.core.folders import CARD_FILE


@pytest.fixture
def scored(demo_output, tmp_path) -> Path:
    """A copy of the demo's scored pool, for this test alone."""
    return Path(shutil.copytree(demo_output / "openr1-synthetic-scored", tmp_path / "project" / "scored"))


def one_line_error(capsys, command: str) -> str:
    """The error line (progress bars written before it aside), checked to be the only one."""
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith(f"s2r {command}: error: ") and "Traceback" not in err, err
    return errors[0]


def ids(folder: Path) -> list[str]:
    return pq.read_table(folder / "data").column(ID).to_pylist()


def test_select_refuses_to_write_over_its_input_or_around_it(scored, capsys):
    before = ids(scored)
    for output, reason in [
        (scored, "is the input"),
        (scored.parent, "holds the input"),
        (scored / "subset", "is inside the input folder"),
    ]:
        assert main(["select", str(scored), "-o", str(output), "--overwrite"]) == 2
        assert reason in one_line_error(capsys, "select")
    assert ids(scored) == before and sorted(p.name for p in scored.iterdir()) == [CARD_FILE, "data", "report"]


def test_score_refuses_to_write_over_the_folder_it_reads(demo_output, tmp_path, capsys):
    source = Path(shutil.copytree(demo_output / "openr1-select10", tmp_path / "subset"))
    assert main(["score", str(source), "-o", str(source), "--overwrite"]) == 2
    assert "is the input" in one_line_error(capsys, "score")
    assert main(["score", str(source / "data" / "train-00000-of-00001.parquet"), "-o", str(source), "--overwrite"]) == 2
    assert "holds the input" in one_line_error(capsys, "score")
    assert (source / "data" / "train-00000-of-00001.parquet").is_file()


def test_overwrite_refuses_folders_s2r_did_not_write_and_empty_or_current_paths(scored, tmp_path, monkeypatch, capsys):
    mine = tmp_path / "my-data"
    mine.mkdir()
    (mine / "keep.txt").write_text("precious")
    assert main(["select", str(scored), "-o", str(mine), "--overwrite"]) == 2
    assert "was not written by s2r" in one_line_error(capsys, "select")
    assert (mine / "keep.txt").read_text() == "precious"
    assert main(["select", str(scored), "-o", "", "--overwrite"]) == 2
    assert "the output path is empty" in one_line_error(capsys, "select")
    monkeypatch.chdir(mine)
    assert main(["select", str(scored), "-o", ".", "--overwrite"]) == 2
    assert "is the current folder" in one_line_error(capsys, "select")
    # A subset may replace a subset, not the scored pool.
    assert main(["select", str(scored), "-o", str(tmp_path / "subset")]) == 0
    assert main(["select", str(tmp_path / "project" / "scored"), "-o", str(tmp_path / "subset"), "--overwrite"]) == 0
    capsys.readouterr()
    other = Path(shutil.copytree(scored, tmp_path / "other-scored"))
    assert main(["select", str(scored), "-o", str(other), "--overwrite"]) == 2
    assert "holds a scored pool (written by s2r score), and --overwrite replaces only a subset" in one_line_error(
        capsys, "select"
    )


def test_a_truncated_shard_in_the_scored_folder_is_one_line_naming_it(scored, tmp_path, capsys):
    shard = scored / "data" / "train-00000-of-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:-100])
    assert main(["select", str(scored), "-o", str(tmp_path / "subset")]) == 2
    err = one_line_error(capsys, "select")
    assert f"{str(shard)!r} is not a readable parquet file" in err and "truncated or corrupt" in err
    assert not (tmp_path / "subset").exists()


def test_select_inputs_that_are_not_scored_folders_are_one_line_saying_what_they_are(scored, tmp_path, capsys):
    out = str(tmp_path / "subset")
    assert main(["select", str(tmp_path / "missing"), "-o", out]) == 2
    assert "missing' does not exist; name a folder written by `s2r score`" in one_line_error(capsys, "select")
    (tmp_path / "pool.jsonl").write_text('{"question": "q", "solution": "s"}\n')
    assert main(["select", str(tmp_path / "pool.jsonl"), "-o", out]) == 2
    assert "pool.jsonl' is a file, not a folder" in one_line_error(capsys, "select")
    (tmp_path / "plain").mkdir()
    assert main(["select", str(tmp_path / "plain"), "-o", out]) == 2
    assert "plain' has no README.md card, so s2r did not write it" in one_line_error(capsys, "select")
    (scored / CARD_FILE).write_text("---\ns2r: [unclosed\n---\n")
    assert main(["select", str(scored), "-o", out]) == 2
    assert "README.md' cannot be read (ParserError: " in one_line_error(capsys, "select")
    assert not (tmp_path / "subset").exists()


def test_an_output_under_a_file_is_refused_before_any_work(scored, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("x")
    assert main(["select", str(scored), "-o", str(tmp_path / "notes.txt" / "subset")]) == 2
    assert "notes.txt' is a file, not a folder" in one_line_error(capsys, "select")


def test_a_full_disk_is_one_line_and_leaves_nothing(scored, tiny_disk, capsys):
    assert main(["select", str(scored), "-o", str(tiny_disk / "subset"), "--ratio", "1.0"]) == 2
    err = one_line_error(capsys, "select")
    assert f"could not write {str(tiny_disk / 'subset')!r}: No space left on device" in err
    assert "Free some space there, or write to another disk with -o" in err
    assert list(tiny_disk.iterdir()) == []
