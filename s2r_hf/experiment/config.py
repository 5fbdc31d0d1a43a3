"""The experiment file: a YAML file, or the same as `ExperimentConfig` for Python users.

    name: tiny-cpu                      # names the output folder (default) and the Hub repos
    output: s2r-experiments/tiny-cpu    # default: the name
    pool:
      source: demo                      # a pool to score (a file, a folder or a Hub id; `demo`: the embedded one)
      score: {difficulty: rollout}      # `s2r score` options (ScoreConfig fields), for a source
      # scored: openr1-scored           # or a folder `s2r score` already wrote
    arms:
      - {name: full, strategy: full}
      - {name: random, strategy: random, ratio: 0.1, seed: 0}
      - {name: joint, strategy: joint, ratio: 0.1, weight: 0.25, seeds: [0, 1, 2]}  # this arm's own seeds
    seeds: [0]                          # training seeds of every arm (default: the recipe's one seed)
    reference: full                     # the arm the others are compared with (default: the full arm, else the first)
    # match_tokens: joint               # optional: every other selected arm takes joint's subset tokens as its budget
    train:
      recipe: tiny-cpu                  # a shipped recipe or a YAML file
      model: HuggingFaceTB/SmolLM2-135M-Instruct
      overrides: {max_steps: 8}         # any `s2r train` flag, by its TRL name
      launcher: "{python}"              # or "accelerate launch --config_file {recipes}/accelerate/zero3.yaml"
    evaluate:                           # EvaluationConfig fields, and `data` (benchmark -> local file)
      tasks: math500
      max_samples: 5
    publish:                            # optional
      namespace: my-org
      collection: Select2Reason on my pool

Every section is checked when the file is read, before anything runs: unknown keys (with the nearest known one), a
key given twice, an arm name used twice or taken by the output folder's own files or by publishing (`results`, ...),
an unknown strategy, selection options an arm's strategy does not use, a recipe that does not exist, evaluation options
`s2r evaluate` would refuse, seeds that are not a list of distinct whole numbers from 0, a reference that is no arm.
Relative paths are read from the current folder, as on the command line.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from s2r_hf.core.errors import InputError, OptionTypeError, SourceNotFoundError
from s2r_hf.core.folders import s2r_kind
from s2r_hf.core.options import build, check_field_types
from s2r_hf.evaluation.runner import EvaluationConfig
from s2r_hf.experiment.repos import check_repo_names
from s2r_hf.pipeline.score import ScoreConfig
from s2r_hf.pool.benchmarks import parse_data_overrides
from s2r_hf.pool.demo import DEMO_LICENSE, DEMO_POOL_FILE
from s2r_hf.selection import STRATEGIES, SelectConfig, check_options_fit

# s2r_hf.training.sft (recipes) is imported where it is used: `s2r --help` loads this module and needs no launcher.

FULL = "full"  # the arm trained on the whole pool
DEMO_SOURCE = "demo"  # pool.source naming the embedded synthetic demo pool
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")  # at most 96 characters: a Hub repo name's limit
# Names the output folder uses for itself (folders, and the files the run and the report write beside the arms) and
# names publishing uses (the results repo `{name}-results` and its `experiment/` folder): an arm may not take them.
# Compared without case: repo names on the Hub, and folders on some file systems, ignore it.
RESERVED_NAMES = (
    "pool",
    "report",
    "steps",
    "results",
    "experiment",
    "experiment.json",
    "report.md",
    "report.json",
    "accuracy_vs_tokens.png",
)
DEFAULT_LAUNCHER = "{python}"


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class ArmConfig:
    """One arm: a selection of the pool (or the whole pool) that is trained and evaluated like every other arm."""

    name: str = field(metadata=_help("the arm's name: its folder in the output and its label in the table"))
    strategy: str = field(default="joint", metadata=_help("full (the whole pool), or an `s2r select` strategy"))
    ratio: float | None = field(default=None, metadata=_help("fraction of the pool (default 0.1 unless k is given)"))
    k: int | None = field(default=None, metadata=_help("number of rows, instead of ratio"))
    weight: float | None = field(default=None, metadata=_help("joint and quadrant: weight on difficulty (0.25)"))
    seed: int | None = field(default=None, metadata=_help("random and diverse: the seed (0)"))
    quadrant: str | None = field(default=None, metadata=_help("quadrant: long-hard, long-easy, short-hard, short-easy"))
    max_per_cluster: int | None = field(default=None, metadata=_help("at most N rows per question cluster"))
    group_column: str | None = field(default=None, metadata=_help("diverse: the column to stratify by"))
    seeds: list | None = field(default=None, metadata=_help("training seeds of this arm (default: the experiment's)"))
    token_budget: int | None = field(
        default=None,
        metadata=_help("instead of ratio or k: rows in the strategy's order while the trainer tokens (the student's "
                       "chat template applied) stay within N"),
    )  # fmt: skip

    def __post_init__(self) -> None:
        check_field_types(self)
        # Set by the experiment's match_tokens: the arm whose subset's tokens are this arm's token budget. Not a field:
        # it is the experiment's setting, not the arm's.
        self.matched_to: str | None = None
        if not ARM_NAME.fullmatch(self.name or ""):
            raise InputError(
                f"arm name {self.name!r} cannot name a folder: use at most 96 letters, digits, '-', '_' and '.', "
                "starting with a letter or digit (e.g. joint-w0.25)"
            )
        if self.name.lower() in RESERVED_NAMES:
            raise InputError(
                f"arm name {self.name!r} is reserved for the experiment's own files and Hub repos "
                f"({', '.join(RESERVED_NAMES)}); choose another"
            )
        self.seeds = check_seeds(self.seeds, f"arm {self.name!r}: seeds")
        if self.strategy == FULL:
            given = [key for key in _SELECTION_KEYS if getattr(self, key) is not None]
            if given:
                raise InputError(
                    f"arm {self.name!r}: the full arm trains on the whole pool, so {given} mean nothing there; drop "
                    "them, or give the arm a selection strategy"
                )
            return
        try:
            self.select_config()
        except (InputError, OptionTypeError) as err:
            raise type(err)(f"arm {self.name!r}: {err}") from None

    def select_config(self, token_budget: int | None = None):
        """The `s2r select` settings of this arm (None for the full arm); `token_budget`: the budget match_tokens
        gives it (known once the reference arm's subset is)."""
        if self.strategy == FULL:
            return None
        if self.strategy not in STRATEGIES:
            raise InputError(f"unknown strategy {self.strategy!r}; known: {[FULL, *STRATEGIES]}")
        given = {key: getattr(self, key) for key in _SELECTION_KEYS if getattr(self, key) is not None}
        check_options_fit(self.strategy, given, spell=str)  # the file gave it, even at its default: refused too
        if token_budget is not None:
            given["token_budget"] = token_budget
        return SelectConfig(strategy=self.strategy, **given)

    def describe(self) -> dict[str, Any]:
        """The arm's selection as the report and the cards show it (SelectConfig's defaults filled in)."""
        if self.matched_to is not None:  # its budget is known once the reference arm's subset is
            return {**describe_selection(self.select_config(token_budget=1)), "token_budget": None,
                    "match_tokens": self.matched_to}  # fmt: skip
        return describe_selection(self.select_config())


def describe_selection(config) -> dict[str, Any]:
    """A selection (a SelectConfig, or None for the full arm) as the report and the cards show it."""
    if config is None:
        return {"strategy": FULL, "ratio": None, "k": None, "weight": None}
    described = dataclasses.asdict(config)
    described["weight"] = config.effective_weight
    if config.strategy not in ("random", "diverse"):
        described.pop("seed")
    if config.strategy != "diverse":
        described.pop("group_column")
    if config.token_budget is None:
        described.pop("token_budget")
    return described


# EvaluationConfig fields the run sets for each arm (its name, its training record's token counts), not the file.
_SET_BY_THE_RUN = ("label", "trained_tokens", "data_tokens")
_SELECTION_KEYS = ("ratio", "k", "weight", "seed", "quadrant", "max_per_cluster", "group_column", "token_budget")
_SIZE_KEYS = ("ratio", "k", "token_budget")
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds: what TRL's `seed` accepts


def check_seeds(value: Any, where: str) -> list[int] | None:
    """`seeds` as given (None: not given), checked: a non-empty list of distinct whole numbers from 0 to MAX_SEED
    (True and False are not numbers here, though YAML and Python would take them for 1 and 0)."""
    if value is None:
        return None
    example = "e.g. seeds: [0, 1, 2]"
    if not isinstance(value, list):
        raise OptionTypeError(f"{where} must be a list of whole numbers, {example}; got {value!r}")
    if not value:
        raise InputError(f"{where} is an empty list: give at least one seed ({example}), or leave seeds out")
    for seed in value:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise InputError(f"{where} must be whole numbers from 0 to 2**32 - 1, got {seed!r} in {value!r}; {example}")
    repeated = sorted({seed for seed in value if value.count(seed) > 1})
    if repeated:
        raise InputError(f"{where} repeats {repeated[0]} ({value!r}): each seed trains once; give each seed once")
    return [int(seed) for seed in value]


@dataclass
class PoolConfig:
    """The pool every arm selects from: a scored folder, or a source scored once into OUTPUT/pool."""

    scored: str | None = field(default=None, metadata=_help("a folder written by `s2r score`"))
    source: str | None = field(default=None, metadata=_help("a pool to score: a file, folder or Hub id; or `demo`"))
    score: dict = field(default_factory=dict, metadata=_help("`s2r score` options (ScoreConfig fields)"))

    def __post_init__(self) -> None:
        check_field_types(self)
        if (self.scored is None) == (self.source is None):
            raise InputError(
                "pool needs exactly one of `scored` (a folder `s2r score` wrote) or `source` (a pool to score); "
                f"got {'both' if self.scored else 'neither'}"
            )
        if self.scored is not None and self.score:
            raise InputError("pool.score applies to a pool.source being scored, not to a pool.scored folder; drop it")
        if not isinstance(self.score, dict):
            raise OptionTypeError(f"pool.score must be a mapping of `s2r score` options, got {self.score!r}")
        if self.scored is not None:
            if not Path(self.scored).expanduser().is_dir():
                raise SourceNotFoundError(
                    f"pool.scored {self.scored!r} is not a folder; give the folder `s2r score` wrote, or use "
                    "pool.source to score a pool"
                )
            kind = s2r_kind(self.scored)
            if kind != "scored_pool":
                raise InputError(
                    f"pool.scored {self.scored!r} is not a scored pool (its card says {kind or 'nothing s2r wrote'}); "
                    "give the folder `s2r score` wrote"
                )
        else:
            self.score_config()  # checked now: a bad option stops the experiment before anything runs

    def score_config(self):
        """The ScoreConfig that builds the pool (None for a scored folder)."""
        if self.source is None:
            return None
        values = dict(self.score)
        if "source" in values:
            raise InputError("pool.score.source: give the source as pool.source")
        if self.source == DEMO_SOURCE:
            defaults = {"adapter": "openr1", "difficulty": "rollout", "license": DEMO_LICENSE, "synthetic": True}
            values = {**defaults, **values, "source": str(DEMO_POOL_FILE)}
        else:
            values["source"] = self.source
        try:
            return build(ScoreConfig, values)
        except (InputError, OptionTypeError) as err:
            raise type(err)(f"pool.score: {err}") from None


@dataclass
class TrainConfig:
    """How every arm is trained: one recipe and the same overrides, so the arms differ only in their data."""

    recipe: str = field(default="tiny-cpu", metadata=_help("a shipped recipe name or a YAML recipe file"))
    model: str | None = field(default=None, metadata=_help("the base model (default: the recipe's)"))
    overrides: dict = field(default_factory=dict, metadata=_help("`s2r train` flags by TRL name: {max_steps: 8}"))
    launcher: str = field(
        default=DEFAULT_LAUNCHER,
        metadata=_help("what runs `-m s2r_hf.training.sft`: {python}, or accelerate launch / torchrun with options"),
    )

    def __post_init__(self) -> None:
        from s2r_hf.training.sft import resolve_recipe

        check_field_types(self)
        if not isinstance(self.overrides, dict):
            raise OptionTypeError(f"train.overrides must be a mapping of `s2r train` flags, got {self.overrides!r}")
        owned = sorted(set(self.overrides) & _TRAIN_FLAGS_OWNED)
        if owned:
            raise InputError(
                f"train.overrides sets {owned}, which the experiment sets for each arm (the model is train.model, "
                "the data and output folder are the arm's, the selection is the arm's); drop them"
            )
        self.recipe_path = resolve_recipe(self.recipe)
        if not self.launcher.strip():
            raise InputError("train.launcher is empty; use {python}, or e.g. 'accelerate launch --num_processes 8'")
        try:
            self.launcher.format(python="python", recipes="recipes")
        except (KeyError, IndexError, ValueError) as err:
            raise InputError(
                f"train.launcher {self.launcher!r} has an unknown placeholder ({err}); it knows {{python}} and "
                "{recipes}"
            ) from None


_TRAIN_FLAGS_OWNED = {
    "model_name_or_path",
    "dataset_name",
    "output_dir",
    "pool_dataset",
    "config",
    *(f"selection_{key}" for key in ("strategy", "ratio", "k", "weight", "seed", "group_column", "quadrant")),
    "selection_max_per_cluster",
}


@dataclass
class PublishConfig:
    """Where the experiment goes on the Hub: {namespace}/{name}-{arm} subsets and models, {name}-results."""

    namespace: str = field(default="", metadata=_help("the Hub user or organisation to publish under"))
    collection: str | None = field(default=None, metadata=_help("the Hub collection's title (default: the name)"))
    private: bool = field(default=False, metadata=_help("create the repos and the collection private"))

    def __post_init__(self) -> None:
        check_field_types(self)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.namespace or ""):
            raise InputError(f"publish.namespace must be a Hub user or organisation name, got {self.namespace!r}")


@dataclass
class ExperimentConfig:
    """An experiment: one pool, several arms, one training recipe and one evaluation protocol for all of them."""

    name: str = field(metadata=_help("the experiment's name: the output folder's default and the Hub repos' prefix"))
    pool: PoolConfig = field(metadata=_help("the pool every arm selects from"))
    arms: list = field(metadata=_help("the arms: {name, strategy, ratio | k, weight, ...}; strategy full: all"))
    train: TrainConfig = field(default_factory=TrainConfig, metadata=_help("the recipe every arm is trained with"))
    evaluate: dict = field(default_factory=dict, metadata=_help("`s2r evaluate` options, and data: {task: path}"))
    publish: PublishConfig | None = field(default=None, metadata=_help("optional: where to publish on the Hub"))
    output: str | None = field(default=None, metadata=_help("the output folder (default: the name)"))
    seeds: list | None = field(
        default=None, metadata=_help("training seeds of every arm: [0, 1, 2] (default: the recipe's one seed)")
    )
    reference: str | None = field(
        default=None, metadata=_help("the arm the others are compared with (default: the full arm, else the first)")
    )
    match_tokens: str | None = field(
        default=None,
        metadata=_help("an arm's name: every other selected arm takes the trainer tokens of that arm's subset as its "
                       "token budget (the full arm stays the whole pool)"),
    )  # fmt: skip

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not ARM_NAME.fullmatch(self.name):
            raise InputError(
                f"the experiment name {self.name!r} must be at most 96 letters, digits, '-', '_' and '.' (it names "
                "folders and Hub repos)"
            )
        self.pool = _section(PoolConfig, self.pool, "pool")
        self.train = _section(TrainConfig, self.train, "train")
        if self.publish is not None:
            self.publish = _section(PublishConfig, self.publish, "publish")
        if not isinstance(self.arms, list) or not self.arms:
            raise InputError("arms must be a list of at least one arm, e.g. [{name: joint, strategy: joint}]")
        self.arms = [_section(ArmConfig, arm, f"arms[{index}]") for index, arm in enumerate(self.arms)]
        seen: dict[str, int] = {}
        for index, arm in enumerate(self.arms):
            if arm.name.lower() in seen:
                raise InputError(
                    f"arm name {arm.name!r} is used twice (arms[{seen[arm.name.lower()]}] and arms[{index}]); each arm "
                    "needs its own name (names that differ only in case collide on some file systems)"
                )
            seen[arm.name.lower()] = index
        if self.match_tokens is not None:
            self._match_tokens()
        if self.publish is not None:
            # Repo names are checked now, not after every arm has trained (publishing is the last step).
            check_repo_names(self.name, self.publish.namespace, self.arm_names())
        self.seeds = check_seeds(self.seeds, "seeds")
        if any(self.arm_seeds(arm.name) for arm in self.arms) and "seed" in self.train.overrides:
            raise InputError(
                f"train.overrides.seed ({self.train.overrides['seed']!r}) and seeds are both given; give the training "
                "seeds as seeds: [...] alone"
            )
        if self.reference is not None and self.reference not in self.arm_names():
            raise InputError(
                f"reference {self.reference!r} is not an arm of the experiment; its arms: {self.arm_names()} (the "
                "default is the full arm)"
            )
        if self.output is not None and not str(self.output).strip():
            raise InputError("output is empty; name the experiment's folder, or leave it out to use the name")
        self.evaluation_config()  # checked now, as `s2r evaluate` would check it

    def _match_tokens(self) -> None:
        """Check match_tokens (an arm with a subset; the arms it sizes give no size of their own) and mark the arms."""
        names = self.arm_names()
        reference = self.match_tokens
        if not isinstance(reference, str) or reference not in names:
            raise InputError(
                f"match_tokens {reference!r} is not an arm of this experiment; arms: {', '.join(names)}. Name the arm "
                "whose subset's tokens the other arms take as their budget"
            )
        if self.arm(reference).strategy == FULL:
            raise InputError(
                f"match_tokens {reference!r} names the full arm, which trains on the whole pool: every arm matched to "
                "it would be the whole pool too; name an arm that selects a subset"
            )
        for arm in self.matched_arms():
            sizes = [key for key in _SIZE_KEYS if getattr(arm, key) is not None]
            if sizes:
                raise InputError(
                    f"arm {arm.name!r} gives {sizes[0]} {getattr(arm, sizes[0])}, but match_tokens: {reference} sizes "
                    f"it by the tokens of the subset of arm {reference!r}; drop {sizes[0]} from arm {arm.name!r}, or "
                    "drop match_tokens"
                )
            try:
                arm.select_config(token_budget=1)  # the arm's options, with a budget: diverse, say, takes none
            except (InputError, OptionTypeError) as err:
                raise type(err)(f"arm {arm.name!r} (match_tokens: {reference}): {err}") from None
            arm.matched_to = reference

    def matched_arms(self) -> list[ArmConfig]:
        """The arms match_tokens sizes: every arm that selects, but the reference (none without match_tokens)."""
        if self.match_tokens is None:
            return []
        return [arm for arm in self.arms if arm.strategy != FULL and arm.name != self.match_tokens]

    @property
    def output_dir(self) -> Path:
        return Path(self.output or self.name).expanduser()

    def arm(self, name: str) -> ArmConfig:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise InputError(f"no arm named {name!r} in experiment {self.name!r}; its arms: {self.arm_names()}")

    def arm_names(self) -> list[str]:
        return [arm.name for arm in self.arms]

    def arm_seeds(self, name: str) -> list[int] | None:
        """The training seeds of an arm: its own `seeds`, else the experiment's; None when neither is given (one
        training, with the recipe's seed, in the arm's own folders as before seeds existed)."""
        arm = self.arm(name)
        return arm.seeds if arm.seeds is not None else self.seeds

    def reference_arm(self) -> str:
        """The arm the others are compared with: `reference`, else the first full arm, else the first arm."""
        if self.reference is not None:
            return self.reference
        return next((arm.name for arm in self.arms if arm.strategy == FULL), self.arms[0].name)

    def evaluation_config(self, **extra: Any):
        """The EvaluationConfig of every arm (`extra`: the arm's label and token counts, set by the run)."""
        if not isinstance(self.evaluate, dict):
            raise OptionTypeError(f"evaluate must be a mapping of `s2r evaluate` options, got {self.evaluate!r}")
        options = {key: value for key, value in self.evaluate.items() if key != "data"}
        known = [spec.name for spec in dataclasses.fields(EvaluationConfig)]
        _refuse_unknown(options, [name for name in known if name not in _SET_BY_THE_RUN], "evaluate")
        if isinstance(options.get("tasks"), list):
            options["tasks"] = ",".join(map(str, options["tasks"]))
        try:
            return EvaluationConfig(**options, **extra)
        except (InputError, OptionTypeError) as err:
            raise type(err)(f"evaluate: {err}") from None

    def evaluation_data(self) -> dict[str, str]:
        """evaluate.data: benchmark -> local file or folder, checked against the tasks."""
        data = self.evaluate.get("data") or {}
        if not isinstance(data, dict):
            raise OptionTypeError(
                f"evaluate.data must map benchmarks to local files, e.g. {{aime24: a.jsonl}}; got {data!r}"
            )
        # The rule of `s2r evaluate --data`: known benchmarks, each path existing (named as the file names it).
        overrides = parse_data_overrides([f"{name}={path}" for name, path in data.items()], "evaluate.data")
        tasks = self.evaluation_config().task_list
        unused = sorted(set(overrides) - set(tasks))
        if unused:
            raise InputError(
                f"evaluate.data names {unused[0]!r}, which is not among evaluate.tasks ({', '.join(tasks)})"
            )
        return overrides

    def to_dict(self) -> dict[str, Any]:
        """The experiment as plain data (what `experiment.json` records and `from_dict` reads back)."""

        def plain(value):
            if dataclasses.is_dataclass(value):
                return {spec.name: plain(getattr(value, spec.name)) for spec in dataclasses.fields(value)}
            if isinstance(value, list):
                return [plain(item) for item in value]
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            return value

        return plain(self)

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "the experiment") -> ExperimentConfig:
        if not isinstance(data, dict):
            raise InputError(f"{where} must be a mapping (name, pool, arms, train, evaluate, publish), got {data!r}")
        return _section(cls, data, None)


def _section(cls: type, value: Any, where: str | None):
    """A config section from a mapping (or an instance), unknown keys refused with the nearest known one."""
    if isinstance(value, cls):
        return value
    label = where or "the experiment"
    if not isinstance(value, dict):
        raise OptionTypeError(f"{label} must be a mapping, got {value!r} ({type(value).__name__})")
    names = [spec.name for spec in dataclasses.fields(cls)]
    _refuse_unknown(value, names, label)
    required = [
        spec.name
        for spec in dataclasses.fields(cls)
        if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in value]
    if missing:
        raise InputError(f"{label} needs {missing[0]!r}; it takes {names}")
    try:
        return cls(**copy.deepcopy(value))
    except TypeError as err:  # a wrong type the dataclass itself trips on
        raise OptionTypeError(f"{label}: {err}") from None


def _refuse_unknown(values: dict, known: list[str], where: str) -> None:
    for key in values:
        if key not in known:
            near = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise InputError(f"{where}: unknown key {key!r}; {hint}known: {known}")


def examples_dir() -> Path:
    return Path(str(resources.files("s2r_hf.experiment"))) / "examples"


def example_names() -> list[str]:
    return sorted(path.stem for path in examples_dir().glob("*.yaml"))


def resolve_example(value: str) -> Path:
    """An experiment file as given, or the shipped example of that name (`tiny-cpu`, `paper-7b`, ...)."""
    if Path(value).expanduser().is_file():
        return Path(value).expanduser()
    name = value[: -len(Path(value).suffix)] if value.endswith((".yaml", ".yml")) else value
    shipped = examples_dir() / f"{name}.yaml"
    if "/" not in value and shipped.is_file():
        return shipped
    raise SourceNotFoundError(
        f"experiment file {value!r} is neither a file nor a shipped example; shipped: {', '.join(example_names())} "
        f"(in {examples_dir()})"
    )


def experiment_output(value: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Path:
    """The output folder `value` means to `s2r experiment report`: `value` itself when it is a folder, or else the
    output folder of the experiment it names (a YAML file or a shipped example, read with its `--set` overrides, as
    `run` and `plan` read it)."""
    folder = Path(value).expanduser()
    if folder.is_dir():
        if overrides:
            raise InputError(
                f"--set changes an experiment file, but {str(value)!r} is an output folder; drop --set, or name the "
                "experiment file instead"
            )
        return folder
    try:
        config = load_experiment(value, overrides)
    except SourceNotFoundError:
        raise SourceNotFoundError(
            f"{str(value)!r} is neither an experiment's output folder nor an experiment file or shipped example "
            f"({', '.join(example_names())}); give the folder `s2r experiment run` wrote, or the experiment it ran"
        ) from None
    if not config.output_dir.is_dir():
        raise InputError(
            f"experiment {config.name!r} has not run yet: its output folder {str(config.output_dir)!r} does not exist; "
            "run it first (s2r experiment run, with the same --set output=... if its output was moved)"
        )
    return config.output_dir


def load_experiment(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read an experiment file (or the name of a shipped example), apply `KEY=VALUE` overrides, and check it all.

    Overrides use dotted keys into the file (`train.model=./tiny`, `evaluate.max_samples=2`,
    `arms.joint.weight=0.5`: an arm is named by its name), and values are read as YAML (`2`, `true`, `[a, b]`).
    """
    import yaml

    file = resolve_example(str(path))
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_loader())  # a SafeLoader subclass
    except yaml.YAMLError as err:
        detail = " ".join(str(err).split())
        raise InputError(f"the experiment file {str(file)!r} is not valid YAML: {detail}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"the experiment file {str(file)!r} is not UTF-8 text ({err})") from None
    if data is None:
        raise InputError(
            f"the experiment file {str(file)!r} is empty; start from a shipped example: {', '.join(example_names())}"
        )
    _refuse_huge(data, str(file))
    for override in overrides:
        data = apply_override(data, override)
    if isinstance(data, dict) and "name" not in data:
        data = {**data, "name": file.stem}
    return ExperimentConfig.from_dict(data, where=f"the experiment file {str(file)!r}")


def _loader():
    """PyYAML's SafeLoader, refusing a key given twice in one mapping (it keeps the last silently: a weight written
    twice in an arm would run with the second, unnoticed)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = self.construct_scalar(key_node)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {key!r} is given twice in one mapping", key_node.start_mark
                        )
                    seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


MAX_VALUES = 100_000  # far above any real experiment file; what YAML aliases nested in aliases expand to is not


def _refuse_huge(data: Any, file: str) -> None:
    """Refuse a file that expands to more than MAX_VALUES values: aliases of aliases ("billion laughs") load as shared
    references in a few bytes, then every copy, record and fingerprint of them would expand them all."""
    pending, count = [data], 0
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise InputError(
                f"the experiment file {file!r} expands to more than {MAX_VALUES:,} values (YAML anchors and aliases "
                "repeated inside each other?); write the values out"
            )
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def apply_override(data: Any, override: str) -> dict:
    """`a.b.c=value` set into a copy of `data` (an arm is addressed by its name: `arms.joint.weight=0.5`)."""
    import yaml

    if "=" not in override or not override.split("=", 1)[0].strip():
        raise InputError(f"--set takes KEY=VALUE with a dotted key (e.g. train.model=./my-model), got {override!r}")
    key, raw = override.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if not isinstance(data, dict):
        raise InputError(f"--set {override!r}: the experiment file is not a mapping")
    data = copy.deepcopy(data)
    node: Any = data
    parts = key.strip().split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):  # arms: by name
            match = [item for item in node if isinstance(item, dict) and item.get("name") == part]
            if not match:
                names = [item.get("name") for item in node if isinstance(item, dict)]
                raise InputError(f"--set {override!r}: no arm named {part!r}; arms: {names}")
            if last:
                raise InputError(f"--set {override!r}: name a setting of arm {part!r}, e.g. arms.{part}.weight=0.5")
            node = match[0]
            continue
        if not isinstance(node, dict):
            raise InputError(f"--set {override!r}: {'.'.join(parts[:depth])} is not a mapping")
        if last:
            node[part] = value
        else:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
    return data
