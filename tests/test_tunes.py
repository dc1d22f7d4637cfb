"""Tune tables (词谱) made from the training 词: the committed table against patterns everyone
knows, and the rules that made it on small hand-made examples."""

from __future__ import annotations

import json

import pytest

from model.engine.cilin import BU, bu_of_group, ci_rhymes
from model.engine.prosody import readings
from model.forms import tune as tune_form
from model.tunes import DEFAULT_OUT, position_tones, repeated_lines, rhyme_groups, stanza_break, tune_table

TABLES = json.loads(DEFAULT_OUT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "tune, known",
    [
        ("如梦令", "6-6-5-6-2-2-6"),
        ("浣溪沙", "7-7-7 / 7-7-7"),
        ("菩萨蛮", "7-7-5-5 / 5-5-5-5"),
        ("西江月", "6-6-7-6 / 6-6-7-6"),
        ("鹧鸪天", "7-7-7-7 / 3-3-7-7-7"),
        ("清平乐", "4-5-7-6 / 6-6-6-6"),
    ],
)
def test_the_committed_table_has_the_patterns_everyone_knows(tune: str, known: str) -> None:
    assert tune_form(tune, TABLES[tune]).pattern == known


def test_the_committed_table_holds_forty_tunes_with_rhymes_tones_and_repeats() -> None:
    assert len(TABLES) == 40 and "失调名" not in TABLES
    for tune, table in TABLES.items():
        assert sum(table["stanzas"]) == len(table["lines"]) == len(table["marks"]) == len(table["tones"]), tune
        assert [len(t) for t in table["tones"]] == table["lines"] and table["marks"][-1] == "。", tune
        assert table["rhymes"] and len(table["lines"]) - 1 in table["rhymes"][-1]["lines"], tune  # the last line rhymes
    assert TABLES["如梦令"]["repeats"] == [5]  # 知否，知否
    assert [g["tone"] for g in TABLES["菩萨蛮"]["rhymes"]] == ["仄", "平", "仄", "平"]  # 换韵 every two lines
    assert TABLES["浣溪沙"]["rhymes"] == [
        {"lines": [0, 1, 2, 4, 5], "tone": "平"}
    ]  # the 下阕's first line does not rhyme


def test_cilin_covers_every_pingshui_group_in_19_bu() -> None:
    groups = {r.group for found in readings().values() for r in found}
    assert groups == set(bu_of_group()) and sorted(BU) == list(range(1, 20))
    assert ci_rhymes("东") == {(1, "平")} and ci_rhymes("月") == {(18, "入")}
    assert (7, "平") in ci_rhymes("看") and (7, "上去") in ci_rhymes("看")  # 看 has both tones, both in 第七部
    assert ci_rhymes("东") & ci_rhymes("冬") and not ci_rhymes("东") & ci_rhymes("月")


def test_the_stanza_break_is_where_the_two_halves_end_alike() -> None:
    sentence = ["。"] * 8
    assert stanza_break((7, 7, 7, 7, 7, 7), sentence[:6]) == 3
    assert stanza_break((7, 7, 5, 5, 5, 5, 5, 5), sentence) == 4  # not 5: the halves' lengths weigh
    assert stanza_break((6, 6, 5, 6, 2, 2, 6), sentence[:7]) is None  # 如梦令: one stanza
    assert stanza_break((7, 5, 6, 5, 3, 3, 3, 4, 4, 4), ["。"] * 10) == 4  # halves end unlike: the middle
    assert stanza_break((7, 7, 7, 7, 7, 7), ["，", "，", "，", "，", "，", "。"]) is None  # only at a sentence end


def test_repeats_tones_and_rhymes_come_from_most_poems() -> None:
    poems = [
        ["常记溪亭日暮", "知否", "知否"],
        ["昨夜雨疏风骤", "知否", "知否"],
        ["试问卷帘人来", "争渡", "争渡"],
        ["兴尽晚回舟去", "轻手", "慢手"],
    ]
    assert repeated_lines(poems) == [2]
    tones = position_tones([["东风"], ["西风"], ["月明"]])
    assert tones == ["中平"]  # 东/西/月: two 平 of three is not agreement; 风 风 明 all 平
    rhyming = [["春风", "西东", "明月"], ["秋红", "千峰", "夜雪"], ["山中", "江空", "雨歇"]]
    assert rhyme_groups(rhyming) == [{"lines": [0, 1], "tone": "平"}]


def test_a_table_from_a_few_poems() -> None:
    bodies = ["一曲新词酒一杯，去年天气旧亭台。夕阳西下几时回。无可奈何花落去，似曾相识燕归来。小园香径独徘徊。"] * 3
    table = tune_table(bodies)
    assert table["lines"] == [7] * 6 and table["stanzas"] == [3, 3] and table["standard"] == 3
    assert table["rhymes"] == [{"lines": [0, 1, 2, 4, 5], "tone": "平"}]  # 杯台回 来徊 in 灰; 去 does not rhyme
    assert table["tones"][0][1] == "仄" and table["tones"][0][-1] == "平"  # 曲 仄, 杯 平
