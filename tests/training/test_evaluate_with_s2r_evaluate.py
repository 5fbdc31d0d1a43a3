"""The evaluate callback with the real `s2r evaluate` (lighteval in its own process), not a stand-in: the scores a
real evaluation writes reach the trainer's logs, the provenance and the card."""

from __future__ import annotations

import json

import pytest
from fixtures.training import train_argv


@pytest.mark.slow
def test_the_evaluate_callback_runs_s2r_evaluate_and_logs_its_scores(tmp_path, tiny_model_dir, real_subset_dir,
                                                                     benchmark_paths):  # fmt: skip
    from s2r_hf.cli import main

    # The default command, made offline (a local benchmark file) and short (one problem, a few tokens).
    command = "{python} -m s2r_hf.cli evaluate {checkpoint} --tasks {benchmarks} -o {output} "
    command += f"--max-samples 1 --max-new-tokens 8 --data math500={benchmark_paths['math500']}"
    output_dir = tmp_path / "out"
    argv = train_argv(tiny_model_dir, real_subset_dir, output_dir, "--max_steps", "2", "--callbacks",
                      "selection_report", "evaluate", "--benchmarks", "math500", "--eval_command", command)  # fmt: skip
    assert main(argv) == 0

    results = json.loads((output_dir / "s2r_eval" / "step-2" / "results" / "results.json").read_text())
    assert results["model"]["path"].endswith("checkpoint-2") and set(results["results"]) == {"math500"}
    score = results["results"]["math500"]["pass@1"]
    logged = [entry for entry in json.loads((output_dir / "trainer_state.json").read_text())["log_history"]
              if "eval/math500/pass@1" in entry]  # fmt: skip
    assert [entry["eval/math500/pass@1"] for entry in logged] == [score]
    record = json.loads((output_dir / "s2r_training.json").read_text())
    assert record["evaluations"][0]["results"] == {"math500": {"pass@1": score}}
