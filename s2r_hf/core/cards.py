"""Dataset and model cards rendered from the Jinja templates in `hub_cards/`.

A card is YAML metadata (what the Hub and `load_dataset` read) followed by a Markdown body (what people read). Every
fact in the body comes from the metadata's `s2r` block, so the two never disagree.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

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

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,  # a missing fact is a bug, not a blank in a published card
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_card(template: str, metadata: dict[str, Any]) -> str:
    """Render `hub_cards/<template>` with `metadata` both as the YAML header and as the body's context.

    Every card s2r writes or pushes is made here, so the one rule for secrets (`s2r_hf.core.redaction.redact`) is
    applied
    here too: a token that reached a record (a command line, an option) is shown as REDACTED, never published.
    """
    import yaml

    from s2r_hf.core.redaction import redact

    if template not in CARD_TEMPLATES:
        raise ValueError(f"unknown card template {template!r}; known: {list(CARD_TEMPLATES)}")
    metadata = redact(metadata)
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    body = _environment().get_template(template).render(**metadata)
    return f"---\n{header}---\n\n{body}"


def render_body(template: str, **context: Any) -> str:
    """Render a Markdown template of `hub_cards/` with no YAML header (the pool report, which cards include too)."""
    return _environment().get_template(template).render(**context)
