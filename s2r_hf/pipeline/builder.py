"""`Select2ReasonBuilder`: a `datasets` builder that scores a whole pool and serves it, or one of its subsets.

Dataset scripts are gone from datasets 5.x, so the builder is an importable class:

    from s2r_hf.pipeline.builder import Select2ReasonBuilder

    builder = Select2ReasonBuilder(config_name="select10", pool="open-r1/OpenR1-Math-220k", pool_config="default",
                                   difficulty="judge", judge="Qwen/Qwen2.5-1.5B-Instruct", num_proc=8)
    builder.download_and_prepare()
    subset = builder.as_dataset(split="train")

Configurations: `scored` (the whole scored pool) and `select2`, `select5`, `select10`, `select20` (the paper's subset
sizes, joint rank with weight 0.25); every setting can be overridden by keyword. The settings are the options of
`s2r score` and `s2r select` (generated from ScoreConfig and SelectConfig: `builder_options`), named as the flags
without dashes, except `pool`, `pool_config`, `pool_split` and `pool_revision` for the source.

The builder's cache is keyed by the settings (datasets' config id) and by `hash=`, which defaults to a digest of the
package version, the package's own source, the settings and the pool's data (path, size and mtime of each local data
file; a Hub pool's resolved commit), so neither changed code, changed settings nor a changed pool ever reuse a stale
cache.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from dataclasses import asdict, dataclass, field, make_dataclass
from pathlib import Path
from typing import Any

import datasets

from s2r_hf._version import __version__
from s2r_hf.core.errors import InputError
from s2r_hf.core.models import looks_like_local_path
from s2r_hf.core.options import Option, build, options_of
from s2r_hf.pipeline.score import ScoreConfig
from s2r_hf.selection import SelectConfig
from s2r_hf.signals.difficulty import parse_scorer_spec

SUBSET_RATIOS = {"select2": 0.02, "select5": 0.05, "select10": 0.1, "select20": 0.2}
_BATCH_ROWS = 1000


def builder_options() -> list[Option]:
    """The builder's settings: every option of ScoreConfig (the pool, its scorers) and of SelectConfig, flat.

    Named as their flags without dashes (`judge_system_prompt`, `flags_column`, `k`), except the source fields, which
    read `pool`, `pool_config`, `pool_split` and `pool_revision` next to datasets' own `config_name`.
    """
    return [*options_of(ScoreConfig), *options_of(SelectConfig)]


def _setting(option: Option) -> tuple[str, Any, Any]:
    kind = option.kind | None if option.optional else option.kind
    return option.builder_name, kind, field(default=option.default, metadata={"help": option.help})


# The settings as dataclass fields, generated so that a new option of ScoreConfig or SelectConfig reaches the builder
# with nothing to copy (and so nothing to forget).
_Select2ReasonSettings = make_dataclass(
    "_Select2ReasonSettings",
    [_setting(option) for option in builder_options()],
    bases=(datasets.BuilderConfig,),
    namespace={"__module__": __name__},
)


@dataclass
class Select2ReasonConfig(_Select2ReasonSettings):
    """What to score and what to keep: every ScoreConfig and SelectConfig option (see `builder_options`).

    `ratio=None` (with `k=None`) serves the whole scored pool.
    """

    def settings(self) -> dict[str, Any]:
        """Everything that decides the rows, for the cache hash (the datasets bookkeeping fields left out)."""
        ignored = {"name", "version", "data_dir", "data_files", "description", "num_proc"}
        # How the judge runs, not what it computes: batch budget, device, resume folder and map batch size.
        ignored |= {"judge_batch_tokens", "judge_device", "judge_work_dir", "judge_chunk_rows"}
        return {key: value for key, value in asdict(self).items() if key not in ignored}

    def _values(self, config_class: type) -> dict[str, Any]:
        names = {option.builder_name for option in options_of(config_class)}
        return {name: getattr(self, name) for name in names}

    def score_config(self) -> ScoreConfig:
        """The ScoreConfig these settings make; scorer settings that do not apply to `difficulty` are left out."""
        values = self._values(ScoreConfig)
        scorer, _ = parse_scorer_spec(self.difficulty)
        # The builder has one flat namespace: leave the other scorer's fields at their defaults rather than refuse.
        for option in options_of(ScoreConfig):
            if len(option.path) > 1 and option.path[0] != scorer:
                values.pop(option.builder_name)
        return build(ScoreConfig, values, by="builder_name")

    def select_config(self) -> SelectConfig | None:
        """The SelectConfig these settings make, or None for the whole scored pool (no ratio and no k)."""
        if self.ratio is None and self.k is None and self.token_budget is None:
            return None
        return build(SelectConfig, self._values(SelectConfig), by="builder_name")


def package_digest() -> str:
    """A digest of the package's own source and card templates: a code change means a new cache."""
    from s2r_hf.core.cards import templates_dir

    digest = hashlib.sha256(__version__.encode())
    package, templates = Path(__file__).resolve().parents[1], templates_dir()  # s2r_hf/pipeline/ -> s2r_hf/
    files = [*((path, path.relative_to(package)) for path in package.rglob("*.py"))]
    files += [(path, Path("hub_cards") / path.relative_to(templates)) for path in templates.glob("*.md")]
    for path, name in sorted(files, key=lambda item: str(item[1])):
        # The path inside the package, not the bare name: judge/__init__.py and hub/__init__.py are different files.
        digest.update(name.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def pool_digest(pool: str, revision: str | None = None) -> str:
    """What the pool's data is now: a digest of a local file's or folder's files (path, size, mtime), or the commit a
    Hub pool's revision resolves to. A changed pool means a new cache."""
    from s2r_hf.core.folders import files_fingerprint, source_files

    path = Path(pool).expanduser()
    if path.exists():
        return files_fingerprint(source_files(path))
    if looks_like_local_path(pool) or re.search(r"\.(jsonl|json|parquet|csv)\b", pool):
        raise InputError(f"pool {pool!r} does not exist (and is not a Hub dataset id of the form org/name)")
    if revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision):
        return revision  # already a commit
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from s2r_hf.core.http_errors import transport_errors

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
        # A misspelt setting (judge_model= for judge=) would otherwise reach datasets as a bare ValueError.
        unknown = set(kwargs) - fields - set(inspect.signature(datasets.DatasetBuilder.__init__).parameters)
        if unknown:
            settings = sorted(option.builder_name for option in builder_options())
            raise InputError(f"unknown setting(s) {sorted(unknown)} for Select2ReasonBuilder; settings: {settings}")
        overrides = {key: value for key, value in kwargs.items() if key in fields and key != "name"}
        return Select2ReasonConfig(**{**asdict(known[name]), **overrides})

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="A long chain-of-thought pool scored for Select2Reason (arXiv 2505.17266), or its subset.",
            homepage="https://arxiv.org/abs/2505.17266",
        )

    def _split_generators(self, dl_manager):
        # Scored and selected here rather than in _generate_tables: datasets wraps whatever the table generator
        # raises in a DatasetGenerationError, which would bury an input problem (a missing column, an unreachable
        # judge) under its own traceback; from here it reaches the user as the one clear error it is.
        from s2r_hf.pipeline.score import score_pool
        from s2r_hf.selection import select_with_report

        data, _ = score_pool(self.config.score_config())
        select_config = self.config.select_config()
        if select_config is not None:
            # A token budget counts with the tokenizer the lengths were counted with (the builder has no other).
            data, _ = select_with_report(data, select_config, tokenizer=self.config.tokenizer)
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"data": data})]

    def _generate_tables(self, data):
        yield from enumerate(data.with_format("arrow").iter(batch_size=_BATCH_ROWS))
