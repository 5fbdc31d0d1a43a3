"""Bad input to `s2r evaluate` and `s2r compare`: one line on stderr, exit code 2, nothing written.

None of these cases starts lighteval: they are refused before (the options, the model folder, the interpreter) or
while the benchmarks are prepared.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest
from fixtures.evaluation import s2r


def one_line_error(done, command: str = "evaluate") -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr
    # datasets' progress bars may precede the error on stderr; the error itself is one line
    lines = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"s2r {command}: error: ")
    return lines[0]


def test_an_unknown_task_lists_the_known_ones(tiny_model_dir, tmp_path):
    line = one_line_error(s2r("evaluate", str(tiny_model_dir), "--tasks", "math500,gsm8k", "-o", str(tmp_path / "o")))
    assert "unknown benchmark 'gsm8k' in --tasks; known: math500, aime24, aime25, amc23, minerva, olympiadbench" in line
    assert not (tmp_path / "o").exists()


def test_max_samples_zero_is_refused(tiny_model_dir, tmp_path):
    line = one_line_error(s2r("evaluate", str(tiny_model_dir), "--max-samples", "0", "-o", str(tmp_path / "o")))
    assert "--max-samples must be a positive integer, got 0" in line


def test_a_model_folder_without_a_tokenizer(tiny_model_dir, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(tiny_model_dir / "config.json", model)
    shutil.copy(tiny_model_dir / "model.safetensors", model)
    line = one_line_error(s2r("evaluate", str(model), "-o", str(tmp_path / "o")))
    assert "has no tokenizer (tokenizer.json or tokenizer_config.json)" in line
    assert "tokenizer.save_pretrained(dir)" in line


def test_a_model_folder_without_a_chat_template(tiny_model_dir, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    (model / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((model / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (model / "tokenizer_config.json").write_text(json.dumps(config))
    line = one_line_error(s2r("evaluate", str(model), "-o", str(tmp_path / "o")))
    assert "has no chat template" in line


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE is set and no copy of it is cached"),
        ({"HF_ENDPOINT": "http://127.0.0.1:9"}, "could not fetch the model 'org/never-downloaded'"),  # refused
    ],
)
def test_a_hub_model_that_cannot_be_reached_fails_before_lighteval_starts(env, message, tmp_path):
    done = s2r("evaluate", "org/never-downloaded", "--tasks", "math500", "-o", str(tmp_path / "o"), env=env)
    line = one_line_error(done)
    assert message in line and "lighteval" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_benchmark_file_without_an_answer_field(tiny_model_dir, tmp_path):
    bad = tmp_path / "math500.jsonl"
    bad.write_text(json.dumps({"problem": "1+1?", "result": "2"}) + "\n")
    out = tmp_path / "o"
    line = one_line_error(
        s2r("evaluate", str(tiny_model_dir), "--tasks", "math500", "--data", f"math500={bad}", "-o", str(out))
    )
    assert "has no recognisable answer field" in line and "its fields: problem, result" in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.")] == []  # the staging folder is gone


def test_data_for_a_task_not_evaluated(tiny_model_dir, tmp_path, benchmark_paths):
    line = one_line_error(
        s2r("evaluate", str(tiny_model_dir), "--tasks", "math500", "--data", f"aime24={benchmark_paths['aime24']}")
    )
    assert "--data names 'aime24', which is not among --tasks (math500)" in line


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_the_vllm_backend_where_vllm_is_missing_says_how_to_point_python_elsewhere(tiny_model_dir, tmp_path):
    line = one_line_error(s2r("evaluate", str(tiny_model_dir), "--backend", "vllm", "-o", str(tmp_path / "o")))
    assert f"the vLLM backend needs vllm, which {sys.executable} cannot import" in line
    assert "--python /path/to/that/env/bin/python" in line


def test_an_interpreter_that_does_not_exist(tiny_model_dir, tmp_path):
    line = one_line_error(
        s2r("evaluate", str(tiny_model_dir), "--python", str(tmp_path / "nope"), "-o", str(tmp_path / "o"))
    )
    assert "cannot be run" in line


def test_parallelism_needs_the_vllm_backend(tiny_model_dir):
    line = one_line_error(s2r("evaluate", str(tiny_model_dir), "--data-parallel-size", "2"))
    assert "use --backend vllm" in line


def test_push_to_hub_needs_a_target(tiny_model_dir):
    line = one_line_error(s2r("evaluate", str(tiny_model_dir), "--push-to-hub"))
    assert "--results-repo, --model-repo, --subset-repo" in line


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"results": {"math500": {"pass@1": 0.5}}}', "is not a results file of s2r evaluate"),
        ("not json at all", "not JSON"),
        ("[1, 2]", "is not a results file of s2r evaluate"),
    ],
)
def test_compare_refuses_a_results_file_that_is_not_ours(tmp_path, content, reason):
    path = tmp_path / "results.json"
    path.write_text(content)
    line = one_line_error(s2r("compare", str(path)), "compare")
    assert reason in line


def test_compare_refuses_a_missing_file(tmp_path):
    line = one_line_error(s2r("compare", str(tmp_path / "nope.json")), "compare")
    assert "nope.json' does not exist: give a results.json" in line


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--max-new-tokens",
            "1000000000000",
            "--max-new-tokens 1000000000000 is beyond any sensible run; give at most",
        ),
        ("--max-new-tokens", "5000", "--max-new-tokens 5000 is beyond the model's context (max_position_embeddings"),
        ("--num-samples", "100000000", "--num-samples 100000000 is beyond any sensible run; give at most 1,024"),
        ("--batch-size", "1000000000000", "--batch-size 1000000000000 is beyond any sensible run"),
        ("--seed", str(2**32), "--seed must be an integer from 0 to 4294967295"),
    ],
)
def test_out_of_range_generation_settings_are_refused_before_lighteval(
    tiny_model_dir, tmp_path, option, value, message
):
    # A process with a time limit: before the fix, lighteval started and tried to generate that much.
    done = s2r(
        "evaluate", str(tiny_model_dir), "--tasks", "math500", option, value, "-o", str(tmp_path / "o"), timeout=120
    )
    line = one_line_error(done)
    assert message in line
    if value == "5000":  # the tiny model's config says 4096
        assert "give at most 4096" in line
    assert not (tmp_path / "o").exists()


# -- found by the hostile sweep of issue 16 ----------------------------------------------------------------------------


def evaluate_error(capsys, *argv: str) -> str:
    """`s2r evaluate ARGV` in a process with a time limit (a regression would start lighteval); its one error line."""
    return one_line_error(s2r("evaluate", *argv, timeout=120))


@pytest.mark.parametrize("program", ["/bin/true", "/bin/echo"])
def test_a_python_that_is_not_python_is_one_line(tiny_model_dir, tmp_path, capsys, program):
    line = evaluate_error(
        capsys, str(tiny_model_dir), "--tasks", "math500", "--python", program, "-o", str(tmp_path / "o")
    )
    assert f"--python {program!r} did not run our probe as a Python interpreter would" in line
    assert not (tmp_path / "o").exists()


def test_a_python_that_fails_says_which_program_failed_and_how(tiny_model_dir, tmp_path, capsys):
    """`--python /bin/false` said "failed to start: []": now the program, its exit status, and what to give instead."""
    line = evaluate_error(
        capsys, str(tiny_model_dir), "--tasks", "math500", "--python", "/bin/false", "-o", str(tmp_path / "o")
    )
    assert line == (
        "s2r evaluate: error: --python '/bin/false' exited with status 1 when asked to run a short Python probe, "
        "printing nothing: it is not a working Python interpreter; give the path of the Python of an environment "
        "with lighteval (e.g. /path/to/env/bin/python)"
    )
    assert not (tmp_path / "o").exists()
    # A program that says why it failed: its last line is quoted.
    from s2r_hf.core.errors import InputError
    from s2r_hf.evaluation.runner import probe_interpreter

    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(InputError) as caught:
        probe_interpreter(str(broken), "transformers")
    assert str(caught.value).startswith(
        f"--python {str(broken)!r} exited with status 3 when asked to run a short Python probe (Fatal Python error: "
    )


def test_overwriting_a_training_run_names_s2r_train_and_what_evaluate_replaces(tiny_model_dir, tmp_path, capsys):
    """`s2r evaluate -o run1 --overwrite` where `s2r train` wrote run1 said run1 "was not written by s2r"."""
    run1 = tmp_path / "run1"
    run1.mkdir()
    (run1 / "s2r_training.json").write_text('{"kind": "s2r_training", "status": "finished"}')
    line = evaluate_error(capsys, str(tiny_model_dir), "--tasks", "math500", "-o", str(run1), "--overwrite")
    assert line == (
        f"s2r evaluate: error: --overwrite refused: output folder {str(run1)!r} holds a training run (written by s2r "
        "train), and --overwrite replaces only an evaluation (written by s2r evaluate); choose another output folder"
    )
    assert [path.name for path in run1.iterdir()] == ["s2r_training.json"]


def test_an_unknown_dtype_is_refused_before_lighteval(tiny_model_dir, tmp_path, capsys):
    line = evaluate_error(
        capsys, str(tiny_model_dir), "--tasks", "math500", "--dtype", "fp7", "-o", str(tmp_path / "o")
    )
    assert "dtype must be one of ['auto', 'bfloat16', 'float16', 'float32'" in line and "got 'fp7'" in line


def test_a_model_folder_without_weights_is_refused_before_any_work(tiny_model_dir, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    (model / "model.safetensors").unlink()
    (model / "training_args.bin").write_bytes(b"not weights")
    line = evaluate_error(capsys, str(model), "--tasks", "math500", "-o", str(tmp_path / "o"))
    assert "has no weights (*.safetensors, pytorch_model*.bin)" in line
    assert [path.name for path in tmp_path.iterdir()] == ["model"]  # no staging folder, no lock file


def test_compare_never_replaces_a_pipe_or_device_named_as_its_output(tmp_path, capsys):
    import os

    from s2r_hf.cli import main

    results = tmp_path / "results.json"
    results.write_text(
        json.dumps({"format": "s2r-evaluation/1", "label": "a|b\nc", "results": {"math500": {"pass@1": 0.5}}})
    )
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["compare", str(results), "-o", str(fifo)]) == 2
    assert "is not a regular file" in capsys.readouterr().err
    assert fifo.is_fifo()
    # A label with a pipe or a line break stays one cell of one row.
    assert main(["compare", str(results)]) == 0
    assert "| a\\|b c | - | - | 50.0 |" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_model_config_that_is_not_a_json_object_is_refused_before_any_work(tiny_model_dir, tmp_path, capsys, content):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    (model / "config.json").write_text(content)
    line = evaluate_error(capsys, str(model), "--tasks", "math500", "-o", str(tmp_path / "o"))
    assert "config.json'" in line and "save the model again" in line
    assert [path.name for path in tmp_path.iterdir()] == ["model"]
