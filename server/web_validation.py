"""Cheap checks of the web API's input: types and ranges here, the poem rules on the model server."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from client.poet_client import is_unicode
from model.engine.contract import TYPE_NAMES

MODES = ("random", "continue", "acrostic", "theme")
FORMS = ("五绝", "七绝", "五律", "七律")
MAX_TEXT = 64  # characters of user text, as the engine allows (a theme: 50, checked by the engine)
MAX_CANDIDATES = 8
MAX_CONVERT = 2000  # characters /api/convert takes: a few poems, never a book
CONVERSIONS = {"traditional": "s2t", "simplified": "t2s"}


class WebError(Exception):
    """A request the web layer refuses, with a bilingual message and an HTTP status."""

    def __init__(self, zh: str, en: str, status: int = 400):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.status = zh, en, status

    def to_dict(self) -> dict:
        return error_body(self.zh, self.en)


def error_body(zh: str, en: str) -> dict:
    """The JSON every API error answers with."""
    return {"error": {"zh": zh, "en": en, "message": f"{zh} / {en}"}}


@dataclass(frozen=True)
class Field:
    """One generate parameter: its JSON type, whether null is allowed, and its range."""

    kind: type
    check: Callable[[Any], bool]
    zh: str
    en: str
    nullable: bool = False


FIELDS: dict[str, Field] = {
    "mode": Field(
        str,
        lambda v: v in MODES,
        "模式须为 random、continue、acrostic 或 theme",
        "mode must be random, continue, acrostic or theme",
    ),
    "form": Field(str, lambda v: True, "", ""),  # a form or a 词 tune: the model server knows which it can write
    "text": Field(
        str,
        lambda v: len(v) <= MAX_TEXT,
        f"文字过长（最多 {MAX_TEXT} 字）",
        f"text too long (at most {MAX_TEXT} characters)",
    ),
    "n": Field(
        int,
        lambda v: 1 <= v <= MAX_CANDIDATES,
        f"候选数须在 1–{MAX_CANDIDATES} 之间",
        f"n must be between 1 and {MAX_CANDIDATES}",
    ),
    "seed": Field(
        int, lambda v: 0 <= v < 2**63, "随机种子须为非负整数", "seed must be a non-negative integer", nullable=True
    ),
    "temperature": Field(float, lambda v: 0 < v <= 2, "温度须在 (0, 2] 之间", "temperature must be in (0, 2]"),
    "top_k": Field(int, lambda v: 0 <= v <= 1000, "top_k 须在 0–1000 之间", "top_k must be between 0 and 1000"),
    "top_p": Field(float, lambda v: 0 < v <= 1, "top_p 须在 (0, 1] 之间", "top_p must be in (0, 1]"),
    "repetition_penalty": Field(
        float, lambda v: 1 <= v <= 2, "重复惩罚须在 [1, 2] 之间", "repetition_penalty must be in [1, 2]"
    ),
    **{
        name: Field(bool, lambda v: True, "", "")
        for name in ("rhyme", "rhyme_first_line", "meter", "strict_meter", "no_repeat", "no_copy")
    },
    "rhyme_tone": Field(str, lambda v: v in ("平", "仄"), "韵脚声调须为 平 或 仄", "rhyme_tone must be 平 or 仄"),
}


def type_error(name: str, kind: type) -> WebError:
    """The error for a field whose value is not of its JSON type."""
    zh, en = TYPE_NAMES[kind]
    return WebError(f"{name} 须为{zh}", f"{name} must be {en}")


def check_unicode(name: str, text: str) -> None:
    """A WebError for a string UTF-8 cannot encode: JSON's "\\ud800" decodes to a lone surrogate."""
    if not is_unicode(text):
        raise WebError(f"{name} 含有无效的 Unicode 字符", f"{name} is not valid Unicode text")


def has_type(value: Any, kind: type) -> bool:
    """JSON type check that keeps booleans out of numbers (bool is an int in Python)."""
    if isinstance(value, bool) or kind is bool:
        return kind is bool and isinstance(value, bool)
    if kind is float:  # an int of any size stays an int: float() of 10**400 overflows
        return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
    return isinstance(value, kind)


def check_field(name: str, value: Any) -> Any:
    """One validated value, or a WebError naming the field."""
    spec = FIELDS[name]
    if value is None and spec.nullable:
        return None
    if not has_type(value, spec.kind):
        raise type_error(name, spec.kind)
    if spec.kind is str:
        check_unicode(name, value)
    if not spec.check(value):
        raise WebError(spec.zh, spec.en)
    return float(value) if spec.kind is float else value


def parse_generate(body: Any) -> dict[str, Any]:
    """Validated keyword arguments for PoetClient.generate/stream from a JSON object."""
    if not isinstance(body, dict):
        raise WebError("请求须为 JSON 对象", "the request body must be a JSON object")
    unknown = sorted(set(body) - set(FIELDS))
    if not all(is_unicode(name) for name in unknown):  # the message below must encode as UTF-8 JSON
        raise WebError("字段名含有无效的 Unicode 字符", "a field name is not valid Unicode text")
    if unknown:
        raise WebError(f"未知字段：{', '.join(unknown)}", f"unknown field(s): {', '.join(unknown)}")
    params = {name: check_field(name, value) for name, value in body.items()}
    params.setdefault("mode", "random")
    return params


def from_query_string(name: str, raw: str) -> Any:
    """A query-string value converted to the JSON type its field expects."""
    if name not in FIELDS:
        return raw  # parse_generate names it as unknown
    kind = FIELDS[name].kind
    try:
        if kind is bool:
            return {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}[raw.lower()]
        if raw == "" and FIELDS[name].nullable:
            return None
        return kind(raw)
    except (KeyError, ValueError):
        raise type_error(name, kind) from None


def parse_query(args: Mapping[str, str]) -> dict[str, Any]:
    """Validated generate arguments from query parameters (GET /api/stream, for EventSource)."""
    return parse_generate({name: from_query_string(name, raw) for name, raw in args.items()})


def parse_convert(body: Any) -> tuple[str, str]:
    """(text, OpenCC configuration) for /api/convert."""
    if not isinstance(body, dict) or set(body) - {"text", "to"}:
        raise WebError('请求须为 {"text", "to"}', 'the request body must be {"text", "to"}')
    text, to = body.get("text"), body.get("to")
    if not isinstance(text, str):
        raise type_error("text", str)
    check_unicode("text", text)
    if len(text) > MAX_CONVERT:
        raise WebError(f"文字过长（最多 {MAX_CONVERT} 字）", f"text too long (at most {MAX_CONVERT} characters)")
    if not isinstance(to, str) or to not in CONVERSIONS:  # a dict or list is unhashable
        raise WebError("to 须为 traditional 或 simplified", "to must be traditional or simplified")
    return text, CONVERSIONS[to]
