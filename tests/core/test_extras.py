"""The optional dependencies s2r names in its messages are those pyproject.toml's extras install."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from s2r_hf.core.extras import OPTIONAL_PACKAGES, install_command, missing_package_message

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def requirement_name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("-", "_")


def test_each_optional_package_is_the_one_its_extra_installs():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    base = {requirement_name(requirement) for requirement in project["dependencies"]}
    declared = {}
    for extra in ("train", "eval", "ray"):
        for requirement in project["optional-dependencies"][extra]:
            # A package the base install already has (huggingface_hub), or a cap on one of its dependencies
            # (xxhash<4, no lower bound), is a constraint, not an optional package of ours.
            if requirement_name(requirement) not in base and ">=" in requirement:
                declared[requirement_name(requirement)] = extra
    assert declared == {name: extra for name, (extra, _) in OPTIONAL_PACKAGES.items()}


def test_the_message_names_the_package_what_needs_it_the_extra_and_the_install_command():
    assert install_command("eval") == "pip install 's2r-hf[eval]'"
    assert missing_package_message("lighteval") == (
        "lighteval is not installed, and evaluation (s2r evaluate, an experiment's evaluate step) needs it; "
        "install the eval extra: pip install 's2r-hf[eval]'"
    )
