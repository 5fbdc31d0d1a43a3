"""`s2r score --sampled-difficulty SAMPLED`: a sampled scored pool's pass rates joined by s2r_id (null where it did not
sample), recorded in the card and checked in the report; its refusals, one line, exit 2, before any model loads."""

import json

import pytest

from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID, PASS_RATE, SAMPLED_DIFFICULTY
from s2r_hf.core.digests import rows_sha256
from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import load_dataset_folder, read_card_metadata
from s2r_hf.outputs.artifacts import write_scored_pool
from s2r_hf.pipeline.score import ScoreConfig, score_pool
from s2r_hf.signals.difficulty import make_difficulty_scorer
from s2r_hf.signals.judge.scorer import JudgeDifficulty

ROWS = [{"q": f"What is {i} + {i}?", "t": "Add. " * (i + 1), "a": str(2 * i), "hard": i / 10} for i in range(6)]
SAMPLED_ROWS = [0, 2, 3]  # the seeded share the sampled scorer took, and their pass rates
PASS_RATES = [1.0, 0.0, 0.25]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def generic(source, **kwargs) -> ScoreConfig:
    return ScoreConfig(source=str(source), question_column="q", trace_column="t", answer_column="a", **kwargs)


def write_sampled_pool(source, folder, sampled=True, rows=SAMPLED_ROWS, rates=PASS_RATES):
    """A scored pool as `s2r score --difficulty sampled --sample` writes it (its rows: the sampled ones, with
    s2r_pass_rate and s2r_difficulty = 1 - pass rate; the card: the sampled scorer's description), written by the
    project's writer. `sampled=False`: the same rows, but the card of the column scorer that made them."""
    pool, s2r = score_pool(generic(source, difficulty="column:hard"))
    sample = pool.select(rows).remove_columns(DIFFICULTY)
    sample = sample.add_column(PASS_RATE, rates).add_column(DIFFICULTY, [1.0 - rate for rate in rates])
    if sampled:
        scorer = make_difficulty_scorer("sampled", model="some-org/tiny-model", rollouts=4)
        s2r = {**s2r, "difficulty": scorer.describe()}
    s2r["rows_sha256"] = rows_sha256(sample)
    write_scored_pool(sample, s2r, folder)
    return folder


@pytest.fixture
def pool_and_sample(tmp_path):
    source = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    return source, write_sampled_pool(source, tmp_path / "sample")


def test_pass_rates_are_joined_by_id_with_nulls_where_not_sampled_and_recorded(pool_and_sample):
    source, sample = pool_and_sample
    pool, s2r = score_pool(generic(source, difficulty="column:hard", sampled_difficulty=str(sample)))
    assert pool[SAMPLED_DIFFICULTY] == [0.0, None, 1.0, 0.75, None, None]
    assert pool[DIFFICULTY] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]  # the pool's own difficulty is untouched
    record = s2r["sampled_difficulty"]
    assert record["source"] == str(sample) and record["rows_matched"] == 3 and record["sampled_rows"] == 3
    assert record["rows_sha256"] == read_card_metadata(sample)["s2r"]["rows_sha256"]
    assert record["scorer"]["rollouts"] == 4 and record["scorer"]["model"] == "some-org/tiny-model"
    assert s2r["settings"]["sampled_difficulty"] == str(sample)


def test_the_scored_folder_shows_the_difficulty_against_the_sampled_rows(pool_and_sample, tmp_path, capsys):
    source, sample = pool_and_sample
    out = tmp_path / "scored"
    argv = ["score", str(source), "-o", str(out), "--question-column", "q", "--trace-column", "t"]
    assert (
        main([*argv, "--answer-column", "a", "--difficulty", "column:hard", "--sampled-difficulty", str(sample)]) == 0
    )
    assert load_dataset_folder(out)[SAMPLED_DIFFICULTY] == [0.0, None, 1.0, 0.75, None, None]
    # difficulty 0, 0.2, 0.3 against sampled 0, 1, 0.75: ranks 1, 2, 3 against 1, 3, 2, 1 - 6 * 2 / (3 * 8) = 0.5;
    # the never-solved row (0.2) scores above the always-solved one (0): AUC 1
    report = read_card_metadata(out)["s2r"]["report"]["judge_vs_sampled"]
    assert report == {
        "rows": 3,
        "spearman": 0.5,
        "auc_never_vs_always": 1.0,
        "never_solved": 1,
        "always_solved": 1,
        "source": str(sample),
    }
    assert (out / "report" / "judge_vs_sampled.png").is_file()
    assert "### The difficulty against sampled pass rates" in (out / "README.md").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if "sampled" in line]
    assert lines == [
        ["judge", "~", "sampled", "difficulty", "(3", "rows)", "0.500"],
        ["judge", "AUC,", "never", "vs", "always", "solved", "(sampled)", "1.000"],
    ]


def one_line_error(capsys, argv) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("s2r ")]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.fixture
def no_judge_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the judge ran before the refusal")

    monkeypatch.setattr(JudgeDifficulty, "add_difficulty", refuse)


def judge_argv(source, out, tiny_model_dir, sample):
    argv = ["score", str(source), "-o", str(out), "--question-column", "q", "--trace-column", "t"]
    argv += ["--answer-column", "a", "--difficulty", "judge", "--judge", str(tiny_model_dir)]
    return [*argv, "--sampled-difficulty", str(sample)]


def test_a_scored_pool_of_another_scorer_is_refused_naming_its_scorer(tmp_path, tiny_model_dir, no_judge_runs, capsys):
    source = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    by_column = write_sampled_pool(source, tmp_path / "by-column", sampled=False)
    error = one_line_error(capsys, judge_argv(source, tmp_path / "out", tiny_model_dir, by_column))
    assert "whose difficulty scorer is 'column', not 'sampled'" in error
    assert "`s2r score --difficulty sampled` wrote" in error
    error = one_line_error(capsys, judge_argv(source, tmp_path / "out", tiny_model_dir, source))
    assert "is a file, not a folder" in error
    assert not (tmp_path / "out").exists()


def test_a_sample_of_another_pool_shares_no_id_and_is_refused(tmp_path, tiny_model_dir, no_judge_runs, capsys):
    other = write_jsonl(tmp_path / "other.jsonl", [{**row, "q": row["q"] + " Explain."} for row in ROWS])
    sample = write_sampled_pool(other, tmp_path / "sample")
    source = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    error = one_line_error(capsys, judge_argv(source, tmp_path / "out", tiny_model_dir, sample))
    assert f"none of its 3 sampled {ID}s is among the 6 rows of this pool" in error
    assert not (tmp_path / "out").exists()


def test_sampled_difficulty_with_the_sampled_scorer_itself_is_refused(tmp_path, capsys):
    with pytest.raises(InputError, match="but difficulty is 'sampled' itself; drop one of the two"):
        ScoreConfig(source="pool.jsonl", difficulty="sampled", sampled_difficulty="sample")
    source = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    error = one_line_error(capsys, ["score", str(source), "-o", str(tmp_path / "out"), "--difficulty", "sampled",
                                    "--sampled-difficulty", str(tmp_path)])  # fmt: skip
    assert "difficulty is 'sampled' itself" in error
