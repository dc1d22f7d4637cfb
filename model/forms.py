"""Forms: the shape of a poem and the rules it carries. The engine, its checks, the planner and
the page read a form's lines, marks and rhymes from here; a 词 tune is a Form too.

Adding a form: an entry in FORMS (and its prefix token in the vocabulary), plus tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate


@dataclass(frozen=True)
class Form:
    """A poem's shape: the length of each line and the mark after it; which lines rhyme (line 1
    may also rhyme where `first_line_may_rhyme`: 首句入韵, the writer's choice); and whether the
    rules of 近体诗 hold (`regulated`: the 粘对 chain over the 2nd/4th/6th characters, line ends,
    三平尾, 孤平; meter.py has them)."""

    name: str
    line_lengths: tuple[int, ...]
    marks: tuple[str, ...]  # the mark closing each line
    rhymes: tuple[int, ...]  # 0-based lines whose last character rhymes
    first_line_may_rhyme: bool = False
    regulated: bool = False

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
        line = max(i for i, start in enumerate(self.line_starts) if start <= offset)
        return line, offset - self.line_starts[line]

    def rhyme_lines(self, first_line: bool) -> list[int]:
        """The rhyming lines, line 1 among them where it may and does rhyme."""
        first = [0] if first_line and self.first_line_may_rhyme and 0 not in self.rhymes else []
        return first + list(self.rhymes)

    def join(self, lines: list[str]) -> str:
        """The poem's text: each line with its mark."""
        return "".join(line + mark for line, mark in zip(lines, self.marks))


def regular(name: str, width: int, lines: int) -> Form:
    """A form of 近体诗: ，。 alternating, the even lines rhyming, line 1 as the writer chooses."""
    return Form(name, (width,) * lines, ("，", "。") * (lines // 2), tuple(range(1, lines, 2)),
                first_line_may_rhyme=True, regulated=True)


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

