"""`s2r compare` on three hand-made results files: the Markdown table (the two token counts beside the scores) and
the grouped bar chart."""

from __future__ import annotations

import json

import pytest
from fixtures.evaluation import s2r

from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.compare import compare_results


def results_file(folder, label, tokens, scores, *, preset="paper", max_new_tokens=16384, partial=False):
    """A results.json as `s2r evaluate` writes it, reduced to what compare reads."""
    data = {
        "format": "s2r-evaluation/1",
        "label": label,
        "model": {"name": label.replace(" ", "-"), "data_tokens": tokens, "trained_tokens": tokens and 3 * tokens},
        "protocol": {"preset": preset, "partial": partial},
        "tasks": {task: {"settings": {"max_new_tokens": max_new_tokens}} for task in scores},
        "results": scores,
    }
    path = folder / f"{label.replace(' ', '-')}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def three_runs(tmp_path):
    return [
        results_file(
            tmp_path, "full pool", 1_000_000, {"math500": {"pass@1": 0.9}, "aime24": {"pass@1": 0.5, "maj@16": 0.6}}
        ),
        results_file(
            tmp_path, "random 10%", 100_000, {"math500": {"pass@1": 0.8}, "aime24": {"pass@1": 0.3, "maj@16": 0.4}}
        ),
        results_file(tmp_path, "joint 10%", 150_000, {"math500": {"pass@1": 0.91}, "aime24": {"pass@1": 0.52}}),
    ]


def test_the_table_puts_data_and_trained_tokens_beside_the_scores(three_runs):
    comparison = compare_results(three_runs)
    lines = comparison.markdown.splitlines()
    assert lines[0] == "| run | data tokens | trained tokens | math500 pass@1 | aime24 pass@1 | aime24 maj@16 |"
    assert lines[2] == "| full pool | 1,000,000 | 3,000,000 | 90.0 | 50.0 | 60.0 |"
    assert lines[3] == "| random 10% | 100,000 | 300,000 | 80.0 | 30.0 | 40.0 |"
    assert lines[4] == "| joint 10% | 150,000 | 450,000 | 91.0 | 52.0 | - |"  # maj@16 not evaluated in that run
    assert "Data tokens: the tokens in the training data" in comparison.markdown
    assert "Trained tokens: the tokens processed by the trainer" in comparison.markdown
    assert "Not comparable" not in comparison.markdown
    assert comparison.values[2] == [0.91, 0.52, None]


def test_the_chart_is_a_png(three_runs):
    png = compare_results(three_runs).png
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000


def test_labels_and_one_metric(three_runs):
    comparison = compare_results(three_runs, ["A", "B", "C"], metric="pass@1")
    assert comparison.labels == ["A", "B", "C"]
    assert comparison.columns == [("math500", "pass@1"), ("aime24", "pass@1")]
    with pytest.raises(InputError, match="2 label"):
        compare_results(three_runs, ["A", "B"])


def test_runs_under_different_protocols_are_flagged(tmp_path, three_runs):
    other = results_file(tmp_path, "smoke", None, {"math500": {"pass@1": 0.1}}, max_new_tokens=64, partial=True)
    markdown = compare_results([three_runs[0], other]).markdown
    assert "| smoke | - | - | 10.0 | - | - |" in markdown
    assert "**Not comparable as is**" in markdown and "max new tokens 64" in markdown
    assert "**Partial runs** (a few problems per benchmark): smoke." in markdown


def test_the_compare_command_writes_the_table_and_the_chart(three_runs, tmp_path):
    table, chart = tmp_path / "compare.md", tmp_path / "compare.png"
    done = s2r("compare", *map(str, three_runs), "-o", str(table), "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    assert "| random 10% | 100,000 | 300,000 | 80.0 | 30.0 | 40.0 |" in done.stdout
    assert table.read_text() == compare_results(three_runs).markdown
    assert chart.read_bytes().startswith(b"\x89PNG")


# -- hostile outputs and inputs (issue 16: case 6 and the compare tracebacks) -----------------------------------------


def compare_error(capsys, *argv: str) -> str:
    """Run `s2r compare ARGV` in this process; its one error line (exit 2, no traceback)."""
    from s2r_hf.cli import main

    assert main(["compare", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("s2r compare: error: ") and "Traceback" not in err, err
    return err


@pytest.fixture
def evaluation_folder(tmp_path, three_runs):
    """A results folder as `s2r evaluate` writes it (results.json inside), the first run's."""
    folder = tmp_path / "eval-full"
    folder.mkdir()
    three_runs[0].rename(folder / "results.json")
    return folder


def test_compare_never_writes_over_or_into_what_it_reads(evaluation_folder, three_runs, tmp_path, capsys):
    results = evaluation_folder / "results.json"
    before = results.read_bytes()
    others = [str(path) for path in three_runs[1:]]
    for flag, output, reason in [
        ("-o", results, "is inside the input folder"),
        ("--chart", results, "is inside the input folder"),
        ("-o", evaluation_folder / "table.md", "is inside the input folder"),
        ("--chart", three_runs[1], "is the input"),
    ]:
        assert reason in compare_error(capsys, str(evaluation_folder), *others, flag, str(output))
    # Named as a file, or through a symlink to it: the same file.
    link = tmp_path / "link.md"
    link.symlink_to(results)
    assert "is the input" in compare_error(capsys, str(results), others[0], "-o", str(link))
    assert results.read_bytes() == before and not (evaluation_folder / "table.md").exists()
    assert sorted(path.name for path in evaluation_folder.iterdir()) == ["results.json"]


def test_compare_output_paths_that_cannot_be_written_are_one_line_before_work(three_runs, tmp_path, capsys):
    runs = [str(path) for path in three_runs]
    line = compare_error(capsys, *runs, "-o", str(tmp_path / "missing_dir" / "x.md"))
    assert "missing_dir' does not exist; create it first" in line
    (tmp_path / "notes.txt").write_text("x")
    assert "notes.txt' is a file, not a folder" in compare_error(capsys, *runs, "-o", str(tmp_path / "notes.txt/x.md"))
    (tmp_path / "charts").mkdir()
    assert "is a folder; name the file" in compare_error(capsys, *runs, "--chart", str(tmp_path / "charts"))
    same = str(tmp_path / "both")
    assert "would both be written to" in compare_error(capsys, *runs, "-o", same, "--chart", same)
    assert not (tmp_path / "both").exists() and not (tmp_path / "missing_dir").exists()


def test_compare_chart_into_a_read_only_folder_is_one_line(three_runs, read_only_folder, capsys):
    line = compare_error(capsys, *map(str, three_runs), "--chart", str(read_only_folder / "chart.png"))
    assert "no permission to create files in" in line or "Read-only file system" in line
    assert list(read_only_folder.iterdir()) == []
    # The library path too: a write that fails at the disk is an OutputError, and leaves no file behind.
    from s2r_hf.core.errors import OutputError
    from s2r_hf.core.folders import write_file_atomically

    with pytest.raises(OutputError, match="Read-only file system"):
        write_file_atomically(read_only_folder / "table.md", b"x")


def test_compare_refuses_duplicates_and_damaged_results_in_one_line(evaluation_folder, three_runs, tmp_path, capsys):
    results = str(evaluation_folder / "results.json")
    assert "are the same results file; give each run once" in compare_error(
        capsys, str(evaluation_folder), str(three_runs[1]), results
    )
    data = json.loads(three_runs[1].read_text())
    for damage, shown in [({"math500": "0.9"}, '"0.9"'), ({"math500": {"pass@1": "high"}}, '{"pass@1": "high"}')]:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**data, "results": damage}))
        line = compare_error(capsys, str(bad))
        assert "is damaged: its results for 'math500' should map metrics to numbers, got " + shown in line
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert "not JSON" in compare_error(capsys, str(empty))
    no_results = tmp_path / "no-results"
    no_results.mkdir()
    assert f"{str(no_results)!r} holds no results.json" in compare_error(capsys, str(no_results))


def test_compare_reads_a_results_file_with_no_model_or_tasks_block(three_runs, tmp_path):
    data = json.loads(three_runs[1].read_text())
    for key in ("model", "tasks", "label"):
        data.pop(key)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    comparison = compare_results([three_runs[0], bare])
    assert "| run 2 | - | - | 80.0 | 30.0 | 40.0 |" in comparison.markdown
    assert "- run 2: preset paper, max new tokens ?" in comparison.markdown


def test_two_runs_with_one_label_get_their_paths_and_given_labels_must_differ(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    results_file(first, "tiny", 10, {"math500": {"pass@1": 0.1}}).rename(first / "results.json")
    results_file(second, "tiny", 20, {"math500": {"pass@1": 0.2}}).rename(second / "results.json")
    third = results_file(tmp_path, "other", 30, {"math500": {"pass@1": 0.3}})
    comparison = compare_results([first, second, third])
    assert comparison.labels == [f"tiny ({first})", f"tiny ({second})", "other"]
    assert f"| tiny ({first}) | 10 | 30 | 10.0 |" in comparison.markdown
    assert f"| tiny ({second}) | 20 | 60 | 20.0 |" in comparison.markdown
    # Labels the user gives are theirs: two alike are refused in one line, naming both runs.
    line = compare_error(capsys, str(first), str(second), "--label", "x", "--label", "x")
    assert line == (
        f"s2r compare: error: the label 'x' is given to two runs ({str(first)!r} and {str(second)!r}); give each run "
        "its own label"
    )


def seed_folder(folder, label, solved: dict[str, list[int]], sizes: dict[str, int], *, partial=False):
    """A results folder as `s2r evaluate` writes it for one training seed: results.json and the per-problem details
    (problem i right when i is in solved[benchmark])."""
    from fixtures.per_problem import write_details

    folder.mkdir(parents=True)
    scores = {name: [1.0 if i in solved[name] else 0.0 for i in range(size)] for name, size in sizes.items()}
    data = {
        "format": "s2r-evaluation/1",
        "label": label,
        "model": {"name": label, "data_tokens": 1000, "trained_tokens": 3000},
        "protocol": {"preset": "paper", "partial": partial},
        "tasks": {name: {"settings": {"max_new_tokens": 64, "num_samples": 1}} for name in sizes},
        "results": {name: {"pass@1": sum(values) / len(values)} for name, values in scores.items()},
    }
    (folder / "results.json").write_text(json.dumps(data))
    for name, values in scores.items():
        write_details(folder, name, values)
    return folder


@pytest.fixture
def seeded_runs(tmp_path):
    """Two arms of two seeds each: on math500 joint solves 80 of 100 where full solves 50 (a clear difference), on
    aime24 both solve 10 of 30 (one problem each the other does not: no difference)."""
    sizes = {"math500": 100, "aime24": 30}
    full = {"math500": list(range(50)), "aime24": list(range(10))}
    joint = {"math500": list(range(80)), "aime24": [*range(9), 10]}
    return [
        seed_folder(tmp_path / f"{arm}-seed{seed}", arm, solved, sizes)
        for arm, solved in (("full", full), ("joint", joint))
        for seed in (0, 1)
    ]


def test_group_seeds_makes_one_row_per_arm_with_its_interval_and_difference(seeded_runs):
    from s2r_hf.evaluation.compare import read_comparison_chart

    comparison = compare_results(seeded_runs, group_seeds=True)
    lines = comparison.markdown.splitlines()
    assert lines[0] == "| run | data tokens | trained tokens | runs | math500 pass@1 | aime24 pass@1 |"
    assert lines[2:4] == ["| full | 1,000 | 3,000 | 2 | 50.0 | 33.3 |", "| joint | 1,000 | 3,000 | 2 | 80.0 | 33.3 |"]
    arms = comparison.statistics["arms"]
    assert arms["joint"]["benchmarks"]["math500"]["seeds"] == 2 and comparison.statistics["reference"] == "full"
    difference = comparison.statistics["differences"]["joint"]
    assert (difference["math500"]["mean"], difference["math500"]["detectable"]) == (pytest.approx(0.3), True)
    assert (difference["aime24"]["mean"], difference["aime24"]["detectable"]) == (pytest.approx(0.0), False)
    assert "| joint | +30.0 [" in comparison.markdown and ": no detectable difference |" in comparison.markdown
    drawn = read_comparison_chart(comparison.png)
    assert drawn["runs"] == ["full", "joint"] and drawn["values"][1] == [0.8, pytest.approx(1 / 3)]
    assert drawn["low"][1][0] == arms["joint"]["benchmarks"]["math500"]["low"]  # the error bar is the interval
    assert (drawn["partial"], drawn["notes"]) == ([], [])


def test_without_group_seeds_each_run_is_a_row_and_the_reference_can_be_chosen(seeded_runs, capsys):
    from s2r_hf.cli import main

    comparison = compare_results(seeded_runs, ["f0", "f1", "j0", "j1"], reference="j0")
    assert comparison.labels == ["f0", "f1", "j0", "j1"]
    assert comparison.statistics["arms"]["f1"]["benchmarks"]["math500"]["seeds"] == 1
    assert comparison.statistics["differences"]["f0"]["math500"]["mean"] == pytest.approx(-0.3)
    assert main(["compare", *map(str, seeded_runs), "--group-seeds", "--reference", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["s2r compare: error: --reference 'random' is none of the runs compared: 'full', 'joint'"]


def test_the_chart_marks_partial_runs_and_an_all_zero_chart_says_so(tmp_path):
    from s2r_hf.evaluation.compare import read_comparison_chart

    zero = seed_folder(tmp_path / "zero", "zero", {"math500": []}, {"math500": 4}, partial=True)
    drawn = read_comparison_chart(compare_results([zero]).png)
    assert drawn["values"] == [[0.0]] and drawn["partial"] == ["zero"]
    assert drawn["notes"] == [
        "every score is 0: the answers may not be in a form the grader reads",
        "partial runs (zero): a few problems per benchmark, not a measurement",
    ]


def test_results_written_before_the_two_token_names_show_training_tokens_as_trained_tokens(tmp_path):
    from s2r_hf.evaluation.results import read_results

    old = results_file(tmp_path, "old run", 0, {"math500": {"pass@1": 0.5}})
    data = json.loads(old.read_text())
    data["model"] = {"name": "old-run", "training_tokens": 4321}  # the key results.json had before
    old.write_text(json.dumps(data))
    assert read_results(old)["model"] == {"name": "old-run", "trained_tokens": 4321, "data_tokens": None}
    lines = compare_results([old]).markdown.splitlines()
    assert lines[2] == "| old run | - | 4,321 | 50.0 |"


def test_a_model_folder_gives_its_two_token_counts_to_the_results(tmp_path, tiny_model_dir):
    """`model_identity` of a training output folder: trained tokens from the trainer's state, data tokens from the
    training record (an old one, with data.tokens_trained, too); a given count wins."""
    import shutil

    from s2r_hf.evaluation.runner import EvaluationConfig, model_identity

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "trainer_state.json").write_text(json.dumps({"num_input_tokens_seen": 6301, "global_step": 8}))
    record = {"kind": "s2r_training", "data": {"tokens_trained": 82568}, "training": {"tokens": 6301}}
    (folder / "s2r_training.json").write_text(json.dumps(record))
    identity = model_identity(str(folder), EvaluationConfig(tasks="math500"))
    assert (identity["data_tokens"], identity["trained_tokens"]) == (82568, 6301)
    given = model_identity(str(folder), EvaluationConfig(tasks="math500", data_tokens=5, trained_tokens=7))
    assert (given["data_tokens"], given["trained_tokens"]) == (5, 7)
