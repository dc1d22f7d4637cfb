"""词林正韵 (戈载, 1821): the 19 部 in which 词 rhyme, as unions of 平水韵 groups.

A 部 holds its level groups, its rising and departing ones (上去, which rhyme together in 词) and,
for 部 15–19, the entering groups (入). Where 戈载 split a 平水韵 group between two 部 by character
(灰 泰 队 佳 卦 元 阮 愿 贿, "半"), the group counts in both: a character of it rhymes with either.
"""

from __future__ import annotations

from functools import lru_cache

from model.engine.prosody import PING, readings, rhyme_groups

LEVEL, OBLIQUE, ENTERING = "平", "上去", "入"  # how 词 classes a rhyme's tone

BU: dict[int, str] = {
    1: "上平一东 上平二冬 上一董 上二肿 去一送 去二宋",
    2: "上平三江 下平七阳 上三讲 上二十二养 去三绛 去二十三漾",
    3: "上平四支 上平五微 上平八齐 上平十灰 上四纸 上五尾 上八荠 上十贿 去四寘 去五未 去八霁 去九泰 去十一队",
    4: "上平六鱼 上平七虞 上六语 上七麌 去六御 去七遇",
    5: "上平九佳 上平十灰 上九蟹 上十贿 去九泰 去十卦 去十一队",
    6: "上平十一真 上平十二文 上平十三元 上十一轸 上十二吻 上十三阮 去十二震 去十三问 去十四愿",
    7: "上平十三元 上平十四寒 上平十五删 下平一先 上十三阮 上十四旱 上十五潸 上十六铣 去十四愿 去十五翰 "
    "去十六谏 去十七霰",
    8: "下平二萧 下平三肴 下平四豪 上十七筿 上十八巧 上十九皓 去十八啸 去十九效 去二十号",
    9: "下平五歌 上二十哿 去二十一个",
    10: "上平九佳 下平六麻 上二十一马 去十卦 去二十二祃",
    11: "下平八庚 下平九青 下平十蒸 上二十三梗 上二十四迥 去二十四敬 去二十五径",
    12: "下平十一尤 上二十五有 去二十六宥",
    13: "下平十二侵 上二十六寝 去二十七沁",
    14: "下平十三覃 下平十四盐 下平十五咸 上二十七感 上二十八琰 上二十九豏 去二十八勘 去二十九艳 去三十陷",
    15: "入一屋 入二沃",
    16: "入三觉 入十药",
    17: "入四质 入十一陌 入十二锡 入十三职 入十四缉",
    18: "入五物 入六月 入七曷 入八黠 入九屑 入十六叶",
    19: "入十五合 入十七洽",
}


def tone_class(group: str) -> str:
    """平, 上去 or 入: the tone a 平水韵 group's name says."""
    if group.startswith(("上平", "下平")):
        return LEVEL
    return ENTERING if group.startswith("入") else OBLIQUE


@lru_cache(maxsize=1)
def bu_of_group() -> dict[str, frozenset[int]]:
    """Each 平水韵 group's 部 (two for a split group)."""
    found: dict[str, set[int]] = {}
    for bu, groups in BU.items():
        for group in groups.split():
            found.setdefault(group, set()).add(bu)
    return {group: frozenset(bus) for group, bus in found.items()}


@lru_cache(maxsize=1 << 16)
def ci_rhymes(char: str) -> frozenset[tuple[int, str]]:
    """The (部, tone class) pairs a character can rhyme in: 东 (1, 平); 月 (18, 入)."""
    return frozenset((bu, tone_class(r.group)) for r in readings().get(char, ()) for bu in bu_of_group()[r.group])


def class_name(bu: int, tone: str) -> str:
    """A 词 rhyme class's name, distinct from every 平水韵 group's: 第7部上去."""
    return f"第{bu}部{tone}"


@lru_cache(maxsize=1 << 16)
def ci_rhyme_names(char: str, tone: str) -> frozenset[str]:
    """The 词 rhyme classes of the tone (平; or 仄: 上去 and 入) a character can rhyme in."""
    return frozenset(class_name(bu, t) for bu, t in ci_rhymes(char) if (t == LEVEL) == (tone == PING))


def rhyme_names(char: str, tone: str, ci: bool) -> frozenset[str]:
    """What a character can rhyme in with that tone: 词林正韵 classes for a 词, 平水韵 groups for a 诗."""
    return ci_rhyme_names(char, tone) if ci else rhyme_groups(char, tone)
