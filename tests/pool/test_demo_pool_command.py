"""`python -m s2r_hf.pool.demo`: --help answers, and the shipped demo pool is rewritten only when asked by name."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from s2r_hf.pool import demo
from s2r_hf.pool.demo import DEMO_POOL_FILE, generate_rows, serialise


def shipped_state():
    return DEMO_POOL_FILE.stat().st_mtime_ns, DEMO_POOL_FILE.read_bytes()


def test_help_answers_and_writes_nothing():
    before = shipped_state()
    result = subprocess.run([sys.executable, "-m", "s2r_hf.pool.demo", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--update-package-file" in result.stdout and "(default: 200)" in result.stdout
    assert shipped_state() == before


def test_without_a_target_it_refuses_and_leaves_the_shipped_file(capsys):
    before = shipped_state()
    with pytest.raises(SystemExit) as exit_info:
        demo.main([])
    assert exit_info.value.code == 2
    assert "one of the arguments -o/--output --update-package-file is required" in capsys.readouterr().err
    assert shipped_state() == before


def test_output_file_is_written_and_never_replaced_without_overwrite(tmp_path, capsys):
    target = tmp_path / "pool.jsonl.gz"
    assert demo.main(["-o", str(target), "--rows", "3", "--seed", "7"]) == 0
    rows = [json.loads(line) for line in gzip.decompress(target.read_bytes()).decode("utf-8").splitlines()]
    assert rows == generate_rows(3, 7)
    assert f"3 synthetic rows written to {target}" in capsys.readouterr().out
    assert demo.main(["-o", str(target)]) == 2  # exists: refused in one line
    assert "exists; add --overwrite to replace it" in capsys.readouterr().err
    assert target.read_bytes() == serialise(generate_rows(3, 7))
    assert demo.main(["-o", str(target), "--overwrite"]) == 0
    assert target.read_bytes() == serialise(generate_rows())


def test_the_shipped_file_is_rewritten_only_with_update_package_file(tmp_path, monkeypatch, capsys):
    before = shipped_state()
    assert demo.main(["-o", str(DEMO_POOL_FILE), "--overwrite"]) == 2
    assert "is the shipped demo pool; rewrite it with --update-package-file" in capsys.readouterr().err
    assert shipped_state() == before
    stand_in = tmp_path / "data" / DEMO_POOL_FILE.name  # the package file, moved out of the way of other tests
    stand_in.parent.mkdir()
    monkeypatch.setattr(demo, "DEMO_POOL_FILE", stand_in)
    assert demo.main(["--update-package-file", "--rows", "5"]) == 2  # the shipped size is fixed
    assert demo.main(["--update-package-file"]) == 0
    assert stand_in.read_bytes() == before[1]
