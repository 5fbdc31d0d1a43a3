"""s2r_hf.core.models: the one rule for "a local folder or a Hub id?", and every command that takes a model keeps it.

A name no Hub id can have (`.hidden-model`, `./x`, `~/x`, an absolute path, `a/b/c`) is a path: when it does not
exist it is refused as a missing folder, never looked up on the Hub. `org/name` and a bare `name` are Hub ids unless a
folder of that name exists here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import s2r_hf
from s2r_hf.core.errors import ModelError
from s2r_hf.core.models import check_model_reachable, check_model_reference, is_local_model, looks_like_local_path

SPELLED_AS_PATHS = [
    *[".hidden-model", "./x", "../x", ".", "..", "~/x", "~", "/abs/model", "runs/tiny/final", "a\\b"],
    *["nosuch_dir/", "org/name/"],  # a trailing slash: a folder, as a shell completes it; no Hub id ends so
]
HUB_IDS = ["org/name", "x/y", "gpt2", "Qwen/Qwen2.5-1.5B-Instruct"]


@pytest.mark.parametrize("name", SPELLED_AS_PATHS)
def test_names_no_hub_id_can_have_are_paths(name):
    assert looks_like_local_path(name) and is_local_model(name)


@pytest.mark.parametrize("name", HUB_IDS)
def test_hub_ids_are_hub_ids_unless_such_a_folder_exists(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not looks_like_local_path(name) and not is_local_model(name)
    (tmp_path / name).mkdir(parents=True)  # a folder `org/name` beside you is the model, as transformers reads it
    assert is_local_model(name) and not looks_like_local_path(name)


def test_a_blank_name_is_neither():
    assert not is_local_model("") and not is_local_model("  ")


@pytest.mark.parametrize("name", [".hidden-model", "./x", "~/no-such-model-here", "/no/such/model", "runs/tiny/final"])
def test_a_missing_path_is_a_missing_folder_not_a_hub_lookup(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a Hub lookup would fail otherwise, and differently
    message = rf"^the judge folder '{name}' does not exist; give an existing folder"
    with pytest.raises(ModelError, match=message.replace(".", r"\.")):
        check_model_reference(name, role="judge")
    with pytest.raises(ModelError, match=r"^the model folder .* does not exist"):
        check_model_reachable(name)


def test_an_existing_hidden_folder_is_checked_as_a_model_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".hidden-model").mkdir()
    with pytest.raises(ModelError, match=r"the base model folder '\.hidden-model' has no config\.json"):
        check_model_reference(".hidden-model", role="base model")


# Every place that decides "path or Hub id" must ask core/models: a second copy of the rule is how four rules came to
# disagree about `.hidden-model`. A copy tests a name's start against "~" (a home folder) or counts its "/".
def test_the_rule_has_one_home():
    package = Path(s2r_hf.__file__).parent
    copies = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() == "core/models.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            words = [
                element.value
                for argument in node.args
                for element in (argument.elts if isinstance(argument, ast.Tuple) else [argument])
                if isinstance(element, ast.Constant)
            ]
            if (node.func.attr == "startswith" and "~" in words) or (node.func.attr == "count" and words == ["/"]):
                copies.append(f"{path.relative_to(package)}:{node.lineno}: {ast.unparse(node)}")
    assert copies == []


def test_a_caller_bringing_its_own_chat_template_does_not_need_the_models(tmp_path):
    """`s2r experiment` checks the base model before training; a training given --chat_template_path needs none."""
    folder = tmp_path / "base"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="has no chat template"):
        check_model_reachable(str(folder), role="train.model")
    check_model_reachable(str(folder), role="train.model", chat_template=False)
    (folder / "tokenizer.json").unlink()  # the rest is still required
    with pytest.raises(ModelError, match=r"the train\.model folder .* has no tokenizer"):
        check_model_reachable(str(folder), role="train.model", chat_template=False)
