"""`s2r score --difficulty judge` keeps rollout difficulty; `s2r select --strategy quadrant`; `s2r inspect`, and its
refusals (one line, exit 2)."""

import json

import pytest

from s2r_hf.cli import main
from s2r_hf.core.columns import ROLLOUT_DIFFICULTY
from s2r_hf.core.folders import load_dataset_folder, read_card_metadata

ROWS = [  # flags: rollout difficulty 0, 1, 0.75, 0, 0.5, 1
    {"q": "What is 1 + 1?", "t": "Two. \\boxed{2}", "correctness_math_verify": [True, True]},
    {"q": "Prove the Riemann hypothesis for all zeta zeros.", "t": "Wait. " * 40, "correctness_math_verify": [False]},
    {
        "q": "Count the primes below 100.",
        "t": "Maybe 25. " * 20,
        "correctness_math_verify": [True, False, False, False],
    },
    {"q": "What is 2 + 2?", "t": "Four.", "correctness_math_verify": [True]},
    {"q": "Solve x^2 = 2 over the rationals.", "t": "However none. " * 10, "correctness_math_verify": [True, False]},
    {"q": "Find all n with n! + 1 a square.", "t": "Alternatively. " * 30, "correctness_math_verify": [False, False]},
]


@pytest.fixture(scope="module")
def judged(tmp_path_factory, tiny_model_dir):
    """A pool scored by the tiny judge, with verification flags; and a quadrant subset of it."""
    root = tmp_path_factory.mktemp("inspect")
    source = root / "pool.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    scored, subset = root / "scored", root / "subset"
    score = ["score", str(source), "-o", str(scored), "--question-column", "q", "--trace-column", "t"]
    assert main([*score, "--difficulty", "judge", "--judge", str(tiny_model_dir)]) == 0
    select = ["select", str(scored), "-o", str(subset), "--strategy", "quadrant", "--quadrant", "long-hard"]
    assert main([*select, "--k", "4"]) == 0
    return scored, subset


def error_of(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    # datasets' progress bars go to stderr too; the error is one line of its own
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("s2r ")]
    assert len(errors) == 1, errors
    return errors[0]


def test_a_judged_pool_keeps_the_rollout_difficulty_and_its_card_shows_the_report(judged):
    scored, _ = judged
    pool = load_dataset_folder(scored)
    assert pool[ROLLOUT_DIFFICULTY] == [0.0, 1.0, 0.75, 0.0, 0.5, 1.0]
    s2r = read_card_metadata(scored)["s2r"]
    assert s2r["rollout_difficulty"]["column"] == ROLLOUT_DIFFICULTY
    judge = s2r["report"]["judge_vs_rollout"]
    assert (judge["never_solved"], judge["always_solved"], judge["rows"]) == (2, 2, 6)
    assert sorted(path.name for path in (scored / "report").iterdir()) == [
        "judge_vs_rollout.png",
        "quadrants.png",
        "report.json",
        "report.md",
    ]
    card = (scored / "README.md").read_text(encoding="utf-8")
    assert "## Pool report: scored" in card and "![difficulty against trace length" in card
    assert "(report/quadrants.png)" in card and "### The judge against the rollouts" in card
    assert "| `s2r_rollout_difficulty` |" in card
    assert "Rethinking markers (en): Wait, Alternatively, Maybe, However." in card


def test_the_quadrant_subset_says_how_it_was_filled(judged):
    _, subset = judged
    s2r = read_card_metadata(subset)["s2r"]
    quadrant = s2r["quadrant"]
    assert quadrant["name"] == "long-hard" and sum(quadrant["taken"].values()) == 4
    assert sum(quadrant["sizes"].values()) == 6
    card = (subset / "README.md").read_text(encoding="utf-8")
    assert "| quadrant | `long-hard`: the pool split at its medians" in card
    if len(quadrant["taken"]) > 1:
        assert "(**filled**: `long-hard` holds only" in card


def test_inspect_writes_the_report_with_the_subset_marked(judged, tmp_path, capsys):
    scored, subset = judged
    out = tmp_path / "report"
    assert main(["inspect", str(scored), "--subset", str(subset), "-o", str(out)]) == 0
    assert "judge AUC, never vs always solved" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["subset"]["rows"] == 4 and report["subset"]["quadrant"] == "long-hard"
    assert "## The subset `subset`" in (out / "report.md").read_text()
    # again: refused, then replaced with --overwrite
    assert "already exists; choose another, or pass --overwrite" in error_of(
        capsys, ["inspect", str(scored), "-o", str(out)]
    )
    assert main(["inspect", str(scored), "-o", str(out), "--overwrite"]) == 0
    assert json.loads((out / "report.json").read_text())["subset"] is None


def test_inspect_default_output_is_beside_the_pool(judged, tmp_path, capsys):
    scored, _ = judged
    copy = tmp_path / "pool"
    import shutil

    shutil.copytree(scored, copy)
    assert main(["inspect", str(copy)]) == 0
    assert (tmp_path / "pool-report" / "report.md").is_file()


def test_inspect_refuses_bad_input(judged, demo_output, tmp_path, capsys):
    scored, subset = judged
    other_subset = demo_output / "openr1-select10"
    assert "is not a scored pool written by `s2r score`" in error_of(capsys, ["inspect", str(subset)])
    assert "does not exist" in error_of(capsys, ["inspect", str(tmp_path / "nowhere")])
    err = error_of(capsys, ["inspect", str(scored), "--subset", str(other_subset), "-o", str(tmp_path / "r")])
    assert "was not selected from this scored pool" in err
    err = error_of(capsys, ["inspect", str(scored), "--subset", str(scored), "-o", str(tmp_path / "r")])
    assert "is not a subset written by `s2r select`" in err
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    err = error_of(capsys, ["inspect", str(scored), "-o", str(tmp_path / "mine"), "--overwrite"])
    assert "--overwrite refused" in err and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert "inside the input folder" in error_of(capsys, ["inspect", str(scored), "-o", str(scored / "r")])
    assert not (tmp_path / "r").exists()


def test_an_unknown_quadrant_is_one_line(judged, tmp_path, capsys):
    scored, _ = judged
    argv = ["select", str(scored), "-o", str(tmp_path / "s"), "--strategy", "quadrant", "--quadrant", "long-medium"]
    err = error_of(capsys, argv)
    assert err == (
        "s2r select: error: the quadrant strategy needs --quadrant, one of long-hard, long-easy, short-hard, "
        "short-easy; got 'long-medium'"
    )


def test_a_second_report_into_a_locked_output_is_refused_and_leaves_the_first_ones_staging(
    demo_output, tmp_path, capsys
):
    """Two `s2r inspect -o same` at once: the second is refused before it removes the first's staging folder."""
    from s2r_hf.core.folders import STAGING_MARK
    from s2r_hf.core.locks import locked_output

    out = tmp_path / "report"
    staging = tmp_path / ".report.tmp-0123abcd"  # what a first run holds while it writes
    staging.mkdir()
    (staging / STAGING_MARK).touch()
    with locked_output(out, "s2r inspect"):
        line = error_of(capsys, ["inspect", str(demo_output / "openr1-synthetic-scored"), "-o", str(out)])
    assert f"another `s2r inspect` is writing {str(out.resolve())!r} right now" in line
    assert (staging / STAGING_MARK).is_file() and not out.exists()
    # Once the lock is free, the stale staging folder is removed and the report written.
    assert main(["inspect", str(demo_output / "openr1-synthetic-scored"), "-o", str(out)]) == 0
    assert (out / "report.json").is_file() and not staging.exists()
