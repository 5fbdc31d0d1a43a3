"""The Hub repos an experiment publishes to, named from the experiment and its arms, and checked when the experiment
file is read (s2r_hf.experiment.config), long before s2r_hf.experiment.publish pushes to them.

Each arm has a dataset repo (its subset) and a model repo, both `NAMESPACE/EXPERIMENT-ARM`; the results of every arm go
to `NAMESPACE/EXPERIMENT-results`, one config per arm, the comparison to its `experiment/` folder.
"""

from __future__ import annotations

from s2r_hf.core.errors import InputError

RESULTS_FOLDER = "experiment"  # where the comparison goes in the results repo, beside one config per arm
# Arm names that would collide with the results repo's own names: `{experiment}-results`, and its experiment/ folder.
RESERVED_ARMS = ("results", RESULTS_FOLDER)


def arm_repo_id(namespace: str, experiment: str, arm: str) -> str:
    """`NAMESPACE/EXPERIMENT-ARM`: an arm's subset (dataset) and model repos; arm `results`: the results repo."""
    return f"{namespace}/{experiment}-{arm}"


def check_repo_names(name: str, namespace: str, arm_names: list[str]) -> None:
    """Every repo id publishing will use valid on the Hub, and no arm named like the results repo's own parts: one
    InputError for all (checked when the experiment file is read, and again before the first push)."""
    # Loaded here, not with the module: the experiment file's dataclasses build `s2r experiment`'s parser, and
    # `s2r --help` needs neither the Hub client nor the commit engine.
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from s2r_hf.hub.checks import check_repo_id

    problems = []
    twice = dict.fromkeys(arm for arm in arm_names if arm_names.count(arm) > 1)
    problems += [f"arm {arm!r} is listed twice" for arm in twice]
    for arm in arm_names:
        if arm.lower() in RESERVED_ARMS:
            problems.append(f"arm {arm!r} collides with the results repo (rename the arm; {RESERVED_ARMS} are taken)")
    repos = [arm_repo_id(namespace, name, "results"), *(arm_repo_id(namespace, name, arm) for arm in arm_names)]
    for repo in dict.fromkeys(repos):
        try:
            check_repo_id(repo)
            validate_repo_id(repo)
        except (InputError, HFValidationError):
            problems.append(f"{repo!r} is not a valid Hub repo id")
    if problems:
        raise InputError(
            f"cannot publish experiment {name!r}: {'; '.join(problems)}. Repo names are `NAMESPACE/EXPERIMENT-ARM`: "
            "letters, digits, '-', '_', '.', no '--' or '..', at most 96 characters"
        )
