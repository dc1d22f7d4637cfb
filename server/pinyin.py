"""拼音 for the page's optional reading line: POST /api/pinyin {"lines": [...]} -> {"pinyin": [[...], ...]}."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, jsonify, request

from model.engine.types import MAX_CANDIDATES, MAX_TEXT
from model.forms import FORMS, tunes
from server.web_validation import WebError, check_unicode

bp = Blueprint("pinyin", __name__)

# Every candidate of the longest form or tune: the page asks for all of them at once.
MAX_LINES = MAX_CANDIDATES * max(len(form.line_lengths) for form in (*FORMS.values(), *tunes().values()))
MAX_LINE = MAX_TEXT  # characters of one line: as many as a request's text may carry


@lru_cache(maxsize=1)
def reader() -> Any:
    """pypinyin's reader, imported on first use: its phrase tables take a moment and some memory."""
    from pypinyin import Style, pinyin

    # Whole lines go in, so that phrases decide polyphones (长安 cháng, 银行 háng); a run of non-Han
    # characters comes back as one item, split here so that every character has its own reading.
    def read(line: str) -> list[str]:
        return [syllable for [syllable] in pinyin(line, style=Style.TONE, errors=lambda run: [[""] for _ in run])]

    return read


def parse_lines(data: bytes) -> list[str]:
    """The lines to read from the request body, or a WebError."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise WebError("请求不是有效的 JSON", "the request body is not valid JSON") from None
    lines = body.get("lines") if isinstance(body, dict) and set(body) == {"lines"} else None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise WebError('请求须为 {"lines": [字符串, …]}', 'the request body must be {"lines": [string, ...]}')
    if len(lines) > MAX_LINES or any(len(line) > MAX_LINE for line in lines):
        raise WebError(
            f"最多 {MAX_LINES} 句，每句最多 {MAX_LINE} 字",
            f"at most {MAX_LINES} lines of at most {MAX_LINE} characters",
        )
    for line in lines:
        check_unicode("lines", line)
    return lines


@bp.post("/api/pinyin")
def pinyin_lines() -> Response:
    """One syllable with its tone mark per character of each line ("" where a character has none)."""
    read = reader()
    return jsonify({"pinyin": [read(line) for line in parse_lines(request.get_data(cache=True))]})
