"""The `s2r` command line, end to end: demo, score and select on the real pool, errors, and atomic outputs."""

import gzip
import json
import os
import subprocess
import sys

import pytest
from datasets import load_dataset

from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID, JOINT_RANK, TRACE_LENGTH
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.pool.demo import DEMO_POOL_FILE, generate_rows, serialise
from s2r_hf.selection import select


def test_help_is_fast_because_nothing_heavy_is_imported():
    # Every command's parser is built (train-judge's and score's from their config dataclasses), yet not even numpy
    # is imported: `s2r --help` answers at once.
    code = (
        "import sys, s2r_hf.cli as c; c.build_parser(); "
        "print([m for m in ('numpy', 'torch', 'transformers', 'datasets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_shipped_demo_pool_is_what_the_generator_makes():
    assert DEMO_POOL_FILE.read_bytes() == serialise(generate_rows())
    rows = [json.loads(line) for line in gzip.decompress(DEMO_POOL_FILE.read_bytes()).decode("utf-8").splitlines()]
    assert len(rows) == 200 and all(row["source"] == "synthetic" for row in rows)


def test_demo_scores_and_selects_the_embedded_pool(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--ratios", "0.1", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC demo pool: 200 rows read, 189 kept" in out
    scored = load_dataset(str(tmp_path / "demo" / "openr1-synthetic-scored"), split="train")
    subset = load_dataset(str(tmp_path / "demo" / "openr1-select10"), split="train")
    assert len(scored) == 189 and len(subset) == 19  # 0.1 x 189 = 18.9 -> 19
    assert len(load_dataset(str(tmp_path / "demo" / "openr1-select5"), split="train")) == 9  # 9.45 -> 9
    assert subset[ID] == select(scored, ratio=0.1, weight=0.25)[ID]
    assert subset[JOINT_RANK] == sorted(subset[JOINT_RANK])
    card = read_card_metadata(tmp_path / "demo" / "openr1-select10")
    assert card["s2r"]["rows"] == 19 and card["s2r"]["pool"]["synthetic"] is True
    assert "synthetic" in card["tags"]
    assert (tmp_path / "demo" / "openr1-select10" / "README.md").read_text().count("Synthetic data") == 1


@pytest.mark.slow
def test_score_and_select_the_real_pool(real_pool_path, tiny_tokenizer_dir, tmp_path, capsys):
    scored_dir, subset_dir = tmp_path / "limo-scored", tmp_path / "limo-select10"
    argv = [
        "score",
        str(real_pool_path),
        "-o",
        str(scored_dir),
        "--question-column",
        "question",
        "--trace-column",
        "solution",
        "--answer-column",
        "gold_answer",
        "--id-column",
        "id",
        "--tokenizer",
        str(tiny_tokenizer_dir),
        "--difficulty",
        "column:difficulty_for_test",
    ]
    # The real pool has no difficulty signal; give it one a wrong ranker would order differently from length.
    rows = [json.loads(line) for line in real_pool_path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row["difficulty_for_test"] = (row["id"] * 37 % 101) / 100
    pool_file = tmp_path / "limo.jsonl"
    pool_file.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    argv[1] = str(pool_file)
    assert main(argv) == 0
    assert main(["select", str(scored_dir), "-o", str(subset_dir), "--ratio", "0.1"]) == 0
    assert "subset written to" in capsys.readouterr().out

    scored = load_dataset(str(scored_dir), split="train")
    subset = load_dataset(str(subset_dir), split="train")
    assert len(scored) == 291 and len(subset) == 29  # 29.1 -> 29
    assert scored[DIFFICULTY] == [row["difficulty_for_test"] for row in rows]
    assert min(scored[TRACE_LENGTH]) > 0
    assert subset[ID] == select(scored, ratio=0.1)[ID]
    assert "select --ratio" not in read_card_metadata(subset_dir)["s2r"]["pool"]["command"]
    assert read_card_metadata(subset_dir)["s2r"]["command"].startswith("s2r select ")


@pytest.mark.slow
def test_score_with_the_judge_from_the_command_line(real_pool_path, tiny_model_dir, tmp_path):
    scored_dir = tmp_path / "judged"
    argv = ["score", str(real_pool_path), "-o", str(scored_dir), "--question-column", "question",
            "--trace-column", "solution", "--id-column", "id", "--difficulty", "judge", "--judge", str(tiny_model_dir),
            "--judge-max-question-tokens", "64"]  # fmt: skip
    assert main(argv) == 0
    scored = load_dataset(str(scored_dir), split="train")
    scorer = read_card_metadata(scored_dir)["s2r"]["difficulty"]
    assert scorer["scorer"] == "judge" and scorer["model"] == str(tiny_model_dir)
    assert len(scored) == 291 and all(0 < value < 1 for value in scored[DIFFICULTY])
    assert main(["score", str(real_pool_path), "-o", str(tmp_path / "x"), "--question-column", "question",
                 "--trace-column", "solution", "--judge-batch-tokens", "8"]) == 2  # fmt: skip


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    missing = main(["score", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "out")])
    assert missing == 2 and "does not exist" in capsys.readouterr().err
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"q": "a", "t": "b"}) + "\n")
    out = str(tmp_path / "out")
    assert main(["score", str(pool), "-o", out, "--question-column", "question",
                 "--trace-column", "t", "--difficulty", "column:x"]) == 2  # fmt: skip
    assert "column(s) ['question'] not in the pool; columns: ['q', 't']" in capsys.readouterr().err
    assert main(["score", str(pool), "-o", out, "--question-column", "q",
                 "--trace-column", "t", "--difficulty", "oracle"]) == 2  # fmt: skip
    assert "unknown difficulty scorer 'oracle'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["select", str(tmp_path), "-o", str(tmp_path / "sub"), "--ratio", "2"]) == 2
    assert "ratio must be in (0, 1], got 2.0" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (
            ["--strategy", "random", "--weight", "0.9"],
            "s2r select: error: --weight 0.9 applies to the joint and quadrant strategies, not 'random', which would "
            "ignore it; drop it, or set --strategy to joint or quadrant",
        ),
        # A flag typed at its default value is given all the same, as an experiment's key is.
        (["--strategy", "random", "--weight", "0.25"], "s2r select: error: --weight 0.25 applies to the joint and"),
        (["--seed", "3"], "s2r select: error: --seed 3 applies to the random and diverse strategies, not 'joint'"),
        (["--strategy", "longest", "--group-column", "topic"], "s2r select: error: --group-column 'topic' applies"),
    ],
)
def test_select_refuses_an_option_its_strategy_would_ignore(tmp_path, capsys, flags, line):
    # Refused before the scored folder is read: it does not even exist here.
    assert main(["select", str(tmp_path / "scored"), "-o", str(tmp_path / "sub"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1
    assert not (tmp_path / "sub").exists()


def test_demo_refuses_an_option_its_strategy_would_ignore(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--strategy", "longest", "--seed", "0"]) == 2
    assert capsys.readouterr().err == (
        "s2r demo: error: --seed 0 applies to the random and diverse strategies, not 'longest', which would ignore "
        "it; drop it, or set --strategy to random or diverse\n"
    )
    assert not (tmp_path / "demo").exists()


def test_select_accepts_every_strategy_with_the_default_options(demo_output, tmp_path, capsys):
    scored = demo_output / "openr1-synthetic-scored"
    for strategy in ("random", "longest", "diverse"):
        assert main(["select", str(scored), "-o", str(tmp_path / strategy), "--k", "3", "--strategy", strategy]) == 0
        assert read_card_metadata(tmp_path / strategy)["s2r"]["strategy"] == strategy


def test_existing_output_is_refused_unless_overwrite_and_failures_leave_nothing(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "-o", str(out)]) == 0
    before = (out / "openr1-select10" / "README.md").read_text()
    assert main(["demo", "-o", str(out)]) == 2
    assert "already exists; choose another, or pass --overwrite" in capsys.readouterr().err
    assert main(["demo", "-o", str(out), "--overwrite", "--weight", "1.0"]) == 0
    assert (out / "openr1-select10" / "README.md").read_text() != before
    assert sorted(p.name for p in out.iterdir()) == ["openr1-select10", "openr1-synthetic-scored"]  # no temp folders
    # A failure part-way leaves no output folder and no temporary folder behind.
    with pytest.raises(ZeroDivisionError):
        from s2r_hf.core.folders import write_dataset_folder

        class Exploding:
            data = property(lambda self: 1 / 0)

        write_dataset_folder(Exploding(), tmp_path / "partial", "card")
    assert not any(p.name.startswith((".partial", "partial")) for p in tmp_path.iterdir())


@pytest.mark.slow
def test_demo_runs_from_a_built_wheel(tmp_path):
    """Card templates and the demo pool must reach an installed wheel (they live outside the package in the repo)."""
    from fixtures.env import REPO_ROOT

    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path / "dist"),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("s2r_hf-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    code = (
        "import sys, s2r_hf.core.cards, s2r_hf.cli; "
        "print(s2r_hf.core.cards.templates_dir()); sys.exit(s2r_hf.cli.main())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", code, "demo", "-o", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == str(target / "s2r_hf" / "hub_cards")
    assert "Synthetic data" in (tmp_path / "out" / "openr1-select10" / "README.md").read_text()
