"""Regulated verse (近体诗) rules: which lines rhyme, the 粘对 key tones and line templates."""

from __future__ import annotations

from model.engine.prosody import BOTH, PING, ZE, heard_tone, opposite, tone_of

# 五言 templates by (tone of the 2nd character, tone of the last).
FIVE_TEMPLATES = {
    (ZE, ZE): "仄仄平平仄",
    (PING, PING): "平平仄仄平",
    (PING, ZE): "平平平仄仄",
    (ZE, PING): "仄仄仄平平",
}


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
    """Whether char may stand where tone is required in a 粘对 column (a character with both
    readings fits either: the masters use them so)."""
    found = tone_of(char)
    return found == tone or found == BOTH


def line_fits_key(line: str, key: str, width: int) -> bool:
    return all(fits(line[c], column_tone(key, c)) for c in meter_columns(width) if c < len(line))


def key_faults(lines: list[str]) -> list[tuple[int, str]]:
    """(0-based line, rule) where 粘对 breaks: 二四同声 for a first line whose own 2nd/4th(/6th)
    characters do not alternate, then 失对 / 失粘 for a line that does not oppose / follow the line
    before. After a broken line the chain goes on from that line's own key where it has a
    consistent one, else from the key it should have had: one slip is one fault."""
    width = len(lines[0])
    key = key_of_line(lines[0], width)
    faults = [(0, "二四同声")] if key and not line_fits_key(lines[0], key, width) else []
    for index, line in enumerate(lines[1:], start=1):
        if key is None:
            key = key_of_line(line, width)
            continue
        expected = next_key(key, index)
        if line_fits_key(line, expected, width):
            key = expected
            continue
        faults.append((index, "失对" if index % 2 else "失粘"))
        own = key_of_line(line, width)
        key = own if own and line_fits_key(line, own, width) else expected
    return faults


def line_faults(line: str, rhymes: bool, rhyme_tone: str = PING) -> list[str]:
    """The rules one line breaks, by the tones a reader hears (prosody.heard_tone). A line that does
    not rhyme ends in the other tone than the rhyme: 平收 where it ends 平 in a 平韵 poem (line 1
    included: it rhymes or ends 仄), 仄收 where it ends 仄 in a 仄韵 one. A line that ends 平 by
    rule may not end on three 平 (三平尾), nor hold one 平 besides its last away from it, or none
    (孤平: 仄平仄仄平). A character whose reading is undecided (中, ？) has the benefit of the doubt."""
    heard = [heard_tone(char) for char in line]
    ends = rhyme_tone if rhymes else opposite(rhyme_tone)
    faults = []
    if not rhymes and heard[-1] == opposite(ends):
        faults.append("平收" if heard[-1] == PING else "仄收")
    if ends == PING:
        if heard[-3:] == [PING] * 3:
            faults.append("三平尾")
        maybe_level = [i for i, tone in enumerate(heard[:-1]) if tone != ZE]
        if not maybe_level or (len(maybe_level) == 1 and maybe_level[0] < len(line) - 2):
            faults.append("孤平")
    return faults


def strict_meter_holds(lines: list[str], rhymes: list[int], rhyme_tone: str = PING) -> bool:
    """Whether some key for line 1 (the one line 1 shows, else either), carried through the poem
    by 粘对, gives every line a whole template it fits (a rhyming line ends in the rhyme's tone)."""
    width = len(lines[0])
    shown = key_of_line(lines[0], width)
    for key in (shown,) if shown else (PING, ZE):
        fitting = True
        for index, line in enumerate(lines):
            key = next_key(key, index) if index else key
            wanted = template(width, key, rhyme_tone if index in rhymes else opposite(rhyme_tone))
            if not all(fits(char, tone) for char, tone in zip(line, wanted)):
                fitting = False
                break
        if fitting:
            return True
    return False
