"""Bad experiment files and folders: one line each, exit code 2, before any step runs (and nothing written)."""

from __future__ import annotations

import json

import pytest

from s2r_hf.cli import main
from s2r_hf.core.errors import S2RError

TINY = """
name: tiny
pool:
  source: demo
arms:
  - {name: full, strategy: full}
  - {name: joint, strategy: joint, ratio: 0.1, weight: 0.25}
train:
  recipe: tiny-cpu
  model: MODEL
evaluate:
  tasks: math500
  data: {math500: MATH500}
"""


@pytest.fixture
def experiment(tmp_path, tmp_path_factory, tiny_model_dir):
    """Write an experiment file (the tiny one, edited by `change`) in a fresh folder; returns its path. Its benchmark
    is a local file, as offline: the checks before a run find the Hub's copy unreachable here (no network)."""
    math500 = tmp_path_factory.mktemp("benchmark") / "math500.jsonl"  # beside the folder, which tests list
    math500.write_text(json.dumps({"problem": "What is 1 + 1?", "answer": "2"}) + "\n", encoding="utf-8")

    def write(text: str = TINY, **replace: str) -> str:
        text = text.replace("MODEL", str(tiny_model_dir)).replace("MATH500", str(math500))
        for old, new in replace.items():
            text = text.replace(old, new)
        path = tmp_path / "experiment.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def run_fails(capsys, *argv: str, code: int = 2, prefix: str = "s2r experiment: error:") -> str:
    """Run `s2r ARGV`, expect exit code `code` (2: bad input) and one line starting with `prefix`; return that line."""
    returned = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert returned == code, err
    errors = [line for line in err if line.startswith(prefix)]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"{name: joint,": "{name: full,"}, "arm name 'full' is used twice (arms[0] and arms[1])"),
        ({"strategy: joint,": "strategy: best,"}, "unknown strategy 'best'"),
        ({"recipe: tiny-cpu": "recipe: tiny-gpu"}, "recipe 'tiny-gpu' is neither a file nor a shipped recipe"),
        ({"weight: 0.25": "weigth: 0.25"}, "unknown key 'weigth'; did you mean 'weight'?"),
        ({"{name: full, strategy: full}": "{name: full, strategy: full, ratio: 0.1}"}, "the full arm trains on the"),
        ({"tasks: math500": "tasks: math5000"}, "math5000"),
        ({"ratio: 0.1": "ratio: 1.5"}, "arm 'joint': ratio must be in (0, 1], got 1.5"),
        # The rule of s2r select (s2r_hf.selection), in the file's own key names; a key given at its default counts.
        (
            {"strategy: joint, ratio: 0.1, weight": "strategy: random, ratio: 0.1, weight"},
            "arm 'joint': weight 0.25 applies to the joint and quadrant strategies, not 'random', which would ignore "
            "it; drop it, or set strategy to joint or quadrant",
        ),
        (
            {"weight: 0.25": "seed: 0"},
            "arm 'joint': seed 0 applies to the random and diverse strategies, not 'joint', which would ignore it",
        ),
        (
            {"strategy: joint, ratio: 0.1, weight: 0.25": "strategy: longest, ratio: 0.1, group_column: topic"},
            "arm 'joint': group_column 'topic' applies to the diverse strategy, not 'longest', which would ignore it",
        ),
        ({"name: joint": "name: ../joint"}, "arm name '../joint' cannot name a folder"),
        ({"name: joint": "name: pool"}, "arm name 'pool' is reserved"),
        # Issue 16: these passed `plan` and were refused by publish after every arm had trained.
        ({"name: joint": "name: results"}, "arm name 'results' is reserved"),
        ({"name: joint": "name: Experiment"}, "arm name 'Experiment' is reserved"),
        ({"name: joint": "name: report.md"}, "arm name 'report.md' is reserved"),
        ({"evaluate:": "publish: {namespace: s2r}\nevaluate:", "name: joint": "name: a--b"}, "'s2r/tiny-a--b' is not"),
        ({"source: demo": "scored: /nonexistent/scored"}, "pool.scored '/nonexistent/scored' is not a folder"),
        ({"evaluate:": "evaluation:"}, "unknown key 'evaluation'; did you mean 'evaluate'?"),
        ({"  tasks: math500": "  tasks: math500\n  python_path: x"}, "evaluate: unknown key 'python_path'"),
        # Issue 20: seeds that are not distinct whole numbers from 0, and a reference that is no arm.
        ({"train:": "seeds: [0, 1, 0]\ntrain:"}, "seeds repeats 0 ([0, 1, 0]): each seed trains once"),
        ({"train:": "seeds: [-1]\ntrain:"}, "seeds must be whole numbers from 0 to 2**32 - 1, got -1 in [-1]"),
        ({"train:": "seeds: [true]\ntrain:"}, "seeds must be whole numbers from 0 to 2**32 - 1, got True"),
        ({"train:": "seeds: [1.5]\ntrain:"}, "seeds must be whole numbers from 0 to 2**32 - 1, got 1.5"),
        ({"train:": "seeds: []\ntrain:"}, "seeds is an empty list: give at least one seed"),
        ({"train:": "seeds: 3\ntrain:"}, "seeds must be a list of whole numbers, e.g. seeds: [0, 1, 2]; got 3"),
        ({"weight: 0.25}": "weight: 0.25, seeds: [2, 2]}"}, "arm 'joint': seeds repeats 2"),
        ({"train:": "reference: ful\ntrain:"}, "reference 'ful' is not an arm of the experiment; its arms: ['full'"),
        (
            {"train:": "seeds: [0, 1]\ntrain:", "recipe: tiny-cpu": "recipe: tiny-cpu\n  overrides: {seed: 3}"},
            "train.overrides.seed (3) and seeds are both given",
        ),
    ],
)
def test_bad_experiment_files_are_one_line(capsys, experiment, tmp_path, edit, expected):
    line = run_fails(capsys, "experiment", "run", experiment(**edit), "--set", f"output={tmp_path / 'out'}")
    assert expected in line
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_missing_model_folder_stops_before_any_step(capsys, experiment, tmp_path):
    line = run_fails(
        capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}",
        "--set", f"train.model={tmp_path / 'no-such-model'}",
    )  # fmt: skip
    assert "train.model" in line and "does not exist" in line
    assert not (tmp_path / "out").exists()


def test_a_bad_training_override_stops_before_any_step(capsys, experiment, tmp_path):
    line = run_fails(
        capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}",
        "--set", "train.overrides.max_stepz=2",
    )  # fmt: skip
    assert line.startswith("s2r experiment: error: train:") and "max_stepz" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # Issue 16: NaN epochs failed inside the trainer, after the pool was scored and the arms selected.
        (["train.overrides.num_train_epochs=nan"], "num_train_epochs must be a finite number, got nan"),
        (["train.overrides.learning_rate=.inf"], "learning_rate must be a finite number, got inf"),
        (["train.overrides.max_steps=-1", "train.overrides.num_train_epochs=0"], "nothing would be trained"),
        (["train.overrides.num_train_epochs=-2"], "num_train_epochs must be a finite number of epochs, at least 0"),
        (["train.overrides.max_steps=0", "train.overrides.num_train_epochs=0"], "nothing would be trained"),
        (["train.overrides.per_device_train_batch_size=0"], "per_device_train_batch_size must be a whole number"),
        (["train.overrides.max_grad_norm=-1"], "max_grad_norm cannot be negative"),
    ],
)
def test_training_values_training_would_refuse_stop_before_any_step(capsys, experiment, tmp_path, overrides, expected):
    flags = [word for override in overrides for word in ("--set", override)]
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}", *flags)
    assert line.startswith("s2r experiment: error: train:") and expected in line, line
    assert not (tmp_path / "out").exists()  # the pool was not scored


def test_overrides_the_experiment_sets_itself_are_refused(capsys, experiment, tmp_path):
    line = run_fails(capsys, "experiment", "plan", experiment(), "--set", "train.overrides.output_dir=elsewhere")
    assert "['output_dir']" in line


def test_an_output_folder_holding_another_experiment_is_refused(capsys, experiment, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "experiment.json").write_text(json.dumps({"format": "s2r-experiment/1", "name": "other"}))
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={out}")
    assert "holds another experiment ('other', not 'tiny')" in line
    assert sorted(path.name for path in out.iterdir()) == ["experiment.json"]


def test_an_output_folder_that_is_not_an_experiment_is_refused(capsys, experiment, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={out}")
    assert "exists and was not written by s2r experiment (no experiment.json)" in line
    assert sorted(path.name for path in out.iterdir()) == ["mine.txt"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--only", "jiont"], "no arm named 'jiont'"),
        (["--set", "arms.jiont.weight=0.5"], "no arm named 'jiont'"),
        (["--set", "noequals"], "--set takes KEY=VALUE"),
        (["--only", "joint", "--step", "train"], "joint/train needs joint/select, which is not done"),
        (["--only", "full", "--step", "select"], "the full arm 'full' has no select step"),
        (["--step", "publish"], "has no publish section"),
        (["--set", "publish.namespace=s2r", "--only", "joint", "--step", "publish"], "drop --only joint"),
        (["--seed", "1"], "--seed 1 is not a training seed of any arm run (their seeds: full none given, joint none"),
        (
            ["--set", "arms.joint.seeds=[0, 2]", "--only", "joint", "--seed", "1"],
            "--seed 1 is not a training seed of any arm run (their seeds: joint [0, 2])",
        ),
    ],
)
def test_bad_run_options_are_one_line(capsys, experiment, tmp_path, argv, expected):
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}", *argv)
    assert expected in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: [unclosed", "is not valid YAML"),
        ("name: x\npool: {source: demo}\narms: [{name: a, weight: 0.25, weight: 0.9}]\n", "'weight' is given twice"),
        ("name: x\n\tpool: {source: demo}\n", "is not valid YAML"),
        ("", "is empty"),
        ("- a list", "must be a mapping"),
        ("name: x\npool: {source: demo}\narms: []\n", "arms must be a list of at least one arm"),
        ("name: x\narms: [{name: a}]\n", "needs 'pool'"),
        ("name: x\npool: {source: demo, scored: y}\narms: [{name: a}]\n", "exactly one of `scored`"),
    ],
)
def test_malformed_files_are_one_line(capsys, tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    assert expected in run_fails(capsys, "experiment", "plan", str(path))


def test_a_missing_file_names_the_shipped_examples(capsys):
    line = run_fails(capsys, "experiment", "plan", "no-such-experiment.yaml")
    assert "tiny-cpu" in line and "paper-7b" in line


def test_report_of_a_folder_that_is_no_experiment(capsys, tmp_path):
    fix = "run `s2r experiment run EXPERIMENT.yaml` first and report on its output folder"
    line = run_fails(capsys, "experiment", "report", str(tmp_path))
    assert line == (
        f"s2r experiment: error: {str(tmp_path)!r} is not the output of an experiment (no experiment.json); {fix}"
    )
    assert list(tmp_path.iterdir()) == []  # no report written into it
    missing = tmp_path / "missing"
    line = run_fails(capsys, "experiment", "report", str(missing))
    assert line.startswith(
        f"s2r experiment: error: {str(missing)!r} is neither an experiment's output folder nor an experiment file or "
        "shipped example (paper-1.5b, paper-7b, "
    )
    (tmp_path / "experiment.json").write_text(json.dumps({"format": "s2r-results/1", "arms": ["a"]}), "utf-8")
    line = run_fails(capsys, "experiment", "report", str(tmp_path))
    assert line.startswith(f"s2r experiment: error: {str(tmp_path / 'experiment.json')!r} is not an experiment record")
    assert line.endswith(f"('format' is 's2r-results/1', expected 's2r-experiment/1'); {fix}")  # the one reader's


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the arm locks are flock locks (POSIX)")
def test_an_arm_another_run_is_working_on_is_refused(capsys, experiment, tmp_path):
    import fcntl

    out = tmp_path / "out"
    (out / "joint" / "steps").mkdir(parents=True)
    (out / "experiment.json").write_text(json.dumps({"format": "s2r-experiment/1", "name": "tiny"}))
    with open(out / "joint" / "steps" / ".lock", "a+") as held:  # as a running `s2r experiment run` holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={out}", "--only", "joint")
    assert "another `s2r experiment run` is working on arm 'joint'" in line
    assert not (out / "pool").exists() and not (out / "steps" / "pool.json").exists()  # nor was the pool scored


# -- the sweep after issue 16: hostile files and folders ---------------------------------------------------------------


def test_an_output_that_is_a_dangling_symlink_is_one_line(capsys, experiment, tmp_path):
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "nowhere" / "out")
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={out}", "--step", "pool")
    assert "is a symbolic link to" in line and "which does not exist" in line
    assert out.is_symlink() and not (tmp_path / "nowhere").exists()


def test_an_empty_read_only_output_folder_is_one_line(capsys, experiment, read_only_folder):
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", f"output={read_only_folder}", "--step", "pool")
    assert "Read-only file system" in line and "choose an output folder you can write to" in line.lower()


def test_yaml_aliases_that_expand_without_end_are_one_line(tmp_path):
    """Nine aliases of nine aliases load in microseconds and expand to 387 million values in the run's records."""
    import os
    import subprocess
    import sys

    from fixtures.evaluation import REPO_ROOT

    levels = ["      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = TINY.replace("  model: MODEL", "  model: some/model\n  overrides:\n    bomb:\n" + "\n".join(levels))
    path = tmp_path / "bomb.yaml"
    path.write_text(text, encoding="utf-8")
    command = [sys.executable, "-m", "s2r_hf.cli", "experiment", "plan", str(path)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "expands to more than 100,000 values" in done.stderr


def test_ctrl_c_between_or_inside_in_process_steps_is_one_line_and_resumes(capsys, experiment, tmp_path, monkeypatch):
    """Ctrl-C while the pool is scored (in this process): one line, exit 130; its record says it did not finish."""
    from s2r_hf.experiment import runner

    def interrupted(self, planned, resume):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner._Context, "execute", interrupted)
    out = tmp_path / "out"
    interrupted_run = ("experiment", "run", experiment(), "--set", f"output={out}", "--step", "pool")
    line = run_fails(capsys, *interrupted_run, code=130, prefix="s2r experiment: interrupted")
    assert line.startswith("s2r experiment: interrupted (Ctrl-C) during pool, which was stopped")
    assert json.loads((out / "steps" / "pool.json").read_text())["status"] == "running"  # resumed by the next run

    def interrupted_report(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.undo()
    monkeypatch.setattr("s2r_hf.experiment.report.build_report", interrupted_report)
    monkeypatch.setattr(runner._Context, "execute", lambda self, planned, resume: {})
    line = run_fails(capsys, *interrupted_run, code=130, prefix="s2r experiment: interrupted")
    assert line.startswith("s2r experiment: interrupted (Ctrl-C); ")


def test_an_output_inside_a_folder_the_experiment_reads_is_refused(capsys, experiment, tmp_path, demo_output):
    """Inside the scored pool, every run would find the pool changed (its fingerprint covers its files) and redo all."""
    import shutil

    scored = shutil.copytree(demo_output / "openr1-synthetic-scored", tmp_path / "scored")
    before = sorted(path.name for path in scored.iterdir())
    line = run_fails(
        capsys, "experiment", "run", experiment(**{"source: demo": f"scored: {scored}"}),
        "--set", f"output={scored / 'experiment'}",
    )  # fmt: skip
    assert "is inside pool.scored" in line
    assert sorted(path.name for path in scored.iterdir()) == before


def test_a_launcher_that_is_not_installed_stops_before_any_step(capsys, experiment, tmp_path):
    """It failed at the first train step, after the pool was scored and every arm selected."""
    line = run_fails(
        capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}",
        "--set", "train.launcher=no-such-launcher --nproc_per_node 8",
    )  # fmt: skip
    assert "starts 'no-such-launcher', which is not an installed program" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("setting", ["name=" + "a" * 300, "arms.joint.name=" + "j" * 97, "output=" + "o" * 300])
def test_names_too_long_for_a_folder_or_a_repo_are_one_line(capsys, experiment, tmp_path, monkeypatch, setting):
    monkeypatch.chdir(tmp_path)
    line = run_fails(capsys, "experiment", "run", experiment(), "--set", setting, "--step", "pool")
    assert "at most 96" in line or "File name too long" in line
    assert sorted(tmp_path.iterdir()) == [tmp_path / "experiment.yaml"]


# -- issue 18: every input of the steps that will run, checked before the first one ------------------------------------


def run_fails_lines(capsys, *argv: str) -> list[str]:
    """Run `s2r ARGV`, expect exit code 2; return the error lines (one per problem)."""
    returned = main(list(argv))
    err = capsys.readouterr().err.strip().splitlines()
    assert returned == 2, err
    return [line for line in err if line.startswith("s2r experiment: error:")]


MISSING_MODEL = (
    "s2r experiment: error: the train.model 'no-org/no-such-model' is neither a local folder nor a Hub model this "
    "token can see"
)


def test_a_base_model_that_cannot_be_fetched_stops_before_any_step(capsys, experiment, tmp_path, hub):
    """The pool was scored and the arms selected before the trainer found the model missing (43 s). The loopback Hub
    answers (it has no such model), so the message does not depend on whether another test started it; offline with
    nothing cached is test_offline_the_shipped_example_names_its_model_and_benchmark_at_once."""
    line = run_fails(
        capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}",
        "--set", "train.model=no-org/no-such-model",
    )  # fmt: skip
    assert line.startswith(MISSING_MODEL), line
    assert not (tmp_path / "out").exists()  # the pool was not scored: nothing written


def test_missing_benchmark_data_stops_before_any_step(capsys, experiment, tmp_path):
    """The benchmark was found missing by the first evaluate step, after a pool scored and an arm trained (45 s)."""
    missing = tmp_path / "benchmarks" / "math500.jsonl"
    line = run_fails(
        capsys, "experiment", "run", experiment(), "--set", f"output={tmp_path / 'out'}",
        "--set", f"evaluate.data.math500={missing}",
    )  # fmt: skip
    assert line == (
        f"s2r experiment: error: evaluate.data math500={missing}: {str(missing)!r} does not exist; give a local file "
        "or folder"
    )
    assert not (tmp_path / "out").exists()


def test_every_missing_input_is_listed_at_once(capsys, experiment, tmp_path):
    """A model, a benchmark file and a pool source all missing: one line each, in the order the steps read them."""
    model, data, source = tmp_path / "no-model", tmp_path / "no-math500.jsonl", tmp_path / "no-pool.jsonl"
    lines = run_fails_lines(
        capsys, "experiment", "run", experiment(**{"source: demo": f"source: {source}"}),
        "--set", f"output={tmp_path / 'out'}",
        "--set", f"train.model={model}",
        "--set", f"evaluate.data.math500={data}",
    )  # fmt: skip
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"s2r experiment: error: evaluate.data math500={data}: ")  # known before planning
    assert lines[1] == (
        f"s2r experiment: error: pool.source: input {str(source)!r} does not exist (and is not a Hub dataset id of the "
        "form org/name)"
    )
    assert lines[2].startswith(f"s2r experiment: error: the train.model folder {str(model)!r} does not exist")
    assert not (tmp_path / "out").exists()
    # In Python, one InputProblemsError (an InputError) holds each problem.
    from s2r_hf import InputProblemsError
    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.experiment.runner import run_experiment

    config = load_experiment(
        experiment(**{"source: demo": f"source: {source}"}),
        [f"output={tmp_path / 'out'}", f"train.model={model}", f"evaluate.data.math500={data}"],
    )
    with pytest.raises(InputProblemsError) as caught:
        run_experiment(config)
    assert [f"s2r experiment: error: {problem}" for problem in caught.value.problems] == lines
    assert str(caught.value).startswith("3 input problems: (1) evaluate.data math500=")


def test_only_the_inputs_of_steps_that_will_run_are_checked(capsys, experiment, tmp_path, hub):
    """`--step pool` reads no model and no benchmark: an unreachable model there stops nothing."""
    out = tmp_path / "out"
    argv = ["experiment", "run", experiment(), "--set", f"output={out}", "--set", "train.model=no-org/no-such-model"]
    assert main([*argv, "--step", "pool"]) == 0
    assert (out / "steps" / "pool.json").is_file()
    capsys.readouterr()
    # The train steps will run now: their model is checked, before any of them (and before any select step).
    line = run_fails(capsys, *argv)
    assert line.startswith(MISSING_MODEL), line
    assert not (out / "joint").exists() and not (out / "full").exists()  # no arm selected, nothing trained


def test_offline_the_shipped_example_names_its_model_and_benchmark_at_once(tmp_path):
    """Issue 18, as the newcomer met it: `HF_HUB_OFFLINE=1 s2r experiment run tiny-cpu` with nothing cached ran the
    pool and a training before failing on the model (43 s), then, given a model, again on the benchmark (45 s)."""
    from fixtures.evaluation import s2r

    out = tmp_path / "out"
    # Nothing cached: the datasets cache too (the session's may hold MATH-500, served by the loopback Hub to another
    # test).
    empty = tmp_path / "empty-hf-home"
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(empty), "HF_DATASETS_CACHE": str(empty / "datasets")}
    done = s2r("experiment", "run", "tiny-cpu", "--set", f"output={out}", env=env)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("s2r experiment:")]
    assert lines == [
        "s2r experiment: error: could not fetch the train.model 'HuggingFaceTB/SmolLM2-135M-Instruct' (revision "
        "main): HF_HUB_OFFLINE is set and no copy of it is cached; unset HF_HUB_OFFLINE, or download it where there is "
        "network access and pass its local folder",
        "s2r experiment: error: evaluate.tasks math500: cannot load the Hub dataset 'HuggingFaceH4/MATH-500': offline "
        "mode is on (HF_HUB_OFFLINE=1) and it is not in the local cache. Check the network (or HF_ENDPOINT), unset "
        "HF_HUB_OFFLINE, or pass a local copy (a folder or file) instead (here: --set "
        "evaluate.data.math500=FILE_OR_FOLDER)",
    ], done.stderr
    assert not out.exists() and "running" not in done.stderr  # no step ran, nothing was written


def test_the_run_it_first_hint_is_the_command_to_type(capsys, experiment, tmp_path):
    """Issue 18: the `--step train` hint printed `EXPERIMENT` literally and dropped the user's `--set` overrides."""
    import shlex

    file, out = experiment(), tmp_path / "my out"  # a space: the printed command must quote it
    settings = ["--set", f"output={out}", "--set", "arms.joint.weight=0.5"]
    line = run_fails(capsys, "experiment", "run", file, *settings, "--only", "joint", "--step", "train")
    expected = shlex.join(["s2r", "experiment", "run", file, *settings, "--only", "joint", "--step", "select"])
    assert line.endswith(f"; run it first: {expected}"), line
    assert line.startswith("s2r experiment: error: joint/train needs joint/select, which is not done (not run yet)")
    # The pool needs no --only; a Python caller is shown the call to make.
    from s2r_hf.experiment.config import load_experiment
    from s2r_hf.experiment.runner import run_experiment

    config = load_experiment(file, [f"output={out}"])
    with pytest.raises(S2RError) as caught:
        run_experiment(config, only=["joint"], step="select")
    assert str(caught.value).endswith("; run it first: run_experiment(config, step='pool')")
    line = run_fails(capsys, "experiment", "run", file, "--set", f"output={out}", "--step", "select")
    expected = shlex.join(["s2r", "experiment", "run", file, "--set", f"output={out}", "--step", "pool"])
    assert line.endswith(f"; run it first: {expected}"), line
