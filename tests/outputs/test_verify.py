"""`s2r verify` (s2r_hf.outputs.verify): a subset selected again from its recorded pool, on folders written by the real
`s2r score` and `s2r select`, published to and pulled from the loopback Hub through the real clients.

The pool is 20 rows with a difficulty column and traces of different lengths (characters): scoring and selecting take
a fraction of a second, and a row edited to the longest trace and the highest difficulty is the joint rank's first.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures.hub_server import DEFAULT_USER

from s2r_hf._version import __version__
from s2r_hf.cli import main
from s2r_hf.core.cards import join_card, split_card
from s2r_hf.core.errors import InputError
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.hub.subsets import publish_subset
from s2r_hf.outputs.verify import verify_subset

SCORE_FLAGS = ["--question-column", "question", "--trace-column", "solution", "--id-column", "id",
               "--difficulty", "column:difficulty"]  # fmt: skip


def pool_rows() -> list[dict]:
    return [
        {
            "id": f"q{i:02d}",
            "question": f"What is {i} + {i}?",
            "solution": "Wait, let me check. " * (1 + (i * 7) % 13) + f"\\boxed{{{2 * i}}}",
            "difficulty": ((i * 5) % 11) / 10,
        }
        for i in range(20)
    ]


def made_first(rows: list[dict], row_id: str) -> list[dict]:
    """The rows with `row_id` given the longest trace and the highest difficulty: the joint rank's first row."""
    return [
        {**row, "solution": "Wait, let me check. " * 40 + "\\boxed{0}", "difficulty": 1.0}
        if row["id"] == row_id
        else row
        for row in rows
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def parquet_bytes(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def subset_table(folder: Path) -> pa.Table:
    return pa.concat_tables(pq.read_table(path) for path in sorted((folder / "data").glob("*.parquet")))


def replace_rows(folder: Path, table: pa.Table) -> None:
    (shard,) = sorted((folder / "data").glob("*.parquet"))
    pq.write_table(table, shard)


def score_and_select(source: str, root: Path, *extra: str) -> tuple[Path, Path]:
    scored, subset = root / "scored", root / "select25"
    assert main(["score", source, "-o", str(scored), *SCORE_FLAGS, *extra]) == 0
    assert main(["select", str(scored), "-o", str(subset), "--ratio", "0.25"]) == 0
    return scored, subset


def error_line(capsys) -> str:
    """The one line a refused `s2r verify` prints."""
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("s2r verify:")]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope="module")
def made_once(tmp_path_factory) -> Path:
    """A folder holding pool.jsonl, `s2r score`'s scored/ and `s2r select --ratio 0.25`'s select25/ (5 of 20 rows)."""
    root = tmp_path_factory.mktemp("verify")
    score_and_select(str(write_jsonl(root / "pool.jsonl", pool_rows())), root)
    return root


@pytest.fixture
def made(made_once, tmp_path) -> tuple[Path, Path, Path]:
    """(pool file, scored folder, subset folder): a copy of `made_once` for the test to change. Their cards are the
    ones written there: the subset's names its pool relative to itself (../scored), the pool's names the file scored
    (made_once's, with the same bytes as this copy)."""
    shutil.copytree(made_once, tmp_path, dirs_exist_ok=True)
    return tmp_path / "pool.jsonl", tmp_path / "scored", tmp_path / "select25"


# -- verified ----------------------------------------------------------------------------------------------------------


def test_a_faithful_subset_folder_verifies(made, capsys):
    source, scored, subset = made
    capsys.readouterr()
    assert main(["verify", str(subset)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"Verified: {subset} holds 5 rows, identical ids, order and rows to the joint selection (ratio 0.25 of 20 "
        f"rows) run again on {scored}."
    )
    report = verify_subset(subset, pool=source)  # the source scored again with the recorded settings
    assert report.verified and report.pool_scored_again and report.differences == [] and report.missing == []
    assert report.rows == report.selected_rows == 5


def test_a_faithful_subset_verifies_from_the_hub_and_a_pinned_revision_stays_verifiable(
    made, hub, tmp_path, monkeypatch, capsys
):
    _, scored, subset = made
    first = publish_subset(subset, "s2r/tiny-select25").commit
    capsys.readouterr()
    assert main(["verify", "s2r/tiny-select25", "--pool", str(scored)]) == 0
    assert capsys.readouterr().out.startswith(f"Verified: s2r/tiny-select25@{first[:12]} holds 5 rows")
    # Without --pool, the scored folder is found by the name the card records, in the current folder.
    assert read_card_metadata(subset)["s2r"]["pool_folder"] == "../scored"  # no path of this machine is published
    monkeypatch.chdir(tmp_path)
    assert verify_subset("s2r/tiny-select25").verified
    # A later publish of an edited subset does not verify; the revision published first still does.
    table = subset_table(subset)
    replace_rows(subset, table.take([1, 0, 2, 3, 4]))
    publish_subset(subset, "s2r/tiny-select25")
    assert not verify_subset("s2r/tiny-select25").verified
    assert main(["verify", "s2r/tiny-select25", "--revision", first]) == 0


def test_one_config_of_a_repo_of_several_subsets_verifies(made, hub, tmp_path, capsys):
    from s2r_hf.hub.subsets import publish_subsets

    _, scored, subset = made
    assert main(["select", str(scored), "-o", str(tmp_path / "select10"), "--ratio", "0.1"]) == 0
    publish_subsets({"select25": subset, "select10": tmp_path / "select10"}, "s2r/tiny-selects")
    for config, rows in (("select25", 5), ("select10", 2)):
        report = verify_subset("s2r/tiny-selects", pool=scored, config=config)
        assert report.verified and report.rows == rows and report.subset.endswith(f"(config {config})")
    capsys.readouterr()
    assert main(["verify", "s2r/tiny-selects", "--pool", str(scored)]) == 2
    assert "holds several subsets (configs ['select25', 'select10']); name the one to verify with --config" in (
        error_line(capsys)
    )


def test_the_embedded_demo_subset_verifies_from_its_folder_and_from_its_source_scored_again(demo_output):
    from s2r_hf.pool.demo import DEMO_POOL_FILE

    subset = demo_output / "openr1-select10"
    assert verify_subset(subset).verified
    again = verify_subset(subset, pool=str(DEMO_POOL_FILE))
    # The card names the embedded file portably, not by where this installation keeps it; a local source is known by
    # the digest of its bytes, not by its name.
    assert again.verified and again.differences == [] and again.pool_scored_again


def test_a_moved_demo_subset_names_a_pool_flag_the_user_can_pass(demo_output, tmp_path, capsys):
    """The demo's recorded source name describes the embedded file; the message must not offer it as `--pool`."""
    moved = tmp_path / "elsewhere" / "openr1-select10"
    shutil.copytree(demo_output / "openr1-select10", moved)
    assert main(["verify", str(moved)]) == 2
    line = error_line(capsys)
    assert "pass --pool SCORED_FOLDER, or --pool SOURCE to score its source again" in line
    assert "embedded demo pool" not in line


# -- not verified ------------------------------------------------------------------------------------------------------


def test_a_subset_with_one_row_swapped_for_another_pool_row_is_not_verified_and_names_the_row(
    made, hub, tmp_path, capsys
):
    _, scored, subset = made
    everything = tmp_path / "everything"
    assert main(["select", str(scored), "-o", str(everything), "--k", "20"]) == 0
    ranked = subset_table(everything)  # every pool row in the joint order, with the subset's columns
    table = subset_table(subset)
    assert table.column("s2r_id").to_pylist() == ranked.column("s2r_id").to_pylist()[:5]
    replace_rows(subset, pa.concat_tables([table.slice(0, 2), ranked.slice(10, 1), table.slice(3)]))
    publish_subset(subset, "s2r/tampered")  # published after its data was changed
    capsys.readouterr()
    assert main(["verify", "s2r/tampered", "--pool", str(scored)]) == 1
    lines = capsys.readouterr().out.splitlines()
    expected, found = table.column("s2r_id")[2].as_py(), ranked.column("s2r_id")[10].as_py()
    assert lines[0].startswith("Not verified: s2r/tampered@")
    assert lines[1] == (
        f"First difference at row 2 (0-based): the subset has id {found!r}, the selection gives {expected!r}."
    )
    assert "changed after `s2r select` wrote them" in lines[2]
    shown = "\n".join(lines)
    assert "subset ids (sha256): recorded " in shown and "subset rows (sha256): recorded " in shown
    assert "pool rows" not in shown  # the pool is the recorded one: nothing else differs


def test_an_edited_trace_under_its_own_id_is_not_verified_and_names_the_column(made, capsys):
    _, _, subset = made
    table = subset_table(subset)
    messages = table.column("messages").to_pylist()
    messages[3][-1]["content"] += " (edited)"
    replace_rows(subset, table.set_column(table.schema.get_field_index("messages"), "messages", pa.array(messages)))
    report = verify_subset(subset)
    assert not report.verified and report.edited
    assert report.first_difference == {
        "row": 3,
        "subset_id": table.column("s2r_id")[3].as_py(),
        "selection_id": table.column("s2r_id")[3].as_py(),
        "columns": ["messages"],
    }
    assert [d.what for d in report.differences] == ["subset rows (sha256)"]  # the ids are the recorded ones


def test_a_subset_made_from_a_changed_pool_is_not_verified_and_the_pool_digests_are_named(made, capsys):
    source, scored, subset = made
    outside = next(
        row["id"] for row in pool_rows() if row["id"] not in subset_table(subset).column("s2r_id").to_pylist()
    )
    write_jsonl(source, made_first(pool_rows(), outside))
    assert main(["score", str(source), "-o", str(scored), "--overwrite", *SCORE_FLAGS]) == 0
    capsys.readouterr()
    assert main(["verify", str(subset)]) == 1
    out = capsys.readouterr().out
    first_id = subset_table(subset).column("s2r_id")[0].as_py()
    assert (
        f"First difference at row 0 (0-based): the subset has id {first_id!r}, the selection gives {outside!r}." in out
    )
    assert "pool rows (sha256): recorded " in out and "pool source files (sha256): recorded " in out
    assert "changed after" not in out  # the subset itself is as `s2r select` wrote it


def test_a_pool_read_from_the_hub_records_its_commit_and_a_later_commit_is_named(hub, tmp_path, capsys):
    from huggingface_hub import HfApi

    repo = "s2r/tiny-pool"
    files = {"README.md": b"# a tiny pool\n", "data/train-00000-of-00001.parquet": parquet_bytes(pool_rows())}
    hub.seed_repo(repo, owner=DEFAULT_USER, files=files)
    first = hub.repo(repo).branches["main"]
    scored, subset = score_and_select(repo, tmp_path)
    assert read_card_metadata(scored)["s2r"]["source"]["commit"] == first
    outside = next(
        row["id"] for row in pool_rows() if row["id"] not in subset_table(subset).column("s2r_id").to_pylist()
    )
    HfApi().upload_file(
        path_or_fileobj=parquet_bytes(made_first(pool_rows(), outside)),
        path_in_repo="data/train-00000-of-00001.parquet",
        repo_id=repo,
        repo_type="dataset",
    )
    second = hub.repo(repo).branches["main"]
    capsys.readouterr()
    assert main(["verify", str(subset), "--pool", repo]) == 1  # scored again at main: the second commit
    out = capsys.readouterr().out
    assert f"pool source commit: recorded {first[:12]}, found {second[:12]}" in out
    assert "pool rows (sha256): recorded " in out and f"the selection gives {outside!r}" in out
    assert main(["verify", str(subset), "--pool", repo, "--pool-revision", first]) == 0


def test_json_output_carries_the_same_report(made, capsys):
    _, _, subset = made
    replace_rows(subset, subset_table(subset).take([0, 1, 2, 4, 3]))
    capsys.readouterr()
    assert main(["verify", str(subset), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is False and report["edited"] is True
    assert report["first_difference"]["row"] == 3 and report["rows"] == report["selected_rows"] == 5


# -- older cards, bad input --------------------------------------------------------------------------------------------


def rewrite_card(folder: Path, change) -> None:
    card = folder / "README.md"
    metadata, body = split_card(card.read_text(encoding="utf-8"))
    change(metadata["s2r"])
    card.write_text(join_card(metadata, body), encoding="utf-8")


def test_an_older_card_without_digests_still_verifies_and_says_what_it_lacks(made):
    source, _, subset = made

    def older(s2r):
        for key in ("ids_sha256", "rows_sha256", "pool_folder"):
            del s2r[key]
        for key in ("rows_sha256", "settings"):
            del s2r["pool"][key]
        del s2r["pool"]["source"]["sha256"]

    rewrite_card(subset, older)
    report = verify_subset(subset)  # the scored folder is found beside the subset, by the name the card records
    assert report.verified and report.differences == []
    assert len(report.missing) == 3 and "no rows_sha256 of the pool" in report.missing[0]
    with pytest.raises(InputError, match=r"records no scoring settings .* pass the scored folder with --pool$"):
        verify_subset(subset, pool=str(source))


def test_a_pool_scored_with_another_judge_tokenizer_or_version_names_each_and_same_rows_still_verify(made, capsys):
    _, scored, subset = made

    def rescored(s2r):  # what the card of a pool scored again differently would say, its rows unchanged
        s2r["difficulty"]["revision"] = "v2"
        s2r["length"]["tokenizer"] = "Qwen/Qwen2.5-0.5B-Instruct"
        s2r["settings"]["tokenizer_revision"] = "main"
        s2r["version"] = "0.0.9"

    rewrite_card(scored, rescored)
    capsys.readouterr()
    assert main(["verify", str(subset)]) == 0  # the same rows: the selection is what the card says
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Recorded inputs that differ (recorded, found):",
        "  tokenizer: recorded (none), found 'Qwen/Qwen2.5-0.5B-Instruct'",
        "  judge revision: recorded (none), found 'v2'",
        "  tokenizer revision: recorded (none), found 'main'",
        f"  s2r-hf version that scored the pool: recorded {__version__!r}, found '0.0.9'",
    ]


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "scored pool",
        "unreadable card",
        "no pool here",
        "pool is a subset",
        "no such repo",
        "malformed id",
        "weight edited",
        "revision",
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(case, made, hub, tmp_path, capsys):
    _, scored, subset = made
    argv = ["verify", str(subset)]
    if case == "missing":
        argv, expected = ["verify", str(tmp_path / "nope")], "does not exist (and is not a Hub dataset repo id"
    elif case == "scored pool":
        argv, expected = ["verify", str(scored)], "is not a subset written by `s2r select` (it records a scored pool)"
    elif case == "unreadable card":
        (subset / "README.md").write_text("---\ns2r: [unclosed\n---\n", encoding="utf-8")
        expected = "README.md' cannot be read (ParserError: while parsing a flow sequence"
    elif case == "no pool here":
        scored.rename(tmp_path / "moved")
        source = read_card_metadata(subset)["s2r"]["pool"]["source"]["name"]
        # Where the card records it (beside the subset folder), then by its name in the current folder.
        expected = f"is not here (looked for {str(scored)!r}, 'scored'); pass --pool SCORED_FOLDER, or --pool {source} "
    elif case == "pool is a subset":
        argv += ["--pool", str(subset)]
        expected = "is a folder s2r wrote of kind 'subset', not a scored pool nor a source"
    elif case == "weight edited":
        rewrite_card(subset, lambda s2r: s2r.update(weight="heavy"))
        expected = "records cannot be used: weight must be a number, got 'heavy' (str)"
    elif case == "malformed id":
        argv, expected = ["verify", "s2r/two words"], "'s2r/two words' is not a Hub repo id (Repo id must use"
    elif case == "no such repo":
        argv, expected = ["verify", "s2r/no-such-subset"], "there is no Hub dataset 's2r/no-such-subset'"
    else:
        argv += ["--revision", "v2"]
        expected = "revision 'v2' applies to a Hub repo, but"
    capsys.readouterr()
    assert main(argv) == 2
    assert expected in error_line(capsys)
