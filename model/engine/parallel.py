"""对仗: how well the two lines of a couplet face each other, word kind against word kind.

Each character gets a kind: a doubling (萧萧) is 叠; numbers, colours and the four quarters have
kinds of their own (数对数, 色对色, 方位对方位); any other character takes the part of speech
jieba's dictionary gives it standing alone (名, 动, 形, 副, or 虚 for the small words). A
position faces well when both characters are of one kind and neither appears in the other line
(对仗 shares no character). Whole-word segmentation is not used: jieba cuts classical lines
poorly (平野阔 as one name), while its single-character tags are sound. The score is the share of
positions that face well; 无边落木萧萧下 against 不尽长江滚滚来 scores 5/7.
"""

from __future__ import annotations

from functools import lru_cache

NUMBERS = frozenset("一二三四五六七八九十百千万两双半几孤独数")
COLOURS = frozenset("红白青绿黄紫翠碧黑赤丹朱苍素金银玄乌")
QUARTERS = frozenset("东西南北前后左右")
# jieba's part-of-speech tags, coarsened to the kinds a couplet pairs.
KIND_OF_TAG = {
    "n": "名",
    "nr": "名",
    "ns": "名",
    "nt": "名",
    "nz": "名",
    "ng": "名",
    "t": "名",
    "tg": "名",
    "s": "名",
    "v": "动",
    "vn": "动",
    "vg": "动",
    "vd": "动",
    "a": "形",
    "ad": "形",
    "an": "形",
    "ag": "形",
    "z": "形",
    "b": "形",
    "d": "副",
    "dg": "副",
    "f": "方",
    "m": "名",
}  # jieba tags 月, 日, 年 as numerals (month, day, year): the numerals proper are NUMBERS
UNKNOWN_KIND = "?"


@lru_cache(maxsize=1)
def _tags() -> dict[str, str]:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    jieba.posseg.dt.initialize()
    return jieba.posseg.dt.word_tag_tab


@lru_cache(maxsize=1 << 14)
def char_kind(char: str) -> str:
    """The kind of one character standing alone."""
    if char in NUMBERS:
        return "数"
    if char in COLOURS:
        return "色"
    if char in QUARTERS:
        return "方"
    tag = _tags().get(char)
    return UNKNOWN_KIND if tag is None else KIND_OF_TAG.get(tag, "虚")


def kinds(line: str) -> list[str]:
    """Each character's kind in its line: a doubling is 叠."""
    return [
        "叠" if (i > 0 and line[i - 1] == c) or (i + 1 < len(line) and line[i + 1] == c) else char_kind(c)
        for i, c in enumerate(line)
    ]


def couplet_parallelism(first: str, second: str) -> float:
    """The share of positions whose characters face each other: one kind, neither in the other line."""
    if not first or len(first) != len(second):
        return 0.0
    facing = sum(
        a == b != UNKNOWN_KIND and x not in second and y not in first
        for a, b, x, y in zip(kinds(first), kinds(second), first, second)
    )
    return facing / len(first)


def poem_parallelism(lines: list[str]) -> float | None:
    """A 律诗's mean over its middle couplets (lines 3–4 and 5–6); None for a poem of other length."""
    if len(lines) != 8:
        return None
    return (couplet_parallelism(lines[2], lines[3]) + couplet_parallelism(lines[4], lines[5])) / 2
