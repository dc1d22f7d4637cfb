"""The request contract: every field a poem request takes, with its type, range and meaning, in one
place. PoemRequest (types.py) holds the defaults; the engine validates with `validate`; GetInfo
exports `describe()`, from which the client, the web app and the page take their lists and limits.

Adding a field: PoemRequest, a Spec here, the proto's GenerateRequest, plus tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from model.engine.types import MAX_CANDIDATES, MODE_LABELS, MODES, RHYME_TONES, PoemRequest, PoetryError

MAX_ECHO = 40  # characters of a bad value an error repeats: a 20,000-character mode must not come back whole


def echo(value: object) -> str:
    """A bad value as an error shows it: its repr, cut short."""
    shown = repr(value)
    return shown if len(shown) <= MAX_ECHO else shown[:MAX_ECHO] + "…"


@dataclass(frozen=True)
class Spec:
    """One request field: its type, what it means, and the values it takes (a closed range, with
    the minimum left open where `above_minimum`; or a list of choices, with their Chinese names in
    `labels` where a page shows them). `nullable` fields may be None (the engine then chooses)."""

    name: str
    kind: type
    zh: str
    en: str
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    nullable: bool = False

    def range_text(self) -> tuple[str, str]:
        """The values it takes, in Chinese and in English: 须为 random、continue… / must be one of …"""
        if self.choices:
            return "、".join(self.choices) + " 之一", "one of " + ", ".join(self.choices)
        low, high = (f"{int(v)}" if self.kind is int else f"{v:g}" for v in (self.minimum, self.maximum))
        interval = f"{'(' if self.above_minimum else '['}{low}, {high}]"
        return f"在 {interval} 之间", f"in {interval}"

    def holds(self, value: object) -> bool:
        if self.choices:
            return value in self.choices
        if self.minimum is None:
            return True
        above = value > self.minimum if self.above_minimum else value >= self.minimum
        return above and value <= self.maximum and (self.kind is not float or math.isfinite(value))


SPECS: tuple[Spec, ...] = (
    Spec("mode", str, "模式", "mode", choices=MODES, labels=tuple(MODE_LABELS.values())),
    Spec("form", str, "诗体或词牌（空：由引擎选）", "form or 词 tune (empty: the engine chooses)"),
    Spec("text", str, "开头、藏头字或主题", "opening, acrostic characters or theme"),
    Spec("n", int, "候选数", "candidates", 1, MAX_CANDIDATES),
    Spec("seed", int, "随机种子", "seed", 0, 2**63 - 1, nullable=True),
    Spec("temperature", float, "温度", "temperature", 0, 2, above_minimum=True),
    Spec("top_k", int, "top_k（0 为不截断）", "top_k (0: no cut)", 0, 1000),
    Spec("top_p", float, "top_p", "top_p", 0, 1, above_minimum=True),
    Spec("repetition_penalty", float, "重复惩罚", "repetition penalty", 1, 2),
    Spec("rhyme", bool, "押韵", "rhyme"),
    Spec("rhyme_first_line", bool, "首句入韵", "line 1 rhymes too"),
    Spec("meter", bool, "粘对与句律", "meter"),
    Spec("strict_meter", bool, "严格格律", "every character on a regulated template"),
    Spec("no_repeat", bool, "不重复", "no repeats"),
    Spec("no_copy", bool, "不抄录", "no copied line"),
    Spec("rhyme_tone", str, "韵脚声调", "rhyme tone", choices=RHYME_TONES),
)
# What each type of field takes, for "{name} 须为{zh}" (the space: Chinese next to Latin letters is spaced);
# the client and the web app name types the same way.
TYPE_NAMES = {
    str: ("字符串", "a string"),
    int: ("整数", "an integer"),
    float: ("数字", "a number"),
    bool: (" true 或 false", "true or false"),
}


def of_type(value: object, kind: type) -> bool:
    """Whether value is of the field's type: bool is no number here, though Python lets it be one,
    and an integer is a number."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, (int, float)) if kind is float else isinstance(value, kind)


def validate(request: PoemRequest) -> None:
    """Every field of its type and within its range, or a PoetryError that names it."""
    for spec in SPECS:
        value = getattr(request, spec.name)
        if value is None and spec.nullable:
            continue
        if not of_type(value, spec.kind):
            zh, en = TYPE_NAMES[spec.kind]
            raise PoetryError(f"{spec.name} 须为{zh}", f"{spec.name} must be {en}")
        if not spec.holds(value):
            zh, en = spec.range_text()
            raise PoetryError(
                f"{spec.name}（{spec.zh}）须{zh}，收到 {echo(value)}",
                f"{spec.name} must be {en} ({spec.en}), got {echo(value)}",
            )


def describe() -> list[dict]:
    """Every field with its type, default, range and meaning, for GetInfo and the page."""
    defaults = {f.name: f.default for f in fields(PoemRequest)}
    return [
        {
            "name": s.name,
            "type": s.kind.__name__,
            "default": defaults[s.name],
            "zh": s.zh,
            "en": s.en,
            "minimum": s.minimum,
            "maximum": s.maximum,
            "above_minimum": s.above_minimum,
            "choices": list(s.choices),
            "labels": list(s.labels),
            "nullable": s.nullable,
        }
        for s in SPECS
    ]
