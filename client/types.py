"""Typed results of the client: plain frozen dataclasses, no protobuf."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class PoemOut:
    text: str  # the whole poem with ，。
    lines: list[str]
    score: float  # mean log-probability per generated character
    rhyme_group: str  # e.g. 下平七阳
    tones: list[str]  # per line, 平/仄/中/？ per character
    rhyme_positions: list[int]  # 0-based lines whose last character rhymes
    constraints: dict[str, bool]


@dataclass(frozen=True)
class GenerateResult:
    form: str
    mode: str
    poems: list[PoemOut]
    keywords: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """Candidate `index` now reads `text` (it may shrink when a line is re-sampled)."""

    index: int
    text: str
