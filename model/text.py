"""Text normalisation shared by the corpus, the tokenizer and the engine."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Half-width and variant punctuation folded to the two marks a regular poem uses.
_PUNCT_MAP = str.maketrans({",": "，", "、": "，", ";": "；", "!": "！", "?": "？", ".": "。", ":": "："})
_LINE_END = re.compile(r"[，。？！；：]")
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional (and variant) characters to simplified, via OpenCC t2s."""
    return _t2s().convert(text)


def is_han(text: str) -> bool:
    """True when text is non-empty and every character is a CJK ideograph."""
    return bool(_HAN.match(text))


def is_ideograph(char: str) -> bool:
    """True for any CJK ideograph, the rare extension blocks too (is_han covers the common ones,
    which are all the corpus and the vocabulary hold)."""
    return is_han(char) or unicodedata.name(char, "").startswith(
        ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
    )


def normalise_punctuation(text: str) -> str:
    """Fold ASCII and variant punctuation to full-width marks and drop whitespace."""
    return "".join(text.translate(_PUNCT_MAP).split())


def clean(text: str) -> str:
    """Text as the corpus, the engine and the tunes read it: simplified, with normalised marks."""
    return normalise_punctuation(to_simplified(text))


def split_lines(text: str) -> tuple[list[str], list[str]]:
    """Split text at line-ending marks: (lines, the marks that closed them).

    A trailing piece with no mark is returned as a last line with mark ''.
    """
    lines: list[str] = []
    marks: list[str] = []
    start = 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start : match.start()])
        marks.append(match.group())
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
        marks.append("")
    return lines, marks
