"""What the engine takes and gives back: plain dataclasses, no transport types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MODE_LABELS = {"random": "随机", "continue": "续写", "acrostic": "藏头", "theme": "主题"}  # each mode's Chinese name
MODES = tuple(MODE_LABELS)
FORM_NAMES = ("五绝", "七绝", "五律", "七律")
RHYME_TONES = ("平", "仄")  # 平韵 (the usual) or 仄韵
MAX_TEXT = 64  # characters of user text: a 七律 opening of seven lines with its marks is 56
MAX_THEME = 50  # characters of a theme
MAX_CANDIDATES = 8


class PoetryError(ValueError):
    """A request the engine cannot honour; the message is bilingual (Chinese / English)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


class OverloadedError(RuntimeError):
    """The engine's queue is full; the caller should retry later."""


class CancelledError(RuntimeError):
    """The caller went away or its deadline passed before the poem was finished."""


@dataclass
class PoemRequest:
    """One generation request; the batch script's JSONL fields, all but mode optional."""

    mode: str = "random"
    form: str = ""  # 五绝|七绝|五律|七律; "" lets the engine choose or infer it
    text: str = ""  # opening (continue), head characters (acrostic) or theme (theme)
    n: int = 1  # candidates, 1..MAX_CANDIDATES
    seed: int | None = None  # same seed, parameters and weights give the same poems
    temperature: float = 0.8  # (0, 2]
    top_k: int = 40  # 1..1000 best tokens; 0 = no top-k cut (the draw still ranks at most sampler.FULL_SORT_K)
    top_p: float = 0.95  # (0, 1]
    repetition_penalty: float = 1.1  # [1, 2]
    rhyme: bool = True  # even lines rhyme in one 平水韵 level-tone group
    rhyme_first_line: bool = False  # line 1 rhymes too (usual for 七言)
    meter: bool = True  # 2nd/4th/6th characters follow 粘对
    strict_meter: bool = False  # every character follows a regulated template
    no_repeat: bool = True  # no repeated line; a character at most twice
    no_copy: bool = True  # no line copied verbatim from the training poems
    rhyme_tone: str = "平"  # 平: rhyme in a level-tone group; 仄: in an oblique one (a continuation's opening decides)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Fault:
    """A rule of regulated verse that one line breaks (check.RULES names them all)."""

    line: int  # 1-based, as a reader counts: 第3句失粘
    rule: str
    user: bool = False  # it lies wholly in the user's own characters, which the engine keeps


@dataclass
class Poem:
    """A finished poem and what the engine knows about it."""

    text: str  # whole poem with ，。
    lines: list[str]
    score: float  # mean log-probability per generated token (higher is better); 0 when none was generated
    rhyme_group: str  # 平水韵 group of the rhyme characters, e.g. "下平七阳"; "" if none
    tones: list[str]  # per line, one of 平/仄/中 (both readings) /？(unknown) per character
    rhyme_positions: list[int]  # 0-based indices of the lines whose last character rhymes
    constraints: dict[str, bool]  # which checks hold, on the whole poem: well_formed, kept (the user's text), rhyme,
    # meter, no_repeat, no_copy, and strict_meter (a whole template) where asked for
    faults: list[Fault] = field(default_factory=list)  # which line breaks which rule, the user's lines included


@dataclass
class PoemResult:
    """The reply to one request."""

    form: str  # the form actually written
    mode: str
    poems: list[Poem]
    keywords: list[str] = field(default_factory=list)  # theme mode: keywords in the prefix
    elapsed_ms: float = 0.0
    left_out: list[str] = field(default_factory=list)  # theme mode: words of the theme no prefix could hold


@dataclass
class Progress:
    """A streaming update: candidate `index` now reads `text` (it may shrink on backtracking)."""

    index: int
    text: str
