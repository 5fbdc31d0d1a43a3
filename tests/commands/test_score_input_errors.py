"""`s2r score` on input a user can get wrong: one line on stderr, exit code 2, no traceback, before any scoring.

Hub cases run in a fresh process: HF_HUB_OFFLINE and HF_ENDPOINT are read when huggingface_hub is imported.
"""

import gzip
import json
import os
import socket
import subprocess
import sys

from s2r_hf.cli import main


def assert_one_line_error(err: str, *fragments: str) -> None:
    """The error is the last line of stderr, and the only one; progress bars and library warnings may come before."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if "error" in line.lower() or "Traceback" in line]
    assert errors == lines[-1:] and lines[-1].startswith("s2r score: error: "), err
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


def score(argv, capsys):
    code = main(["score", *argv])
    return code, capsys.readouterr().err


def test_empty_and_truncated_files(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    code, err = score([str(empty), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    assert_one_line_error(err, "empty.jsonl' is empty (0 bytes)")
    data = gzip.compress(
        b"".join(json.dumps({"question": "q" * 50, "solution": "s"}).encode() + b"\n" for _ in range(3000))
    )
    truncated = tmp_path / "pool.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    code, err = score([str(truncated), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    assert_one_line_error(err, "pool.jsonl.gz' (file): EOFError: Compressed file ended before the end-of-stream")
    assert not (tmp_path / "out").exists()


def test_messages_without_an_assistant_turn(tmp_path, capsys):
    rows = [
        {"messages": [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "t1"}]},
        {"messages": [{"role": "user", "content": "q2"}]},
        {"messages": [{"role": "assistant", "content": "t3"}]},
        {"messages": [{"role": "user", "content": None}, {"role": "assistant", "content": "t4"}]},
    ]
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(row) + "\n" for row in rows))
    code, err = score([str(pool), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    assert_one_line_error(
        err,
        "column 'messages' has 3 unusable rows of 4",
        "rows [2]: no user turn; rows [3]: a null user content (the question); rows [1]: no assistant turn",
    )


def run_cli(env_changes, tmp_path, *argv):
    env = {**os.environ, "HF_HOME": str(tmp_path / "empty_hf_home"), **env_changes}
    env.pop("HF_DATASETS_CACHE", None)
    return subprocess.run(
        [sys.executable, "-m", "s2r_hf.cli", *argv], capture_output=True, text=True, env=env, timeout=300
    )


def test_hub_source_in_offline_mode(tmp_path):
    result = run_cli({"HF_HUB_OFFLINE": "1"}, tmp_path, "score", "org/name", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert_one_line_error(
        result.stderr,
        "cannot load the Hub dataset 'org/name': offline mode is on (HF_HUB_OFFLINE=1)",
        "unset HF_HUB_OFFLINE, or pass a local copy",
    )
    # the Python API raises the project's error, which is also the ConnectionError datasets users expect
    code = (
        "from s2r_hf.core.errors import HubUnreachableError; from s2r_hf.pool.adapters import load_pool\n"
        "try:\n    load_pool('org/name')\nexcept HubUnreachableError as err:\n"
        "    print(isinstance(err, ConnectionError), err)"
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "empty_hf_home"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.startswith("True cannot load the Hub dataset 'org/name': offline mode is on"), out


# huggingface_hub retries a refused connection five times, waiting 1, 2, 4, 8 and 8 s: its retries, not ours. In the
# process of the test below they run without the waits (23 s of sleep), through this sitecustomize.
RETRY_WITHOUT_WAITING = """
import types, time
import huggingface_hub.utils._http as http

http.time = types.SimpleNamespace(**{**vars(time), "sleep": lambda seconds: None})
"""


def test_hub_source_with_the_connection_refused(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(RETRY_WITHOUT_WAITING, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(inject), os.environ.get("PYTHONPATH")]))
    result = run_cli(
        {"HF_ENDPOINT": endpoint, "PYTHONPATH": path}, tmp_path, "score", "org/name", "-o", str(tmp_path / "out")
    )
    assert result.returncode == 2
    assert_one_line_error(
        result.stderr,
        f"cannot load the Hub dataset 'org/name': the Hub at {endpoint} could not be reached",
        "Check the network (or HF_ENDPOINT)",
    )
