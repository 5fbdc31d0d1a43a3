"""Every command and snippet of README.md runs as written.

The README's `bash` and `python` blocks are run in order, each story in a fresh folder, against the loopback Hub that
serves every model and dataset they name (tests/fixtures/readme.py says what it serves and why that is the only
substitution besides SPEED_CAPS below). A story is the sections a reader follows in one folder: the sections after
the walkthrough use the folders it wrote. A block that no story runs, or a story section the README no longer has,
fails `test_every_block_is_run_by_a_story`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.readme import Block, host_readme_sources, readme_blocks

RUNNABLE = {"bash", "python"}

# Each story: the README sections it runs, in order, in one folder.
STORIES: dict[str, tuple[str, ...]] = {
    "quick-start": ("Quick start",),
    "walkthrough": (
        "A walkthrough on a real pool",
        "Training in your own TRL script",
        "Evaluating under the paper's protocol",
        "Publishing to the Hub",
    ),
    "pools": ("Other pools", "Clean pools", "The judge on every GPU", "The Python API"),
    "experiment": ("The paper's comparison in one command",),
}

# Blocks not run here, each with the reason. `make` targets install into the interpreter running the tests (and
# `make test` is this suite): the Makefile's demo command itself is run instead, by the quick-start story.
NOT_RUN = {
    "make demo   # the main job": "installs into the running interpreter; its `s2r demo` line is run instead",
    "make test                          # install, lint": "the test suite itself",
}

# Speed caps: (README text, what the test runs instead, why). Each keeps the command and only shortens its work.
SPEED_CAPS = (
    (
        "--rollouts 8 --rollout-max-new-tokens 8192",
        "--rollouts 8 --rollout-max-new-tokens 8",
        "8 completions of up to 8,192 tokens for each of 15 questions take the tiny model minutes on a CPU; 8 tokens "
        "run the same sampling, grading and card",
    ),
    (
        "--output_dir qwen-limo10 --max_length 16384",
        "--output_dir qwen-limo10 --max_length 16384 --max_steps 1 --per_device_train_batch_size 1",
        "8 steps of 2 traces of up to 16k tokens take minutes even for the tiny model; one step of one trains alike",
    ),
    (
        "s2r evaluate qwen-limo10 --tasks math500,aime24,aime25,amc23 --preset paper -o eval-paper",
        "s2r evaluate qwen-limo10 --tasks math500,aime24,aime25,amc23 --preset paper -o eval-paper"
        " --max-samples 1 --num-samples 2 --max-new-tokens 16",
        "the paper's protocol is 16 samples of up to 16,384 tokens per problem: a GPU's work",
    ),
    (
        "s2r experiment run tiny-cpu ",
        "s2r experiment run tiny-cpu --only joint --set train.overrides.max_steps=2 --set evaluate.max_samples=2"
        " --set evaluate.max_new_tokens=8 ",
        "three arms of 8 steps and 5 problems each: one arm runs the same chain at 2 steps and 2 problems (the three "
        "arms together, killed, resumed and changed, are tests/experiment/test_run.py's story)",
    ),
)


# Blocks another test runs from the README (so it cannot drift) with value checks, on data cut to CPU size.
RUN_ELSEWHERE = {
    "import torch\nfrom transformers import AutoTokenizer": "tests/training/test_user_script.py (readme_run): the TRL "
    "script on 40 real rows cut short, checking the provenance and card it writes",
    "import evaluate\n\nimport s2r_hf": "tests/evaluation/test_grading.py: the grading snippet in a fresh offline "
    "interpreter, checking what it prints",
    "HF_HUB_OFFLINE=1 s2r experiment run tiny-cpu": "tests/experiment/test_run.py (story): the offline command, "
    "killed, resumed and changed, with two of its arms and fewer steps",
}


def _not_run_reason(block: Block) -> str | None:
    for start, reason in {**NOT_RUN, **RUN_ELSEWHERE}.items():
        if block.code.startswith(start):
            return reason
    return None


def _story_blocks(story: str) -> list[Block]:
    sections = STORIES[story]
    return [b for b in readme_blocks() if b.lang in RUNNABLE and b.section in sections and not _not_run_reason(b)]


def _apply_speed_caps(code: str, used: set[str]) -> str:
    for readme_text, run_text, _ in SPEED_CAPS:
        if readme_text in code:
            used.add(readme_text)
            code = code.replace(readme_text, run_text)
    return code


def _makefile_demo_command() -> str:
    """The command `make demo` runs after its install step, with $(PYTHON) as this interpreter."""
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe, "the Makefile has no demo target"
    lines = [line.strip() for line in recipe.group(1).splitlines() if "s2r_hf" in line]
    assert len(lines) == 1, f"expected one s2r line in the demo recipe, got {lines}"
    return lines[0].replace("$(PYTHON)", shlex.quote(sys.executable))


def _run(block: Block, code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    if block.lang == "python":
        script = cwd / f"readme_line_{block.line}.py"
        script.write_text(code, encoding="utf-8")
        argv = [sys.executable, script.name]
    else:
        argv = ["bash", "-euo", "pipefail", "-c", code]
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"{block.where} failed with exit code {result.returncode}:\n{code}\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return result


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # `s2r` and `python` are this interpreter's, as in the virtual environment a reader installed into.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_story(story: str, cwd: Path) -> dict[int, subprocess.CompletedProcess]:
    """Run the story's blocks in order in `cwd`; {README line: the finished process}."""
    env = _env()
    used: set[str] = set()
    results = {}
    for block in _story_blocks(story):
        code = _apply_speed_caps(block.code, used)
        results[block.line] = _run(block, code, cwd, env)
    return results


def test_every_block_is_run_by_a_story():
    blocks = [b for b in readme_blocks() if b.lang in RUNNABLE]
    sections = {b.section for b in blocks}
    stray = [b.where for b in blocks if not _not_run_reason(b) and not any(b.section in s for s in STORIES.values())]
    assert not stray, f"README blocks no story runs (add their section to STORIES): {stray}"
    missing = [name for names in STORIES.values() for name in names if name not in sections]
    assert not missing, f"story sections with no code block in the README: {missing}"
    for start in {**NOT_RUN, **RUN_ELSEWHERE}:
        assert any(b.code.startswith(start) for b in blocks), f"NOT_RUN names a block the README no longer has: {start}"
    other = sorted({b.lang for b in readme_blocks()} - RUNNABLE - {""})
    assert not other, f"code blocks in languages no story runs: {other}"


def test_every_speed_cap_matches_a_readme_block():
    code = "".join(b.code for b in readme_blocks() if b.lang in RUNNABLE)
    for readme_text, _, reason in SPEED_CAPS:
        assert readme_text in code, f"SPEED_CAPS names text the README no longer has ({reason}): {readme_text!r}"


@pytest.fixture
def readme_hub(hub, tiny_model_dir, real_pool_path, benchmark_paths):
    host_readme_sources(hub, tiny_model_dir)
    return hub


def test_quick_start(tmp_path):
    env = _env()
    demo = subprocess.run(_makefile_demo_command(), shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr[-4000:]
    results = run_story("quick-start", tmp_path)
    (printed,) = [result.stdout for result in results.values()]
    rows, best_rank = printed.split()
    import pyarrow.parquet as pq

    shards = sorted((tmp_path / "s2r-demo" / "openr1-select10" / "data").glob("*.parquet"))
    ranks = [rank for shard in shards for rank in pq.read_table(shard)["s2r_joint_rank"].to_pylist()]
    assert int(rows) == len(ranks) > 0
    assert float(best_rank) == min(ranks)


@pytest.mark.slow
def test_walkthrough(tmp_path, readme_hub):
    run_story("walkthrough", tmp_path)
    for folder in ("limo-scored", "limo-select10", "limo-scored-report", "qwen-limo10", "eval-limo10", "eval-base"):
        assert (tmp_path / folder).is_dir(), folder
    assert (tmp_path / "compare.md").is_file() and (tmp_path / "compare.png").is_file()
    # What the README says each step writes: the report's files, and 10% of LIMO's 291 rows (29.1, rounded half up).
    assert sorted(path.name for path in (tmp_path / "limo-scored-report").iterdir()) == [
        "quadrants.png",
        "report.json",
        "report.md",
    ]
    import pyarrow.parquet as pq

    assert sum(pq.read_metadata(shard).num_rows for shard in (tmp_path / "limo-select10" / "data").glob("*")) == 29
    published = readme_hub.files("my-org/limo-select10")["README.md"]
    assert published == (tmp_path / "limo-select10" / "README.md").read_bytes()


@pytest.mark.slow
def test_pools(tmp_path, readme_hub):
    run_story("pools", tmp_path)
    for folder in ("openr1-scored", "openr1-select10", "limo-clean", "limo-clean-select10", "my-judge"):
        assert (tmp_path / folder).is_dir(), folder
    # The sampled block: a seeded 5% of the 291 LIMO rows, 8 graded completions each, kept as a second config.
    from datasets import load_dataset

    sampled = load_dataset(str(tmp_path / "limo-sampled"), split="train")
    rollouts = load_dataset(str(tmp_path / "limo-sampled"), "rollouts", split="train")
    assert 0 < sampled.num_rows < 30 and rollouts.num_rows == 8 * sampled.num_rows
    assert set(rollouts["s2r_id"]) == set(sampled["s2r_id"])
    assert sampled["s2r_difficulty"] == [1 - rate for rate in sampled["s2r_pass_rate"]]


@pytest.mark.slow
def test_experiment(tmp_path, readme_hub):
    run_story("experiment", tmp_path)
    report = (tmp_path / "tiny-cpu" / "report.md").read_text(encoding="utf-8")
    assert "| joint |" in report, report


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def test_every_link_between_the_readme_and_docs_resolves():
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{page.relative_to(root)}: {target} (no such file)")
            elif anchor and linked.is_file() and anchor not in _anchors(linked):
                broken.append(f"{page.relative_to(root)}: {target} (no such heading)")
    assert not broken, "links that lead nowhere:\n" + "\n".join(broken)
