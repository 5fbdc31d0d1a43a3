"""`Select2ReasonBuilder`: a `datasets` builder that scores a whole pool and serves it, or one of its subsets.

Dataset scripts are gone from datasets 5.x, so the builder is an importable class:

    from s2r_hf.builder import Select2ReasonBuilder

    builder = Select2ReasonBuilder(config_name="select10", pool="open-r1/OpenR1-Math-220k", pool_config="default",
                                   difficulty="judge", judge="Qwen/Qwen2.5-1.5B-Instruct", num_proc=8)
    builder.download_and_prepare()
    subset = builder.as_dataset(split="train")

Configurations: `scored` (the whole scored pool) and `select2`, `select5`, `select10`, `select20` (the paper's subset
sizes, joint rank with weight 0.25); every setting can be overridden by keyword. The builder's cache is keyed by the
settings (datasets' config id) and by `hash=`, which defaults to a digest of the package version, the package's own
source, the settings and the pool's data (path, size and mtime of each local data file; a Hub pool's resolved commit),
so neither changed code, changed settings nor a changed pool ever reuse a stale cache.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets

from s2r_hf._version import __version__
from s2r_hf.errors import InputError
from s2r_hf.judge.prompt import DEFAULT_JUDGE

SUBSET_RATIOS = {"select2": 0.02, "select5": 0.05, "select10": 0.1, "select20": 0.2}
_BATCH_ROWS = 1000


@dataclass
class Select2ReasonConfig(datasets.BuilderConfig):
    """What to score and what to keep. `ratio=None` serves the whole scored pool."""

    pool: str = field(default="", metadata={"help": "Hub dataset id, local folder, or jsonl/json/parquet/csv file"})
    pool_config: str | None = field(default=None, metadata={"help": "config of the pool, e.g. default for OpenR1"})
    pool_split: str = field(default="train", metadata={"help": "split of the pool"})
    pool_revision: str | None = field(default=None, metadata={"help": "Hub revision of the pool"})
    adapter: str = field(default="auto", metadata={"help": "openr1, generic, or auto"})
    openr1_mode: str = field(default="problem", metadata={"help": "openr1: problem or generations"})
    question_column: str | None = field(default=None, metadata={"help": "generic: the question column"})
    trace_column: str | None = field(default=None, metadata={"help": "generic: the trace column"})
    answer_column: str | None = field(default=None, metadata={"help": "generic: the answer column"})
    id_column: str | None = field(default=None, metadata={"help": "generic: a unique id column"})
    tokenizer: str | None = field(default=None, metadata={"help": "tokenizer for trace lengths; None = characters"})
    discount_repeated_steps: bool = field(default=False, metadata={"help": "count repeated steps once"})
    difficulty: str = field(default="rollout", metadata={"help": "rollout, column:NAME or judge"})
    judge: str = field(default=DEFAULT_JUDGE, metadata={"help": "judge: the model (Hub id or folder)"})
    judge_revision: str | None = field(default=None, metadata={"help": "judge: the model revision"})
    ratio: float | None = field(default=0.1, metadata={"help": "fraction kept; None = the whole scored pool"})
    weight: float = field(default=0.25, metadata={"help": "weight on the difficulty rank"})
    strategy: str = field(default="joint", metadata={"help": "joint, longest, hardest, random or diverse"})
    seed: int = field(default=0, metadata={"help": "random/diverse: seed"})
    num_proc: int | None = field(default=None, metadata={"help": "processes for the scoring maps (one per GPU)"})

    def settings(self) -> dict[str, Any]:
        """Everything that decides the rows, for the cache hash (the datasets bookkeeping fields left out)."""
        ignored = {"name", "version", "data_dir", "data_files", "description", "num_proc"}
        return {key: value for key, value in asdict(self).items() if key not in ignored}

    def score_config(self):
        from s2r_hf.scoring import ScoreConfig

        options = {"model": self.judge, "revision": self.judge_revision} if self.difficulty == "judge" else {}
        return ScoreConfig(
            source=self.pool, config=self.pool_config, split=self.pool_split, revision=self.pool_revision,
            adapter=self.adapter, openr1_mode=self.openr1_mode, question_column=self.question_column,
            trace_column=self.trace_column, answer_column=self.answer_column, id_column=self.id_column,
            tokenizer=self.tokenizer, discount_repeated_steps=self.discount_repeated_steps,
            difficulty=self.difficulty, difficulty_options=options, num_proc=self.num_proc,
        )  # fmt: skip

    def select_config(self):
        from s2r_hf.selection import SelectConfig

        return SelectConfig(ratio=self.ratio, weight=self.weight, strategy=self.strategy, seed=self.seed)


def package_digest() -> str:
    """A digest of the package's own source and card templates: a code change means a new cache."""
    from s2r_hf.cards import templates_dir

    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *templates_dir().glob("*.md")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def pool_digest(pool: str, revision: str | None = None) -> str:
    """What the pool's data is now: a digest of a local file's or folder's files (path, size, mtime), or the commit a
    Hub pool's revision resolves to. A changed pool means a new cache."""
    from s2r_hf.folders import files_fingerprint, source_files

    path = Path(pool).expanduser()
    if path.exists():
        return files_fingerprint(source_files(path))
    if pool.startswith((".", "/", "~")) or pool.count("/") > 1 or re.search(r"\.(jsonl|json|parquet|csv)\b", pool):
        raise InputError(f"pool {pool!r} does not exist (and is not a Hub dataset id of the form org/name)")
    if revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision  # already a commit
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from s2r_hf.http_errors import transport_errors

    try:
        return HfApi().dataset_info(pool, revision=revision).sha
    except (HfHubHTTPError, OfflineModeIsEnabled, *transport_errors()) as err:
        raise InputError(
            f"cannot resolve the Hub pool {pool!r} at revision {revision or 'main'!r} to a commit for the cache key "
            f"({type(err).__name__}: {err}); check the id and the connection, pass pool_revision=<commit sha>, or "
            "pass hash=... to Select2ReasonBuilder to reuse a cache you know is current"
        ) from err


class Select2ReasonBuilder(datasets.ArrowBasedBuilder):
    """Scores a pool (adapter, trace length, difficulty) and yields it whole (`scored`) or a selected subset."""

    BUILDER_CONFIG_CLASS = Select2ReasonConfig
    BUILDER_CONFIGS = [  # noqa: RUF012 (datasets reads this class attribute)
        Select2ReasonConfig(name="scored", ratio=None, description="the whole scored pool"),
        *(Select2ReasonConfig(name=name, ratio=ratio, description=f"the top {ratio:.0%} by joint rank")
          for name, ratio in SUBSET_RATIOS.items()),
    ]  # fmt: skip
    DEFAULT_CONFIG_NAME = "select10"

    def __init__(self, *, hash: str | None = None, **kwargs):
        config = self._resolve_config(kwargs)
        if not config.pool:
            raise InputError("name the pool to score: Select2ReasonBuilder(..., pool='org/name' or a local path)")
        config.score_config()  # check every setting now, before any work
        if config.ratio is not None:
            config.select_config()
        if hash is None:
            from datasets.fingerprint import Hasher

            hash = Hasher.hash((package_digest(), config.settings(), pool_digest(config.pool, config.pool_revision)))
            hash = hash[:16]
        super().__init__(hash=hash, **kwargs)

    @classmethod
    def _resolve_config(cls, kwargs: dict[str, Any]) -> Select2ReasonConfig:
        """The named configuration with the keyword overrides applied, as datasets will build it."""
        name = kwargs.get("config_name") or cls.DEFAULT_CONFIG_NAME
        known = {config.name: config for config in cls.BUILDER_CONFIGS}
        if name not in known:
            raise InputError(f"unknown configuration {name!r}; known: {sorted(known)} (or pass ratio=... to any)")
        fields = set(asdict(known[name]))
        overrides = {key: value for key, value in kwargs.items() if key in fields and key != "name"}
        return Select2ReasonConfig(**{**asdict(known[name]), **overrides})

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="A long chain-of-thought pool scored for Select2Reason (arXiv 2505.17266), or its subset.",
            homepage="https://arxiv.org/abs/2505.17266",
        )

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN)]

    def _generate_tables(self):
        from s2r_hf.scoring import score_pool
        from s2r_hf.selection import select_with_report

        data, _ = score_pool(self.config.score_config())
        if self.config.ratio is not None:
            data, _ = select_with_report(data, self.config.select_config())
        yield from enumerate(data.with_format("arrow").iter(batch_size=_BATCH_ROWS))
