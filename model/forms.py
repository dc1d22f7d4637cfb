"""The four regular forms of 近体诗 and how to recognise them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Form:
    """A regular form: how many lines, how many characters per line."""

    name: str
    chars_per_line: int
    lines: int

    @property
    def tokens(self) -> int:
        """Characters plus one punctuation mark per line."""
        return self.lines * (self.chars_per_line + 1)


FORMS: dict[str, Form] = {
    "五绝": Form("五绝", 5, 4),
    "七绝": Form("七绝", 7, 4),
    "五律": Form("五律", 5, 8),
    "七律": Form("七律", 7, 8),
}


def form_of(lines: list[str]) -> Form | None:
    """The form whose shape these lines have exactly, or None."""
    if not lines:
        return None
    width = len(lines[0])
    for form in FORMS.values():
        if form.lines == len(lines) and form.chars_per_line == width:
            if all(len(line) == width for line in lines):
                return form
    return None


def punctuation_after(line_index: int) -> str:
    """Odd lines close with '，', even lines with '。' (0-based index)."""
    return "，" if line_index % 2 == 0 else "。"


def join_lines(lines: list[str]) -> str:
    """A poem's text with ，。 alternating after its lines."""
    return "".join(line + punctuation_after(i) for i, line in enumerate(lines))
