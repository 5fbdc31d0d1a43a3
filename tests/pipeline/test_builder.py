"""The datasets builder: scored pool and subsets, equal to the pipeline's, cached by settings and code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.env import REPO_ROOT

from s2r_hf.core.columns import ID
from s2r_hf.core.errors import InputError
from s2r_hf.pipeline.builder import Select2ReasonBuilder, package_digest, pool_digest
from s2r_hf.pipeline.score import ScoreConfig, score_pool
from s2r_hf.pool.demo import DEMO_POOL_FILE
from s2r_hf.selection import select


@pytest.fixture(scope="module")
def demo_scored():
    return score_pool(ScoreConfig(source=str(DEMO_POOL_FILE), adapter="openr1"))[0]


def build(tmp_path, **kwargs):
    builder = Select2ReasonBuilder(cache_dir=str(tmp_path / "cache"), pool=str(DEMO_POOL_FILE), **kwargs)
    builder.download_and_prepare()
    return builder, builder.as_dataset(split="train")


def test_the_code_digest_covers_the_whole_package(monkeypatch):
    # A change in any module (the selection, a column function), not only in pipeline/, must mean a new cache.
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: read.append(path) or original(path))
    package_digest()
    package = REPO_ROOT / "s2r_hf"
    names = {path.relative_to(package).as_posix() for path in read if path.is_relative_to(package)}
    expected = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    assert {"selection.py", "core/stats.py", "signals/length.py", "pipeline/builder.py"} <= names
    assert names == expected


def test_subset_configs_equal_the_pipeline(tmp_path, demo_scored):
    _, subset = build(tmp_path, config_name="select10")
    assert subset[ID] == select(demo_scored, ratio=0.1)[ID]
    assert len(subset) == 19
    _, scored = build(tmp_path, config_name="scored")
    assert scored[ID] == demo_scored[ID]
    _, custom = build(tmp_path, config_name="select5", weight=1.0)
    assert custom[ID] == select(demo_scored, ratio=0.05, weight=1.0)[ID]


def test_cache_is_keyed_by_settings(tmp_path):
    first = Select2ReasonBuilder(cache_dir=str(tmp_path), config_name="select10", pool=str(DEMO_POOL_FILE))
    same = Select2ReasonBuilder(cache_dir=str(tmp_path), config_name="select10", pool=str(DEMO_POOL_FILE))
    other = Select2ReasonBuilder(cache_dir=str(tmp_path), config_name="select10", pool=str(DEMO_POOL_FILE), weight=0.5)
    assert first.cache_dir == same.cache_dir
    assert other.cache_dir != first.cache_dir and other.hash != first.hash
    assert first.hash in first.cache_dir
    pinned = Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), hash="mine")
    assert pinned.hash == "mine"


def builder_cache_dir_from(checkout, cache_dir) -> str:
    """The cache folder Select2ReasonBuilder picks when s2r_hf is imported from `checkout` (in a fresh process)."""
    code = (
        "import s2r_hf.pipeline.builder as b; "
        f"print(b.Select2ReasonBuilder(cache_dir={str(cache_dir)!r}, pool={str(DEMO_POOL_FILE)!r}).cache_dir)"
    )
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=checkout)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_cache_is_keyed_by_code(tmp_path):
    """A copy of the package gets the same cache; the same copy with one line of code changed gets a new one."""
    copy = tmp_path / "checkout"
    for part in ("s2r_hf", "hub_cards"):
        shutil.copytree(REPO_ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    original = builder_cache_dir_from(REPO_ROOT, tmp_path / "cache")
    assert builder_cache_dir_from(copy, tmp_path / "cache") == original
    selection = copy / "s2r_hf" / "selection.py"
    selection.write_text(selection.read_text() + "\nCHANGED = True\n")
    assert builder_cache_dir_from(copy, tmp_path / "cache") != original


def test_cache_is_keyed_by_the_pool_data(tmp_path):
    pool = tmp_path / "pool.jsonl.gz"
    pool.write_bytes(DEMO_POOL_FILE.read_bytes())
    before = Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(pool))
    assert Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(pool)).hash == before.hash
    pool.write_bytes(DEMO_POOL_FILE.read_bytes() + DEMO_POOL_FILE.read_bytes())  # same path, more rows
    after = Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(pool))
    assert after.hash != before.hash and after.cache_dir != before.cache_dir
    stat = pool.stat()
    os.utime(pool, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # same bytes, touched
    assert Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(pool)).hash != after.hash
    # A folder pool: any of its files changing (here a new shard) changes the key.
    folder = tmp_path / "folder"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "train-0.jsonl").write_text('{"q": 1}\n')
    first = pool_digest(str(folder))
    (folder / "data" / "train-1.jsonl").write_text('{"q": 2}\n')
    assert pool_digest(str(folder)) != first


def test_hub_pool_is_keyed_by_its_commit(hub):
    from datasets import Dataset
    from huggingface_hub import HfApi

    Dataset.from_dict({"x": [1, 2]}).push_to_hub("s2r/pool")
    head = HfApi().dataset_info("s2r/pool").sha
    assert pool_digest("s2r/pool") == head
    Dataset.from_dict({"x": [3]}).push_to_hub("s2r/pool")
    assert pool_digest("s2r/pool") != head
    assert pool_digest("s2r/pool", head) == head  # a commit is its own key, no request needed
    with pytest.raises(InputError, match=r"cannot resolve the Hub pool 's2r/missing' .*RepositoryNotFound"):
        pool_digest("s2r/missing")
    with pytest.raises(InputError, match="does not exist"):
        pool_digest("./missing.jsonl")


def test_bad_settings_fail_before_any_work(tmp_path):
    with pytest.raises(InputError, match="name the pool"):
        Select2ReasonBuilder(cache_dir=str(tmp_path))
    with pytest.raises(InputError, match=r"weight must be in \[0, 1\], got 2"):
        Select2ReasonBuilder(cache_dir=str(tmp_path), pool="x.jsonl", weight=2)
    with pytest.raises(InputError, match="unknown configuration 'select7'"):
        Select2ReasonBuilder(cache_dir=str(tmp_path), pool="x.jsonl", config_name="select7")
    # The builder passes every setting along, defaults included: only a weight that is not the default is given.
    with pytest.raises(InputError, match=r"--weight 0\.9 applies to the joint and quadrant strategies, not 'random'"):
        Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), strategy="random", weight=0.9)
    builder = Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), strategy="random")
    assert builder.config.select_config().effective_weight is None


@pytest.mark.slow
def test_judge_builder_scores_with_the_model(tmp_path, tiny_model_dir):
    from s2r_hf.core.columns import DIFFICULTY
    from s2r_hf.signals.difficulty import add_difficulty

    _, scored = build(tmp_path, config_name="scored", difficulty="judge", judge=str(tiny_model_dir))
    expected = add_difficulty(scored.remove_columns(DIFFICULTY), "judge", model=str(tiny_model_dir))
    assert scored[DIFFICULTY] == expected[DIFFICULTY]
    assert all(0 < value < 1 for value in scored[DIFFICULTY])
    _, subset = build(tmp_path, config_name="select10", difficulty="judge", judge=str(tiny_model_dir))
    assert subset[ID] == select(scored, ratio=0.1)[ID]


# ---- settings: the builder takes every option of `s2r score` and `s2r select` (issue 7, section 6) -----------------
# (tests/test_options.py checks each field round-trips; these build for real.)


def test_builder_takes_the_selection_options_the_cli_has(tmp_path, demo_scored):
    _, subset = build(tmp_path, config_name="scored", k=7, strategy="diverse", group_column="problem_type", seed=3)
    expected = select(demo_scored, k=7, strategy="diverse", group_column="problem_type", seed=3)
    assert subset[ID] == expected[ID] and len(subset) == 7


def test_builder_scorer_options_reach_the_scorer(tmp_path):
    from s2r_hf.core.errors import ColumnError

    builder = Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), flags_column="no_such_flags")
    assert builder.config.score_config().rollout.flags_column == "no_such_flags"
    # The scorer's own error reaches the user as itself, not wrapped in datasets' DatasetGenerationError.
    with pytest.raises(ColumnError, match="'no_such_flags', which is not in the pool"):
        builder.download_and_prepare()
    with pytest.raises(InputError, match=r"\['system_prompt'\] \(flags \['--judge-system-prompt'\]\)"):
        ScoreConfig(source="x", judge={"system_prompt": "Hard?"})
    judged = Select2ReasonBuilder(
        cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), difficulty="judge", judge_system_prompt="Hard? 1 or 0."
    )
    assert judged.config.score_config().judge.system_prompt == "Hard? 1 or 0."
    with pytest.raises(InputError, match="seed must be a non-negative integer, got -1"):
        Select2ReasonBuilder(cache_dir=str(tmp_path), pool=str(DEMO_POOL_FILE), seed=-1)


def test_a_misspelt_builder_setting_names_the_settings(tmp_path):
    with pytest.raises(
        InputError, match=r"unknown setting\(s\) \['judge_model'\] for Select2ReasonBuilder; settings: "
    ):
        Select2ReasonBuilder(cache_dir=str(tmp_path), pool="x.jsonl", judge_model="m")
