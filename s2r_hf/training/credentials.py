"""Hub tokens in `s2r train`: refused inside any option but --hub_token (every option is pickled into each
checkpoint), and --hub_token itself moved into HF_TOKEN while the run lasts, so that nothing saved holds it."""

from __future__ import annotations

import contextlib
import os

from s2r_hf.core.errors import InputError


def refuse_tokens_in_options(*configs) -> None:
    """Refuse, before any work, a Hub token given inside another option (`--eval_command "... --token hf_..."`,
    `--hub_model_id`): every option is pickled into each checkpoint's training_args.bin, where only --hub_token is
    taken out. The evaluation command and every push read HF_TOKEN, which --hub_token sets."""
    from dataclasses import fields, is_dataclass

    from s2r_hf.core.redaction import HUB_TOKEN

    for config in configs:
        for spec in fields(config) if is_dataclass(config) else ():
            value = getattr(config, spec.name, None)
            words = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(word, str) and HUB_TOKEN.search(word) for word in words):
                raise InputError(
                    f"--{spec.name} holds a Hub token, and every option is saved with each checkpoint "
                    "(training_args.bin); give the token with --hub_token or HF_TOKEN instead (the evaluation "
                    "command and every push read it from HF_TOKEN)"
                )


# The options of `s2r train` that carry a credential, and the environment variable that carries it instead: a
# launcher (the experiment) passes them through the environment, never on a command line that is recorded and shown.
CREDENTIAL_OPTIONS = {"hub_token": "HF_TOKEN"}


def credential_variable(option: str) -> str | None:
    """The environment variable that carries option `option` (`hub_token`, `--hub-token`: the parser takes both
    spellings) when it is a credential; None for every other option."""
    return CREDENTIAL_OPTIONS.get(str(option).lstrip("-").replace("-", "_"))


@contextlib.contextmanager
def token_in_environment(training_args):
    """Move `--hub_token` (a flag or a recipe's key) out of the arguments into HF_TOKEN, for this process and its
    children, while the block runs; HF_TOKEN is then as it was (a Python caller's environment is left unchanged).

    transformers pickles the TrainingArguments into every checkpoint's training_args.bin, and the card and record are
    made from them: an object that gets saved must never hold the token. huggingface_hub (every s2r push, the
    Trainer's own push_to_hub) falls back to HF_TOKEN when given no token, so nothing is lost. The explicit flag wins
    over an HF_TOKEN already set, as it did when it was passed along.
    """
    token = getattr(training_args, "hub_token", None)
    if not token:
        yield
        return
    previous = os.environ.get("HF_TOKEN")
    os.environ["HF_TOKEN"] = token
    training_args.hub_token = None
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_TOKEN", None)
        else:
            os.environ["HF_TOKEN"] = previous
