"""run_entry, the one ending of every entry point: what each outcome prints and the exit code it returns."""

from __future__ import annotations

import sys

import pytest

from s2r_hf.core.entry import run_entry
from s2r_hf.core.errors import ColumnError, ModelError, PublishError, RunInterruptedError


def raising(error: BaseException):
    def main():
        raise error

    return main


def test_an_s2r_error_is_one_line_and_exit_code_2(capsys):
    assert run_entry(raising(ColumnError("column 'x' not in the pool; run s2r score")), prog="s2r select") == 2
    assert capsys.readouterr().err == "s2r select: error: column 'x' not in the pool; run s2r score\n"


def test_a_library_message_over_several_lines_is_quoted_on_one(capsys):
    library = "We couldn't connect to 'https://huggingface.co'.\nCheck your internet connection."
    assert run_entry(raising(ModelError(f"cannot find the model 'm' ({library})")), prog="s2r evaluate") == 2
    assert capsys.readouterr().err == (
        "s2r evaluate: error: cannot find the model 'm' (We couldn't connect to 'https://huggingface.co'. Check your "
        "internet connection.)\n"
    )


def test_a_missing_optional_package_names_its_extra_and_the_install_command(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "trl", None)  # as if trl were not installed

    def main():
        from trl import SFTConfig  # noqa: F401

    assert run_entry(main, prog="s2r train") == 2
    assert capsys.readouterr().err == (
        "s2r train: error: trl is not installed, and training (s2r train, an experiment's train step) needs it; "
        "install the train extra: pip install 's2r-hf[train]'\n"
    )


def test_a_missing_module_that_is_no_extra_of_ours_keeps_its_traceback(capsys):
    def main():
        import s2r_hf.no_such_module  # noqa: F401

    with pytest.raises(ModuleNotFoundError, match=r"s2r_hf\.no_such_module"):
        run_entry(main, prog="s2r score")
    assert capsys.readouterr().err == ""


def test_a_missing_submodule_of_an_installed_extra_is_a_bug_not_a_missing_extra():
    pytest.importorskip("trl")

    def main():
        import trl.no_such_submodule  # noqa: F401

    with pytest.raises(ModuleNotFoundError):
        run_entry(main, prog="s2r train")


def test_ctrl_c_exits_130_with_the_entry_points_line_or_none(capsys):
    assert run_entry(raising(KeyboardInterrupt()), prog="s2r score", interrupted="interrupted; nothing kept") == 130
    assert capsys.readouterr().err == "s2r score: interrupted; nothing kept\n"
    # The lighteval process says nothing: `s2r evaluate`, which got the same Ctrl-C, says it.
    assert run_entry(raising(KeyboardInterrupt()), prog="lighteval process", interrupted=None) == 130
    assert capsys.readouterr().err == ""


def test_a_run_interrupted_by_itself_says_what_it_kept(capsys):
    error = RunInterruptedError("interrupted (Ctrl-C); run the same command again to resume")
    assert run_entry(raising(error), prog="s2r experiment") == 130
    assert capsys.readouterr().err == "s2r experiment: interrupted (Ctrl-C); run the same command again to resume\n"


def test_a_token_inside_a_message_is_redacted(capsys):
    token = "hf_" + "a1B2c3D4e5" * 4
    assert run_entry(raising(PublishError(f"the Hub refused {token}")), prog="s2r publish") == 2
    assert capsys.readouterr().err == "s2r publish: error: the Hub refused REDACTED\n"


def test_the_main_functions_own_code_is_returned(capsys):
    assert run_entry(lambda: 3, prog="x") == 3
    assert run_entry(lambda: None, prog="x") == 0
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        run_entry(lambda: 1 / 0, prog="x")
    assert capsys.readouterr().err == ""
