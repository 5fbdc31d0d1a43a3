"""s2r_hf.evaluation.results: the results folder `s2r evaluate` writes, read back by the one reader and checker."""

from __future__ import annotations

import json

import pytest

from s2r_hf.core.cards import split_card
from s2r_hf.core.errors import InputError
from s2r_hf.evaluation.results import check_results, read_results, write_results


def tidy(value=0.5) -> dict:
    settings = {"num_samples": 1, "max_new_tokens": 8, "temperature": 0.6, "top_p": 0.95}
    return {
        "format": "s2r-evaluation/1",
        "label": "joint 10%",
        "model": {"name": "tiny", "weights_sha256": "ab" * 32},
        "protocol": {
            "preset": "quick",
            "partial": False,
            "max_samples": None,
            "seed": 0,
            "backend": "transformers",
            "lighteval_version": "0.0",
            "s2r_version": "0.0",
        },
        "tasks": {
            "math500": {
                "settings": settings,
                "problems": 2,
                "generations": 2,
                "mean_generated_tokens": 7.5,
                "mean_rethinks": 0.5,
            }
        },
        "results": {"math500": {"pass@1": value}},
        "table": [
            {
                "task": "math500",
                "metric": "pass@1",
                "value": value,
                "stderr": 0.25,
                "problems": 2,
                "samples": 1,
                "settings": "n=1",
            }
        ],
    }


def test_written_results_read_back_whole(tmp_path):
    markdown = write_results(tmp_path, tidy())
    assert read_results(tmp_path) == tidy() == read_results(tmp_path / "results.json")
    assert (tmp_path / "results.md").read_text() == markdown
    assert "| math500 | pass@1 | 0.5000 | 0.2500 | 2 | 1 | n=1 |" in markdown
    metadata, body = split_card((tmp_path / "README.md").read_text())
    assert metadata == {
        "s2r": {
            "kind": "evaluation",
            "label": "joint 10%",
            "model": "tiny",
            "preset": "quick",
            "results": {"math500": {"pass@1": 0.5}},
        }
    }
    assert body == f"\n# Evaluation: joint 10%\n\n{markdown}"


def test_a_loaded_dict_is_checked_as_the_file_is(tmp_path):
    assert check_results(tidy()) == tidy()
    with pytest.raises(InputError, match=r'^the results given is not a results file of s2r evaluate \(no "format"'):
        check_results({**tidy(), "format": "other"}, "the results given")
    with pytest.raises(
        InputError,
        match=r"^the results is damaged: its results for 'math500' should map metrics to "
        r'numbers, got \{"pass@1": "high"\}',
    ):
        check_results(tidy("high"))
    (tmp_path / "results.json").write_text(json.dumps(tidy(True)))
    with pytest.raises(InputError, match=r"results.json' is damaged: .* got \{\"pass@1\": true\}"):
        read_results(tmp_path)


def tidy_run(max_samples, problems, rows=30):
    """tidy_results of a run of AIME24 (paper preset) that evaluated `problems` of its `rows` problems."""
    from s2r_hf.evaluation.runner import EvaluationConfig, tidy_results

    config = EvaluationConfig(tasks="aime24", max_samples=max_samples)
    summary = {
        "results": {"aime24": {"pass@1": 0.5, "pass@1_stderr": 0.1, "maj@16": 0.5}},
        "stats": {"aime24": {"problems": problems, "samples": 16 * problems}},
    }
    return tidy_results(
        summary,
        config.settings(),
        config=config,
        identity={"name": "tiny"},
        sources={"aime24": {"source": "aime24.jsonl", "rows": rows, "sha256": "0" * 64}},
        lighteval_version="0.13.0",
        command=None,
    )


def test_max_samples_beyond_the_benchmark_is_a_full_run_not_partial(tmp_path):
    from s2r_hf.evaluation.compare import compare_results
    from s2r_hf.evaluation.results import is_partial

    full = tidy_run(max_samples=100, problems=30)  # every one of the 30 problems evaluated
    assert full["protocol"]["partial"] is False and full["protocol"]["max_samples"] == 100
    assert "Partial" not in write_results(tmp_path, full)
    assert "Partial" not in compare_results([tmp_path]).markdown
    # A results file written before the rule (partial for any --max-samples) is read from its counts.
    old = {**full, "protocol": {**full["protocol"], "partial": True}}
    assert is_partial(old) is False
    # Some problems left out: partial, and the table says how many of how many.
    cut = tidy_run(max_samples=2, problems=2)
    assert cut["protocol"]["partial"] is True and is_partial(cut)
    assert "**Partial run**: problems evaluated: aime24 2 of 30; not comparable." in write_results(tmp_path, cut)
    assert "**Partial runs** (a few problems per benchmark): tiny." in compare_results([tmp_path]).markdown
    # A file without the benchmarks' sizes: its protocol's word.
    assert is_partial({"protocol": {"partial": True}, "tasks": {"aime24": {"problems": 2}}}) is True
    assert is_partial({"protocol": {"partial": False}, "tasks": {}}) is False
