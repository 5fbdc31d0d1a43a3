"""`s2r compare` on three hand-made results files: the Markdown table (training tokens beside the scores) and the
grouped bar chart."""

from __future__ import annotations

import json

import pytest
from fixtures.evaluation import s2r

from s2r_hf.errors import InputError
from s2r_hf.evaluation.compare import compare_results


def results_file(folder, label, tokens, scores, *, preset="paper", max_new_tokens=16384, partial=False):
    """A results.json as `s2r evaluate` writes it, reduced to what compare reads."""
    data = {
        "format": "s2r-evaluation/1",
        "label": label,
        "model": {"name": label.replace(" ", "-"), "training_tokens": tokens},
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


def test_the_table_puts_training_tokens_beside_the_scores(three_runs):
    comparison = compare_results(three_runs)
    lines = comparison.markdown.splitlines()
    assert lines[0] == "| run | training tokens | math500 pass@1 | aime24 pass@1 | aime24 maj@16 |"
    assert lines[2] == "| full pool | 1,000,000 | 90.0 | 50.0 | 60.0 |"
    assert lines[3] == "| random 10% | 100,000 | 80.0 | 30.0 | 40.0 |"
    assert lines[4] == "| joint 10% | 150,000 | 91.0 | 52.0 | - |"  # maj@16 not evaluated in that run
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
    assert "| smoke | - | 10.0 | - | - |" in markdown
    assert "**Not comparable as is**" in markdown and "max new tokens 64" in markdown
    assert "**Partial runs** (a few problems per benchmark): smoke." in markdown


def test_the_compare_command_writes_the_table_and_the_chart(three_runs, tmp_path):
    table, chart = tmp_path / "compare.md", tmp_path / "compare.png"
    done = s2r("compare", *map(str, three_runs), "-o", str(table), "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    assert "| random 10% | 100,000 | 80.0 | 30.0 | 40.0 |" in done.stdout
    assert table.read_text() == compare_results(three_runs).markdown
    assert chart.read_bytes().startswith(b"\x89PNG")
