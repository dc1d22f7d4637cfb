"""Forms: the shape of a poem and the rules it carries. The engine, its checks, the planner and
the page read a form's lines, marks, rhymes and tones from here; a 词 tune is a Form too, made
from the tune table (engine/tunes.json, `python -m model.tunes`).

Adding a form: an entry in FORMS or the tune table (and its prefix token in the vocabulary), plus tests.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate
from pathlib import Path

TUNE_TABLE = Path(__file__).resolve().parent / "engine" / "tunes.json"
REGULAR, CI = "诗", "词"


@dataclass(frozen=True)
class RhymeSet:
    """Lines whose last characters rhyme together, and their tone: 平, 仄, or None for the tone the
    request asks (a regular poem rhymes 平 unless asked otherwise)."""

    lines: tuple[int, ...]
    tone: str | None = None


@dataclass(frozen=True)
class Form:
    """A poem's shape: the length of each line and the mark after it; which lines rhyme together
    and in which tone (line 1 may also rhyme where `first_line_may_rhyme`: 首句入韵, the writer's
    choice); whether the rules of 近体诗 hold (`regulated`: the 粘对 chain over the 2nd/4th/6th
    characters, line ends, 三平尾, 孤平; meter.py has them); for a 词 tune, the tone at each
    position (平/仄, 中 where either will do), the lines that repeat the line before (叠句) and
    how many lines each 阕 has."""

    name: str
    line_lengths: tuple[int, ...]
    marks: tuple[str, ...]  # the mark closing each line
    rhyme_sets: tuple[RhymeSet, ...]
    first_line_may_rhyme: bool = False
    regulated: bool = False
    tones: tuple[str, ...] = ()
    repeats: tuple[int, ...] = ()
    stanzas: tuple[int, ...] = field(default=())
    kind: str = REGULAR

    @property
    def rhymes(self) -> tuple[int, ...]:
        """Every line that always rhymes."""
        return tuple(sorted(line for rhyme_set in self.rhyme_sets for line in rhyme_set.lines))

    @property
    def lines(self) -> int:
        """How many lines."""
        return len(self.line_lengths)

    @property
    def chars_per_line(self) -> int:
        """The length of every line where all have one (诗), else 0."""
        return self.line_lengths[0] if len(set(self.line_lengths)) == 1 else 0

    @property
    def tokens(self) -> int:
        """Characters plus one mark per line."""
        return sum(self.line_lengths) + self.lines

    @cached_property
    def line_starts(self) -> tuple[int, ...]:
        """Where each line starts among the poem's tokens (marks included)."""
        return (0, *accumulate(length + 1 for length in self.line_lengths))[:-1]

    def cell(self, offset: int) -> tuple[int, int]:
        """(line, column) of the token at offset; column == the line's length is its mark."""
        line = bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def rhyme_lines(self, first_line: bool) -> list[int]:
        """The rhyming lines, line 1 among them where it may and does rhyme."""
        first = [0] if first_line and self.first_line_may_rhyme and 0 not in self.rhymes else []
        return first + list(self.rhymes)

    def rhyme_set_of(self, line: int, first_line: bool) -> RhymeSet | None:
        """The set a rhyming line belongs to (line 1 joins the first where it rhymes); None if it does not rhyme."""
        if line == 0 and first_line and self.first_line_may_rhyme:
            return self.rhyme_sets[0]
        return next((s for s in self.rhyme_sets if line in s.lines), None)

    @property
    def pattern(self) -> str:
        """The line lengths by stanza: 7-7-7 / 7-7-7."""
        cuts = list(accumulate(self.stanzas)) if self.stanzas else [self.lines]
        return " / ".join("-".join(map(str, self.line_lengths[a:b])) for a, b in zip([0, *cuts], cuts))

    def shape(self) -> dict:
        """Its shape as GetInfo exports it: name, pattern, line lengths, lines per 阕 (a 诗 has one),
        characters, marks and 叠句."""
        return {
            "name": self.name,
            "pattern": self.pattern,
            "line_lengths": list(self.line_lengths),
            "stanzas": list(self.stanzas or (self.lines,)),
            "characters": sum(self.line_lengths),
            "marks": list(self.marks),
            "repeats": list(self.repeats),
        }

    def join(self, lines: list[str]) -> str:
        """The poem's text: each line with its mark."""
        return "".join(line + mark for line, mark in zip(lines, self.marks))


def regular(name: str, width: int, lines: int) -> Form:
    """A form of 近体诗: ，。 alternating, the even lines rhyming, line 1 as the writer chooses."""
    return Form(
        name,
        (width,) * lines,
        ("，", "。") * (lines // 2),
        (RhymeSet(tuple(range(1, lines, 2))),),
        first_line_may_rhyme=True,
        regulated=True,
    )


def tune(name: str, table: dict) -> Form:
    """A 词 tune from its row of the tune table."""
    return Form(
        name,
        tuple(table["lines"]),
        tuple(table["marks"]),
        tuple(RhymeSet(tuple(s["lines"]), s["tone"]) for s in table["rhymes"]),
        tones=tuple(table["tones"]),
        repeats=tuple(table["repeats"]),
        stanzas=tuple(table["stanzas"]),
        kind=CI,
    )


@lru_cache(maxsize=1)
def tunes() -> dict[str, Form]:
    """The tunes of the tune table, most written first."""
    return {name: tune(name, table) for name, table in json.loads(TUNE_TABLE.read_text(encoding="utf-8")).items()}


FORMS: dict[str, Form] = {
    "五绝": regular("五绝", 5, 4),
    "七绝": regular("七绝", 7, 4),
    "五律": regular("五律", 5, 8),
    "七律": regular("七律", 7, 8),
}


def form_of(lines: list[str]) -> Form | None:
    """The regular form whose shape these lines have exactly, or None."""
    shape = tuple(len(line) for line in lines)
    return next((form for form in FORMS.values() if form.line_lengths == shape), None)
