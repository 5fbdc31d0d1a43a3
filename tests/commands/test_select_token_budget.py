"""`s2r select --token-budget N --tokenizer MODEL`: the subset, its card, and the bad inputs (one line, exit 2)."""

import pytest
from datasets import load_dataset

from s2r_hf.cli import main
from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.folders import read_card_metadata


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer_dir)


def independent_tokens(tokenizer, conversations) -> list[int]:
    """The chat template rendered by transformers and the text encoded, one conversation at a time."""
    texts = [tokenizer.apply_chat_template(conversation, tokenize=False) for conversation in conversations]
    return [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]


def test_select_token_budget_writes_the_subset_and_its_card(
    demo_output, tiny_tokenizer_dir, tokenizer, tmp_path, capsys
):
    scored = demo_output / "openr1-synthetic-scored"
    ranked = load_dataset(str(demo_output / "openr1-select20"), split="train")  # the joint order, best first
    counts = independent_tokens(tokenizer, ranked[MESSAGES])
    budget = sum(counts[:5]) + counts[5] // 2  # ends inside the sixth row: five rows are taken
    out = tmp_path / "budget"
    argv = [
        "select",
        str(scored),
        "-o",
        str(out),
        "--token-budget",
        str(budget),
        "--tokenizer",
        str(tiny_tokenizer_dir),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"trainer tokens: {sum(counts[:5]):,} within the budget of {budget:,}" in printed
    subset = load_dataset(str(out), split="train")
    assert subset["s2r_id"] == ranked["s2r_id"][:5]
    assert sum(independent_tokens(tokenizer, subset[MESSAGES])) == sum(counts[:5])
    s2r = read_card_metadata(out)["s2r"]
    assert (s2r["token_budget"], s2r["tokens_taken"], s2r["rows"]) == (budget, sum(counts[:5]), 5)
    assert s2r["tokenizer"] == str(tiny_tokenizer_dir) and s2r["ratio"] is None and s2r["k"] is None
    card = (out / "README.md").read_text(encoding="utf-8")
    assert f"| token budget | {budget:,} trainer tokens" in card
    assert f"| tokens taken | {sum(counts[:5]):,} " in card
    # `s2r verify` selects again from the card's settings, counting with the tokenizer it names.
    assert main(["verify", str(out)]) == 0, capsys.readouterr().err
    assert f"token budget {budget:,}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--token-budget", "0"], "s2r select: error: token_budget must be a positive integer number of tokens, got 0"),
        (["--tokenizer", "x"], "s2r select: error: --tokenizer counts the tokens of --token-budget; give"),
        (
            ["--token-budget", "100", "--strategy", "diverse"],
            "s2r select: error: token_budget does not apply to the diverse strategy",
        ),
    ],
)
def test_select_token_budget_bad_flags_are_one_line_before_any_work(tmp_path, capsys, flags, line):
    # Refused before the scored folder is read: it does not even exist here.
    assert main(["select", str(tmp_path / "scored"), "-o", str(tmp_path / "sub"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(line) and err.count("\n") == 1
    assert not (tmp_path / "sub").exists()


def test_select_token_budget_out_of_the_pool_range_is_one_line(demo_output, tiny_tokenizer_dir, tmp_path, capsys):
    scored = demo_output / "openr1-synthetic-scored"
    tokenizer_flag = ["--tokenizer", str(tiny_tokenizer_dir)]
    assert main(["select", str(scored), "-o", str(tmp_path / "a"), "--token-budget", str(10**12), *tokenizer_flag]) == 2
    err = capsys.readouterr().err
    assert "is more than the" in err and "trainer tokens of all" in err and err.count("\n") == 1
    assert main(["select", str(scored), "-o", str(tmp_path / "b"), "--token-budget", "1", *tokenizer_flag]) == 2
    err = capsys.readouterr().err
    assert "is below the first row's" in err and err.count("\n") == 1
    # The demo pool's lengths are characters: no tokenizer to default to.
    assert main(["select", str(scored), "-o", str(tmp_path / "c"), "--token-budget", "1000"]) == 2
    assert "were not counted with a tokenizer; give one (`s2r select --tokenizer MODEL`" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in "abc")


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--token-budget", "1.5e6"], "s2r select: error: argument --token-budget: invalid int value: '1.5e6'"),
        (["--token-budget", "100", "--k", "3"], "s2r select: error: argument --k: not allowed with argument --token"),
        (["--token-budget", "100", "--ratio", "0.1"], "s2r select: error: argument --ratio: not allowed with argument"),
    ],
)
def test_select_token_budget_flags_argparse_refuses(tmp_path, capsys, flags, line):
    with pytest.raises(SystemExit) as stopped:
        main(["select", str(tmp_path / "scored"), "-o", str(tmp_path / "sub"), *flags])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(line)
    assert not (tmp_path / "sub").exists()


def test_token_budget_is_not_a_secret_name():
    from s2r_hf.core.redaction import is_secret_name, redact_argv

    assert not is_secret_name("token_budget") and not is_secret_name("--token-budget")
    assert redact_argv(["s2r", "select", "--token-budget", "5000"])[-1] == "5000"
