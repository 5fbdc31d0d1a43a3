"""Issue 16, case 1: `s2r train --hub_token T` never writes T (card, record, pickled training arguments, logs), and a
checkpoint push that failed makes the run fail in one line.

One real tiny run (2 steps) with the push_to_hub_revision callback against the loopback Hub, given a token the Hub does
not know: every file the run left is searched for the token's bytes, and the refused pushes must end the run non-zero.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os

import pytest
from fixtures.hub_server import DEFAULT_TOKEN
from fixtures.training import train_argv

from s2r_hf.cli import main
from s2r_hf.core.redaction import REDACTED

pytestmark = pytest.mark.slow

TOKEN = "hf_" + "Zk4" * 11 + "q"  # shaped like a real user token (hf_ + 34)
USER = "secret-user"  # whom TOKEN belongs to on the loopback Hub, and no other token
REPO = f"{USER}/tiny-secret"


def files_holding(folder, needle: bytes) -> list[str]:
    """Every file under `folder` (binary ones included: checkpoints, pickles) whose bytes contain `needle`."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                if needle in handle.read():
                    found.append(os.path.relpath(path, folder))
    return found


@contextlib.contextmanager
def token_of_its_own_user(hub):
    """TOKEN known to the loopback Hub as USER's (a user of its own: the Hub's log then shows which token was used)."""
    hub.state.tokens[TOKEN] = USER
    hub.state.user_names.add(USER)
    try:
        yield
    finally:
        hub.state.tokens.pop(TOKEN, None)
        hub.state.user_names.discard(USER)


@pytest.fixture(scope="module")
def secret_run(tmp_path_factory, tiny_model_dir, real_subset_dir, hub_session):
    """`s2r train ... --hub_token TOKEN --callbacks selection_report push_to_hub_revision`, 2 steps, one checkpoint per
    step, the Hub refusing both checkpoint commits (403): the exit code, output folder, stderr, logs, what HF_TOKEN
    held after the run, and the Hub's request log."""
    hub_session.reset()
    hub_session.inject_fault(403, "/commit/", method="POST", times=2)
    output = tmp_path_factory.mktemp("secret-train") / "out"
    argv = train_argv(tiny_model_dir, real_subset_dir, output, "--max_steps", "2", "--save_steps", "1")
    argv += ["--callbacks", "selection_report", "push_to_hub_revision", "--hub_model_id", REPO]
    argv += ["--hub_token", TOKEN]
    patch = pytest.MonkeyPatch()
    patch.setenv("HF_TOKEN", DEFAULT_TOKEN)
    stderr, log = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    try:
        with token_of_its_own_user(hub_session), contextlib.redirect_stderr(stderr):
            code = main(argv)
        token_after = os.environ.get("HF_TOKEN")
    finally:
        logging.getLogger().removeHandler(handler)
        patch.undo()
        hub_session.clear_faults()
    return {
        "code": code,
        "output": output,
        "stderr": stderr.getvalue(),
        "log": log.getvalue(),
        "env": token_after,
        "requests": hub_session.requests,
    }


def test_no_file_of_the_run_holds_the_token(secret_run):
    output = secret_run["output"]
    assert (output / "model.safetensors").is_file() and (output / "checkpoint-2" / "training_args.bin").is_file()
    assert files_holding(output, TOKEN.encode()) == []
    assert TOKEN not in secret_run["log"] and TOKEN not in secret_run["stderr"]


def test_the_card_and_the_record_show_the_command_redacted(secret_run):
    output = secret_run["output"]
    record = json.loads((output / "s2r_training.json").read_text(encoding="utf-8"))
    assert f"--hub_token {REDACTED}" in record["command"] and f"--hub_model_id {REPO}" in record["command"]
    assert f"--hub_token {REDACTED}" in (output / "README.md").read_text(encoding="utf-8")


def test_the_pickled_training_arguments_hold_no_token(secret_run):
    import torch

    args = torch.load(secret_run["output"] / "training_args.bin", weights_only=False)
    assert args.hub_token is None and args.hub_model_id == REPO


def test_the_token_reached_the_pushes_through_the_environment(secret_run):
    # The token check before training and both pushes were made with TOKEN (USER's), not the HF_TOKEN set before;
    # afterwards the caller's HF_TOKEN is as it was (a Python caller's environment is not changed by the run).
    assert secret_run["env"] == DEFAULT_TOKEN
    whoami = [(request.user, request.status) for request in secret_run["requests"] if "whoami" in request.path]
    assert whoami == [(USER, 200)] * 3
    commits = [(request.user, request.status) for request in secret_run["requests"] if "/commit/" in request.path]
    assert commits == [(USER, 403)] * 2


def test_refused_checkpoint_pushes_make_the_run_fail_in_one_line(secret_run):
    assert secret_run["code"] == 2
    lines = [line for line in secret_run["stderr"].splitlines() if line.startswith("s2r train:")]
    assert secret_run["stderr"].strip().splitlines()[-1] == lines[0]  # the last thing said, and said once
    assert len(lines) == 1 and lines[0].startswith(f"s2r train: error: the push of 2 checkpoint(s) to {REPO} failed")
    assert "branches step-000000001, step-000000002" in lines[0] and "403" in lines[0]
    assert f"stay saved in {str(secret_run['output'])!r}" in lines[0] and "publish_model(" in lines[0]
    record = json.loads((secret_run["output"] / "s2r_training.json").read_text(encoding="utf-8"))
    assert record["status"] == "finished"  # the model is saved whole; only its pushes failed


def test_a_token_inside_another_option_is_refused_before_any_work(tmp_path, tiny_model_dir, real_subset_dir, capsys):
    # Every option is pickled into training_args.bin; only --hub_token is taken out, so a token elsewhere is refused.
    output = tmp_path / "out"
    command = f"{{python}} -m s2r_hf.cli evaluate {{checkpoint}} -o {{output}} --push-to-hub --token {TOKEN}"
    argv = train_argv(tiny_model_dir, real_subset_dir, output, "--callbacks", "evaluate", "--benchmarks", "math500")
    argv += ["--eval_command", command]
    assert main(argv) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("s2r train: error: --eval_command holds a Hub token") and "HF_TOKEN" in line
    assert TOKEN not in line and not output.exists()


def test_a_token_the_hub_rejects_is_refused_before_any_work(tmp_path, tiny_model_dir, real_subset_dir, hub, capsys):
    output = tmp_path / "out"
    argv = train_argv(tiny_model_dir, real_subset_dir, output, "--callbacks", "push_to_hub_revision")
    argv += ["--hub_model_id", REPO, "--hub_token", TOKEN]  # TOKEN is unknown to the Hub here
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_TOKEN", DEFAULT_TOKEN)
        assert main(argv) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("s2r train: error: push_to_hub_revision: checking the token with") and "401" in line
    assert TOKEN not in line and not output.exists()
    assert [request.path for request in hub.requests] == ["/api/whoami-v2"]
