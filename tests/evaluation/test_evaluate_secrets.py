"""Issue 16, case 3: `s2r evaluate --token T` never writes T (results.json recorded the command whole), and a push that
is bound to fail is refused before lighteval starts, not after the whole evaluation.

The pushes go to the loopback Hub; the evaluation that runs is the scripted lighteval model on one real problem.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from fixtures.evaluation import SCRIPTED_MODEL, s2r
from fixtures.hub_server import DEFAULT_USER

from s2r_hf.core.redaction import REDACTED

TOKEN = "hf_" + "Ev7" * 11 + "x"  # shaped like a real user token (hf_ + 34)
REPO = "s2r/eval-secret"


def one_line_error(done) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("s2r evaluate: error: ")
    return lines[0]


@pytest.fixture
def token_on_the_hub(hub):
    """TOKEN, accepted by the loopback Hub as the default user's (token-shaped: the push guard scans for those)."""
    hub.state.tokens[TOKEN] = DEFAULT_USER
    yield TOKEN
    hub.state.tokens.pop(TOKEN, None)


def test_the_token_given_to_a_push_is_recorded_redacted_and_the_push_goes_through(
    token_on_the_hub, hub, tmp_path, benchmark_paths
):
    out = tmp_path / "eval"
    done = s2r(
        "evaluate", str(SCRIPTED_MODEL), "--backend", "custom", "--tasks", "math500", "--max-samples", "1",
        "--data", f"math500={benchmark_paths['math500']}", "-o", str(out),
        "--push-to-hub", "--results-repo", REPO, "--token", TOKEN,
        env={"S2R_TEST_SCRIPT": json.dumps({"math500": "oracle"}), "HF_TOKEN": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["protocol"]["command"].endswith(f"--results-repo {REPO} --token {REDACTED}")
    assert results["results"]["math500"]["pass@1"] == 1.0  # the evaluation really ran
    for root, _, names in os.walk(out):
        for name in names:
            with open(os.path.join(root, name), "rb") as handle:
                assert TOKEN.encode() not in handle.read(), os.path.join(root, name)
    assert TOKEN not in done.stdout + done.stderr
    pushed = hub.files(REPO)
    assert "README.md" in pushed and not any(TOKEN.encode() in stored for stored in hub.all_stored_bytes())


@pytest.mark.parametrize(
    ("token_env", "flags", "said"),
    [
        ({"HF_TOKEN": ""}, [], "no Hugging Face token found, and writing to the Hub needs one"),
        ({}, ["--token", "hf_" + "N0pe" * 9], "rejected the token"),
        ({}, ["--model-repo", "not a repo id"], "repo_id must look like 'namespace/name'"),
        ({"HF_HUB_OFFLINE": "1"}, [], "offline mode is on"),
    ],
    ids=["no-token", "rejected-token", "bad-repo-id", "offline"],
)
def test_a_doomed_push_is_refused_before_the_evaluation_starts(hub, tmp_path, tiny_model_dir, token_env, flags, said):
    started = time.monotonic()
    done = s2r(
        "evaluate", str(tiny_model_dir), "--tasks", "math500", "--max-samples", "1", "--max-new-tokens", "4",
        "-o", str(tmp_path / "eval"),
        "--push-to-hub", "--results-repo", REPO, *flags,
        env=token_env,
    )  # fmt: skip
    line = one_line_error(done)
    assert said in line and "hf_N0pe" not in line
    # No evaluation: nothing written beside the output (not even a staging folder), no lighteval (its import alone
    # takes about 20 seconds), and at most the token check reached the Hub.
    assert list(tmp_path.iterdir()) == []
    assert "lighteval" not in done.stderr.lower()
    assert time.monotonic() - started < 60  # a loaded machine starts Python slowly; lighteval takes longer
    assert [request.path for request in hub.requests] in ([], ["/api/whoami-v2"])
