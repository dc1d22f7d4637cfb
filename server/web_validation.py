"""The web API's own checks: the shape of the JSON (an object of the request's fields, each value of its
field's JSON type). Ranges and choices are the engine's contract: the model server refuses a value out of
range with INVALID_ARGUMENT, which the app answers as a 400 with the engine's zh and en."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from client.poet_client import FIELDS, is_unicode
from model.engine.contract import SPECS, TYPE_NAMES, of_type

SPEC_OF = {spec.name: spec for spec in SPECS}  # each field's type, and whether null may stand for the default
QUERY_BOOLS = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}
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


def type_error(name: str, kind: type) -> WebError:
    """The error for a field whose value is not of its JSON type."""
    zh, en = TYPE_NAMES[kind]
    return WebError(f"{name} 须为{zh}", f"{name} must be {en}")


def check_unicode(name: str, text: str) -> None:
    """A WebError for a string UTF-8 cannot encode: JSON's "\\ud800" decodes to a lone surrogate."""
    if not is_unicode(text):
        raise WebError(f"{name} 含有无效的 Unicode 字符", f"{name} is not valid Unicode text")


def finite_number(name: str, value: int | float) -> float:
    """A JSON number as a float; Python's json reads NaN and Infinity, and an integer past a double's
    range has no float, so neither is a number a request can carry."""
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise WebError(f"{name} 须为有限的数字", f"{name} must be a finite number")
    return number


def check_value(name: str, value: Any) -> Any:
    """The value as the client takes it (a number as a float), or a WebError naming the field."""
    spec = SPEC_OF[name]
    if value is None and spec.nullable:
        return None
    if not of_type(value, spec.kind):
        raise type_error(name, spec.kind)
    if spec.kind is str:
        check_unicode(name, value)
    return finite_number(name, value) if spec.kind is float else value


def check_names(body: dict) -> None:
    """A WebError unless every key is a field of the request."""
    unknown = sorted(set(body) - set(FIELDS))
    if not all(is_unicode(name) for name in unknown):  # the message below must encode as UTF-8 JSON
        raise WebError("字段名含有无效的 Unicode 字符", "a field name is not valid Unicode text")
    if unknown:
        raise WebError(f"未知字段：{', '.join(unknown)}", f"unknown field(s): {', '.join(unknown)}")


def parse_generate(body: Any) -> dict[str, Any]:
    """Keyword arguments for PoetClient.generate/stream from a JSON object of the right shape; fields left
    out take the engine's defaults."""
    if not isinstance(body, dict):
        raise WebError("请求须为 JSON 对象", "the request body must be a JSON object")
    check_names(body)
    return {name: check_value(name, value) for name, value in body.items()}


def from_query_string(name: str, raw: str) -> Any:
    """A query-string value converted to the JSON type its field expects."""
    if name not in SPEC_OF:
        return raw  # parse_generate names it as unknown
    spec = SPEC_OF[name]
    try:
        if spec.kind is bool:
            return QUERY_BOOLS[raw.lower()]
        if raw == "" and spec.nullable:
            return None
        return spec.kind(raw)
    except (KeyError, ValueError):
        raise type_error(name, spec.kind) from None


def parse_query(args: Mapping[str, str]) -> dict[str, Any]:
    """Generate arguments from query parameters (GET /api/stream, for EventSource)."""
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
