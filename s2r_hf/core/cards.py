"""Cards: rendered from the Jinja templates in `hub_cards/`, split into metadata and body, joined back.

A card is YAML metadata (what the Hub and `load_dataset` read) between two `---` lines at its start, followed by a
Markdown body (what people read). Every fact in a rendered card's body comes from the metadata's `s2r` block, so the
two never disagree. `split_card` is the one reader of that metadata (a folder's card, a card on the Hub) and
`join_card` the one writer, so a card read and written again keeps its bytes.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError
from s2r_hf.core.numbers import plain_number
from s2r_hf.core.redaction import redact

CARD_TEMPLATES = ("scored_pool.md", "subset.md", "judge.md", "model.md")


def templates_dir() -> Path:
    """Where the card templates are: inside an installed wheel (s2r_hf/hub_cards) or at the top of a source checkout."""
    packaged = Path(str(resources.files("s2r_hf"))) / "hub_cards"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "hub_cards"  # s2r_hf/core/cards.py -> the checkout
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"card templates not found in {packaged} nor {checkout}; the installation is incomplete")


@cache
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,  # a missing fact is a bug, not a blank in a published card
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # `{{ value | number }}`: counts with thousands separators, other values as plain decimals, never 1.08e+03.
    environment.filters["number"] = plain_number
    return environment


def render_card(template: str, metadata: dict[str, Any]) -> str:
    """Render `hub_cards/<template>` with `metadata` both as the YAML header and as the body's context.

    Every card s2r writes or pushes is made here, so the one rule for secrets (`s2r_hf.core.redaction.redact`) is
    applied
    here too: a token that reached a record (a command line, an option) is shown as REDACTED, never published.
    """
    if template not in CARD_TEMPLATES:
        raise ValueError(f"unknown card template {template!r}; known: {list(CARD_TEMPLATES)}")
    metadata = redact(metadata)
    return join_card(metadata, _environment().get_template(template).render(**metadata))


def render_body(template: str, **context: Any) -> str:
    """Render a Markdown template of `hub_cards/` with no YAML header (the pool report, which cards include too)."""
    return _environment().get_template(template).render(**context)


# The metadata block: a `---` line first (blank lines before it allowed), the YAML, a closing `---` line; any line
# ending.
_METADATA_BLOCK = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", flags=re.DOTALL)


def split_card(text: str, *, where: str = "the card", fix: str = "fix its YAML header") -> tuple[dict[str, Any], str]:
    """(YAML metadata, Markdown body) of a card's text; ({}, text) when it has no metadata block.

    Metadata that is not YAML, or YAML that is not a mapping, is an InputError naming the card (`where`) and the fix:
    a card whose metadata cannot be read is never taken for a card without any.
    """
    import yaml

    match = _METADATA_BLOCK.match(text or "")
    if not match:
        return {}, text or ""
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise InputError(f"{where} cannot be read ({type(error).__name__}: {detail}); {fix}") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InputError(
            f"{where} cannot be read (its YAML metadata is a {type(loaded).__name__}, not a mapping); {fix}"
        )
    return loaded, text[match.end() :]


def join_card(metadata: dict[str, Any], body: str) -> str:
    """A card's text: `metadata` as the YAML block (in its own key order, long lines unbroken), then `body`."""
    import yaml

    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n{body}"
