"""Every way a user can get the judge wrong ends in one line naming the fix, exit code 2, and no traceback.

Settings fail when the config is made (so before any data is read); a judge or base model that is missing, not a chat
model or unreachable fails in the model checks of s2r_hf.core.models. Cases that need an environment read at import
(HF_HUB_OFFLINE, HF_ENDPOINT) run the CLI in a fresh process, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fixtures.env import REPO_ROOT
from fixtures.hub_server import DEFAULT_USER
from fixtures.judge_data import make_pool, random_questions

from s2r_hf.cli import main
from s2r_hf.core.columns import DIFFICULTY, ID
from s2r_hf.core.errors import InputError, ModelError, OptionTypeError
from s2r_hf.core.models import check_model_reachable
from s2r_hf.core.rows import make_messages
from s2r_hf.signals.judge import distributed
from s2r_hf.signals.judge.model import resolve_judge
from s2r_hf.signals.judge.scorer import JudgeConfig, JudgeDifficulty
from s2r_hf.signals.judge.training_config import JudgeTrainingConfig


@pytest.fixture
def pool_file(tmp_path) -> Path:
    path = tmp_path / "pool.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i, question in enumerate(random_questions(4, seed=1, max_words=8)):
            handle.write(json.dumps({"messages": make_messages(question, f"trace {i} \\boxed{{{i}}}")}) + "\n")
    return path


def one_line_error(capsys, prefix: str = "s2r score: error: ") -> str:
    err = capsys.readouterr().err.strip()
    lines = [line for line in err.splitlines() if not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    assert "Traceback" not in err
    return lines[0]


def judge_copy(model_dir: Path, folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(model_dir / name, folder / name)
    return folder


# ---- Settings: refused when the config is made, before the pool is read -----------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--judge-dtype", "int8"], "dtype must be one of ['float32', 'bfloat16', 'float16', 'float64'] or None"),
        (["--judge-batch-tokens", "-5"], "batch_tokens must be a positive integer, got -5"),
        (["--judge-batch-tokens", "0"], "batch_tokens must be a positive integer, got 0"),
        (["--judge-max-question-tokens", "0"], "max_question_tokens must be a positive integer, got 0"),
        (["--judge", "./no/such/judge"], "the judge folder './no/such/judge' does not exist"),
        (["--judge", "/no/such/judge"], "the judge folder '/no/such/judge' does not exist"),
    ],
)
def test_bad_judge_settings_fail_in_one_line_before_reading_the_pool(tmp_path, capsys, flags, message):
    # The pool does not exist either: the judge's settings are checked first, so they are what the user hears about.
    argv = ["score", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out"), "--difficulty", "judge", *flags]
    assert main(argv) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_config_types_from_the_python_api():
    with pytest.raises(InputError, match=r"batch_tokens must be a positive integer, got '5'"):
        JudgeConfig(batch_tokens="5")
    with pytest.raises(InputError, match=r"max_question_tokens must be a positive integer, got nan"):
        JudgeConfig(max_question_tokens=float("nan"))
    with pytest.raises(InputError, match=r"chunk_rows must be a positive integer, got True"):
        JudgeConfig(chunk_rows=True)
    with pytest.raises(InputError, match=r"revision must be a non-empty string or None, got 3"):
        JudgeConfig(revision=3)
    with pytest.raises(InputError, match=r"device must be 'cpu', 'cuda', 'cuda:N' or None"):
        JudgeConfig(device="tpu")
    # A numpy integer is an integer; it is stored as a plain int (it goes into JSON and fingerprints).
    config = JudgeConfig(batch_tokens=np.int64(64), max_question_tokens=512.0)
    assert (config.batch_tokens, config.max_question_tokens) == (64, 512)
    assert type(config.batch_tokens) is int and type(config.max_question_tokens) is int
    # JudgeTrainingConfig checks types as every other config does (s2r_hf.core.options.check_field_types).
    with pytest.raises(OptionTypeError, match=r"learning_rate must be a number, got '1e-5' \(str\)"):
        JudgeTrainingConfig(output_dir="out", learning_rate="1e-5")
    with pytest.raises(InputError, match=r"weight_decay must be a finite number, got nan"):
        JudgeTrainingConfig(output_dir="out", weight_decay=float("nan"))
    with pytest.raises(OptionTypeError, match=r"per_device_train_batch_size must be an integer, got 2\.5 \(float\)"):
        JudgeTrainingConfig(output_dir="out", per_device_train_batch_size=2.5)
    with pytest.raises(InputError, match=r"seed must be in \[0, 2\*\*32\)"):
        JudgeTrainingConfig(output_dir="out", seed=-1)
    assert JudgeTrainingConfig(output_dir="out", seed=np.int64(3)).seed == 3


# ---- Judge folders that are not usable chat models --------------------------------------------------------------


def test_judge_folders_without_tokenizer_or_chat_template(tiny_model_dir, tmp_path, pool_file, capsys):
    weights_only = judge_copy(tiny_model_dir, tmp_path / "weights_only", ["config.json", "model.safetensors"])
    no_template = judge_copy(
        tiny_model_dir, tmp_path / "no_template", ["config.json", "model.safetensors", "tokenizer.json"]
    )
    config = json.loads((tiny_model_dir / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (no_template / "tokenizer_config.json").write_text(json.dumps(config))
    a_file = tiny_model_dir / "config.json"
    cases = [
        (weights_only, "has no tokenizer (none of ['tokenizer.json'"),
        (no_template, "has no chat template"),
        (a_file, "is a file; give the folder holding config.json"),
    ]
    for folder, message in cases:
        argv = ["score", str(pool_file), "-o", str(tmp_path / "out"), "--difficulty", "judge", "--judge", str(folder)]
        assert main(argv) == 2
        assert message in one_line_error(capsys)
        # The cheap up-front check says the same.
        with pytest.raises(ModelError, match=message.replace("(", r"\(").replace("[", r"\[")):
            check_model_reachable(str(folder), role="judge")
    check_model_reachable(str(tiny_model_dir), role="judge")  # the complete folder passes


def test_train_judge_with_a_missing_local_base_model(tmp_path, pool_file, capsys):
    argv = ["train-judge", str(pool_file), "-o", str(tmp_path / "judge"), "--base-model", "./no/such/base"]
    assert main(argv) == 2
    line = one_line_error(capsys, "s2r train-judge: error: ")
    assert "the base model folder './no/such/base' does not exist" in line
    assert "Repo id must be in the form" not in line
    assert not (tmp_path / "judge").exists()


# ---- Hub judges: the up-front check against the loopback Hub ----------------------------------------------------


def seed_judge(hub, tiny_model_dir, repo_id: str, *, skip: tuple[str, ...] = (), tokenizer_config=None) -> None:
    files = {p.name: p.read_bytes() for p in tiny_model_dir.iterdir() if p.is_file() and p.name not in skip}
    if tokenizer_config is not None:
        files["tokenizer_config.json"] = json.dumps(tokenizer_config).encode()
    hub.seed_repo(repo_id, owner=DEFAULT_USER, repo_type="model", files=files)


def test_check_model_reachable_on_the_hub_downloads_no_weights(hub, tiny_model_dir, session_tmp):
    seed_judge(hub, tiny_model_dir, "s2r/judge-ok")
    hub.clear_requests()
    check_model_reachable("s2r/judge-ok", role="judge")
    # One file-list request, and the chat template is a file of its own: nothing was downloaded.
    assert [r.path for r in hub.requests if "/resolve/" in r.path] == []
    assert any("/api/models/s2r/judge-ok" in r.path for r in hub.requests)

    # Without a chat template (neither its own file nor in tokenizer_config.json): refused from the small config.
    config = json.loads((tiny_model_dir / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    seed_judge(hub, tiny_model_dir, "s2r/judge-plain", skip=("chat_template.jinja",), tokenizer_config=config)
    with pytest.raises(ModelError, match="the judge 's2r/judge-plain' has no chat template"):
        check_model_reachable("s2r/judge-plain", role="judge")
    seed_judge(hub, tiny_model_dir, "s2r/judge-noweights", skip=("model.safetensors",))
    with pytest.raises(ModelError, match=r"has no config\.json or no \.safetensors weights"):
        check_model_reachable("s2r/judge-noweights", role="judge")
    with pytest.raises(ModelError, match="'s2r/nothing-here' is neither a local folder nor a Hub model"):
        check_model_reachable("s2r/nothing-here", role="judge")
    with pytest.raises(ModelError, match="has no revision 'v9'"):
        check_model_reachable("s2r/judge-ok", revision="v9", role="judge")


def test_a_cached_hub_judge_passes_the_check_while_the_hub_is_down(hub, tiny_model_dir):
    seed_judge(hub, tiny_model_dir, "s2r/judge-cached")
    _, identity = resolve_judge("s2r/judge-cached")
    assert identity == f"s2r/judge-cached@{hub.commits('s2r/judge-cached', repo_type='model')[0].oid}"
    hub.inject_disconnect("/api/models/", times=100)
    check_model_reachable("s2r/judge-cached", role="judge")  # served from the cache, as loading it would be
    with pytest.raises(ModelError, match=r"could not fetch the judge 's2r/judge-uncached'.*cannot be reached"):
        check_model_reachable("s2r/judge-uncached", role="judge")


# ---- A Hub that cannot be reached: a fresh process, the environment set before import -----------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens there once the socket is closed: connection refused


def run_cli(argv: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
        "HF_HOME": str(tmp_path / "empty_hf_home"),  # nothing cached
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "s2r_hf.cli", *argv], env=environment, capture_output=True, text=True, timeout=300
    )


def assert_one_line(run: subprocess.CompletedProcess, prefix: str) -> str:
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, run.stderr[-3000:]
    assert not [line for line in run.stderr.splitlines() if "error" in line.lower() and line not in lines]
    return lines[0]


@pytest.mark.parametrize("where", ["offline", "refused"])
def test_a_hub_judge_that_cannot_be_reached(tmp_path, pool_file, where):
    env = {"HF_HUB_OFFLINE": "1"} if where == "offline" else {"HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}"}
    argv = ["score", str(pool_file), "-o", str(tmp_path / "out"), "--difficulty", "judge", "--judge", "s2r/judge"]
    line = assert_one_line(run_cli(argv, tmp_path, **env), "s2r score: error: ")
    assert "could not fetch the judge 's2r/judge'" in line
    if where == "offline":
        assert "HF_HUB_OFFLINE is set and no copy of it is cached" in line
    else:
        assert "cannot be reached" in line and "Connection refused" in line
    assert not (tmp_path / "out").exists()


def test_train_judge_with_an_unreachable_hub_base_model(tmp_path, pool_file):
    argv = ["train-judge", str(pool_file), "-o", str(tmp_path / "judge"), "--base-model", "s2r/base"]
    run = run_cli(argv, tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    line = assert_one_line(run, "s2r train-judge: error: ")
    assert "could not fetch the base model 's2r/base'" in line and "Connection refused" in line
    assert not (tmp_path / "judge").exists()


# ---- python -m s2r_hf.signals.judge.distributed
# --------------------------------------------------------------------------


def test_distributed_merge_errors_are_one_line(tiny_model_dir, tmp_path, capsys):
    from datasets import Dataset

    pool = make_pool(random_questions(6, seed=2), tmp_path / "pool")
    out = tmp_path / "shards"
    config = JudgeConfig(model=str(tiny_model_dir))

    def merge_error(*argv: str) -> str:
        capsys.readouterr()  # progress bars of the steps before
        merge = ["merge", "--pool", str(tmp_path / "pool"), "--out", str(out), *argv]
        assert distributed.main(merge) == 2
        return one_line_error(capsys, "python -m s2r_hf.signals.judge.distributed merge: error: ")

    assert "2 of 2 shards are missing" in merge_error("--world-size", "2")
    distributed.score_shard(pool, config, out, rank=0, world_size=2)
    assert "1 of 2 shards are missing" in merge_error("--world-size", "2")
    line = merge_error("--world-size", "3")
    assert "difficulty-00000-of-00002.parquet" in line and "another world size" in line

    # A shard of another judge setting is foreign to this run.
    other = JudgeConfig(model=str(tiny_model_dir), system_prompt="Hard? 1/0")
    distributed.score_shard(pool, other, out, rank=1, world_size=2)
    assert "come from different runs" in merge_error("--world-size", "2")

    # A damaged shard file is named, not a pyarrow traceback; its rank scores it again.
    distributed.shard_path(out, 1, 2).write_bytes(b"PAR1 not really")
    assert "difficulty-00001-of-00002.parquet cannot be read" in merge_error("--world-size", "2")
    distributed.score_shard(pool, config, out, rank=1, world_size=2)
    merge = ["merge", "--pool", str(tmp_path / "pool"), "--out", str(out), "--world-size", "2"]
    assert distributed.main([*merge, "--output", str(tmp_path / "scored")]) == 0
    scored = Dataset.load_from_disk(tmp_path / "scored")
    assert scored[ID] == pool[ID] and len(scored[DIFFICULTY]) == 6

    assert "world_size must be a positive integer" in merge_error("--world-size", "0")
    capsys.readouterr()
    assert distributed.main(["merge", "--pool", str(tmp_path / "nope"), "--out", str(out), "--world-size", "2"]) == 2
    assert "does not exist" in one_line_error(capsys, "python -m s2r_hf.signals.judge.distributed merge: error: ")


def test_distributed_score_refuses_bad_settings_before_loading_the_pool(tmp_path, capsys):
    argv = ["score", "--pool", str(tmp_path / "nope"), "--out", str(tmp_path / "s"), "--dtype", "int8"]
    assert distributed.main(argv) == 2
    assert "dtype must be one of" in one_line_error(capsys, "python -m s2r_hf.signals.judge.distributed score: error: ")


def test_registered_scorer_offers_the_check(tiny_model_dir):
    JudgeDifficulty(model=str(tiny_model_dir)).check_reachable()
    with pytest.raises(ModelError, match="does not exist"):
        JudgeDifficulty(model="/no/judge/here")


def test_loaded_judge_checks_its_budgets(tiny_model_dir):
    from s2r_hf.signals.judge.model import LoadedJudge

    judge = LoadedJudge.load(str(tiny_model_dir))
    with pytest.raises(InputError, match="batch_tokens must be a positive integer, got 0"):
        judge.score(["What is 2 + 2?"], batch_tokens=0)
    # Before: max_question_tokens=0 "cut" every question to all of its text and flagged it as cut.
    with pytest.raises(InputError, match="max_question_tokens must be a positive integer, got 0"):
        judge.score(["What is 2 + 2?"], max_question_tokens=0)
    assert judge.score(["What is 2 + 2?"], max_question_tokens=1).truncated == [True]
