"""`s2r experiment report`'s library on hand-made experiment folders: the table (JSON and Markdown) holds each arm's
numbers exactly as its files say, and the chart shows (and carries) the same numbers."""

from __future__ import annotations

import io
import json

import matplotlib.image
import pytest
from fixtures.per_problem import write_details

from s2r_hf.core.errors import InputError
from s2r_hf.experiment.report import build_report, read_chart_notes, read_chart_points

SETTINGS = {
    "full": {"strategy": "full", "ratio": None, "k": None, "weight": None},
    "random": {"strategy": "random", "ratio": 0.1, "k": None, "weight": 0.25},
    "joint": {"strategy": "joint", "ratio": 0.1, "k": None, "weight": 0.25},
    "hardest": {"strategy": "hardest", "ratio": None, "k": 40, "weight": 0.25},
}


def write_experiment(folder, arms, name="tiny"):
    folder.mkdir(parents=True, exist_ok=True)
    record = {"format": "s2r-experiment/1", "name": name, "arms": arms, "arm_settings": SETTINGS}
    (folder / "experiment.json").write_text(json.dumps(record))


def write_training(arm_dir, *, status, rows, tokens, share, wall, steps, old_keys=False):
    """model/s2r_training.json, shaped as SelectionReportCallback writes it (`old_keys`: as versions before the two
    token names wrote it, data.tokens_trained and training.tokens)."""
    model = arm_dir / "model"
    model.mkdir(parents=True)
    record = {
        "kind": "s2r_training",
        "status": status,
        "base_model": "tiny-qwen2",
        "data": {
            "selection": None,
            "sft": {"rows_kept": rows, "tokens_kept": tokens},
            ("tokens_trained" if old_keys else "data_tokens"): tokens,
            "pool_tokens": 1_234_567,
            "token_share": share,
        },
        "training": None
        if status == "running"
        else {
            "steps": steps,
            ("tokens" if old_keys else "trained_tokens"): 3 * tokens,
            "wall_seconds": wall,
            "tokens_per_second": 3 * tokens / wall,
        },
    }
    (model / "s2r_training.json").write_text(json.dumps(record))


def write_results(arm_dir, table, lengths, *, preset="paper", max_new_tokens=32768, max_samples=None):
    """eval/results.json, shaped as s2r_hf.evaluation.runner.tidy_results writes it."""
    results, tasks = {}, {}
    for row in table:
        results.setdefault(row["task"], {})[row["metric"]] = row["value"]
    for task, length in lengths.items():
        tasks[task] = {
            "settings": {"max_new_tokens": max_new_tokens},
            "problems": 100,
            "generations": 100,
            "mean_generated_tokens": length,
            "mean_rethinks": 0.5,
        }
    data = {
        "format": "s2r-evaluation/1",
        "label": arm_dir.name,
        "model": {"name": arm_dir.name},
        "protocol": {"preset": preset, "max_samples": max_samples, "partial": max_samples is not None},
        "tasks": tasks,
        "results": results,
        "table": [{**row, "settings": "..."} for row in table],
    }
    (arm_dir / "eval").mkdir(parents=True)
    (arm_dir / "eval" / "results.json").write_text(json.dumps(data))


def score(task, metric, value, stderr, problems, samples):
    return {"task": task, "metric": metric, "value": value, "stderr": stderr, "problems": problems, "samples": samples}


FULL_TABLE = [
    score("math500", "pass@1", 0.5, 0.05, 100, 1),
    score("aime24", "pass@1", 0.25, 0.07, 30, 4),
    score("aime24", "maj@4", 0.3, 0.08, 30, 4),
]
RANDOM_TABLE = [score("math500", "pass@1", 0.375, 0.03, 100, 1), score("aime24", "pass@1", 0.125, None, 30, 4)]


def make_experiment(folder, *, random_protocol=None):
    """Four arms: full and random evaluated, joint trained only, hardest still training."""
    write_experiment(folder, ["full", "random", "joint", "hardest"])
    write_training(folder / "full", status="finished", rows=200, tokens=1_234_567, share=1.0, wall=3725.0, steps=50)
    write_results(folder / "full", FULL_TABLE, {"math500": 1000.0, "aime24": 3000.0})
    write_training(folder / "random", status="finished", rows=20, tokens=61_728, share=0.05, wall=125.5, steps=5)
    write_results(folder / "random", RANDOM_TABLE, {"math500": 800.0, "aime24": 1200.0}, **(random_protocol or {}))
    write_training(folder / "joint", status="trained", rows=20, tokens=98_765, share=0.08, wall=42.5, steps=5)
    write_training(folder / "hardest", status="running", rows=40, tokens=200_000, share=0.16, wall=1.0, steps=1)
    return folder


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    return make_experiment(tmp_path_factory.mktemp("experiment") / "out")


@pytest.fixture(scope="module")
def report(experiment):
    return build_report(experiment)


def test_report_json_holds_each_arms_numbers(report):
    data = report.data
    assert data["format"] == "s2r-experiment-report/1"
    assert data["experiment"] == "tiny"
    assert data["columns"] == [["math500", "pass@1"], ["aime24", "pass@1"], ["aime24", "maj@4"]]
    assert [arm["name"] for arm in data["arms"]] == ["full", "random", "joint", "hardest"]
    full, random, joint, hardest = data["arms"]
    assert full == {
        "name": "full",
        "strategy": "full",
        "ratio": None,
        "k": None,
        "weight": None,
        "status": "evaluated",
        "seeds": None,  # no seeds given: one training, in the arm's own folders
        "seeds_evaluated": 1,
        "rows": 200,
        "token_budget": None,
        "data_tokens": 1_234_567,
        "trained_tokens": 3 * 1_234_567,
        "token_share": 1.0,
        "wall_seconds": 3725.0,
        "steps": 50,
        "results": {
            "math500": {"pass@1": {"value": 0.5, "stderr": 0.05, "problems": 100, "samples": 1}},
            "aime24": {
                "pass@1": {"value": 0.25, "stderr": 0.07, "problems": 30, "samples": 4},
                "maj@4": {"value": 0.3, "stderr": 0.08, "problems": 30, "samples": 4},
            },
        },
        "mean_generated_tokens": {"math500": 1000.0, "aime24": 3000.0},
        "mean_answer_tokens": 2000.0,
        "accuracy": 0.375,  # (0.5 + 0.25) / 2: pass@1 only, maj@4 left out
        "intervals": {},  # no per-problem details in this folder: no interval
        "accuracy_interval": None,
        "difference": {},
    }
    assert random["weight"] is None  # random does not rank: the configured weight does not apply
    assert random["results"]["aime24"] == {"pass@1": {"value": 0.125, "stderr": None, "problems": 30, "samples": 4}}
    assert (random["accuracy"], random["mean_answer_tokens"]) == (0.25, 1000.0)
    assert joint["status"] == "trained, not evaluated" and joint["weight"] == 0.25
    assert (joint["rows"], joint["data_tokens"], joint["wall_seconds"]) == (20, 98_765, 42.5)
    assert (joint["results"], joint["accuracy"], joint["mean_answer_tokens"]) == ({}, None, None)
    assert hardest["status"] == "not trained"  # its training record says "running"
    assert (hardest["rows"], hardest["data_tokens"], hardest["k"]) == (None, None, 40)
    assert (data["partial"], data["comparable"]) == (False, True)


def test_the_markdown_table(report):
    lines = report.markdown.splitlines()
    assert lines[0] == "# Experiment: tiny"
    assert lines[2] == (
        "| arm | status | selection | rows | data tokens | trained tokens | share of pool tokens | wall time "
        "| math500 pass@1 "
        "| aime24 pass@1 | aime24 maj@4 | mean answer tokens |"
    )
    assert lines[4] == (
        "| full | evaluated | full | 200 | 1,234,567 | 3,703,701 | 100.0% | 1 h 02 min | 50.0 ± 5.0 (n=100×1) "
        "| 25.0 ± 7.0 (n=30×4) | 30.0 ± 8.0 (n=30×4) | 2,000.0 |"
    )
    assert lines[5] == (
        "| random | evaluated | random, 10% | 20 | 61,728 | 185,184 | 5.0% | 2 min 05 s | 37.5 ± 3.0 (n=100×1) "
        "| 12.5 (n=30×4) | - | 1,000.0 |"
    )
    assert lines[6] == (
        "| joint | trained, not evaluated | joint, 10%, w=0.25 | 20 | 98,765 | 296,295 | 8.0% | 42.5 s | - | - | - "
        "| - |"
    )
    assert lines[7] == "| hardest | not trained | hardest, k=40 | - | - | - | - | - | - | - | - | - |"
    assert "Protocol: preset paper, max new tokens 32768." in report.markdown
    assert "Not comparable" not in report.markdown and "Partial run" not in report.markdown


def test_the_chart_decodes_and_carries_the_arms_numbers(report):
    image = matplotlib.image.imread(io.BytesIO(report.png), format="png")
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    assert read_chart_points(report.png) == [
        {
            "arm": "full",
            "data_tokens": 1_234_567,
            "accuracy": 0.375,
            "low": None,  # no per-problem details: no error bar
            "high": None,
            "partial": False,
            "per_benchmark": {"math500": 0.5, "aime24": 0.25},
        },
        {
            "arm": "random",
            "data_tokens": 61_728,
            "accuracy": 0.25,
            "low": None,  # no per-problem details: no error bar
            "high": None,
            "partial": False,
            "per_benchmark": {"math500": 0.375, "aime24": 0.125},
        },
    ]


def test_the_same_folder_gives_the_same_bytes(experiment, report, tmp_path):
    assert build_report(experiment).png == report.png
    written = report.write(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["accuracy_vs_tokens.png", "report.json", "report.md"]
    first = {name: path.read_bytes() for name, path in written.items()}
    build_report(experiment).write(tmp_path)  # again, over the first: same bytes, no temporary file left
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == first
    assert json.loads(first["report.json"]) == report.data
    assert first["report.md"].decode() == report.markdown
    assert read_chart_points(tmp_path / "accuracy_vs_tokens.png") == read_chart_points(report.png)


def test_arms_restricts_and_orders(experiment):
    report = build_report(experiment, ["random", "full"])
    assert [arm["name"] for arm in report.data["arms"]] == ["random", "full"]
    assert [point["arm"] for point in read_chart_points(report.png)] == ["random", "full"]
    assert build_report(experiment, "joint").data["columns"] == []  # one name alone, and no evaluated arm
    with pytest.raises(InputError, match=r"unknown arm.*'diverse'.*arms: full, random, joint, hardest"):
        build_report(experiment, ["full", "diverse"])
    with pytest.raises(InputError, match="'full' given twice"):
        build_report(experiment, ["full", "full"])


def test_nothing_evaluated_yet_is_still_a_report(tmp_path):
    folder = tmp_path / "out"
    write_experiment(folder, ["joint", "hardest"])
    write_training(folder / "joint", status="finished", rows=20, tokens=98_765, share=0.08, wall=42.5, steps=5)
    report = build_report(folder)
    assert [arm["status"] for arm in report.data["arms"]] == ["trained, not evaluated", "not trained"]
    assert (report.data["columns"], report.data["partial"], report.data["comparable"]) == ([], False, True)
    assert "**Nothing evaluated yet**" in report.markdown
    assert read_chart_points(report.png) == []
    assert matplotlib.image.imread(io.BytesIO(report.png), format="png").ndim == 3


def test_a_protocol_mismatch_and_a_partial_run_are_flagged(tmp_path):
    folder = make_experiment(
        tmp_path / "out", random_protocol={"preset": "smoke", "max_new_tokens": 64, "max_samples": 2}
    )
    report = build_report(folder)
    assert (report.data["partial"], report.data["comparable"]) == (True, False)
    assert "**Not comparable as is**" in report.markdown
    assert "- full: preset paper, max new tokens 32768" in report.markdown
    assert "- random: preset smoke, max new tokens 64" in report.markdown
    assert "**Partial run**: random (at most 2 problems per benchmark)" in report.markdown
    # The chart marks it too: its point and a note on the chart.
    assert [point["partial"] for point in read_chart_points(report.png)] == [False, True]
    assert read_chart_notes(report.png) == ["partial run (random): a few problems per benchmark, not a measurement"]


def test_an_all_zero_chart_keeps_its_axes_and_says_why(tmp_path):
    folder = tmp_path / "out"
    write_experiment(folder, ["full"])
    write_training(folder / "full", status="finished", rows=200, tokens=1_000, share=1.0, wall=3.0, steps=2)
    write_results(folder / "full", [score("math500", "pass@1", 0.0, 0.0, 2, 1)], {"math500": 8.0})
    report = build_report(folder)
    assert [(point["accuracy"], point["per_benchmark"]) for point in read_chart_points(report.png)] == [
        (0.0, {"math500": 0.0})
    ]
    assert read_chart_notes(report.png) == [
        "every arm scored 0 on every benchmark: the model may not give answers the grader can read"
    ]
    assert read_chart_notes(build_report(make_experiment(tmp_path / "scored")).png) == []


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "not the output of an experiment \\(no experiment.json\\)"),
        ("{not json", "is not JSON"),
        ('{"format": "s2r-evaluation/1", "results": {}}', "not an experiment record.*'s2r-evaluation/1'"),
        ('{"format": "s2r-experiment/1", "arms": "full"}', "no list of arm names"),
        ('{"format": "s2r-experiment/1", "arms": ["full", "../elsewhere"]}', "not folder names"),
        ('{"format": "s2r-experiment/1", "arms": ["full", "full"]}', "names an arm twice"),
    ],
)
def test_a_folder_that_is_not_an_experiment_is_refused_in_one_line(tmp_path, content, match):
    if content is not None:
        (tmp_path / "experiment.json").write_text(content)
    with pytest.raises(InputError, match=match) as caught:
        build_report(tmp_path)
    assert "\n" not in str(caught.value)
    assert "run `s2r experiment run EXPERIMENT.yaml` first" in str(caught.value)


def test_a_missing_folder_and_broken_arm_files_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"is not a folder.*s2r experiment run"):
        build_report(tmp_path / "nowhere")
    folder = tmp_path / "out"
    write_experiment(folder, ["full"])
    (folder / "full" / "eval").mkdir(parents=True)
    (folder / "full" / "eval" / "results.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match=r"arm 'full': .*not a results file of s2r evaluate"):
        build_report(folder)
    with pytest.raises(InputError, match="not drawn by `s2r experiment report`"):
        read_chart_points(plain_png())
    with pytest.raises(InputError, match="no arm given; the experiment's arms: full"):
        build_report(folder, [])


def plain_png():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def test_an_evaluated_arm_without_training_record_is_a_row_but_no_point(tmp_path):
    folder = tmp_path / "out"
    write_experiment(folder, ["full", "random"])
    write_training(folder / "full", status="finished", rows=200, tokens=1_234_567, share=1.0, wall=3725.0, steps=50)
    write_results(folder / "full", FULL_TABLE, {"math500": 1000.0, "aime24": 3000.0})
    nan_stderr = [score("math500", "pass@1", 0.375, float("nan"), 1, 1)]  # lighteval's stderr of a single problem
    write_results(folder / "random", nan_stderr, {"math500": 800.0})
    report = build_report(folder)
    random = report.data["arms"][1]
    assert (random["status"], random["data_tokens"], random["accuracy"]) == ("evaluated", None, 0.375)
    assert random["results"]["math500"]["pass@1"]["stderr"] is None
    assert "| 37.5 (n=1×1) |" in report.markdown
    assert "Not on the chart (no training record, so no data tokens): random." in report.markdown
    assert [point["arm"] for point in read_chart_points(report.png)] == ["full"]
    report.write(folder)
    assert json.loads((folder / "report.json").read_text()) == report.data  # valid JSON: no NaN written
    with pytest.raises(InputError, match="is not a file"):
        read_chart_points(tmp_path / "missing.png")


def test_without_a_measured_pool_the_share_is_of_the_full_arms_tokens(tmp_path):
    """`s2r train` on a ready-made subset does not count the pool's tokens; the full arm trained on all of them."""
    folder = tmp_path / "exp"
    write_experiment(folder, ["full", "joint"])
    write_training(folder / "full", status="finished", rows=200, tokens=80_000, share=None, wall=10.0, steps=5)
    write_training(folder / "joint", status="finished", rows=20, tokens=20_000, share=None, wall=2.0, steps=5)
    shares = {row["name"]: row["token_share"] for row in build_report(folder).data["arms"]}
    assert shares == {"full": 1.0, "joint": 0.25}
    assert "| 25.0% |" in build_report(folder).markdown


def test_the_report_shows_what_each_arm_was_made_with_not_the_file_of_the_last_run(tmp_path):
    """Issue 16, case 9: `--set arms.joint.weight=0.9 --only random` ran nothing for joint but rewrote the report to
    show `joint w=0.9` while joint's subset was made with 0.25. Real steps (the pool scored, subsets selected), no
    training: the select records are what the report must read."""
    from s2r_hf.cli import main

    out = tmp_path / "out"
    base = ["experiment", "run", "tiny-cpu", "--set", f"output={out}", "--set", "train.model=some/model"]
    assert main([*base, "--step", "pool"]) == 0
    assert main([*base, "--only", "joint", "--step", "select"]) == 0
    assert main([*base, "--set", "arms.joint.weight=0.9", "--only", "random", "--step", "select"]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    arms = {arm["name"]: arm for arm in report["arms"]}
    assert arms["joint"]["weight"] == 0.25  # what joint/subset was selected with
    assert arms["random"]["strategy"] == "random" and arms["random"]["weight"] is None
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "joint, 10%, w=0.25" in markdown and "w=0.9" not in markdown
    # `s2r experiment report` on the folder reads the same records.
    assert build_report(out).data["arms"] == report["arms"]


def test_report_takes_the_experiment_as_run_and_plan_do(tmp_path, capsys):
    """Issue 18/20: `s2r experiment report tiny-cpu` (the experiment's name, as for run and plan) was "not a folder"."""
    from s2r_hf.cli import main

    out = make_experiment(tmp_path / "runs" / "out")
    # A shipped example's name, with the --set that moved its output.
    assert main(["experiment", "report", "tiny-cpu", "--set", f"output={out}"]) == 0
    assert f"report written to {out} (" in capsys.readouterr().out
    assert (out / "report.md").read_text(encoding="utf-8") == build_report(out).markdown
    (out / "report.md").unlink()
    # A YAML file naming its output.
    file = tmp_path / "mine.yaml"
    file.write_text(
        f"name: mine\noutput: {out}\npool: {{source: demo}}\narms: [{{name: full, strategy: full}}]\n", encoding="utf-8"
    )
    assert main(["experiment", "report", str(file)]) == 0
    assert (out / "report.md").is_file()
    # The output folder itself, as before.
    assert main(["experiment", "report", str(out), "--arms", "full"]) == 0
    capsys.readouterr()
    # Each wrong case in one line.
    cases = [
        (
            ["tiny-cpu", "--set", f"output={tmp_path / 'not-yet'}"],
            f"experiment 'tiny-cpu' has not run yet: its output folder {str(tmp_path / 'not-yet')!r} does not exist",
        ),
        (["no-such-experiment"], "'no-such-experiment' is neither an experiment's output folder nor"),
        ([str(out), "--set", "output=x"], f"--set changes an experiment file, but {str(out)!r} is an output folder"),
    ]
    for argv, expected in cases:
        assert main(["experiment", "report", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"s2r experiment: error: {expected}"), err


def test_the_report_files_follow_the_umask(tmp_path):
    """Issue 18: the experiment's report.md was written 0600 under umask 022 (others could not read it)."""
    import os
    import stat

    out = make_experiment(tmp_path / "out")
    previous = os.umask(0o022)
    try:
        written = build_report(out).write(out)
    finally:
        os.umask(previous)
    assert {name: stat.S_IMODE(path.stat().st_mode) for name, path in written.items()} == {
        "report.md": 0o644,
        "report.json": 0o644,
        "accuracy_vs_tokens.png": 0o644,
    }


def seeded_experiment(folder, *, reference="full", evaluated_seeds=(0, 1)):
    """Two arms of two training seeds each, with per-problem details: on math500 (100 problems, one sample) joint
    solves 80 where full solves 50 (a clear difference); on aime24 (30 problems, 4 samples) both solve 10, joint one
    problem more and one less than full (no difference)."""
    folder.mkdir(parents=True)
    record = {
        "format": "s2r-experiment/1",
        "name": "seeded",
        "arms": ["full", "joint"],
        "arm_settings": SETTINGS,
        "seeds": {"full": [0, 1], "joint": [0, 1]},
        **({"reference": reference} if reference else {}),
    }
    (folder / "experiment.json").write_text(json.dumps(record))
    solved = {
        "full": {"math500": 50, "aime24": list(range(10))},
        "joint": {"math500": 80, "aime24": [*range(9), 10]},
    }
    for arm, benchmarks in solved.items():
        for seed in (0, 1):
            seed_dir = folder / arm / f"seed{seed}"
            write_training(seed_dir, status="finished", rows=20, tokens=9_000 + seed, share=0.1, wall=10.0, steps=2)
            if seed not in evaluated_seeds and arm == "joint":
                continue
            math500 = [1.0] * benchmarks["math500"] + [0.0] * (100 - benchmarks["math500"])
            aime24 = [1.0 if problem in benchmarks["aime24"] else 0.0 for problem in range(30)]
            table = [
                score("math500", "pass@1", sum(math500) / 100, 0.05, 100, 1),
                score("aime24", "pass@1", sum(aime24) / 30, 0.08, 30, 4),
            ]
            write_results(seed_dir, table, {"math500": 100.0, "aime24": 200.0})
            write_details(seed_dir / "eval", "math500", math500)
            write_details(seed_dir / "eval", "aime24", aime24)
    return folder


def test_seeded_arms_report_their_mean_interval_and_difference_from_the_reference(tmp_path):
    report = build_report(seeded_experiment(tmp_path / "out"))
    full, joint = report.data["arms"]
    assert (joint["seeds"], joint["seeds_evaluated"], joint["status"]) == ([0, 1], 2, "evaluated")
    assert joint["results"]["math500"]["pass@1"]["value"] == pytest.approx(0.8)  # the mean over the seeds
    assert (joint["data_tokens"], joint["trained_tokens"]) == (9_000, 27_000)  # the first seed's training record
    interval = joint["intervals"]["math500"]
    assert (interval["mean"], interval["seeds"], interval["problems"], interval["samples"]) == (
        pytest.approx(0.8),
        2,
        100,
        1,
    )
    assert interval["low"] < 0.8 < interval["high"]
    assert report.data["reference"] == "full" and full["difference"] == {}
    math500, aime24 = joint["difference"]["math500"], joint["difference"]["aime24"]
    assert (math500["mean"], math500["detectable"]) == (pytest.approx(0.3), True)
    assert math500["low"] > 0.15  # 30 of 100 problems move by 1, the others not at all
    assert (aime24["mean"], aime24["detectable"]) == (pytest.approx(0.0), False)
    lines = report.markdown.splitlines()
    assert "## pass@1 with 95% intervals" in lines and "## Against full (the reference)" in lines
    joint_line = next(line for line in lines if line.startswith("| joint | +30.0 ["))
    assert joint_line.endswith(": no detectable difference |")  # aime24's cell
    assert "(2 seeds × 100 × 1)" in report.markdown
    points = read_chart_points(report.png)
    assert [(point["low"], point["high"]) for point in points] == [
        (row["accuracy_interval"]["low"], row["accuracy_interval"]["high"]) for row in (full, joint)
    ]
    assert build_report(tmp_path / "out").data == report.data  # the same draws every time


def test_the_reference_is_the_files_and_a_seed_not_evaluated_yet_is_said(tmp_path):
    report = build_report(seeded_experiment(tmp_path / "out", reference="joint", evaluated_seeds=(1,)))
    full, joint = report.data["arms"]
    assert report.data["reference"] == "joint"
    assert joint["status"] == "1 of 2 seeds evaluated" and joint["intervals"]["math500"]["seeds"] == 1
    assert full["difference"]["math500"]["mean"] == pytest.approx(-0.3)
    default = build_report(seeded_experiment(tmp_path / "again", reference=None))
    assert default.data["reference"] == "full"  # no reference recorded: the full arm


def test_a_training_record_written_before_the_two_token_names_reads_the_same(tmp_path):
    rows = {}
    for old_keys in (False, True):
        folder = tmp_path / f"out-{old_keys}"
        write_experiment(folder, ["full"])
        write_training(folder / "full", status="finished", rows=200, tokens=1_000, share=1.0, wall=10.0, steps=5,
                       old_keys=old_keys)  # fmt: skip
        rows[old_keys] = build_report(folder).data["arms"][0]
    assert rows[True] == rows[False]
    assert (rows[True]["data_tokens"], rows[True]["trained_tokens"]) == (1_000, 3_000)
