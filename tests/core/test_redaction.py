"""The one rule for secrets: which names and values are secrets, and that redaction keeps everything else."""

from __future__ import annotations

import pytest

from s2r_hf.core.redaction import REDACTED, find_hub_tokens, is_secret_name, redact, redact_argv, redact_command

TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"


@pytest.mark.parametrize(
    "name",
    [
        "--hub_token", "token", "HF_TOKEN", "hub-token", "train.overrides.hub_token", "db_password", "api-key",
        "token_of_the_hub", "eos_password", "access_token_id_secret",
    ],
)  # fmt: skip
def test_names_of_secrets(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_new_tokens", "tokenizer", "tokens_trained", "num_tokens", "keyword", "hub_model_id",
        # a piece of text or a measure of tokens, not a credential: what s2r's records and TRL's options hold
        "token_share", "token_counts", "eos_token", "--pad_token", "train.overrides.eos_token", "token_type_ids",
    ],
)  # fmt: skip
def test_names_that_are_not_secrets(name):
    assert not is_secret_name(name)


def test_argv_redacts_every_form_of_secret_option_and_token_shaped_words():
    argv = ["s2r", "train", "--hub_token", "plain", "--token=plain", "--max_new_tokens", "64"]
    argv += ["--set", "train.overrides.hub_token=plain", "--note", f"see{TOKEN}", "--tokenizer", "gpt2"]
    assert redact_argv(argv) == [
        "s2r", "train", "--hub_token", REDACTED, f"--token={REDACTED}", "--max_new_tokens", "64",
        "--set", f"train.overrides.hub_token={REDACTED}", "--note", f"see{REDACTED}", "--tokenizer", "gpt2",
    ]  # fmt: skip


def test_command_line_stays_pasteable():
    assert redact_command(f"s2r evaluate m --token {TOKEN} -o 'a b'") == f"s2r evaluate m --token {REDACTED} -o 'a b'"
    assert redact_command(f"unbalanced ' {TOKEN}") == f"unbalanced ' {REDACTED}"
    assert redact_command(None) is None


def test_records_keep_their_shape():
    record = {
        "hub_token": "plain",
        "max_new_tokens": 5,
        "push_token": None,
        "command": "s2r train --hub_token plain",
        "argv": ["--token", "plain"],
        "nested": [{"password": "p", "tokens": 3}, TOKEN],
    }
    assert redact(record) == {
        "hub_token": REDACTED,
        "max_new_tokens": 5,
        "push_token": None,
        "command": f"s2r train --hub_token {REDACTED}",
        "argv": ["--token", REDACTED],
        "nested": [{"password": REDACTED, "tokens": 3}, REDACTED],
    }


def test_scan_finds_a_token_split_across_chunks():
    content = f"xx {TOKEN} yy".encode()
    for cut in range(len(content)):
        assert find_hub_tokens([content[:cut], content[cut:]])
    assert not find_hub_tokens([b"hf_hub_download and hf_transfer ", b"x" * 100])


def test_a_training_record_and_its_card_are_written_redacted(tmp_path):
    # The second guard behind `s2r train`'s own handling of --hub_token: whatever reaches a record is written redacted,
    # in the record and in the card (every card is rendered through the rule), and the counts stay.
    import json

    from s2r_hf.training.provenance import data_record, new_record, write_provenance

    sft = {"rows_in": 2, "rows_kept": 2, "rows_removed": 0, "tokens_kept": 10, "tokens_removed": 0, "max_length": 64}
    data = data_record(source="s", kind="folder", selection=None, selected_by=None, sft_report=sft, pool_tokens=100)
    record = new_record(
        base_model="m", data=data, command=f"s2r train --hub_token {TOKEN}", recipe={"hub_token": TOKEN, "seed": 1}
    )
    write_provenance(tmp_path, record)
    written = json.loads((tmp_path / "s2r_training.json").read_text(encoding="utf-8"))
    assert written["command"] == f"s2r train --hub_token {REDACTED}" and written["recipe"]["hub_token"] == REDACTED
    assert written["data"]["token_share"] == 0.1 and written["recipe"]["seed"] == 1
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert TOKEN not in card and f"--hub_token {REDACTED}" in card
    assert record["command"].endswith(TOKEN)  # the caller's record is not changed under it
