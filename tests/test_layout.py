"""The package's floors: every import goes down one list, and the tree shows the pipeline.

pool -> signals -> hygiene -> selection -> pipeline -> outputs -> hub, with training and evaluation (which never import
each other) and then experiment on top, and the CLI above all. `core` is floor 0 and imports nothing else of ours. The
package map in docs/development.md is this list.

Three checks: every import in the source (module level or inside a function, so a lazy import cannot hide a loop) goes
to the same or a lower floor; the modules' imports have no cycle; and importing each module in a fresh interpreter
loads nothing of a higher floor. Besides: `import s2r_hf` alone loads only the version, and the package map in
docs/development.md puts every part on its floor and names every module.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "s2r_hf"

# (floor, top-level name under s2r_hf); one name per entry, a floor may hold siblings that must not import each other.
FLOORS = {
    "_version": 0,
    "core": 0,
    "pool": 1,
    "answers": 1,
    "signals": 2,
    "hygiene": 3,
    "selection": 4,
    "pipeline": 5,
    "outputs": 6,
    "hub": 7,
    "training": 8,
    "evaluation": 8,
    "experiment": 9,
    "commands": 10,
    "cli": 10,
}
SIBLINGS_APART = {("training", "evaluation"), ("evaluation", "training")}


def module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


MODULES = module_names()


def part_of(module: str) -> str | None:
    """The top-level name under s2r_hf that a module belongs to (None for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def floor_of(module: str) -> int:
    part = part_of(module)
    where = "the package map in docs/development.md"
    assert part in FLOORS, f"{module} is in no floor: add {part!r} to FLOORS here and to {where}"
    return FLOORS[part]


def source_of(module: str) -> Path:
    relative = Path(*module.split("."))
    package = PACKAGE.parent / relative / "__init__.py"
    return package if package.exists() else (PACKAGE.parent / relative).with_suffix(".py")


def imported_modules(module: str) -> set[str]:
    """Every module of ours that `module`'s source imports, anywhere in the file."""
    path = source_of(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in candidates:
            while name and name not in MODULES:  # `from pkg import name` names a function, not a module
                name = name.rpartition(".")[0]
            if name.startswith("s2r_hf.") and name != module:
                found.add(name)
                break
    return found


def test_every_module_sits_on_a_floor():
    for module in MODULES:
        if module != "s2r_hf":
            floor_of(module)


@pytest.mark.parametrize("module", [m for m in MODULES if m != "s2r_hf"])
def test_imports_go_down(module):
    mine = part_of(module)
    wrong = sorted(
        f"{target} (floor {floor_of(target)})"
        for target in imported_modules(module)
        if floor_of(target) > floor_of(module) or (mine, part_of(target)) in SIBLINGS_APART
    )
    assert not wrong, f"{module} (floor {floor_of(module)}) imports upward: {wrong}"


def test_no_import_cycles():
    graph = {m: imported_modules(m) - {"s2r_hf"} for m in MODULES if m != "s2r_hf"}
    # A package's __init__ only documents its modules; an edge into a package is an edge into its __init__.
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


# Third-party libraries our modules load, imported once in the parent so that each forked child only pays for ours.
PRELOAD = ["numpy", "pyarrow", "datasets", "huggingface_hub", "transformers", "torch", "trl", "matplotlib", "yaml"]

FORK_SERVER = """
import importlib, json, os, sys
for name in {preload!r}:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
results = {{}}
for module in {modules!r}:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(module)
            loaded = sorted(m for m in sys.modules if m == "s2r_hf" or m.startswith("s2r_hf."))
            payload = json.dumps({{"loaded": loaded}})
        except BaseException as error:  # report the failure to the parent, whatever it is
            payload = json.dumps({{"error": repr(error)}})
        os.write(write, payload.encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    results[module] = json.loads(b"".join(chunks))
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def fresh_imports():
    """For each module, what importing it alone in a fresh interpreter (forked before any s2r_hf import) loads."""
    modules = [m for m in MODULES if m != "s2r_hf"]
    code = FORK_SERVER.format(preload=PRELOAD, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=PACKAGE.parent,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_fresh_import_loads_nothing_above(fresh_imports):
    wrong = {}
    for module, result in fresh_imports.items():
        assert "error" not in result, f"importing {module} alone fails: {result['error']}"
        mine = part_of(module)
        above = [
            m
            for m in result["loaded"]
            if m != "s2r_hf" and (floor_of(m) > floor_of(module) or (mine, part_of(m)) in SIBLINGS_APART)
        ]
        if above:
            wrong[module] = above
    assert not wrong, "\n".join(f"{m} loads {above}" for m, above in wrong.items())


def test_importing_the_package_alone_loads_only_its_version():
    # The public API is lazy (s2r_hf.__getattr__): `import s2r_hf` must not pull in any layer, nor their libraries.
    code = "import json, sys, s2r_hf; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 's2r_hf')))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PACKAGE.parent,
        env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == ["s2r_hf", "s2r_hf._version"]


def readme_map() -> str:
    """The package map in docs/development.md (the README links it): the code block that starts with `s2r_hf/`."""
    readme = (PACKAGE.parent / "docs" / "development.md").read_text(encoding="utf-8")
    start = readme.index("```\ns2r_hf/\n")
    return readme[start : readme.index("```", start + 3)]


def test_the_readme_map_is_the_tree():
    # Every part on its floor, and every module named, so that a newcomer reading the map finds each file in it.
    package_map = readme_map()
    # An entry: two spaces, the part(s) (`core/`, `selection.py`, `commands/, cli.py`), two or more spaces, the floor.
    floors = {
        name.removesuffix(".py"): int(floor)
        for names, floor in re.findall(r"^  (\S.*?)\s{2,}(\d+)\s", package_map, flags=re.MULTILINE)
        for name in re.findall(r"[\w.]+", names)
    }
    assert floors == {part: floor for part, floor in FLOORS.items() if part != "_version"}
    named = {word.strip("(),/`") for word in package_map.split()}
    missing = [
        module
        for module in MODULES
        if len(module.split(".")) > 2 and part_of(module) != "commands" and module.split(".")[-1] not in named
    ]
    assert not missing, f"add these modules to the package map in docs/development.md: {missing}"
