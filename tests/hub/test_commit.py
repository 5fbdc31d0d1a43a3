"""s2r_hf.hub.commit, the commit engine, driven directly on model repos (and one dataset repo) of the loopback Hub.

The real huggingface_hub client talks to the server; nothing is patched. Results and checkpoints will be committed
through this engine, so it is tested on the repo type subsets never use.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from fixtures.hub_server import DEFAULT_TOKEN, DEFAULT_USER

from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.commit import CommitPlan, commit_files
from s2r_hf.hub.retry import RetryPolicy

FAST = RetryPolicy(attempts=3, base_delay=0.0)
REPO = "s2r/tiny-judge"
WEIGHTS = bytes(range(256)) * 64  # stored through LFS (*.bin), compared by sha256
CONFIG = json.dumps({"model_type": "qwen2", "hidden_size": 32}, indent=2).encode()  # a regular file: git blob id


def commit_posts(hub) -> list[int]:
    return [r.status for r in hub.requests if r.method == "POST" and "/commit/" in r.path]


def checkpoint(tmp_path, weights: bytes = WEIGHTS) -> dict:
    """A checkpoint as a trainer leaves it: files on disk, plus a file made in memory."""
    (tmp_path / "pytorch_model.bin").write_bytes(weights)
    (tmp_path / "config.json").write_bytes(CONFIG)
    return {
        "pytorch_model.bin": tmp_path / "pytorch_model.bin",
        "config.json": str(tmp_path / "config.json"),
        "trainer_state.json": b'{"global_step": 10}\n',
    }


def test_model_repo_commit_then_identical_commit_is_a_no_op(hub, tmp_path):
    from huggingface_hub import hf_hub_download

    files = checkpoint(tmp_path)
    result = commit_files(REPO, files, repo_type="model", message="Add the judge")

    assert result.changed and result.repo_type == "model"
    assert result.url == f"{hub.url}/{REPO}"  # model repos have no /models/ prefix
    assert result.commit == hub.commits(REPO, repo_type="model")[0].oid
    assert result.added == ("config.json", "pytorch_model.bin", "trainer_state.json")
    assert hub.files(REPO, repo_type="model") == {
        ".gitattributes": hub.files(REPO, repo_type="model")[".gitattributes"],
        "pytorch_model.bin": WEIGHTS,
        "config.json": CONFIG,
        "trainer_state.json": b'{"global_step": 10}\n',
    }
    assert hub.repo(REPO, repo_type="model").lfs_objects  # the weights went through LFS
    with open(hf_hub_download(REPO, "pytorch_model.bin"), "rb") as handle:
        assert handle.read() == WEIGHTS
    commit = hub.commits(REPO, repo_type="model")[0]
    assert commit.title == "Add the judge"
    assert "Added:\n- config.json (" in commit.message and "- trainer_state.json (20 bytes)" in commit.message

    hub.clear_requests()
    # The same content again, the in-memory file now given as a file on disk: LFS sha256 and git blob ids match.
    (tmp_path / "state.json").write_bytes(b'{"global_step": 10}\n')
    again = commit_files(REPO, {**files, "trainer_state.json": tmp_path / "state.json"}, repo_type="model")
    assert not again.changed and again.commit == result.commit and again.added == ()
    assert commit_posts(hub) == []
    assert len(hub.commits(REPO, repo_type="model")) == 2  # the initial commit and ours


def test_only_changed_files_are_sent_and_the_message_builder_sees_the_plan(hub, tmp_path):
    commit_files(REPO, checkpoint(tmp_path), repo_type="model")
    seen: list[CommitPlan] = []

    def message(plan: CommitPlan) -> tuple[str, str]:
        seen.append(plan)
        old = json.loads(plan.read_remote("trainer_state.json"))
        return f"step {old['global_step']} -> 20", "more training"

    files = {**checkpoint(tmp_path, weights=WEIGHTS[::-1]), "trainer_state.json": b'{"global_step": 20}\n'}
    result = commit_files(REPO, files, repo_type="model", message=message)

    (plan,) = seen
    assert (plan.added, plan.updated, plan.deleted) == ((), ("pytorch_model.bin", "trainer_state.json"), ())
    assert plan.repo_type == "model" and plan.parent_commit == hub.commits(REPO, repo_type="model")[1].oid
    assert not plan.first_commit
    assert result.updated == ("pytorch_model.bin", "trainer_state.json") and result.message == "step 10 -> 20"
    head = hub.commits(REPO, repo_type="model")[0]
    assert (head.title, head.message) == ("step 10 -> 20", "more training")
    assert hub.files(REPO, repo_type="model")["pytorch_model.bin"] == WEIGHTS[::-1]


def test_checkpoint_to_a_new_branch_leaves_main_alone(hub, tmp_path):
    commit_files(REPO, checkpoint(tmp_path), repo_type="model")
    main_head = hub.commits(REPO, repo_type="model")[0].oid
    step = {"checkpoint/step-20.bin": b"weights at step 20", "checkpoint/old.bin": b"stale"}
    commit_files(REPO, step, repo_type="model", revision="checkpoints", create_branch=True)

    result = commit_files(
        REPO,
        {"checkpoint/step-30.bin": b"weights at step 30"},
        repo_type="model",
        revision="checkpoints",
        delete=("checkpoint/*",),
    )

    assert result.url == f"{hub.url}/{REPO}/tree/checkpoints"
    assert result.deleted == ("checkpoint/old.bin", "checkpoint/step-20.bin")
    branch = hub.files(REPO, revision="checkpoints", repo_type="model")
    expected = ["checkpoint/step-30.bin", "config.json", "pytorch_model.bin", "trainer_state.json"]
    assert sorted(branch) == [".gitattributes", *expected]
    assert hub.commits(REPO, repo_type="model")[0].oid == main_head
    assert [c.parent for c in hub.commits(REPO, revision="checkpoints", repo_type="model")][-3] == main_head


def test_a_missing_branch_is_an_error_unless_asked_to_create_it(hub):
    commit_files(REPO, {"a.txt": b"a"}, repo_type="model")
    with pytest.raises(PublishError) as caught:
        commit_files(REPO, {"a.txt": b"b"}, repo_type="model", revision="release", retry=FAST)
    message = str(caught.value)
    assert "branch 'release' does not exist in s2r/tiny-judge (its branches: ['main'])" in message
    assert "create_branch=True" in message and "repo_type='model'" in message
    assert commit_posts(hub) == [200]


def test_delete_and_keep_patterns_decide_what_else_goes(hub):
    seed = {"results/math_500.json": b"1", "results/aime24.json": b"2", "results/notes.md": b"3", "data/x.txt": b"4"}
    hub.seed_repo("s2r/evals", owner=DEFAULT_USER, repo_type="dataset", files=seed)

    result = commit_files(
        "s2r/evals",
        {"results/math_500.json": b"1 (again)"},
        delete=("results/*",),
        keep=("results/*.md",),
    )

    assert result.updated == ("results/math_500.json",) and result.deleted == ("results/aime24.json",)
    expected = ["data/x.txt", "results/math_500.json", "results/notes.md"]
    assert sorted(hub.files("s2r/evals")) == [".gitattributes", *expected]
    # delete=("*",): the repo holds exactly the files given, and the Hub's .gitattributes
    commit_files("s2r/evals", {"only.txt": b"x"}, delete=("*",))
    assert sorted(hub.files("s2r/evals")) == [".gitattributes", "only.txt"]
    # nothing to delete and nothing new: no commit
    assert not commit_files("s2r/evals", {}, delete=("results/*",)).changed


def test_an_empty_commit_is_not_made_and_a_new_repo_is_still_created(hub):
    result = commit_files("s2r/empty-model", {}, repo_type="model", private=True)
    assert not result.changed and result.commit == hub.commits("s2r/empty-model", repo_type="model")[0].oid
    assert hub.repo("s2r/empty-model", repo_type="model").private


@pytest.mark.parametrize(
    ("files", "kwargs", "match"),
    [
        ({"../escape.bin": b"x"}, {}, r"repo paths are relative posix paths.*'\.\./escape\.bin'"),
        ({"/abs.bin": b"x"}, {}, "repo paths are relative posix paths"),
        ({"a.bin": 3}, {}, r"'a\.bin' maps to a int; give a local file path or the content as bytes"),
        ({"a.bin": "/no/such/file"}, {}, r"'a\.bin' maps to '/no/such/file', which is not a file"),
        ({}, {"repo_type": "models"}, r"repo_type must be one of \['model', 'dataset', 'space'\], got 'models'"),
        ({}, {"delete": "*"}, r"delete takes a sequence of patterns, e.g. \('\*',\)"),
        ({}, {"keep": [None]}, r"keep patterns are strings \(e.g. 'results/\*'\), got \[None\]"),
        (["a.bin"], {}, r"files maps repo paths to local paths or bytes, got a list"),
        ({".git/config": b"x"}, {}, r"\(e\.g\. 'data/x\.parquet'; not under \.git\), got '\.git/config'"),
        ({}, {"delete": None}, r"delete takes a sequence of glob patterns, e\.g\. \('results/\*',\), got None"),
        ({}, {"private": "yes"}, r"private must be True or False, got 'yes' \(str\)"),
        ({}, {"token": 3}, r"token must be a string \(a Hub token\) or None, got a int"),
        ({}, {"retry": {"attempts": 1}}, r"retry must be a RetryPolicy \(s2r_hf\.RetryPolicy\(.*got dict"),
        ({}, {"create_branch": "yes"}, r"create_branch must be True or False, got 'yes'"),
        ({}, {"message": 3}, r"message must be a string or a function of the plan, got int"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(hub, files, kwargs, match):
    with pytest.raises(InputError, match=match):
        commit_files(REPO, files, **kwargs)
    assert hub.requests == []


def test_a_message_function_must_return_title_and_description(hub):
    with pytest.raises(InputError, match=r"returns \(title, description\), two strings; it returned 'just a title'"):
        commit_files(REPO, {"a.txt": b"x"}, message=lambda plan: "just a title")
    assert "a.txt" not in hub.files(REPO)  # the repo was created, but nothing was committed


def test_bad_repo_id_and_retry_policy():
    with pytest.raises(InputError, match="repo_id must look like 'namespace/name'"):
        commit_files("no-namespace", {})
    with pytest.raises(InputError, match="attempts must be an integer >= 1, got 0"):
        RetryPolicy(attempts=0)
    with pytest.raises(InputError, match="base_delay must be a number of seconds >= 0, got nan"):
        RetryPolicy(base_delay=float("nan"))
    with pytest.raises(InputError, match="max_delay must be a number of seconds >= 0, got '30'"):
        RetryPolicy(max_delay="30")
    assert RetryPolicy(attempts=np.int64(2)).attempts == 2 and type(RetryPolicy(attempts=np.int64(2)).attempts) is int
    assert [RetryPolicy(base_delay=1.0, max_delay=5.0).delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


# -- the token ---------------------------------------------------------------------------------------------------------


def test_missing_token(hub, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(PublishError, match=r"no Hugging Face token found.*--token on the command line, token= in"):
        commit_files(REPO, {"a.txt": b"a"}, repo_type="model")
    assert hub.requests == []


def test_invalid_token_is_not_retried_nor_shown(hub):
    with pytest.raises(PublishError) as caught:
        commit_files(REPO, {"a.txt": b"a"}, repo_type="model", token="hf_revoked_token_value", retry=FAST)
    message = str(caught.value)
    assert "rejected the token" in message and "401" in message and f"{hub.url}/settings/tokens" in message
    assert "hf_revoked_token_value" not in message
    assert [r.status for r in hub.requests] == [401]


def test_files_holding_the_token_are_refused_before_any_write(hub):
    with pytest.raises(PublishError) as caught:
        commit_files(REPO, {"ok.txt": b"fine", "leak.txt": b"token=" + DEFAULT_TOKEN.encode()}, repo_type="model")
    assert "leak.txt contain(s) the Hub token" in str(caught.value) and DEFAULT_TOKEN not in str(caught.value)
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]


def test_any_hub_token_shaped_content_is_refused_whichever_token_pushes(hub, tmp_path):
    # A token split across two of the 8 MiB chunks the scan reads is found too.
    foreign = b"hf_" + b"aB3" * 11 + b"z"
    big = tmp_path / "weights.bin"
    big.write_bytes(b"\0" * (8 * 1024 * 1024 - 10) + foreign + b"\0" * 64)
    names = {"hf_hub_download": b"from huggingface_hub import hf_hub_download  # hf_transfer too"}
    with pytest.raises(PublishError) as caught:
        commit_files(
            REPO,
            {"ok.txt": names["hf_hub_download"], "weights.bin": big, "note.md": b"x " + foreign},
            repo_type="model",
        )
    message = str(caught.value)
    assert "note.md, weights.bin contain(s) a Hub token" in message and "ok.txt" not in message
    assert foreign.decode() not in message and "Nothing was uploaded" in message
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]
    # Names that merely start with hf_ are not tokens: the same push without the token-shaped files goes through.
    assert commit_files(REPO, {"ok.txt": names["hf_hub_download"]}, repo_type="model").changed


# -- namespaces and answers the Hub gives ------------------------------------------------------------------------------


def test_model_repo_owned_by_someone_else(hub):
    hub.seed_repo("other-org/taken", owner="someone-else", repo_type="model")
    doing = {"other-org/taken": "committing to other-org/taken@main", "other-org/fresh": "creating the model repo"}
    for repo_id in ("other-org/taken", "other-org/fresh"):
        with pytest.raises(PublishError) as caught:
            commit_files(repo_id, {"a.txt": b"a"}, repo_type="model", retry=FAST)
        message = str(caught.value)
        assert message.startswith(doing[repo_id]) and f"s2r-tester may not write to {repo_id}:" in message
        assert "namespace 'other-org' belongs to someone else" in message and "403" in message
        assert f"e.g. {DEFAULT_USER}/{repo_id.split('/')[1]}" in message
    assert len(hub.commits("other-org/taken", repo_type="model")) == 1
    with pytest.raises(KeyError):
        hub.repo("other-org/fresh", repo_type="model")


def test_org_where_the_user_may_only_read(hub):
    with pytest.raises(PublishError) as caught:
        commit_files("read-only-org/judge", {"a.txt": b"a"}, repo_type="model", retry=FAST)
    message = str(caught.value)
    assert "s2r-tester is a member of 'read-only-org' but may not write to read-only-org/judge" in message
    assert "403" in message and "write role" in message


def test_namespace_that_does_not_exist(hub):
    with pytest.raises(PublishError, match=r"namespace 'nobody-org' does not exist.*404.*\['s2r-tester', 's2r'\]"):
        commit_files("nobody-org/judge", {"a.txt": b"a"}, repo_type="model", retry=FAST)


def test_concurrent_push_412_is_reported_not_retried(hub):
    hub.inject_fault(412, "/commit/", times=5)
    with pytest.raises(PublishError, match=r"s2r/tiny-judge@main changed while publishing.*412.*re-run"):
        commit_files(REPO, {"a.txt": b"a"}, repo_type="model", retry=FAST)
    assert commit_posts(hub) == [412]
    assert len(hub.commits(REPO, repo_type="model")) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retryable_answers_are_retried_then_succeed(hub, status, caplog):
    hub.inject_fault(status, "/commit/", times=2)
    with caplog.at_level(logging.WARNING, logger="s2r_hf.hub.retry"):
        result = commit_files(REPO, {"a.txt": b"a"}, repo_type="model", retry=FAST)
    assert result.changed
    assert commit_posts(hub) == [status, status, 200]
    assert len(hub.commits(REPO, repo_type="model")) == 2  # exactly one commit of ours
    assert f"HTTP {status}; retrying" in caplog.text


def test_a_commit_whose_answer_was_lost_is_not_made_twice(hub):
    hub.inject_fault(504, "/commit/", after=True)  # the commit lands, the client sees a gateway timeout
    result = commit_files(REPO, {"a.txt": b"a"}, repo_type="model", message="first", retry=FAST)
    assert commit_posts(hub) == [504]  # the retry compared again and found the content there
    commits = hub.commits(REPO, repo_type="model")
    assert len(commits) == 2
    assert result.changed and result.commit == commits[0].oid and result.message == commits[0].title == "first"


def test_dropped_connections_are_retried(hub):
    hub.inject_disconnect("/revision/main", times=1)
    result = commit_files(REPO, {"a.txt": b"a"}, repo_type="model", retry=FAST)
    assert result.changed
    assert [r.status for r in hub.requests if "/revision/main" in r.path] == [0, 200]


def test_persistent_server_errors_give_up_with_a_clear_error(hub):
    hub.inject_fault(500, "/commit/", times=100)
    with pytest.raises(PublishError, match=r"failed 3 times; the last answer was HTTP 500.*try again later"):
        commit_files(REPO, {"a.txt": b"a"}, repo_type="model", retry=FAST)
    assert commit_posts(hub) == [500, 500, 500]


def test_other_client_errors_are_not_retried(hub):
    hub.inject_fault(422, "/commit/", times=5)
    with pytest.raises(PublishError, match=r"the Hub answered 422 \(injected fault: 422\)\. This is not retryable"):
        commit_files(REPO, {"a.txt": b"a"}, repo_type="model", retry=FAST)
    assert commit_posts(hub) == [422]
