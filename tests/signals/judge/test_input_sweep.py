"""Inputs a new user gets wrong in the judge's Python API and commands: each is one S2RError (one line on the command
line, exit code 2) naming what was received, raised before any model loads where the input allows it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset
from fixtures.judge_data import make_pool, random_questions

from s2r_hf.cli import main
from s2r_hf.core.columns import ID, MESSAGES
from s2r_hf.core.errors import ColumnTypeError, InputError, ModelError, OptionTypeError, S2RError
from s2r_hf.core.rows import make_messages
from s2r_hf.signals.difficulty import add_difficulty
from s2r_hf.signals.judge import distributed
from s2r_hf.signals.judge.model import LoadedJudge
from s2r_hf.signals.judge.prompt import verdict_token_ids
from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty, judge_difficulty_batch
from s2r_hf.signals.judge.training import train_judge
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

NOWHERE = "s2r-tests/never-loaded"  # a Hub id no test reaches: data errors must come before any model lookup


def one_line_error(capsys, prefix: str) -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return lines[0]


def last_line_error(capsys, prefix: str) -> str:
    """The error line that ends stderr, after datasets' progress bars and logs of the read that failed."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.splitlines()[-1].startswith(prefix), err
    return err.splitlines()[-1]


@pytest.fixture(scope="module")
def judge(tiny_model_dir) -> LoadedJudge:
    return LoadedJudge.load(tiny_model_dir)


# ---- JudgeTrainingConfig: types as every config checks them, empty strings, the seed's range ------------------------


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"output_dir": 3}, OptionTypeError, "output_dir must be a string, got 3 (int)"),
        ({"overwrite": "false"}, OptionTypeError, "overwrite must be True or False, got 'false' (str)"),
        ({"bf16": "yes"}, OptionTypeError, "bf16 must be True or False or None, got 'yes' (str)"),
        ({"bf16": 1}, OptionTypeError, "bf16 must be True or False or None, got 1 (int)"),
        ({"question_column": 5}, OptionTypeError, "question_column must be a string or None, got 5 (int)"),
        ({"flags_column": 3}, OptionTypeError, "flags_column must be a string, got 3 (int)"),
        ({"lr_scheduler_type": None}, OptionTypeError, "lr_scheduler_type must be a string, got None"),
        ({"warmup_ratio": True}, OptionTypeError, "warmup_ratio must be a number, got True (bool)"),
        ({"system_prompt": ""}, InputError, "system_prompt must not be empty or blank, got ''"),
        ({"question_column": " "}, InputError, "question_column must not be empty or blank, got ' '"),
        ({"pass_rate_column": ""}, InputError, "pass_rate_column must not be empty or blank, got ''"),
        ({"base_revision": ""}, InputError, "base_revision must not be empty or blank, got ''"),
        (
            {"seed": 2**32},
            InputError,
            f"seed must be in [0, 2**32) (the range numpy and torch seeds take), got {2**32}",
        ),
    ],
)
def test_training_config_refuses(overrides, error, message):
    with pytest.raises(error) as caught:
        JudgeTrainingConfig(**{"output_dir": "out", **overrides})
    assert str(caught.value).startswith(message)


def test_training_config_normalises_numpy_and_paths(tmp_path):
    config = JudgeTrainingConfig(
        output_dir=tmp_path / "judge",
        learning_rate=np.float32(0.5),
        num_train_epochs=np.int64(2),
        per_device_train_batch_size=np.int64(4),
        bf16=np.True_,
        seed=2**32 - 1,
    )
    assert config.output_dir == str(tmp_path / "judge")
    assert (config.learning_rate, config.num_train_epochs, config.per_device_train_batch_size) == (0.5, 2.0, 4)
    assert type(config.per_device_train_batch_size) is int and type(config.num_train_epochs) is float
    assert config.bf16 is True


def test_cli_seed_outside_numpys_range_is_one_line(tmp_path, capsys):
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"messages": make_messages("q", "t"), "correctness_math_verify": [True]}) + "\n")
    argv = ["train-judge", str(pool), "-o", str(tmp_path / "j"), "--base-model", NOWHERE, "--seed", str(2**40)]
    assert main(argv) == 2
    assert "seed must be in [0, 2**32)" in one_line_error(capsys, "s2r train-judge: error: ")


def test_cli_split_of_a_single_file_is_one_line(tiny_model_dir, tmp_path, capsys):
    # It used to be ignored: `--split test` trained on the whole file.
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"messages": make_messages("q", "t"), "correctness_math_verify": [True]}) + "\n")
    argv = ["train-judge", str(pool), "-o", str(tmp_path / "j"), "--base-model", str(tiny_model_dir), "--split", "test"]
    assert main(argv) == 2
    line = one_line_error(capsys, "s2r train-judge: error: ")
    assert "has no split 'test'; its splits: ['train']; pass --split train" in line
    assert not (tmp_path / "j").exists()


# ---- train_judge: data that cannot train or evaluate a judge, refused before the base model is looked up -----------


def _rows(flags: list[list[bool]], **columns) -> Dataset:
    rows = {MESSAGES: [make_messages(f"question {i}", "t") for i in range(len(flags))]}
    return Dataset.from_dict({**rows, "correctness_math_verify": flags, **columns})


def test_all_targets_equal_is_refused(tmp_path):
    pool = _rows([[True, False]] * 40)  # every target 0.5: it used to train and report a Spearman of None
    with pytest.raises(InputError, match=r"every row has the same difficulty target 0\.5 \(from 'correctness_math"):
        train_judge(pool, JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model=NOWHERE, min_eval_rows=4))
    assert not (tmp_path / "j").exists()


def test_constant_held_out_targets_are_refused(tmp_path):
    config = JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model=NOWHERE, min_eval_rows=3, seed=0)
    from s2r_hf.signals.judge.targets import split_rows

    _, held_out = split_rows(30, config)
    flags = [[True]] * 30
    flags[next(i for i in range(30) if i not in set(held_out.tolist()))] = [False]  # one hard question, in training
    with pytest.raises(InputError, match=r"the 3 held-out rows all have the target 0\.0, so their Spearman"):
        train_judge(_rows(flags), config)


def test_a_question_column_of_integers_names_its_type(tmp_path):
    pool = _rows([[True], [False]] * 20, number=list(range(40)))
    config = JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model=NOWHERE, question_column="number")
    with pytest.raises(ColumnTypeError, match=r"question column 'number' must hold strings .*; got type int64"):
        train_judge(pool, config)


def test_a_null_messages_cell_is_named(tmp_path):
    pool = Dataset.from_list(
        [{MESSAGES: make_messages(f"q{i}", "t"), "correctness_math_verify": [i % 2 == 0]} for i in range(40)]
        + [{MESSAGES: None, "correctness_math_verify": [True]}]
    )
    with pytest.raises(ColumnTypeError, match=r"messages must be a list of chat turns, got None; filter out such rows"):
        train_judge(pool, JudgeTrainingConfig(output_dir=str(tmp_path / "j"), base_model=NOWHERE, min_eval_rows=3))


def test_cli_refuses_to_write_the_judge_inside_the_pool(tiny_model_dir, tmp_path, capsys):
    make_pool(random_questions(4, seed=3), tmp_path / "pool")
    capsys.readouterr()  # the progress bars of writing the pool
    argv = ["train-judge", str(tmp_path / "pool"), "-o", str(tmp_path / "pool" / "judge")]
    assert main([*argv, "--base-model", str(tiny_model_dir)]) == 2
    line = one_line_error(capsys, "s2r train-judge: error: ")
    assert f"the judge's output folder '{tmp_path / 'pool' / 'judge'}' is the pool" in line
    assert sorted(path.name for path in (tmp_path / "pool").iterdir()) == [
        "data-00000-of-00001.arrow",
        "dataset_info.json",
        "state.json",
    ]


# ---- the verdict tokens ------------------------------------------------------------------------------------------


def test_verdicts_mapped_to_the_unknown_token_are_refused():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocabulary = {"<unk>": 0, "<|im_end|>": 1, "question": 2, "2": 3}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", eos_token="<|im_end|>")
    assert tokenizer.encode("0", add_special_tokens=False) == tokenizer.encode("1", add_special_tokens=False) == [0]
    # Both would be id 0: every score 0.5, silently.
    with pytest.raises(ModelError, match=r"splits '0' into the unknown token; the difficulty score needs"):
        verdict_token_ids(tokenizer)


# ---- JudgeConfig, JudgeDifficulty, LoadedJudge ---------------------------------------------------------------------


def test_judge_config_takes_a_path_and_checks_the_device(tiny_model_dir):
    assert JudgeConfig(model=Path(tiny_model_dir)).model == str(tiny_model_dir)
    assert JudgeDifficulty(model=Path(tiny_model_dir)).config.model == str(tiny_model_dir)
    assert JudgeConfig(model=str(tiny_model_dir), device="cuda:1").device == "cuda:1"
    for device in ("cuda:x", "cuda:-1", "gpu"):
        with pytest.raises(InputError, match=rf"device must be 'cpu', 'cuda', 'cuda:N' .*got '{device}'"):
            JudgeConfig(model=str(tiny_model_dir), device=device)


def test_judge_difficulty_names_its_options():
    with pytest.raises(OptionTypeError, match=r"JudgeDifficulty takes no option\(s\) \['modle'\]; its options are"):
        JudgeDifficulty(modle="x")


def test_loaded_judge_inputs(judge, tiny_model_dir):
    with pytest.raises(InputError, match=r"questions are a list of strings, got str 'What is 1\+1\?'"):
        judge.score("What is 1+1?")  # used to score each character as a question
    assert judge.score([]).scores == []
    with pytest.raises(InputError, match=r"system_prompt must be a non-empty string, got None"):
        judge.score(["q"], system_prompt=None)
    vocabulary = judge.model.get_input_embeddings().num_embeddings
    with pytest.raises(InputError, match=rf"prompt 1 holds {vocabulary}, not a token id of the judge's vocabulary"):
        judge.score_prompts([[1, 2], [3, vocabulary]])
    with pytest.raises(InputError, match=r"prompt 0 holds -1"):
        judge.score_prompts([[-1, 2]])
    with pytest.raises(InputError, match=r"prompt 0 is 'abc'; every prompt is a non-empty list of token ids"):
        judge.score_prompts(["abc"])
    with pytest.raises(InputError, match=r"dtype must be one of .* got 'int8'"):
        LoadedJudge.load(tiny_model_dir, dtype="int8")
    with pytest.raises(InputError, match=r"device must be .* got 'gpu'"):
        LoadedJudge.load(tiny_model_dir, device="gpu")
    assert LoadedJudge.load(Path(tiny_model_dir)).source == str(tiny_model_dir)


def test_the_batch_function_checks_its_config_and_rows(tiny_model_dir):
    batch = {MESSAGES: [make_messages("q", "t")], ID: ["a"]}
    with pytest.raises(OptionTypeError, match=r"config must be a JudgeConfig .*, got dict"):
        judge_difficulty_batch(batch, config={"model": str(tiny_model_dir)})
    config = JudgeConfig(model=str(tiny_model_dir))
    with pytest.raises(ColumnTypeError, match=r"1 rows have 'messages' that is not a list of chat turns \(first rows"):
        judge_difficulty_batch({MESSAGES: [make_messages("q", "t"), None], ID: ["a", "b"]}, config=config)
    with pytest.raises(ColumnTypeError, match=r"one row\? map with batched=True"):
        judge_difficulty_batch({MESSAGES: make_messages("q", "t")}, config=config)


def test_add_difficulty_checks_num_proc_and_the_question_column_type(tiny_model_dir):
    pool = Dataset.from_dict({MESSAGES: [make_messages("q", "t")], "number": [3]})
    for num_proc in (-1, "2", 1.5):
        with pytest.raises(S2RError, match=r"num_proc must be (at least 1|a positive integer or None)"):
            add_difficulty(pool, "judge", model=str(tiny_model_dir), num_proc=num_proc)
    with pytest.raises(ColumnTypeError, match=r"question column 'number' must hold strings .*its type is Value"):
        add_difficulty(pool, "judge", model=NOWHERE, question_column="number")  # before the judge is looked up


# ---- distributed ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WORLD_SIZE": "2", "RANK": "0"}, "WORLD_SIZE=2 is set but MASTER_ADDR and MASTER_PORT not"),
        ({"RANK": "one"}, "RANK='one' in the environment is not an integer"),
        ({"WORLD_SIZE": "2", "RANK": "2"}, "RANK=2 and WORLD_SIZE=2 in the environment do not fit"),
    ],
)
def test_a_launch_without_torchrun_is_one_line(tmp_path, capsys, monkeypatch, environ, message):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    argv = ["score", "--pool", str(tmp_path / "nope"), "--out", str(tmp_path / "s"), "--model", NOWHERE]
    assert distributed.main(argv) == 2  # before the (missing) pool is read
    assert message in one_line_error(capsys, "python -m s2r_hf.signals.judge.distributed score: error: ")


def test_shards_of_another_pool_with_the_same_ids_are_refused(tiny_model_dir, tmp_path, capsys):
    pool = make_pool(random_questions(4, seed=3), tmp_path / "pool")
    other = make_pool(random_questions(4, seed=4), tmp_path / "other")  # ids q0000..q0003 too
    assert pool[ID] == other[ID]
    distributed.score_shard(pool, JudgeConfig(model=str(tiny_model_dir)), tmp_path / "s", rank=0, world_size=1)
    capsys.readouterr()
    argv = ["merge", "--pool", str(tmp_path / "other"), "--out", str(tmp_path / "s"), "--world-size", "1"]
    assert distributed.main(argv) == 2  # it used to merge the first pool's scores onto the other's rows
    line = one_line_error(capsys, "python -m s2r_hf.signals.judge.distributed merge: error: ")
    assert "difficulty-00000-of-00001.parquet" in line and "scored another pool" in line
    assert len(distributed.merge_shards(pool, tmp_path / "s", 1)) == 4


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", "", "'{path}' is empty (0 bytes); give a file with at least one row"),
        ("blank.jsonl", "\n\n", "'{path}' has no rows in split 'train'"),
        ("broken.jsonl", "{bad\n", "could not read '{path}' (file): ArrowInvalid: JSON parse error"),
        ("broken.parquet", "PAR1xx", "could not read '{path}' (file): ArrowInvalid: "),
        ("null.jsonl", "null\n", "'{path}': the first row is `null`, not a JSON object"),  # pyarrow would segfault
        ("folder", None, "the pool folder '{path}' was not written by Dataset.save_to_disk (it has no state.json)"),
    ],
)
def test_an_unreadable_pool_is_one_line(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_text(content, encoding="utf-8")
    argv = ["merge", "--pool", str(path), "--out", str(tmp_path / "s"), "--world-size", "1"]
    assert distributed.main(argv) == 2
    assert message.format(path=path) in last_line_error(
        capsys, "python -m s2r_hf.signals.judge.distributed merge: error: "
    )


def test_a_shard_folder_that_is_a_file(tiny_model_dir, tmp_path):
    pool = make_pool(random_questions(2, seed=3), tmp_path / "pool")
    (tmp_path / "s").write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match=r"the shard folder '.*s' is a file; give a folder for the per-rank shard"):
        distributed.score_shard(pool, JudgeConfig(model=str(tiny_model_dir)), tmp_path / "s", rank=0, world_size=1)
