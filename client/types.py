"""Typed results of the client: plain frozen dataclasses, no protobuf."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FaultOut:
    """A rule of regulated verse one line breaks: 第3句失粘 is FaultOut(3, "失粘", ...)."""

    line: int  # 1-based
    rule: str  # one of the names the server's info lists under "rules"
    user: bool  # the fault lies wholly in the user's own characters


@dataclass(frozen=True)
class PoemOut:
    """One finished poem and what the engine knows about it."""

    text: str  # the whole poem with ，。
    lines: list[str]
    score: float  # mean log-probability per generated character; 0 when none was generated
    rhyme_group: str  # e.g. 下平七阳
    tones: list[str]  # per line, 平/仄/中/？ per character
    rhyme_positions: list[int]  # 0-based lines whose last character rhymes
    constraints: dict[
        str, bool
    ]  # which checks hold on the whole poem: well_formed, kept, rhyme, meter, no_repeat, no_copy
    faults: list[FaultOut] = field(default_factory=list)  # every rule the poem breaks, line by line


@dataclass(frozen=True)
class GenerateResult:
    """The reply to one request: its n candidate poems in candidate order."""

    form: str  # the form actually written
    mode: str
    poems: list[PoemOut]
    keywords: list[str] = field(default_factory=list)  # theme mode: the keywords that steered the poem
    elapsed_ms: float = 0.0  # submission to last character, on the server
    left_out: list[str] = field(default_factory=list)  # theme mode: words of the theme no keyword could hold

    def to_dict(self) -> dict:
        """Plain dicts and lists, ready for json.dumps."""
        return asdict(self)


@dataclass(frozen=True)
class Progress:
    """Candidate `index` now reads `text` (it may shrink when a line is re-sampled)."""

    index: int
    text: str
