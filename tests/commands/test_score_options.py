"""Bad options end in one line, `s2r CMD: error: ...`, exit code 2, before any expensive work."""

import json
import os
import subprocess
import sys

import pytest

from s2r_hf.cli import main


@pytest.fixture
def pool_file(tmp_path):
    rows = [{"q": f"question {i}", "t": "step. " * (i + 1), "flags": [True, i % 2 == 0], "s": "x"} for i in range(4)]
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def one_line_error(capsys, command):
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if line.startswith(f"s2r {command}: error: ")]
    assert len(lines) == 1, err
    return lines[0].removeprefix(f"s2r {command}: error: ")


@pytest.mark.parametrize(
    ("ratios", "message"),
    [
        (["nan"], "ratio must be a finite number, got nan"),
        (["inf"], "ratio must be a finite number, got inf"),
        (["0"], "ratio must be in (0, 1], got 0.0"),
        (["1.5"], "ratio must be in (0, 1], got 1.5"),
        (["-0.1"], "ratio must be in (0, 1], got -0.1"),
        (["0.1", "0.1"], "--ratios repeats a subset size: [0.1, 0.1]"),
    ],
)
def test_demo_refuses_bad_ratios_before_any_work(tmp_path, capsys, ratios, message):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--ratios", *ratios]) == 2
    assert one_line_error(capsys, "demo") == message
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--seed", "-1"], "seed must be a non-negative integer, got -1"),
        (["--ratio", "nan"], "ratio must be a finite number, got nan"),
        (["--weight", "nan"], "weight must be a finite number, got nan"),
        (["--weight", "1.5"], "weight must be in [0, 1], got 1.5"),
        (["--k", "0"], "k must be a positive integer, got 0"),
        (
            ["--strategy", "best"],
            "unknown strategy 'best'; known: ['joint', 'random', 'longest', 'hardest', 'diverse', 'quadrant']",
        ),
    ],
)
def test_select_refuses_bad_options_before_reading_the_pool(tmp_path, capsys, options, message):
    # The scored folder does not exist: the options are checked first, so their error is the one reported.
    assert main(["select", str(tmp_path / "missing"), "-o", str(tmp_path / "out"), *options]) == 2
    assert one_line_error(capsys, "select") == message


def test_ratio_and_k_are_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["select", str(tmp_path), "-o", str(tmp_path / "out"), "--ratio", "0.1", "--k", "3"])
    assert info.value.code == 2
    assert "argument --k: not allowed with argument --ratio" in capsys.readouterr().err


def score(pool_file, tmp_path, *options):
    return main(["score", str(pool_file), "-o", str(tmp_path / "out"), "--question-column", "q",
                 "--trace-column", "t", *options])  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--flags-column", "nope"], "the rollout difficulty needs a column of per-rollout verification flags, 'nope'"),
        (["--flags-column", "s"], "column 's' must hold lists of booleans (one per rollout); got string"),
        (["--difficulty", "column:nope"], "difficulty column 'nope' not in pool; columns: ['q', 't', 'flags', 's'"),
        (["--difficulty", "column:s"], "difficulty column 's' must be numeric; got type string"),
        (["--tokenizer", "./no/tokenizer"], "the tokenizer folder './no/tokenizer' does not exist"),
        (["--difficulty", "judge", "--judge", "./no/judge"], "the judge folder './no/judge' does not exist"),
        (["--judge-dtype", "float16"], "['dtype'] (flags ['--judge-dtype']) are settings of the judge scorer"),
        (["--difficulty", "judge", "--flags-column", "flags"], "['flags_column'] (flags ['--flags-column']) are"),
        (["--num-proc", "0"], "num_proc must be at least 1, got 0"),
        (
            ["--adapter", "openr2"],
            "adapter must be one of ['auto', 'openr1', 'generic', 'chinese-distill', 'sharegpt', 's1k'], got 'openr2'",
        ),
        (["--tokenizer-revision", "main"], "tokenizer_revision needs a tokenizer (--tokenizer NAME)"),
        (["--difficulty", "judge", "--judge-dtype", "int8"], "dtype must be one of ['float32', 'bfloat16', 'float16'"),
        (["--difficulty", "judge", "--judge-batch-tokens", "-5"], "batch_tokens must be a positive integer, got -5"),
    ],
)
def test_score_refuses_bad_options_in_one_line(pool_file, tmp_path, capsys, options, message):
    assert score(pool_file, tmp_path, *options) == 2
    assert message in one_line_error(capsys, "score")
    assert not (tmp_path / "out").exists()


def test_score_judge_options_reach_the_scorer(pool_file, tmp_path, tiny_model_dir, capsys):
    assert score(pool_file, tmp_path, "--difficulty", "judge", "--judge", str(tiny_model_dir),
                 "--judge-question-column", "q", "--judge-system-prompt", "Is this hard? Say 1 or 0.",
                 "--judge-max-question-tokens", "32") == 0  # fmt: skip
    from s2r_hf.core.folders import read_card_metadata

    scorer = read_card_metadata(tmp_path / "out")["s2r"]["difficulty"]
    assert scorer["system_prompt"] == "Is this hard? Say 1 or 0." and scorer["max_question_tokens"] == 32


def run_offline(args, cwd):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "s2r_hf.cli", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_an_offline_hub_tokenizer_or_judge_is_one_line(pool_file, tmp_path):
    base = ["score", str(pool_file), "-o", str(tmp_path / "out"), "--question-column", "q", "--trace-column", "t"]
    result = run_offline([*base, "--tokenizer", "some-org/some-tokenizer"], tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "s2r score: error: could not load the tokenizer 'some-org/some-tokenizer' from the Hub (revision default):"
        )
    )
    result = run_offline([*base, "--difficulty", "judge", "--judge", "some-org/some-judge"], tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("s2r score: error: could not fetch the judge 'some-org/some-judge'")
    )
    assert not (tmp_path / "out").exists()


def test_train_judge_refuses_bad_options_before_reading_the_pool(tmp_path, capsys):
    assert main(["train-judge", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "j"), "--lr", "-1"]) == 2
    assert one_line_error(capsys, "train-judge") == "learning_rate must be > 0, got -1.0"
