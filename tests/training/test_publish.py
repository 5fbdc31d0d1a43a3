"""s2r_hf.training.publish.publish_model against the loopback Hub: a finished `s2r train` folder becomes a model repo
the
real clients load; checkpoints, optimizer state and evaluation runs stay behind; a re-publish is no commit."""

from __future__ import annotations

import json

import pytest

from s2r_hf.core.cards import split_card
from s2r_hf.core.errors import InputError, PublishError
from s2r_hf.hub.commit import commit_files
from s2r_hf.training.publish import publish_model

REPO = "s2r/tiny-joint"


def test_a_finished_model_round_trips_without_its_checkpoints(hub, write_model_folder):
    from huggingface_hub import snapshot_download
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = write_model_folder("joint")
    result = publish_model(folder, REPO)
    assert result.changed and result.url.endswith(f"/{REPO}")
    files = hub.files(REPO, repo_type="model")
    assert {"config.json", "model.safetensors", "README.md", "s2r_training.json", "tokenizer_config.json"} <= set(files)
    assert not [path for path in files if path.startswith(("checkpoint-", "s2r_eval")) or "optimizer" in path]
    assert files["s2r_training.json"] == (folder / "s2r_training.json").read_bytes()
    metadata, _ = split_card(files["README.md"].decode())
    assert metadata["s2r"]["kind"] == "s2r_training" and metadata["s2r"]["status"] == "finished"

    local = snapshot_download(REPO)
    assert AutoModelForCausalLM.from_pretrained(local).config.num_hidden_layers == 2
    assert AutoTokenizer.from_pretrained(local).vocab_size > 0

    again = publish_model(folder, REPO)
    assert not again.changed and again.commit == result.commit
    assert len(hub.commits(REPO, repo_type="model")) == 2  # the repo's initial commit and the publish


def test_files_the_folder_lost_are_deleted_and_the_model_index_kept(hub, write_model_folder):
    folder = write_model_folder("joint")
    (folder / "notes.txt").write_text("old notes")
    publish_model(folder, REPO)
    # an evaluation pushed into the card since (as s2r_hf.evaluation.publish does)
    card = hub.files(REPO, repo_type="model")["README.md"].decode()
    metadata, body = split_card(card)
    metadata["model-index"] = [{"name": "joint", "results": [{"dataset": {"type": "math500"}, "metrics": []}]}]
    import yaml

    front = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    commit_files(REPO, {"README.md": f"---\n{front}---\n\n{body.lstrip()}".encode()}, repo_type="model")

    (folder / "notes.txt").unlink()
    result = publish_model(folder, REPO)
    assert result.deleted == ("notes.txt",) and "README.md" not in result.updated
    metadata, _ = split_card(hub.files(REPO, repo_type="model")["README.md"].decode())
    assert metadata["model-index"][0]["results"][0]["dataset"]["type"] == "math500"
    assert not publish_model(folder, REPO).changed


def test_an_unfinished_run_and_other_folders_are_refused(hub, write_model_folder, tmp_path):
    running = write_model_folder("running", status="running")
    with pytest.raises(InputError, match=r"not finished .*status 'running'"):
        publish_model(running, REPO)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text("{}")
    with pytest.raises(InputError, match="not an output folder of `s2r train`"):
        publish_model(plain, REPO)
    (plain / "s2r_training.json").write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(InputError, match="not an s2r training record"):
        publish_model(plain, REPO)
    with pytest.raises(InputError, match="not a folder"):
        publish_model(tmp_path / "missing", REPO)
    with pytest.raises(InputError, match="namespace/name"):
        publish_model(running, "no-namespace")
    assert not [request for request in hub.requests if request.method == "POST"]  # nothing was sent


def test_a_repo_s2r_did_not_fill_is_not_emptied(hub, write_model_folder):
    hub.seed_repo(REPO, owner="s2r-tester", repo_type="model", files={"weights.bin": b"someone's model"})
    with pytest.raises(InputError, match=r"did not publish .*weights\.bin"):
        publish_model(write_model_folder("joint"), REPO)
    assert hub.files(REPO, repo_type="model")["weights.bin"] == b"someone's model"


def test_a_link_in_the_folder_is_refused(hub, write_model_folder, tmp_path):
    folder = write_model_folder("joint")
    (tmp_path / "secret.txt").write_text("not the model")
    (folder / "extra.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(InputError, match="symbolic link"):
        publish_model(folder, REPO)


def test_a_model_folder_holding_another_token_is_refused_before_any_upload(hub, write_model_folder):
    # Issue 16, case 1: the folder of `s2r train --hub_token T` held T in its card, record and pickled arguments, and a
    # publish with another token (HF_TOKEN) uploaded all three: the guard looked only for the push's own token.
    import pickle

    foreign = "hf_" + "Q7x" * 12  # shaped like a Hub token, and not the one this push uses
    folder = write_model_folder("joint")
    card = (folder / "README.md").read_text(encoding="utf-8")
    (folder / "README.md").write_text(card.replace("status: finished", f"status: finished # {foreign}"), "utf-8")
    record = json.loads((folder / "s2r_training.json").read_text(encoding="utf-8"))
    record["command"] = f"s2r train --hub_token {foreign}"
    (folder / "s2r_training.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "training_args.bin").write_bytes(pickle.dumps({"hub_token": foreign, "padding": b"\0" * 100}))

    with pytest.raises(PublishError) as caught:
        publish_model(folder, REPO)
    message = str(caught.value)
    assert "README.md, s2r_training.json, training_args.bin contain(s) a Hub token" in message
    assert "config.json" not in message and foreign not in message
    assert [r.path for r in hub.requests] == ["/api/whoami-v2"]  # nothing created, nothing uploaded
    assert not any(foreign.encode() in stored for stored in hub.all_stored_bytes())
