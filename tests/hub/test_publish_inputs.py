"""Folders and repo ids a new user hands to `s2r publish` by mistake: refused in one line, before anything is sent."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from s2r_hf.cli import main
from s2r_hf.core.errors import InputError
from s2r_hf.hub.subsets import publish_subset, publish_subsets


@pytest.fixture
def select10(write_subset_folder) -> Path:
    return write_subset_folder("openr1-select10", 0.1)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and lines[0].startswith("s2r publish: error: "), err
    return lines[0]


def test_a_scored_pool_is_not_published_as_a_subset(hub, demo_output, capsys):
    scored = demo_output / "openr1-synthetic-scored"
    assert main(["publish", str(scored), "--repo-id", "s2r/scored"]) == 2  # it used to push every trace, exit 0
    line = one_line_error(capsys)
    assert f"{scored} is a scored pool written by `s2r score`, not a subset (its card's s2r.kind is 'scored_pool')" in (
        line
    )
    assert [request for request in hub.requests if request.method != "GET"] == []


def test_a_symbolic_link_in_the_folder_is_refused(hub, select10, tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("not part of the subset\n", encoding="utf-8")
    os.symlink(secret, select10 / "notes.txt")  # it used to publish the file the link points at
    with pytest.raises(InputError, match=r"notes.txt is a symbolic link \(to '.*outside.txt'\); a subset folder"):
        publish_subset(select10, "s2r/openr1-select10")
    (select10 / "notes.txt").unlink()
    shutil.copytree(select10 / "data", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", select10 / "more")  # a linked folder, too
    with pytest.raises(InputError, match=r"more is a symbolic link"):
        publish_subset(select10, "s2r/openr1-select10")
    assert [request for request in hub.requests if request.method != "GET"] == []


@pytest.mark.parametrize("repo_id", ["s2r/my subset", "a/b/c", "no-namespace", ""])
def test_a_bad_repo_id_is_refused_before_the_folder_is_read(select10, caplog, repo_id):
    with caplog.at_level(logging.WARNING), pytest.raises(InputError, match="repo_id must look like 'namespace/name'"):
        publish_subset(select10, repo_id)
    # The card-hint warning used to come first, naming the invalid id as a place to publish to.
    assert caplog.records == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"private": "yes"}, r"private must be True or False, got 'yes' \(str\)"),
        ({"token": 3}, r"token must be a string \(a Hub token\) or None, got a int"),
        ({"retry": {"attempts": 1}}, r"retry must be a RetryPolicy"),
        ({"commit_message": 3}, r"commit_message must be a string or None, got int"),
    ],
)
def test_publish_options_of_the_wrong_type(hub, select10, kwargs, match):
    with pytest.raises(InputError, match=match):
        publish_subset(select10, "s2r/x", **kwargs)
    with pytest.raises(InputError, match=match):
        publish_subsets([select10], "s2r/x", **kwargs)
    assert hub.requests == []


def test_several_folders_from_a_generator_or_nothing(hub, write_subset_folder, tmp_path):
    folders = [write_subset_folder("openr1-select10", 0.1), write_subset_folder("openr1-select20", 0.2)]
    # A generator used to be used up by a check and then read as "no subset folders given".
    result = publish_subsets((folder for folder in folders), "s2r/openr1-select")
    assert result.changed and {"select10/difficulty.png", "select20/difficulty.png"} <= set(result.added)
    with pytest.raises(InputError, match=r"give several subset folders as a list or a mapping, got NoneType"):
        publish_subsets(None, "s2r/openr1-select")


def test_a_folder_of_many_files_is_one_commit_and_a_short_summary(hub, select10, capsys):
    (select10 / "extra").mkdir()
    for number in range(300):
        (select10 / "extra" / f"note{number:03d}.txt").write_text(f"{number}\n", encoding="utf-8")
    assert main(["publish", str(select10), "--repo-id", "s2r/many"]) == 0
    added = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  added: "))
    assert added.endswith("extra/note016.txt (+284 more)")  # 304 files: README, a shard, 2 plots and 300 notes
    assert len(hub.commits("s2r/many")) == 2 and len(hub.files("s2r/many")) == 305  # .gitattributes too
