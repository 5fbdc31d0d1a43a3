"""The one rule for secrets: which names and values are secrets, and that redaction keeps everything else."""

from __future__ import annotations

import pytest

from s2r_hf.redaction import REDACTED, find_hub_tokens, is_secret_name, redact, redact_argv, redact_command

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
