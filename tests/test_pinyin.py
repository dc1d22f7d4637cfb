"""POST /api/pinyin: one syllable per character, polyphones read in context, bad bodies refused with 400."""

from __future__ import annotations

import json

import pytest

from server.pinyin import MAX_LINE, MAX_LINES
from server.web import create_app


class NoModel:
    """/api/pinyin never reaches the model server: any client made is a failure."""

    def __init__(self, **kwargs) -> None:
        raise AssertionError("the pinyin route must not need the model server")


@pytest.fixture
def client():
    return create_app({"TESTING": True, "CLIENT_FACTORY": NoModel}).test_client()


def read(client, lines: list[str]) -> list[list[str]]:
    answer = client.post("/api/pinyin", json={"lines": lines})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["pinyin"]


def test_polyphones_are_read_in_context(client) -> None:
    # 长 is cháng in 长安, zhǎng in 长大; 行 is háng in 银行, xíng in 行人; 少 shào in 少小; 重 chóng in 重复.
    assert read(client, ["长安一片月", "银行行人", "少小离家", "重复"]) == [
        ["cháng", "ān", "yī", "piàn", "yuè"],
        ["yín", "háng", "xíng", "rén"],
        ["shào", "xiǎo", "lí", "jiā"],
        ["chóng", "fù"],
    ]
    assert read(client, ["长大"])[0][0] == "zhǎng"


def test_every_character_has_one_reading_and_marks_have_none(client) -> None:
    lines = ["白日依山尽，", "ab1", "", "床前明月光。"]
    readings = read(client, lines)
    assert [len(line) for line in readings] == [len(line) for line in lines]
    assert readings[0][-1] == "" and readings[1] == ["", "", ""] and readings[2] == []
    assert all(readings[3][:5]) and readings[3][5] == ""


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"lines": "床前明月光"}).encode(),
        b'{"lines": [1]}',
        b'{"lines": [], "more": 1}',
        b'{"lines": ["\\ud800"]}',
        json.dumps({"lines": ["月"] * (MAX_LINES + 1)}).encode(),
        json.dumps({"lines": ["月" * (MAX_LINE + 1)]}).encode(),
        b"[]",
    ],
)
def test_bad_bodies_get_a_bilingual_400(client, body: bytes) -> None:
    answer = client.post("/api/pinyin", data=body, content_type="application/json")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["zh"] and error["en"]


def test_every_candidate_of_the_longest_tune_is_read_at_once(client) -> None:
    from model.forms import tunes

    longest = max(tunes().values(), key=lambda tune: len(tune.line_lengths))
    lines = ["明月几时有"] * (8 * len(longest.line_lengths))  # the page asks for all eight candidates together
    assert len(read(client, lines)) == len(lines)
