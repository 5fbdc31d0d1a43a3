"""Each shared helper has one home in s2r_hf/core, and no second copy grows back elsewhere in the package.

- files written whole (a temporary file moved into place): s2r_hf/core/folders.py (`write_file_atomically` and its
  wrappers, `staged_folder` for a folder: nobody else makes, fills and moves a staging folder by hand);
- JSON records read with an error that names the file and what was wrong: s2r_hf/core/records.py;
- PNG figures with reproducible bytes (Agg canvas, default style, no software version): s2r_hf/core/figures.py.

The output-folder guard (one `check_writable` in s2r_hf/core/folders.py) is checked by behaviour, in
tests/test_output_guards.py. The source is read as text (AST), so a lazy import inside a function cannot hide a copy.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "s2r_hf"

ATOMIC_HOME = "core/folders.py"
RECORDS_HOME = "core/records.py"
FIGURES_HOME = "core/figures.py"
STAGING_STEPS = ("make_staging", "move_into_place", "remove_stale_staging")
# JSON read back within one run, from a file s2r itself wrote moments before for its other process (the evaluation
# plan for the lighteval process, and that process's summary): a failure there is a bug, not a record to explain.
HANDOFFS = {("evaluation/worker.py", "main"), ("evaluation/runner.py", "_evaluate_into")}


def sources() -> list[tuple[str, ast.Module]]:
    return [
        (path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return "?"


def functions_of(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node inside a function -> the name of the outermost function holding it."""
    owner = {}
    for top in ast.walk(tree):
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(top):
                owner.setdefault(node, top.name)
    return owner


def found(kind: str, trees: list[tuple[str, ast.Module]]) -> list[str]:
    hits = []
    for module, tree in trees:
        owner = functions_of(tree)
        for node in ast.walk(tree):
            where = f"{module}:{getattr(node, 'lineno', '?')}"
            if kind == "atomic" and module != ATOMIC_HOME:
                if isinstance(node, ast.Call) and dotted(node.func) in ("os.replace", "os.rename"):
                    hits.append(where)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "rename":
                    hits.append(where)
                # A staging folder made, filled and moved by hand instead of `staged_folder`.
                if isinstance(node, ast.Call) and dotted(node.func).rpartition(".")[2] in STAGING_STEPS:
                    hits.append(where)
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                    if "tempfile" in names:
                        hits.append(where)
            if kind == "records" and module != RECORDS_HOME and isinstance(node, ast.Call):
                name = dotted(node.func)
                reads_file = name == "json.load" or (
                    name == "json.loads"
                    and node.args
                    and isinstance(node.args[0], ast.Call)
                    and isinstance(node.args[0].func, ast.Attribute)
                    and node.args[0].func.attr in ("read_text", "read_bytes", "read")
                )
                if reads_file and (module, owner.get(node)) not in HANDOFFS:
                    hits.append(where)
            if kind == "figures" and module != FIGURES_HOME:
                if isinstance(node, ast.Attribute) and node.attr in ("savefig", "FigureCanvasAgg", "style"):
                    hits.append(where)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("matplotlib.backends", "matplotlib.figure", "matplotlib.style")
                ):
                    hits.append(where)
    return hits


@pytest.mark.parametrize(
    ("kind", "home"),
    [("atomic", ATOMIC_HOME), ("records", RECORDS_HOME), ("figures", FIGURES_HOME)],
)
def test_no_second_copy_of_a_shared_helper(kind, home):
    hits = found(kind, sources())
    assert not hits, f"use the one home, s2r_hf/{home}, instead of these copies: {hits}"


def test_the_scan_finds_a_copy():
    """The scan itself: each kind of copy, written as the old copies were, is found (and only in its own kind)."""
    copies = {
        "atomic": "import os\ndef f(t, p):\n    os.replace(t, p)\n",
        "staging": "def f(p):\n    s = make_staging(p, 'tmp')\n    move_into_place(s, p, False)\n",
        "records": "import json\ndef f(p):\n    return json.loads(p.read_text(encoding='utf-8'))\n",
        "figures": "def f(figure, b):\n    figure.savefig(b, format='png', metadata={'Software': None})\n",
    }
    trees = [(f"signals/{kind}_copy.py", ast.parse(code)) for kind, code in copies.items()]
    lines = {"atomic": 3, "records": 3, "figures": 2}
    for kind in lines:
        assert found(kind, trees) == [f"signals/{kind}_copy.py:{lines[kind]}"] + (
            ["signals/staging_copy.py:2", "signals/staging_copy.py:3"] if kind == "atomic" else []
        )
    handoff = [("evaluation/worker.py", ast.parse(copies["records"].replace("def f", "def main")))]
    assert found("records", handoff) == []
