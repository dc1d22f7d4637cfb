"""Check a finished poem: form, rhyme, meter, repeats — what the engine reports and the benchmark counts."""
from __future__ import annotations

from collections import Counter

from model.engine.meter import meter_holds, rhyme_lines, strict_meter_holds
from model.engine.prosody import level_groups, tone_of
from model.forms import Form
from model.text import is_han

MAX_CHAR_REPEATS = 2


def common_rhyme_group(chars: list[str]) -> str:
    """The 平水韵 level-tone group all chars share ('' if none); the first in name order if several."""
    groups = None
    for char in chars:
        groups = level_groups(char) if groups is None else groups & level_groups(char)
    return sorted(groups)[0] if groups else ""


def well_formed(lines: list[str], form: Form) -> bool:
    return len(lines) == form.lines and all(len(l) == form.chars_per_line and is_han(l) for l in lines)


def no_repeats(lines: list[str]) -> bool:
    """No line twice, no character more than MAX_CHAR_REPEATS times."""
    counts = Counter("".join(lines))
    return len(set(lines)) == len(lines) and max(counts.values()) <= MAX_CHAR_REPEATS


def tones(lines: list[str]) -> list[str]:
    """平/仄/中/？ for every character, line by line."""
    return ["".join(tone_of(c) for c in line) for line in lines]


def check_poem(lines: list[str], form: Form, first_line_rhymes: bool, given_lines: int = 0,
               strict_meter: bool = False) -> dict:
    """Constraint results and display facts for a poem whose first given_lines lines are the user's;
    "strict_meter" (a whole template) only when asked for: most poems are not meant to hold it."""
    rhymes = rhyme_lines(form.lines, first_line_rhymes)
    formed = well_formed(lines, form)
    group = common_rhyme_group([lines[i][-1] for i in rhymes]) if formed else ""
    facts = {
        "well_formed": formed,
        "rhyme": bool(group),
        "meter": formed and meter_holds(lines, rhymes, given_lines),
        "no_repeat": no_repeats(lines),
        "rhyme_group": group,
        "rhyme_positions": rhymes,
        "tones": tones(lines),
    }
    if strict_meter:
        facts["strict_meter"] = formed and strict_meter_holds(lines, rhymes, given_lines)
    return facts
