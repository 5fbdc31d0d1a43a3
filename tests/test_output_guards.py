"""Every output guard of the package is the one in s2r_hf.core.folders: a folder s2r did not write is refused with the
same error class (OutputError) and the same words, whichever command meets it, and is left untouched."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from s2r_hf.core.errors import OutputError


def _dataset_folder(path, overwrite):
    from s2r_hf.core.folders import check_writable

    check_writable(path, overwrite, kind="subset")


def _training(path, overwrite):
    from s2r_hf.training.output import check_output_dir

    check_output_dir(SimpleNamespace(output_dir=str(path), overwrite_output_dir=overwrite, resume_from_checkpoint=None))


def _judge(path, overwrite):
    from s2r_hf.signals.judge.judge_folder import check_output_dir
    from s2r_hf.signals.judge.training_config import JudgeTrainingConfig

    config = JudgeTrainingConfig(output_dir=str(path), base_model="s2r-tests/never-loaded", overwrite=overwrite)
    check_output_dir(config)


def _pool_report(path, overwrite):
    from s2r_hf.outputs.inspect import _check_report_output

    _check_report_output(path, overwrite, inputs=[])


def _experiment(path, overwrite):
    from s2r_hf.experiment.config import ArmConfig, ExperimentConfig, PoolConfig, TrainConfig
    from s2r_hf.experiment.runner import check_output

    config = ExperimentConfig(
        name="tiny",
        pool=PoolConfig(source="demo"),
        arms=[ArmConfig(name="full", strategy="full")],
        train=TrainConfig(recipe="tiny-cpu", model="m"),
        evaluate={"tasks": ["math500"]},
        output=str(path),
    )
    check_output(config)


# (guard, who writes that folder, its marker, the option that replaces it, whether it resumes into its folder)
GUARDS = [
    (_dataset_folder, "s2r", "README.md with an s2r block", "--overwrite", False),
    (_training, "s2r train", "s2r_training.json", "--overwrite_output_dir", True),
    (_judge, "s2r train-judge", "s2r_judge_training.json", "--overwrite", False),
    (_pool_report, "s2r inspect", "report.json of kind pool_report", "--overwrite", False),
    (_experiment, "s2r experiment", "experiment.json", None, True),
]


@pytest.mark.parametrize(("guard", "writer", "marker", "option", "resumes"), GUARDS, ids=[g[1] for g in GUARDS])
def test_a_foreign_folder_is_one_output_error_in_the_same_words(tmp_path, guard, writer, marker, option, resumes):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("months of work")
    shape = (
        f"output folder {str(mine)!r} exists and was not written by {writer} (no {marker}); s2r writes only into "
        "folders it wrote: choose another output folder, or remove it yourself"
    )
    if resumes:  # written into without any option: refused at once
        with pytest.raises(OutputError) as caught:
            guard(mine, False)
        assert str(caught.value) == shape
    if option is not None:
        with pytest.raises(OutputError) as caught:
            guard(mine, True)
        assert str(caught.value) == f"{option} refused: {shape}"
    assert [path.name for path in mine.iterdir()] == ["thesis.tex"]


# Each kind of folder: what makes one (its marker file), and how errors name it, written out by hand.
KINDS = {
    "scored_pool": ("README.md", "---\ns2r:\n  kind: scored_pool\n---\n", "a scored pool (written by s2r score)"),
    "subset": ("README.md", "---\ns2r:\n  kind: subset\n---\n", "a subset (written by s2r select)"),
    "evaluation": ("README.md", "---\ns2r:\n  kind: evaluation\n---\n", "an evaluation (written by s2r evaluate)"),
    "training": (
        "s2r_training.json",
        '{"kind": "s2r_training", "status": "running"}',
        "a training run (written by s2r train)",
    ),
    "judge": ("s2r_judge_training.json", "{}", "a trained judge (written by s2r train-judge)"),
    "pool_report": ("report.json", '{"kind": "pool_report"}', "a pool report (written by s2r inspect)"),
    "experiment": (
        "experiment.json",
        '{"format": "s2r-experiment/1", "name": "tiny", "arms": ["full"]}',
        "an experiment (written by s2r experiment)",
    ),
}
MARKERS = {  # writer -> (marker file, content): the markers of KINDS
    "s2r": KINDS["subset"][:2],
    "s2r train": KINDS["training"][:2],
    "s2r train-judge": KINDS["judge"][:2],
    "s2r inspect": KINDS["pool_report"][:2],
    "s2r experiment": KINDS["experiment"][:2],
}


@pytest.mark.parametrize(("guard", "writer"), [guard[:2] for guard in GUARDS], ids=[guard[1] for guard in GUARDS])
def test_the_current_folder_is_refused_even_when_it_is_ours(tmp_path, monkeypatch, guard, writer):
    """Every guard refuses to write over the folder the user stands in (or one above it), whatever it holds."""
    ours = tmp_path / "ours"
    ours.mkdir()
    name, content = MARKERS[writer]
    (ours / name).write_text(content)
    monkeypatch.chdir(ours)
    for output, what in ((".", "the current folder"), ("..", "a folder above the current one")):
        with pytest.raises(OutputError, match=rf"output '{re.escape(output)}' is {what}"):
            guard(output, True)
    assert sorted(path.name for path in ours.iterdir()) == [name]


def test_an_output_inside_an_input_folder_is_an_output_error_everywhere(tmp_path):
    """The same situation, the same class: the dataset folders' guard, `s2r train`'s and the experiment's (training's
    was an InputError)."""
    from s2r_hf.core.folders import check_writable
    from s2r_hf.training.output import check_apart_from_inputs

    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(OutputError, match="is inside the input folder"):
        check_writable(data / "out", False, inputs=[data])
    with pytest.raises(OutputError, match=r"is inside the --dataset_name folder"):
        check_apart_from_inputs(data / "out", {"--dataset_name": str(data)})
    with pytest.raises(OutputError, match=r"is inside train.model"):
        _experiment_reading(data, data / "out")


def _experiment_reading(model, output):
    from s2r_hf.experiment.config import ArmConfig, ExperimentConfig, PoolConfig, TrainConfig
    from s2r_hf.experiment.runner import check_output

    config = ExperimentConfig(
        name="tiny",
        pool=PoolConfig(source="demo"),
        arms=[ArmConfig(name="full", strategy="full")],
        train=TrainConfig(recipe="tiny-cpu", model=str(model)),
        evaluate={"tasks": ["math500"]},
        output=str(output),
    )
    check_output(config)


# -- a folder another s2r command wrote (issue 18: `s2r evaluate -o run1 --overwrite` on a training run said run1 "was
# not written by s2r") ------------------------------------------------------------------------------------------------


def _scored_pool(path, overwrite):
    from s2r_hf.core.folders import check_writable

    check_writable(path, overwrite, kind="scored_pool")


def _evaluation(path, overwrite):
    from s2r_hf.core.folders import check_writable

    check_writable(path, overwrite, kind="evaluation")  # as s2r_hf.evaluation.runner.evaluate_model calls it


# (guard, the kind it writes, the option that replaces its own kind, whether it resumes into its folder)
KIND_GUARDS = [
    (_scored_pool, "scored_pool", "--overwrite", False),
    (_dataset_folder, "subset", "--overwrite", False),
    (_evaluation, "evaluation", "--overwrite", False),
    (_training, "training", "--overwrite_output_dir", True),
    (_judge, "judge", "--overwrite", False),
    (_pool_report, "pool_report", "--overwrite", False),
    (_experiment, "experiment", None, True),
]
PAIRS = [(guard, own, option, resumes, found) for guard, own, option, resumes in KIND_GUARDS for found in KINDS]


@pytest.mark.parametrize(
    ("guard", "own", "option", "resumes", "found"),
    [pair for pair in PAIRS if pair[1] != pair[4]],
    ids=[f"{own}-meets-{found}" for _, own, _, _, found in PAIRS if own != found],
)
def test_a_folder_of_another_command_is_named_by_its_kind_and_writer(tmp_path, guard, own, option, resumes, found):
    folder = tmp_path / "run1"
    folder.mkdir()
    name, content, held = KINDS[found]
    (folder / name).write_text(content)
    wanted = KINDS[own][2]
    where = f"output folder {str(folder)!r}"
    if option is not None:
        with pytest.raises(OutputError) as caught:
            guard(folder, True)
        assert str(caught.value) == (
            f"{option} refused: {where} holds {held}, and {option} replaces only {wanted}; choose another output folder"
        )
    with pytest.raises(OutputError) as caught:
        guard(folder, False)
    if resumes:  # written into without an option: refused at once
        assert str(caught.value) == f"{where} holds {held}, not {wanted}; choose another output folder"
    else:  # the option is not suggested: it would be refused
        assert str(caught.value) == (
            f"{where} already exists and holds {held}; {option} replaces only {wanted}: choose another output folder"
        )
    assert [path.name for path in folder.iterdir()] == [name]  # untouched
