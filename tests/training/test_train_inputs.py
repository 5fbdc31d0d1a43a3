"""Bad input to `s2r train`: one line, exit code 2, before the model is loaded (the output folder is never created)."""

from __future__ import annotations

import json
import shutil

import pytest
from fixtures.tiny_models import CHAT_TEMPLATE
from fixtures.training import train_argv

from s2r_hf.cli import main


@pytest.fixture(scope="module")
def no_template_model(tmp_path_factory, tiny_model_dir):
    """The tiny model with its tokenizer's chat template removed."""
    folder = tmp_path_factory.mktemp("no-template") / "model"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def run_train(argv, capsys):
    code = main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


def test_a_dataset_without_messages(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "pool.jsonl"
    data.write_text(json.dumps({"question": "1+1?", "solution": "2"}) + "\n", encoding="utf-8")
    code, line = run_train(train_argv(tiny_model_dir, data, tmp_path / "out"), capsys)
    assert code == 2 and "has no 'messages' column (columns: ['question', 'solution'])" in line
    assert not (tmp_path / "out").exists()


def test_a_subset_whose_every_example_is_over_long(trained_run, tmp_path, capsys):
    argv = train_argv(trained_run.model_dir, trained_run.subset_dir, tmp_path / "out", "--max_length", "1000")
    code, line = run_train(argv, capsys)
    assert code == 2
    assert "every one of the 29 examples is longer than max_length=1000 tokens (the shortest has 1944)" in line
    assert not (tmp_path / "out").exists()


def test_a_model_without_a_chat_template_names_the_option(no_template_model, trained_run, tmp_path, capsys):
    code, line = run_train(train_argv(no_template_model, trained_run.subset_dir, tmp_path / "out"), capsys)
    assert code == 2 and "has no chat template" in line and "--chat_template_path" in line


def test_a_jinja_chat_template_path_gives_the_template(no_template_model, trained_run, tmp_path, capsys):
    template = tmp_path / "chatml.jinja"
    template.write_text(CHAT_TEMPLATE, encoding="utf-8")
    argv = train_argv(no_template_model, trained_run.subset_dir, tmp_path / "out", "--max_length", "1000")
    code, line = run_train([*argv, "--chat_template_path", str(template)], capsys)
    assert code == 2 and "the shortest has 1944" in line  # measured with the given template: same as the tiny one


@pytest.mark.parametrize("value", ["x.jinja", "templates/missing.j2", "./templates/chatml", "no_such_dir/", "~/nope"])
def test_a_missing_local_chat_template_path_is_not_found_here_not_looked_up_on_the_hub(
    value, trained_run, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = train_argv(trained_run.model_dir, trained_run.subset_dir, tmp_path / "out", "--chat_template_path", value)
    code, line = run_train(argv, capsys)
    assert code == 2 and line.startswith(f"s2r train: error: --chat_template_path {value!r} does not exist; give a ")
    assert "huggingface.co" not in line and "connect" not in line
    assert not (tmp_path / "out").exists()


def test_assistant_only_loss_with_a_template_without_generation_markers(trained_run, tmp_path, capsys):
    template = tmp_path / "plain.jinja"
    template.write_text(CHAT_TEMPLATE.replace("{% generation %}", "").replace("{% endgeneration %}", ""), "utf-8")
    extra = ["--chat_template_path", str(template), "--assistant_only_loss", "true"]
    code, line = run_train(train_argv(trained_run.model_dir, trained_run.subset_dir, tmp_path / "out", *extra), capsys)
    assert code == 2 and "assistant_only_loss needs a chat template with {% generation %} markers" in line


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--callbacks", "selection_report", "evaluat"],
            "unknown callback 'evaluat'; known: selection_report, push_to_hub_revision, evaluate",
        ),
        (["--callbacks", "evaluate"], "the evaluate callback needs --benchmarks"),
        (["--callbacks", "push_to_hub_revision"], "the push_to_hub_revision callback needs --hub_model_id"),
        (["--benchmarks", "math5000"], "unknown benchmark 'math5000' in --benchmarks"),
        (["--selection_strategy", "smartest"], "unknown selection_strategy 'smartest'"),
        # the selection's messages name s2r train's flags, not s2r select's or SelectConfig's options
        (
            ["--selection_strategy", "joint", "--selection_ratio", "1.5"],
            ": --selection_ratio must be in (0, 1], got 1.5",
        ),
        (["--selection_strategy", "joint", "--selection_ratio", "0"], ": --selection_ratio must be in (0, 1], got 0.0"),
        (["--selection_strategy", "joint", "--selection_k", "0"], ": --selection_k must be a positive integer, got 0"),
        (["--selection_strategy", "joint", "--selection_weight", "2"], ": --selection_weight must be in [0, 1]"),
        (["--selection_strategy", "quadrant"], "the quadrant strategy needs --selection_quadrant, one of long-hard"),
        (
            ["--selection_strategy", "joint", "--selection_max_per_cluster", "0"],
            ": --selection_max_per_cluster must be a positive",
        ),
        (
            ["--callbacks", "evaluate", "--benchmarks", "math500", "--eval_command", "lighteval {model}"],
            "eval_command has unknown placeholder {model}",
        ),
    ],
)
def test_bad_options(extra, message, tiny_model_dir, tmp_path, capsys):
    code, line = run_train(train_argv(tiny_model_dir, tmp_path / "missing-data", tmp_path / "out", *extra), capsys)
    assert code == 2 and line.startswith("s2r train: error: ") and message in line


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--selection_strategy", "random", "--selection_weight", "0.9"],
            "--selection_weight 0.9 applies to the joint and quadrant strategies, not 'random', which would ignore it; "
            "drop it, or set --selection_strategy to joint or quadrant",
        ),
        (
            ["--selection_strategy", "longest", "--selection_seed", "3"],
            "--selection_seed 3 applies to the random and diverse strategies, not 'longest', which would ignore it; "
            "drop it, or set --selection_strategy to random or diverse",
        ),
        (
            ["--selection_strategy", "joint", "--selection_group_column", "topic"],
            "--selection_group_column 'topic' applies to the diverse strategy, not 'joint', which would ignore it; "
            "drop it, or set --selection_strategy to diverse",
        ),
    ],
)
def test_a_selection_option_its_strategy_would_ignore_is_refused_before_anything(extra, message, tmp_path, capsys):
    """Refused as `s2r select` and an experiment refuse it, in s2r train's flag names, before the model, the data (it
    does not exist here) or the output folder is touched."""
    argv = train_argv(tmp_path / "no-model", tmp_path / "no-data", tmp_path / "out", *extra)
    code, line = run_train(argv, capsys)
    assert (code, line) == (2, f"s2r train: error: {message}")
    assert not (tmp_path / "out").exists()


def test_a_selection_at_its_default_options_is_accepted_for_every_strategy(tmp_path):
    """`--selection_strategy random` alone: the weight, seed and group column it carries are defaults, not given."""
    from s2r_hf import S2RSFTConfig

    for strategy in ("random", "longest", "hardest", "diverse", "joint"):
        config = S2RSFTConfig(output_dir=str(tmp_path), selection_strategy=strategy, use_cpu=True, report_to="none")
        assert config.selection_config().strategy == strategy


def test_a_missing_model_path(trained_run, tmp_path, capsys):
    code, line = run_train(train_argv(tmp_path / "no-such-model", trained_run.subset_dir, tmp_path / "out"), capsys)
    assert code == 2 and f"model {str(tmp_path / 'no-such-model')!r} does not exist" in line


def test_an_output_folder_that_s2r_did_not_write(trained_run, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    for extra in ([], ["--overwrite_output_dir"]):
        argv = train_argv(trained_run.model_dir, trained_run.subset_dir, out, *extra)
        code, line = run_train(argv, capsys)
        assert code == 2 and "exists and was not written by s2r train" in line
    assert [path.name for path in out.iterdir()] == ["notes.txt"]


def test_an_unknown_recipe_lists_the_shipped_ones(tiny_model_dir, tmp_path, capsys):
    argv = train_argv(tiny_model_dir, tmp_path, tmp_path / "out")
    argv[argv.index("tiny-cpu")] = "tiny-gpu"
    code, line = run_train(argv, capsys)
    assert code == 2
    assert "recipe 'tiny-gpu' is neither a file nor a shipped recipe; shipped: qwen2.5-1.5b, qwen2.5-3b" in line


@pytest.mark.parametrize("value", ["nosuch_dir/", "data/nosuch_dir/"])
def test_a_dataset_name_spelled_as_a_folder_is_a_missing_folder_not_a_hub_dataset(
    value, tiny_model_dir, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, line = run_train(train_argv(tiny_model_dir, value, tmp_path / "out"), capsys)
    assert (code, line) == (
        2,
        f"s2r train: error: input {value!r} does not exist (and is not a Hub dataset id of the form org/name)",
    )


def test_a_missing_dataset_name(tiny_model_dir, tmp_path, capsys):
    code, line = run_train(["train", "--config", "tiny-cpu", "--model_name_or_path", str(tiny_model_dir)], capsys)
    assert code == 2 and "--dataset_name is required" in line


def test_an_unknown_recipe_key(tiny_model_dir, tmp_path, capsys):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("# CPU\nuse_cpu: true\nbf16: false\nlearning_rat: 0.1\n", encoding="utf-8")
    code, line = run_train(["train", "--config", str(recipe), "--model_name_or_path", str(tiny_model_dir)], capsys)
    assert code == 2 and line.startswith("s2r train: error: the training options are not valid: ")
    assert "['--learning_rat', '0.1']" in line  # TRL's words for the unknown key and its value


def test_a_bad_flag_value_is_one_line_not_the_whole_usage(tiny_model_dir, tmp_path, capsys):
    argv = train_argv(tiny_model_dir, tmp_path, tmp_path / "out", "--max_steps", "abc", "--no_such_flag", "1")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "argument --max_steps/--max-steps: invalid int value: 'abc'" in err[0]


def test_a_selection_column_error_names_the_train_flag(tiny_model_dir, real_subset_dir, tmp_path, capsys):
    argv = train_argv(tiny_model_dir, real_subset_dir.parent / "limo-scored", tmp_path / "out")
    argv += ["--selection_strategy", "diverse", "--selection_group_column", "nope"]
    code, line = run_train(argv, capsys)
    assert code == 2 and "stratifies by 'nope'" in line and line.endswith("Name one with --selection_group_column")
    assert not (tmp_path / "out").exists()
