"""`s2r score --decontaminate/--near-duplicates` and `s2r select --max-per-cluster` from the command line: counts in the
card, matched pairs beside the data, and one-line errors (exit 2) for bad input before any work."""

import json
import os
import subprocess
import sys

import pytest
from datasets import Dataset, load_dataset

from s2r_hf import decontaminate
from s2r_hf.cli import main
from s2r_hf.core.columns import ID, QUESTION_CLUSTER
from s2r_hf.core.folders import read_card_metadata
from s2r_hf.pool.benchmarks import load_benchmark

NAMES = ("math500", "aime24", "olympiadbench")


@pytest.fixture(scope="module")
def pool_file(real_pool_rows, benchmark_paths, tmp_path_factory):
    """40 real pool rows, then two benchmark problems and a near copy of a pool question, as a jsonl pool."""
    rows = [
        {"id": str(row["id"]), "question": row["question"], "solution": row["solution"], "d": (index % 10) / 10}
        for index, row in enumerate(real_pool_rows[:40])
    ]
    aime = load_benchmark("aime24", benchmark_paths["aime24"])
    olympiad = load_benchmark("olympiadbench", benchmark_paths["olympiadbench"])
    rows.append({"id": "inj-aime", "question": aime["problem"][2].upper(), "solution": "x" * 900, "d": 0.95})
    rows.append({"id": "inj-olympiad", "question": olympiad["problem"][9], "solution": "y" * 900, "d": 0.05})
    copy = rows[3]["question"].replace(".", " .  ")  # pool question 10 (no benchmark overlap), re-spaced
    rows.append({"id": "copy-of-10", "question": copy, "solution": "z" * 50, "d": 0.0})
    path = tmp_path_factory.mktemp("pool") / "pool.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path, rows


def score_argv(pool_path, output, benchmark_paths, *extra):
    argv = ["score", str(pool_path), "-o", str(output), "--adapter", "generic", "--question-column", "question",
            "--trace-column", "solution", "--id-column", "id", "--difficulty", "column:d",
            "--decontaminate", ",".join(NAMES)]  # fmt: skip
    for name in NAMES:
        argv += ["--benchmark-data", f"{name}={benchmark_paths[name]}"]
    return [*argv, *extra]


def test_score_decontaminates_clusters_and_select_caps(pool_file, benchmark_paths, tmp_path, capsys):
    path, rows = pool_file
    scored_dir = tmp_path / "scored"
    assert main(score_argv(path, scored_dir, benchmark_paths, "--near-duplicates", "cluster")) == 0
    out = capsys.readouterr().out
    # What the library finds on the same questions is what the command drops and reports.
    questions = Dataset.from_list([{ID: row["id"], "question": row["question"]} for row in rows])
    benchmarks = {name: load_benchmark(name, benchmark_paths[name]) for name in NAMES}
    expected, report = decontaminate(questions, benchmarks, question_column="question")
    dropped_ids = {pair["pool_id"] for pair in report.pairs}
    assert {"inj-aime", "inj-olympiad"} <= dropped_ids and "copy-of-10" not in dropped_ids
    reason = "overlapping a benchmark (covering >= 0.6 of a problem in 5-word n-grams)"
    assert f"dropped: {reason}  {len(dropped_ids)}" in out

    scored = load_dataset(str(scored_dir), split="train")
    assert scored[ID] == expected[ID]
    s2r = read_card_metadata(scored_dir)["s2r"]
    decontamination = s2r["hygiene"]["decontamination"]
    assert decontamination["benchmarks"] == report.benchmarks
    # the rule and its settings, as the card records them
    assert (decontamination["rule"], decontamination["ngram"], decontamination["threshold"]) == ("coverage", 5, 0.6)
    assert (decontamination["boilerplate"], decontamination["numbers"]) == (4, "masked")
    assert "Decontamination (rule `coverage`)" in (scored_dir / "README.md").read_text()
    assert decontamination["benchmarks"]["aime24"]["rows_dropped"] >= 1
    assert decontamination["pairs_file"] == "decontamination.jsonl" and decontamination["pairs"] == len(report.pairs)
    pairs = [json.loads(line) for line in (scored_dir / "decontamination.jsonl").read_text().splitlines()]
    assert pairs == report.pairs
    assert s2r["rows"] == len(scored) == len(rows) - len(dropped_ids)
    card = (scored_dir / "README.md").read_text()
    aime_line = f"| aime24 | 30 | {report.benchmarks['aime24']['rows_dropped']} |"
    assert card.count(aime_line) == 1  # the card's hygiene section; its embedded pool report does not repeat it
    # `s2r inspect` shows the same table (not the raw metadata) in its own report.
    assert main(["inspect", str(scored_dir), "-o", str(tmp_path / "report")]) == 0
    report_page = (tmp_path / "report" / "report.md").read_text()
    assert "# Hygiene" in report_page and aime_line in report_page and "{'" not in report_page

    # The re-spaced copy shares its cluster (named by the smaller id) with the question it copies.
    cluster_of = dict(zip(scored[ID], scored[QUESTION_CLUSTER]))
    assert cluster_of["copy-of-10"] == cluster_of[rows[3]["id"]] == min("copy-of-10", rows[3]["id"])
    near = s2r["hygiene"]["near_duplicates"]
    assert near["mode"] == "cluster" and near["clusters"] >= 1 and near["rows"] == len(scored)

    subset_dir = tmp_path / "subset"
    assert main(["select", str(scored_dir), "-o", str(subset_dir), "--k", "10", "--max-per-cluster", "1"]) == 0
    subset = load_dataset(str(subset_dir), split="train")
    assert len(subset) == 10 and len(set(subset[QUESTION_CLUSTER])) == 10
    assert "| at most per question cluster | 1 (`s2r_question_cluster`;" in (subset_dir / "README.md").read_text()


def test_drop_mode_keeps_one_row_per_cluster(pool_file, benchmark_paths, tmp_path):
    path, rows = pool_file
    argv = score_argv(path, tmp_path / "scored", benchmark_paths, "--near-duplicates", "drop")
    assert main(argv) == 0
    scored = load_dataset(str(tmp_path / "scored"), split="train")
    assert len(set(scored[QUESTION_CLUSTER])) == len(scored)
    # The copy has the shorter trace and the lower difficulty: the original wins at any weight.
    assert rows[3]["id"] in scored[ID] and "copy-of-10" not in scored[ID]
    hygiene = read_card_metadata(tmp_path / "scored")["s2r"]["hygiene"]
    assert hygiene["near_duplicates"]["rows_dropped"] >= 1


def one_line_error(capsys, command="score"):
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith(f"s2r {command}: error: ") and not any("Traceback" in line for line in err)
    return err[-1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--decontaminate", "math500,gsm9k"],
         "unknown benchmark 'gsm9k' in --decontaminate; known: math500, aime24, aime25, amc23, minerva, olympiadbench"),
        (["--decontaminate", "math500", "--decontaminate-ngram", "2"], "decontaminate_ngram (--decontaminate-ngram) "
         "must be at least 3 words, got 2"),
        (["--near-duplicates", "cluster", "--near-duplicate-threshold", "0"], "must be a Jaccard similarity in (0, 1]"),
        (["--near-duplicates", "cluster", "--near-duplicate-threshold", "1.5"], "in (0, 1], got 1.5"),
        (["--near-duplicates", "sometimes"], "near_duplicates must be one of ['off', 'cluster', 'drop']"),
        (["--benchmark-data", "math500=/nonexistent.jsonl"], "--decontaminate names no benchmark"),
        (["--decontaminate", "aime24", "--benchmark-data", "math500=/nonexistent.jsonl"], "does not exist"),
    ],
)  # fmt: skip
def test_bad_options_fail_in_one_line(extra, message, tmp_path, capsys):
    argv = ["score", "pool.jsonl", "-o", str(tmp_path / "out"), *extra]
    assert main(argv) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_a_pool_of_benchmark_problems_is_refused_naming_the_filter(benchmark_paths, tmp_path, capsys):
    argv = ["score", str(benchmark_paths["aime24"]), "-o", str(tmp_path / "out"), "--adapter", "generic",
            "--question-column", "problem", "--trace-column", "solution", "--tokenizer", "/nonexistent-tokenizer",
            "--decontaminate", "aime24", "--benchmark-data", f"aime24={benchmark_paths['aime24']}"]  # fmt: skip
    assert main(argv) == 2  # the tokenizer is checked first, before reading anything
    assert "nonexistent-tokenizer" in one_line_error(capsys)
    argv = [arg for arg in argv if arg not in ("--tokenizer", "/nonexistent-tokenizer")]
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert "decontamination (--decontaminate aime24) dropped all 30 rows" in line
    assert "every question copies a benchmark problem (covering >= 0.6 of a problem in 5-word n-grams)" in line


def test_select_max_per_cluster_needs_the_cluster_column(pool_file, benchmark_paths, tmp_path, capsys):
    path, _ = pool_file
    assert main(score_argv(path, tmp_path / "scored", benchmark_paths)) == 0
    capsys.readouterr()
    assert main(["select", str(tmp_path / "scored"), "-o", str(tmp_path / "subset"), "--max-per-cluster", "2"]) == 2
    assert "s2r score --near-duplicates cluster" in one_line_error(capsys, "select")


def test_a_benchmark_not_on_this_machine_points_to_benchmark_data(pool_file, tmp_path):
    # A fresh process: HF_HUB_OFFLINE is read when huggingface_hub is imported.
    env = {**os.environ, "HF_HOME": str(tmp_path / "empty_hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_DATASETS_CACHE", None)
    argv = ["score", str(pool_file[0]), "-o", str(tmp_path / "out"), "--adapter", "generic",
            "--question-column", "question", "--trace-column", "solution", "--difficulty", "column:d",
            "--decontaminate", "aime24"]  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "s2r_hf.cli", *argv], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("s2r score: error: cannot load the Hub dataset 'HuggingFaceH4/aime_2024'")
    assert last.endswith("For a benchmark: --benchmark-data aime24=PATH reads a local copy")


def test_scored_pool_card_says_which_rows_it_holds_after_hygiene_dropped_some(pool_file, benchmark_paths, tmp_path):
    # Decontamination and the near-duplicate drop remove rows: the card must not claim every row of the source.
    path, rows = pool_file
    assert main(score_argv(path, tmp_path / "scored", benchmark_paths, "--near-duplicates", "drop")) == 0
    s2r = read_card_metadata(tmp_path / "scored")["s2r"]
    decontaminated = s2r["hygiene"]["decontamination"]["rows_dropped"]
    near = s2r["hygiene"]["near_duplicates"]["rows_dropped"]
    assert decontaminated >= 2 and near >= 1 and s2r["rows"] == len(rows) - decontaminated - near
    card = (tmp_path / "scored" / "README.md").read_text()
    assert "Every row of the source pool" not in card
    lead = (
        f"{s2r['rows']} rows made from the {len(rows)} rows of the source pool, leaving out {decontaminated} "
        f"overlapping a benchmark (covering >= 0.6 of a problem in 5-word n-grams), {near} near-duplicate "
        "questions,\nwith three columns added by"
    )
    assert lead in card


def test_unknown_decontamination_rule_fails_in_one_line_listing_the_rules(tmp_path, capsys):
    argv = ["score", "pool.jsonl", "-o", str(tmp_path / "out"), "--decontaminate", "math500",
            "--decontaminate-rule", "exact-match"]  # fmt: skip
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert "decontaminate_rule (--decontaminate-rule) must be one of coverage, any-ngram, got 'exact-match'" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("threshold", ["0", "-0.2", "1.5"])
def test_coverage_threshold_outside_zero_one_fails_in_one_line(threshold, tmp_path, capsys):
    argv = ["score", "pool.jsonl", "-o", str(tmp_path / "out"), "--decontaminate", "math500",
            "--decontaminate-threshold", threshold]  # fmt: skip
    assert main(argv) == 2
    line = one_line_error(capsys)
    expected = "decontaminate_threshold (--decontaminate-threshold) must be a share of a benchmark problem's words in "
    assert f"{expected}(0, 1], got {float(threshold)}" in line
    assert not (tmp_path / "out").exists()


def test_coverage_settings_with_the_any_ngram_rule_fail_in_one_line(tmp_path, capsys):
    argv = ["score", "pool.jsonl", "-o", str(tmp_path / "out"), "--decontaminate", "math500",
            "--decontaminate-rule", "any-ngram", "--decontaminate-threshold", "0.8"]  # fmt: skip
    assert main(argv) == 2
    line = one_line_error(capsys)
    expected = "decontaminate_threshold (--decontaminate-threshold) set the coverage rule, but the rule is 'any-ngram'"
    assert expected in line


def test_benchmark_file_without_a_problem_field_fails_before_the_pool_is_read(tmp_path, capsys):
    benchmark = tmp_path / "math500.jsonl"
    benchmark.write_text('{"id": "1", "statement": "What is 1+1?", "answer": "2"}\n', encoding="utf-8")
    pool = tmp_path / "pool.jsonl"
    pool.write_text("this is not json\n", encoding="utf-8")  # reading it would fail with another message
    argv = ["score", str(pool), "-o", str(tmp_path / "out"), "--adapter", "generic", "--question-column", "question",
            "--trace-column", "solution", "--decontaminate", "math500",
            "--benchmark-data", f"math500={benchmark}"]  # fmt: skip
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert "benchmark 'math500' from " in line and "has no problem field (one of problem, question, input)" in line
    assert "its fields: id, statement, answer" in line
    assert not (tmp_path / "out").exists()


def test_any_ngram_rule_by_name_drops_template_matches_and_says_so_in_the_card(pool_file, benchmark_paths, tmp_path):
    # open-r1's rule stays available: on the same 43 rows it drops more (template phrases of the real questions).
    path, _ = pool_file
    assert main(score_argv(path, tmp_path / "coverage", benchmark_paths)) == 0
    assert main(score_argv(path, tmp_path / "any", benchmark_paths, "--decontaminate-rule", "any-ngram")) == 0
    coverage = read_card_metadata(tmp_path / "coverage")["s2r"]["hygiene"]["decontamination"]
    any_ngram = read_card_metadata(tmp_path / "any")["s2r"]["hygiene"]["decontamination"]
    assert (any_ngram["rule"], any_ngram["ngram"], any_ngram["threshold"], any_ngram["numbers"]) == (
        "any-ngram",
        8,
        None,
        "kept",
    )
    assert any_ngram["rows_dropped"] > coverage["rows_dropped"] >= 2
    card = (tmp_path / "any" / "README.md").read_text()
    assert "Decontamination (rule `any-ngram`)" in card and "sharing a run of 8 words" in card
    pairs = [json.loads(line) for line in (tmp_path / "any" / "decontamination.jsonl").read_text().splitlines()]
    assert {"inj-aime", "inj-olympiad"} <= {pair["pool_id"] for pair in pairs}
    assert all(set(pair) == {"pool_id", "benchmark", "benchmark_id", "coverage", "shared"} for pair in pairs)
