"""Regulated verse (近体诗) rules: which lines rhyme, the 粘对 key tones and line templates."""
from __future__ import annotations

from model.engine.prosody import BOTH, PING, UNKNOWN, ZE, opposite, tone_of

# 五言 templates by (tone of the 2nd character, tone of the last).
FIVE_TEMPLATES = {
    (ZE, ZE): "仄仄平平仄",
    (PING, PING): "平平仄仄平",
    (PING, ZE): "平平平仄仄",
    (ZE, PING): "仄仄仄平平",
}


def rhyme_lines(lines: int, first_line: bool) -> list[int]:
    """0-based indices of the lines that rhyme: every even line, and line 1 if asked."""
    return ([0] if first_line else []) + list(range(1, lines, 2))


def meter_columns(width: int) -> tuple[int, ...]:
    """0-based columns whose tone 粘对 governs: the 2nd, 4th (and 6th) characters."""
    return (1, 3) if width == 5 else (1, 3, 5)


def column_tone(key: str, column: int) -> str:
    """Tone at a meter column for a line whose 2nd character has tone key (2/6 alike, 4 opposite)."""
    return key if column in (1, 5) else opposite(key)


def next_key(previous: str, line: int) -> str:
    """对 within a couplet (the even line opposes), 粘 across couplets (the odd line follows)."""
    return opposite(previous) if line % 2 == 1 else previous


def key_of_line(chars: str, width: int) -> str | None:
    """The key tone a (partial) line shows through its first unambiguous meter character."""
    for column in meter_columns(width):
        if column < len(chars):
            tone = tone_of(chars[column])
            if tone in (PING, ZE):
                return tone if column in (1, 5) else opposite(tone)
    return None


def template(width: int, key: str, end: str) -> str:
    """The full tone template of a line with this key and last-character tone."""
    if width == 5:
        return FIVE_TEMPLATES[(key, end)]
    five = FIVE_TEMPLATES[(opposite(key), end)]
    return opposite(five[0]) * 2 + five


def fits(char: str, tone: str) -> bool:
    """Whether char may stand where tone is required (a character with both readings fits either)."""
    found = tone_of(char)
    return found == tone or found == BOTH


def meter_holds(lines: list[str], rhymes: list[int], given: int = 0) -> bool:
    """粘对 over the 2nd/4th/6th characters, and 仄 endings on the lines that do not rhyme.

    The first `given` lines are the user's: they set the pattern but are not judged.
    """
    width = len(lines[0])
    key = key_of_line(lines[0], width)
    for index, line in enumerate(lines):
        if index > 0 and key is not None:
            key = next_key(key, index)
        elif index > 0:
            key = key_of_line(line, width)
        if index < given:
            continue
        if key is not None and not all(fits(line[c], column_tone(key, c)) for c in meter_columns(width)):
            return False
        if index not in rhymes and tone_of(line[-1]) not in (ZE, BOTH, UNKNOWN):
            return False
    return True


def strict_meter_holds(lines: list[str], rhymes: list[int], given: int = 0) -> bool:
    """Whether the key of line 1 (the one the user's line 1 shows, else either), carried through
    the poem by 粘对, gives every line after the user's first `given` a whole template it fits."""
    width = len(lines[0])
    shown = key_of_line(lines[0], width) if given else None
    for key in (shown,) if shown else (PING, ZE):
        fitting = True
        for index, line in enumerate(lines):
            key = next_key(key, index) if index else key
            wanted = template(width, key, PING if index in rhymes else ZE)
            if index >= given and not all(fits(char, tone) for char, tone in zip(line, wanted)):
                fitting = False
                break
        if fitting:
            return True
    return False
