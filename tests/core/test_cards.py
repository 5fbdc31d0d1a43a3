"""s2r_hf.core.cards: the one reader (split_card) and writer (join_card) of a card's YAML metadata."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import s2r_hf
from s2r_hf.core.cards import join_card, split_card
from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import read_card_metadata


def test_split_and_join_round_trip_byte_for_byte():
    metadata = {"license": "mit", "s2r": {"kind": "subset", "rows": 3, "seed": None, "name": "é " + "x" * 200}}
    card = join_card(metadata, "# title\n\nbody\n")
    assert card.startswith("---\nlicense: mit\ns2r:\n  kind: subset\n  rows: 3\n  seed: null\n")
    assert f"\n  name: é {'x' * 200}\n---\n\n# title\n\nbody\n" in card  # a long value is never wrapped
    assert split_card(card) == (metadata, "\n# title\n\nbody\n")
    again, body = split_card(card)
    assert join_card(again, body.lstrip()) == card


@pytest.mark.parametrize(
    ("text", "metadata", "body"),
    [
        ("# no metadata\n", {}, "# no metadata\n"),
        ("", {}, ""),
        ("\n\n---\na: 1\n---\nbody", {"a": 1}, "body"),  # blank lines before the block, as the Hub allows
        ("---\r\na: 1\r\n---\r\nbody\r\n", {"a": 1}, "body\r\n"),  # Windows line ends
        ("---  \na: 1\n---\t\n", {"a": 1}, ""),  # spaces after the dashes; no body
        ("---\n# only a comment\n---\nbody", {}, "body"),  # an empty block is no metadata
        ("text\n---\na: 1\n---\n", {}, "text\n---\na: 1\n---\n"),  # a block not at the start is body
    ],
)
def test_split_card_reads_the_block_at_the_start_only(text, metadata, body):
    assert split_card(text) == (metadata, body)


def test_unreadable_metadata_is_one_error_naming_the_card_and_the_fix():
    with pytest.raises(InputError, match=r"^the card of x/y cannot be read \(ParserError: .*\); fix it there$"):
        split_card("---\na: [unclosed\n---\n", where="the card of x/y", fix="fix it there")
    with pytest.raises(InputError, match=r"^the card cannot be read \(its YAML metadata is a list, not a mapping\); "):
        split_card("---\n- a\n- b\n---\n")
    with pytest.raises(InputError, match=r"its YAML metadata is a str, not a mapping"):
        split_card("---\njust words\n---\n")


def test_a_folder_card_is_read_by_the_same_parser(tmp_path):
    (tmp_path / "README.md").write_text("\n---\r\ns2r:\r\n  kind: subset\r\n---\r\n# x\r\n", encoding="utf-8")
    assert read_card_metadata(tmp_path) == {"s2r": {"kind": "subset"}}
    (tmp_path / "README.md").write_text("---\n- a\n---\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"README.md' cannot be read \(its YAML metadata is a list, not a mapping\); "
                       r"fix its YAML header, or write the folder again$"):  # fmt: skip
        read_card_metadata(tmp_path)


def test_card_metadata_has_one_reader():
    # Any other `---` block regex, yaml.safe_load of card text, or huggingface_hub card class would be a second parser.
    package = Path(s2r_hf.__file__).parent
    second = re.compile(r"re\.(match|search)\(r?[\"']\^?---|(DatasetCard|ModelCard|RepoCard)\.load|split\(\"---")
    found = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if second.search(line)
    ]
    assert found == []
