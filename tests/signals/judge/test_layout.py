"""The judge package's layout: one module per concern, imports flowing one way (prompt <- model <- store <- scorer <-
distributed; training beside the scorer), public names where s2r_hf says they are."""

from __future__ import annotations

import ast
from pathlib import Path

import s2r_hf
from s2r_hf.signals.difficulty import DIFFICULTY_SCORERS

ORDER = [
    "prompt",
    "model",
    "store",
    "scorer",
    "training_config",
    "targets",
    "training_loop",
    "judge_folder",
    "training",
    "held_out",
    "distributed",
]
JUDGE_DIR = Path(s2r_hf.__file__).parent / "signals" / "judge"


def judge_imports(module: str) -> set[str]:
    tree = ast.parse((JUDGE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("s2r_hf.signals.judge."):
            names.add(node.module.removeprefix("s2r_hf.signals.judge."))
        elif isinstance(node, ast.ImportFrom) and node.module == "s2r_hf.signals.judge":
            names.update(alias.name for alias in node.names)
    return names


def test_imports_flow_one_way():
    assert sorted(p.stem for p in JUDGE_DIR.glob("*.py") if p.stem != "__init__") == sorted(ORDER)
    for position, module in enumerate(ORDER):
        later = set(ORDER[position + 1 :])
        assert not judge_imports(module) & later, f"{module} imports {judge_imports(module) & later}"
    for module in ("training_config", "targets", "training_loop", "judge_folder", "training"):
        assert "scorer" not in judge_imports(module)  # the trainer shares the prompt and the model checks only
    assert judge_imports("store") == set()  # the resume store knows nothing of models


def test_public_names_resolve_where_s2r_hf_says():
    for name in ("JudgeDifficulty", "JudgeConfig", "judge_difficulty_batch", "train_judge", "JudgeTrainingConfig"):
        assert getattr(s2r_hf, name).__module__.startswith("s2r_hf.signals.judge.")
    module_name, class_name = DIFFICULTY_SCORERS["judge"].split(":")
    assert class_name == "JudgeDifficulty" and module_name == s2r_hf.JudgeDifficulty.__module__
