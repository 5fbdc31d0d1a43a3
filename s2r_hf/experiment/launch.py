"""The command line that launches one arm's training: `train.launcher` (`{python}`, or `accelerate launch ...` /
`torchrun ...`), then `-m s2r_hf.training.sft` with the recipe, the experiment's overrides and the arm's data and
folder. The runner starts it, `plan` prints it, the checks before a run parse it as `s2r train` will.
"""

from __future__ import annotations

import shlex
import sys

from s2r_hf.experiment.config import ExperimentConfig
from s2r_hf.training.credentials import credential_variable

TRAIN_MODULE = "s2r_hf.training.sft"


def train_arguments(config: ExperimentConfig, *, data: str, output_dir: str, seed: int | None = None) -> list[str]:
    """`s2r train`'s flags for one arm: the recipe, the experiment's overrides, the arm's data and folder, and the
    training seed of this run (TRL's `--seed`; None: the recipe's)."""
    argv = ["--config", config.train.recipe_path]
    if config.train.model:
        argv += ["--model_name_or_path", config.train.model]
    for key, value in config.train.overrides.items():
        if value is None or credential_variable(key):  # passed in the environment (train_environment), not here
            continue
        argv.append(f"--{key}")
        if isinstance(value, bool):
            argv.append(str(value).lower())
        elif isinstance(value, (list, tuple)):
            argv += [str(item) for item in value]
        elif isinstance(value, dict):
            import json

            argv.append(json.dumps(value))
        else:
            argv.append(str(value))
    if seed is not None:
        argv += ["--seed", str(seed)]
    return [*argv, "--dataset_name", data, "--output_dir", output_dir]


def train_command(config: ExperimentConfig, *, data: str, output_dir: str, seed: int | None = None) -> list[str]:
    """The whole command line of one arm's training: the launcher, then `-m s2r_hf.training.sft` and its flags."""
    from s2r_hf.training.sft import recipes_dir

    launcher = shlex.split(config.train.launcher.format(python=sys.executable, recipes=recipes_dir()))
    return [*launcher, "-m", TRAIN_MODULE, *train_arguments(config, data=data, output_dir=output_dir, seed=seed)]


def train_environment(config: ExperimentConfig) -> dict[str, str]:
    """The credentials among the training overrides (`train.overrides.hub_token`), as the environment variables the
    training child reads them from (HF_TOKEN): a command line is recorded, printed by `plan` and visible in `ps`."""
    return {
        credential_variable(key): str(value)
        for key, value in config.train.overrides.items()
        if credential_variable(key) and value not in (None, "")
    }
