"""The evaluation protocols, as named presets: how each benchmark is sampled and scored.

`paper` is Select2Reason's protocol (Yang et al., 2025): AIME24, AIME25 and AMC23 are sampled (temperature 0.6, top_p
0.95, 16 samples per problem) and scored by pass@1 averaged over the samples and by majority vote over them (maj@16);
MATH500, Minerva and OlympiadBench are decoded greedily, one sample, pass@1. Generation stops after 16,384 new tokens.
The paper's reference code also applies a repetition penalty of 1.05; it is off by default here (1.0) and offered as
`repetition_penalty=1.05`, so that the default is plain sampling as the paper's text describes it.

`open-r1` follows the settings stated on the OpenR1-Qwen-7B model card (temperature 0.6, top_p 0.95, 32,768 new
tokens) on every benchmark, one sample per problem (pass@1), so that scores can sit beside its published numbers. The
card does not say how many samples per problem were drawn: raise `num_samples` to average pass@1 over more.

A preset gives the settings of each benchmark (`TaskSettings`); the runner passes them to lighteval and records them
beside every score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from s2r_hf.core.errors import InputError
from s2r_hf.pool.benchmarks import BENCHMARKS

PAPER_MAX_NEW_TOKENS = 16_384
OPEN_R1_MAX_NEW_TOKENS = 32_768
REFERENCE_REPETITION_PENALTY = 1.05  # in the paper's reference evaluation code; documented, not the default


@dataclass(frozen=True)
class TaskSettings:
    """How one benchmark is generated and scored in a run."""

    temperature: float  # 0 = greedy
    top_p: float
    num_samples: int  # generations per problem; pass@1 is averaged over them
    majority: bool  # also score maj@num_samples (majority vote over the samples' extracted answers)
    max_new_tokens: int
    repetition_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise InputError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InputError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.num_samples < 1:
            raise InputError(f"num_samples must be >= 1, got {self.num_samples}")
        if self.num_samples > 1 and self.temperature == 0:
            raise InputError(
                f"{self.num_samples} samples per problem need sampling (temperature > 0); greedy decoding gives "
                "the same answer every time"
            )
        if self.max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.repetition_penalty <= 0:
            raise InputError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def metrics(self) -> list[str]:
        """The tidy metric names this setting reports: pass@1, and maj@N when majority voting is on."""
        return ["pass@1"] + ([f"maj@{self.num_samples}"] if self.majority and self.num_samples > 1 else [])

    def describe(self) -> str:
        """A short human-readable line, e.g. `T=0.6 top_p=0.95 n=16 max_new=16384`."""
        parts = ["greedy" if self.greedy else f"T={self.temperature:g} top_p={self.top_p:g}"]
        parts += [f"n={self.num_samples}", f"max_new={self.max_new_tokens}"]
        if self.repetition_penalty != 1.0:
            parts.append(f"rep={self.repetition_penalty:g}")
        return " ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)

    def group_key(self) -> tuple:
        """Benchmarks with equal generation settings share one lighteval pipeline (its model holds one set)."""
        return (self.temperature, self.top_p, self.max_new_tokens, self.repetition_penalty)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    sampled: TaskSettings  # for benchmarks the paper samples (BenchmarkSpec.sampled)
    greedy: TaskSettings  # for the others

    def settings_for(
        self,
        task: str,
        *,
        max_new_tokens: int | None = None,
        num_samples: int | None = None,
        repetition_penalty: float | None = None,
    ) -> TaskSettings:
        """The settings of benchmark `task` under this preset, with the user's overrides applied.

        `num_samples` applies to the sampled benchmarks only (greedy ones always draw one sample).
        """
        base = self.sampled if BENCHMARKS[task].sampled else self.greedy
        changes: dict = {}
        if max_new_tokens is not None:
            changes["max_new_tokens"] = max_new_tokens
        if repetition_penalty is not None:
            changes["repetition_penalty"] = repetition_penalty
        if num_samples is not None and not base.greedy:
            changes["num_samples"] = num_samples
        return replace(base, **changes) if changes else base


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "paper",
            "Select2Reason's protocol: AIME24/AIME25/AMC23 at T=0.6, top_p=0.95, 16 samples, pass@1 and maj@16; "
            "MATH500/Minerva/OlympiadBench greedy; 16,384 new tokens",
            sampled=TaskSettings(0.6, 0.95, 16, True, PAPER_MAX_NEW_TOKENS),
            greedy=TaskSettings(0.0, 1.0, 1, False, PAPER_MAX_NEW_TOKENS),
        ),
        Preset(
            "open-r1",
            "the OpenR1-Qwen-7B card's settings: T=0.6, top_p=0.95, 32,768 new tokens, one sample, pass@1",
            sampled=TaskSettings(0.6, 0.95, 1, False, OPEN_R1_MAX_NEW_TOKENS),
            greedy=TaskSettings(0.6, 0.95, 1, False, OPEN_R1_MAX_NEW_TOKENS),
        ),
    )
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise InputError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]
