"""Inputs a new user gets wrong, found by trying: each is one line `s2r CMD: error: ...` with exit code 2, never a
traceback, and never a subset silently made from data that does not mean what the user thinks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import s2r_hf.commands.score as score_command
from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID, TRACE_LENGTH
from s2r_hf.core.folders import CARD_FILE

ROWS = [
    {"question": f"question {i}", "trace": "step. " * (i + 1), "d": i / 10, "myid": f"id-{i}", "grp": "ab"[i % 2]}
    for i in range(6)
]
GENERIC = ["--question-column", "question", "--trace-column", "trace", "--difficulty", "column:d"]


def one_line_error(capsys, command: str) -> str:
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if "error" in line.lower() or "Traceback" in line]
    assert len(errors) == 1 and errors[0].startswith(f"s2r {command}: error: ") and "Traceback" not in err, err
    return errors[0].removeprefix(f"s2r {command}: error: ")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def score(tmp_path, capsys, source: Path, *options: str) -> str:
    assert main(["score", str(source), "-o", str(tmp_path / "out"), *options]) == 2
    assert not (tmp_path / "out").exists()
    return one_line_error(capsys, "score")


def test_score_a_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"question": "café", "trace": "t"}\n'.encode("latin-1"))
    message = score(tmp_path, capsys, path, *GENERIC)
    assert message.startswith("could not read") and "column 'question' holds text that is not UTF-8" in message
    assert "iconv -f latin1 -t utf-8" in message


def test_score_messages_whose_content_is_not_text(tmp_path, capsys):
    turns = [{"role": "user", "content": ["a"]}, {"role": "assistant", "content": ["t"]}]
    path = write_jsonl(tmp_path / "pool.jsonl", [{"messages": turns}] * 2)
    assert score(tmp_path, capsys, path) == (
        "the content of each message must be a string; column 'messages' has content of type list<item: string>. "
        "Flatten it to text first (e.g. with Dataset.map)"
    )


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ([None, None, "a", "b", "c", "d"], "the id column 'myid' has 2 null ids (rows [0, 1]); fill them in"),
        ([[i] for i in range(6)], "the id column 'myid' must hold one string or number per row; got list<item: int64>"),
    ],
)
def test_score_an_id_column_with_nulls_or_lists(tmp_path, capsys, ids, message):
    # Before: nulls became the id 'None' ("ids repeat: ['None']"), lists their repr ("[0]"), silently.
    path = write_jsonl(tmp_path / "pool.jsonl", [{**row, "myid": value} for row, value in zip(ROWS, ids)])
    assert message in score(tmp_path, capsys, path, *GENERIC, "--id-column", "myid")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([True, False] * 3, "difficulty column 'd' must be numeric; got type bool"),  # was silently 1.0 / 0.0
        (["0", "1"] * 3, "difficulty column 'd' must be numeric; got type string"),  # was silently cast
        ([None] * 6, "difficulty column 'd' must be numeric; got type null"),  # was a RuntimeWarning and 'min nan'
        ([float("nan")] + [0.5] * 5, "found 0 nulls, 1 NaN and 0 values outside [0, 1]"),  # NaN was 'outside'
    ],
)
def test_score_a_difficulty_column_that_is_not_scores(tmp_path, capsys, values, message):
    path = write_jsonl(tmp_path / "pool.jsonl", [{**row, "d": value} for row, value in zip(ROWS, values)])
    assert message in score(tmp_path, capsys, path, *GENERIC)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # Before: a file's split was ignored, so --split test or train[:50%] silently scored the whole file.
        (["--split", "test"], "'{pool}' has no split 'test'; its splits: ['train']; pass --split train"),
        (["--split", "train[5:2]"], "split 'train[5:2]' of '{pool}' selects no rows"),  # was a KeyError traceback
        (["--split", "train[:200%]"], "split 'train[:200%]' of '{pool}' is not valid: Percent slice boundaries"),
        (["--split", ""], "split must name a split such as 'train' or 'train[:10%]', got an empty string"),
        (["--config", "x"], "a file has no configs, but config 'x' was given for '{pool}'; drop it"),
        (["--tokenizer", ""], "tokenizer is an empty string; give a value or leave the option out"),  # was: characters
        (["--revision", ""], "revision is an empty string; give a value or leave the option out"),
        (["--id-column", " "], "id_column is an empty string; give a value or leave the option out"),
    ],
)
def test_score_a_split_or_config_a_file_does_not_have_or_an_empty_option(tmp_path, capsys, options, message):
    path = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    assert message.format(pool=path) in score(tmp_path, capsys, path, *GENERIC, *options)


def test_score_reads_the_split_slice_it_is_given(tmp_path, capsys):
    path = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    assert main(["score", str(path), "-o", str(tmp_path / "out"), *GENERIC, "--split", "train[:50%]"]) == 0
    assert pq.read_table(tmp_path / "out" / "data").column("myid").to_pylist() == ["id-0", "id-1", "id-2"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # before: silently ignored, as the generic adapter has no modes
        (["--openr1-mode", "generations"], "openr1_mode 'generations' (--openr1-mode) applies to the openr1 adapter"),
    ],
)
def test_score_an_option_of_the_other_adapter(tmp_path, capsys, options, message):
    path = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    assert score(tmp_path, capsys, path, *GENERIC, *options).startswith(message)


def test_score_require_final_answer_on_an_openr1_source(tmp_path, capsys, demo_output):
    # before: silently ignored, as the openr1 adapter keeps verified traces whatever this flag says
    scored = demo_output / "openr1-synthetic-scored"
    assert score(tmp_path, capsys, scored, "--require-final-answer").startswith(
        "['require_final_answer'] apply to the generic adapter; the source looks like OpenR1"
    )


def test_score_a_folder_without_data_files(tmp_path, capsys):
    folder = tmp_path / "pool.jsonl"  # a folder named like a file
    folder.mkdir()
    assert score(tmp_path, capsys, folder) == (
        f"the folder '{folder}' holds no data files datasets can read; put the pool's .csv/.json/.jsonl/.parquet "
        "files in it, or name the file itself"
    )


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_score_a_file_without_read_permission(tmp_path, capsys):
    path = write_jsonl(tmp_path / "pool.jsonl", ROWS)
    path.chmod(0)
    message = score(tmp_path, capsys, path, *GENERIC)
    assert message == f"'{path}' cannot be read: permission denied; check its permissions"


def test_ctrl_c_is_one_line_with_exit_code_130(tmp_path, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(score_command, "run", interrupted)
    assert main(["score", "pool.jsonl", "-o", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert err == "s2r score: interrupted; an output folder is written whole or not at all\n"


# ---- s2r select on scored folders that are not what s2r wrote -------------------------------------------------------


@pytest.fixture
def scored(demo_output, tmp_path) -> Path:
    return Path(shutil.copytree(demo_output / "openr1-synthetic-scored", tmp_path / "scored"))


def shard(folder: Path) -> Path:
    return next((folder / "data").glob("*.parquet"))


def replace_column(folder: Path, name: str, values: pa.Array) -> None:
    table = pq.read_table(shard(folder))
    pq.write_table(table.set_column(table.schema.get_field_index(name), name, values), shard(folder))


def select(scored: Path, tmp_path, capsys, *options: str) -> str:
    assert main(["select", str(scored), "-o", str(tmp_path / "subset"), *options]) == 2
    assert not (tmp_path / "subset").exists()
    return one_line_error(capsys, "select")


@pytest.mark.parametrize(
    ("column", "change", "message"),
    [
        (DIFFICULTY, lambda c: pc.cast(c, pa.string()), "column 's2r_difficulty' must hold numbers; got string"),
        (DIFFICULTY, lambda c: pc.greater(c, 0.5), "column 's2r_difficulty' must hold numbers; got bool"),  # was silent
        (DIFFICULTY, lambda c: pa.array([[v] for v in c.to_pylist()]), "must hold numbers; got list<item: double>"),
        (TRACE_LENGTH, lambda c: pc.cast(c, pa.string()), "column 's2r_trace_length' must hold numbers; got string"),
        (
            DIFFICULTY,
            lambda c: pa.array([7.0, *c.to_pylist()[1:]]),  # was ranked silently
            "column 's2r_difficulty' must hold scores in [0, 1]; 1 rows are outside (e.g. rows [0]: [7.0])",
        ),
        (ID, lambda c: pa.nulls(len(c), pa.string()), "column 's2r_id' has 189 null ids"),  # was ranked silently
    ],
)
def test_select_a_scored_folder_whose_columns_were_changed(scored, tmp_path, capsys, column, change, message):
    replace_column(scored, column, change(pq.read_table(shard(scored)).column(column).combine_chunks()))
    assert message in select(scored, tmp_path, capsys)


def test_select_a_scored_folder_with_an_empty_or_a_stray_shard(scored, tmp_path, capsys):
    table = pq.read_table(shard(scored))
    pq.write_table(pa.table({"x": [1]}), scored / "data" / "train-00001-of-00001.parquet")
    message = select(scored, tmp_path, capsys)  # was a multi-line message printing every feature
    assert message.startswith("the parquet files of one split must have the same columns, but ")
    assert "columns in one only: ['answer', 'correctness_count'" in message and "remove the stray file" in message
    (scored / "data" / "train-00001-of-00001.parquet").unlink()
    pq.write_table(table.slice(0, 0), shard(scored))
    assert select(scored, tmp_path, capsys).endswith("hold no rows; give at least one row")  # was "corrupt"


def test_select_a_card_whose_s2r_block_is_not_a_mapping(scored, tmp_path, capsys):
    (scored / CARD_FILE).write_text("---\ns2r:\n- 1\n- 2\n---\n")  # was an AttributeError traceback
    assert "is not a scored pool written by `s2r score`" in select(scored, tmp_path, capsys)


def test_select_diverse_by_a_column_of_lists(scored, tmp_path, capsys):
    message = select(scored, tmp_path, capsys, "--strategy", "diverse", "--group-column", "messages")
    assert message.startswith(
        "the diverse strategy stratifies by one value per row, but column 'messages' holds list<item: struct<"
    )


def test_select_a_repo_id_the_hub_would_refuse(scored, tmp_path, capsys):
    # It goes into the card's load_dataset example; it was written there as given.
    assert select(scored, tmp_path, capsys, "--repo-id", "not a repo!!").startswith(
        "--repo-id 'not a repo!!' is not a Hub repo id"
    )


# ---- s2r demo --------------------------------------------------------------------------------------------------------


def test_demo_refuses_an_empty_output_path(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # before: the demo folders were written into the current directory
    assert main(["demo", "-o", ""]) == 2
    assert one_line_error(capsys, "demo").startswith("the output path is empty; name the folder to write the demo")
    assert list(tmp_path.iterdir()) == []


def test_demo_checks_the_group_column_before_writing_anything(tmp_path, capsys):
    # before: the scored pool was written, then the subset failed
    assert main(["demo", "-o", str(tmp_path / "demo"), "--strategy", "diverse", "--group-column", "nope"]) == 2
    assert one_line_error(capsys, "demo").startswith("the diverse strategy stratifies by 'nope', which is not a column")
    assert not (tmp_path / "demo").exists()


def test_demo_names_a_tiny_ratio_by_its_digits(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path / "demo"), "--ratios", "1e-9"]) == 0  # at least one row, as documented
    assert sorted(path.name for path in (tmp_path / "demo").iterdir()) == [
        "openr1-select1e-07",  # before: openr1-select0
        "openr1-synthetic-scored",
    ]
