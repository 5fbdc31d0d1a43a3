"""Secrets never reach a file, a log, a card, a record of a command or a push.

One rule for every record s2r writes (`s2r_training.json`, cards, `results.json`, experiment records) and every push:
- an option or key names a secret when one of its words (split at `_`, `-`, `.`) is `token`, `password`, `passwd`,
  `secret`, `credential(s)` or the pair `api key`: `--hub_token`, `--token`, `HF_TOKEN`, `train.overrides.hub_token`.
  `max_new_tokens`, `tokenizer` and `tokens_trained` name counts and models, not secrets, and are kept;
- a value shaped like a Hub token (`hf_` and 30 or more letters and digits) is a secret wherever it stands.

Both are replaced by `REDACTED`. Pushes scan every file for Hub-token-shaped bytes (`find_hub_tokens`), whichever token
the push itself uses.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

REDACTED = "REDACTED"  # plain word: a redacted command line stays pasteable without quotes

# Hub user access tokens are "hf_" + 34 letters and digits today; org API tokens were "api_org_...". A shorter run after
# "hf_" (hf_hub_download, hf_transfer) is a name, not a token.
HUB_TOKEN = re.compile(r"(?:hf_|api_org_)[A-Za-z0-9]{30,}")
HUB_TOKEN_BYTES = re.compile(HUB_TOKEN.pattern.encode("ascii"))
# The longest match a scan needs to see whole across two chunks of a file (a real token is 37 bytes).
_SCAN_OVERLAP = 256

_SECRET_WORDS = frozenset({"token", "password", "passwd", "secret", "secrets", "credential", "credentials", "apikey"})


# `token` also names a piece of text: a special token of a tokenizer (`eos_token`, TRL's `pad_token` option) or a
# measure of tokens (`token_share`, `token_counts`, `token_type_ids`, `token_budget`). Those are settings and numbers,
# not credentials, and redacting them would lose what a card must state (a token-shaped value there is still redacted).
_TEXT_TOKEN_BEFORE = frozenset({"eos", "bos", "pad", "unk", "sep", "cls", "mask", "special", "added"})
_TEXT_TOKEN_AFTER = frozenset({"share", "count", "counts", "id", "ids", "type", "length", "lengths", "budget"})


def is_secret_name(name: str) -> bool:
    """Whether an option or key (`--hub_token`, `hub-token`, `HF_TOKEN`, `train.overrides.hub_token`) names a secret."""
    words = [word for word in re.split(r"[^a-z0-9]+", str(name).lower()) if word]
    for index, word in enumerate(words):
        if word not in _SECRET_WORDS:
            continue
        before = words[index - 1] if index > 0 else None
        after = words[index + 1] if index + 1 < len(words) else None
        if word == "token" and (before in _TEXT_TOKEN_BEFORE or after in _TEXT_TOKEN_AFTER):
            continue
        return True
    return any(first == "api" and second == "key" for first, second in itertools.pairwise(words))


def redact_text(text: str) -> str:
    """`text` with every Hub-token-shaped value replaced."""
    return HUB_TOKEN.sub(REDACTED, text)


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command's words with the value of every secret option (`--token X`, `--hub_token=X`) and every
    Hub-token-shaped word replaced."""
    words, redact_next = [], False
    for word in map(str, argv):
        if redact_next:
            words.append(REDACTED)
            redact_next = False
            continue
        if word.startswith("-") and is_secret_name(word.lstrip("-").split("=", 1)[0]):
            if "=" in word:
                words.append(f"{word.split('=', 1)[0]}={REDACTED}")
            else:
                words.append(word)
                redact_next = True
            continue
        # `--set train.overrides.hub_token=X` (an experiment override): the key before `=` names the secret.
        key, sep, _ = word.partition("=")
        if sep and not word.startswith("-") and is_secret_name(key):
            words.append(f"{key}={REDACTED}")
            continue
        words.append(redact_text(word))
    return words


def redact_command(command: str | None) -> str | None:
    """A shell command line (as cards record it) with its secrets replaced; the line stays pasteable."""
    if command is None:
        return None
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: not a command line we wrote; still never keep a token-shaped value
        return redact_text(command)
    return shlex.join(redact_argv(words))


def redact(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with every secret replaced: the value of a key
    that names a secret, and every Hub-token-shaped string; command lines (`command` keys, lists of words) keep their
    shape with the secret options' values replaced."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if isinstance(key, str) and is_secret_name(key) and item not in (None, "", False):
                cleaned[key] = REDACTED
            elif isinstance(key, str) and key.endswith("command") and isinstance(item, str):
                cleaned[key] = redact_command(item)
            else:
                cleaned[key] = redact(item)
        return cleaned
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, str) for item in value):
            return redact_argv(value)
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def find_hub_tokens(chunks: Iterable[bytes]) -> bool:
    """Whether Hub-token-shaped bytes occur in a content given in pieces (a token split across two pieces counts)."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        if HUB_TOKEN_BYTES.search(window):
            return True
        tail = window[-_SCAN_OVERLAP:]
    return False
