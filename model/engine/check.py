"""Check a whole poem, the user's characters included: form, rhyme, meter, repeats. What the engine
reports on every poem and the benchmark counts, for our poems and the masters' alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from model.engine.cilin import rhyme_names
from model.engine.meter import key_faults, line_faults, strict_meter_holds
from model.engine.prosody import PING, ZE, heard_tone, may_double, opposite, rhyme_groups, tone_of
from model.engine.types import Fault
from model.forms import CI, Form, form_of
from model.text import is_han

# Every rule a fault can name, with what it means; which constraint each one breaks.
RULES = {
    "失韵": ("rhyme", "该押韵的句子不在全诗的韵部", "a line that should rhyme is outside the poem's rhyme group"),
    "二四同声": (
        "meter",
        "第二、四（六）字平仄未交替",
        "the 2nd and 4th (and 6th) characters do not alternate in tone",
    ),
    "失对": ("meter", "与上句平仄未相对", "the key tones do not oppose the line before (对)"),
    "失粘": ("meter", "与上句平仄未相粘", "the key tones do not follow the line before (粘)"),
    "平收": ("meter", "平韵诗中不押韵的句子以平声收尾", "a line that does not rhyme ends on a level tone (平韵)"),
    "仄收": ("meter", "仄韵诗中不押韵的句子以仄声收尾", "a line that does not rhyme ends on an oblique tone (仄韵)"),
    "三平尾": ("meter", "句末三字皆平", "the line ends on three level tones"),
    "孤平": ("meter", "韵脚之外只有一个孤立的平声字", "one lone level tone besides the rhyme"),
    "不合谱": ("meter", "有字的平仄与词谱不合", "a character's tone is not the one the tune has there"),
    "失叠": ("no_repeat", "叠句没有重复上一句", "a line the tune repeats (叠句) does not repeat the line before"),
    "重韵": ("no_repeat", "与前句用同一字收尾", "the line ends on the same character as an earlier line"),
    "重字": ("no_repeat", "重复前面用过的字（叠字除外）", "a character repeats an earlier one (doubling aside)"),
    "重句": ("no_repeat", "与前面某句相同", "the line repeats an earlier one"),
}


def rhyme_of(lines: list[str], rhymes: list[int], tone: str = PING, ci: bool = False) -> tuple[str, list[int]]:
    """The rhyme group of the tone most rhyme characters share ('' if none has one), and the rhyming
    lines outside it: a 平水韵 group, or for a 词 (ci) a 词林正韵 class. On a tie, the group of the
    earliest rhyme sets it, as it does when the engine writes."""
    groups = {index: rhyme_names(lines[index][-1], tone, ci) for index in rhymes}
    counts = Counter(group for found in groups.values() for group in found)
    if not counts:
        return "", rhymes[1:]
    first: dict[str, int] = {}
    for index in rhymes:
        for group in groups[index]:
            first.setdefault(group, index)
    group = min(counts, key=lambda g: (-counts[g], first[g], g))
    return group, [index for index in rhymes if group not in groups[index]]


def common_rhyme_group(chars: list[str], tone: str = PING) -> str:
    """The 平水韵 group of the tone all chars share ('' if none); the first in name order if several."""
    group, outside = rhyme_of(list(chars), list(range(len(chars))), tone)
    return "" if outside or not chars else group


def rhymes_on_first_line(lines: list[str], tone: str = PING) -> bool:
    """Whether a finished poem's line 1 rhymes with its even lines (首句入韵)."""
    group, _ = rhyme_of(lines, list(form_of(lines).rhymes), tone)
    return group in rhyme_groups(lines[0][-1], tone)


def repeats(lines: list[str]) -> list[tuple[int, int]]:
    """(line, column) of each character that repeats an earlier one. The second of a doubling the
    masters use (萧萧) is no repeat; a third in a row is."""
    seen: set[str] = set()
    found = []
    for index, line in enumerate(lines):
        for column, char in enumerate(line):
            doubling = (
                column > 0
                and line[column - 1] == char
                and may_double(char)
                and not (column > 1 and line[column - 2] == char)
            )
            if char in seen and not doubling:
                found.append((index, column))
            seen.add(char)
    return found


def doublings(lines: list[str]) -> int:
    """How many times a character follows itself inside a line (萧萧, 北北)."""
    return sum(line[i] == line[i - 1] for line in lines for i in range(1, len(line)))


def well_formed(lines: list[str], form: Form) -> bool:
    return tuple(map(len, lines)) == form.line_lengths and all(map(is_han, lines))


def tones(lines: list[str]) -> list[str]:
    """平/仄/中/？ for every character, line by line."""
    return ["".join(tone_of(c) for c in line) for line in lines]


def off_pattern(line: str, pattern: str) -> bool:
    """Whether a character is heard in the other tone than a tune's pattern fixes for its place."""
    return any(want in (PING, ZE) and heard_tone(char) == opposite(want) for char, want in zip(line, pattern))


def poem_faults(
    lines: list[str],
    form: Form,
    first_line_rhymes: bool,
    forced: Collection[tuple[int, int]] = (),
    rhyme_tone: str = PING,
) -> tuple[str, list[Fault]]:
    """The rhyme group (groups, for a 词 that changes rhyme) and every rule the poem breaks, line by
    line; a fault is the user's when the cells it stands on are all theirs (forced)."""

    def users(line: int, columns: range | list[int]) -> bool:
        return all((line, column) in forced for column in columns)

    def whole(line: int) -> range:
        return range(len(lines[line]))

    rhymes = form.rhyme_lines(first_line_rhymes)
    groups, found = [], []
    for rhyme_set in form.rhyme_sets:
        members = [line for line in rhymes if form.rhyme_set_of(line, first_line_rhymes) is rhyme_set]
        group, unrhymed = rhyme_of(lines, members, rhyme_set.tone or rhyme_tone, form.kind == CI)
        groups.append(group)
        found += [(line, "失韵", users(line, [len(lines[line]) - 1])) for line in unrhymed]
    if form.regulated:
        found += [(line, rule, users(line, whole(line))) for line, rule in key_faults(lines)]
        found += [
            (line, rule, users(line, whole(line)))
            for line in range(len(lines))
            for rule in line_faults(lines[line], line in rhymes, rhyme_tone)
        ]
    found += [
        (line, "不合谱", users(line, whole(line)))
        for line, pattern in enumerate(form.tones)
        if off_pattern(lines[line], pattern)
    ]
    found += [(line, "失叠", users(line, whole(line))) for line in form.repeats if lines[line] != lines[line - 1]]
    own = [line for line in range(len(lines)) if line not in form.repeats]  # a 叠句 repeats by rule
    ends = [line[-1] for line in lines]
    found += [
        (line, "重韵", users(line, [len(lines[line]) - 1]))
        for line in own[1:]
        if ends[line] in [ends[i] for i in own if i < line]
    ]
    found += [(line, "重字", users(line, [column])) for line, column in repeats(lines) if line in own]
    found += [(line, "重句", users(line, whole(line))) for line in own[1:] if lines[line] in lines[:line]]
    faults = sorted(
        {Fault(line + 1, rule, user) for line, rule, user in found}, key=lambda f: (f.line, list(RULES).index(f.rule))
    )
    return " / ".join(groups) if all(groups) else "", faults


def check_poem(
    lines: list[str],
    form: Form,
    first_line_rhymes: bool,
    forced: Collection[tuple[int, int]] = (),
    strict_meter: bool = False,
    rhyme_tone: str = PING,
) -> dict:
    """Constraint results and display facts for a whole poem, the user's forced cells included;
    "strict_meter" (a whole template) only when asked for: most poems are not meant to hold it."""
    rhymes = form.rhyme_lines(first_line_rhymes)
    formed = well_formed(lines, form)
    group, faults = poem_faults(lines, form, first_line_rhymes, forced, rhyme_tone) if formed else ("", [])
    broken = {RULES[fault.rule][0] for fault in faults}
    facts = {
        "well_formed": formed,
        "rhyme": formed and bool(group) and "rhyme" not in broken,
        "meter": formed and "meter" not in broken,
        "no_repeat": "no_repeat" not in broken,
        "rhyme_group": group,
        "rhyme_positions": rhymes,
        "tones": tones(lines),
        "faults": faults,
    }
    if strict_meter:
        facts["strict_meter"] = formed and form.regulated and strict_meter_holds(lines, rhymes, rhyme_tone)
    return facts
