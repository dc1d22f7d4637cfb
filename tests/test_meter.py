"""平水韵 tables and the 粘对 checker on poems whose prosody is known."""
from __future__ import annotations

import pytest

from model.engine.check import check_poem, common_rhyme_group
from model.engine.meter import meter_holds, next_key, rhyme_lines, strict_meter_holds, template
from model.engine.prosody import BOTH, PING, ZE, VocabProsody, level_groups, tone_of
from model.forms import FORMS

DENG_GUAN_QUE_LOU = ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"]  # 五绝, 尤 rhyme, regulated
ZAO_FA_BAI_DI_CHENG = ["朝辞白帝彩云间", "千里江陵一日还", "两岸猿声啼不住", "轻舟已过万重山"]  # 七绝, 删 rhyme


def test_tones_and_groups_come_from_the_table_in_simplified_form() -> None:
    assert tone_of("东") == PING and tone_of("月") == ZE and tone_of("看") == BOTH
    assert tone_of("風") == tone_of("风") == PING  # traditional and simplified alike
    assert "上平一东" in level_groups("风")
    assert level_groups("月") == frozenset()


def test_regulated_poems_pass() -> None:
    facts = check_poem(DENG_GUAN_QUE_LOU, FORMS["五绝"], first_line_rhymes=False)
    assert facts["well_formed"] and facts["rhyme"] and facts["meter"] and facts["no_repeat"]
    assert facts["rhyme_group"] == "下平十一尤"
    facts = check_poem(ZAO_FA_BAI_DI_CHENG, FORMS["七绝"], first_line_rhymes=True)
    assert facts["rhyme"] and facts["meter"] and facts["rhyme_positions"] == [0, 1, 3]


def test_a_broken_rhyme_and_a_broken_meter_are_caught() -> None:
    unrhymed = DENG_GUAN_QUE_LOU[:3] + ["更上一层台"]  # 台 rhymes in 灰, not 尤
    assert not check_poem(unrhymed, FORMS["五绝"], False)["rhyme"]
    off_key = DENG_GUAN_QUE_LOU[:3] + ["更登一层楼"]  # 2nd character 登 is 平 where 粘对 wants 仄
    assert not meter_holds(off_key, [1, 3])
    level_ending = ["白日依山高"] + DENG_GUAN_QUE_LOU[1:]  # a line that does not rhyme must end 仄
    assert not meter_holds(level_ending, [1, 3])


def test_the_users_lines_are_context_not_judged() -> None:
    user_line_off = ["白日依山高"] + DENG_GUAN_QUE_LOU[1:]  # only the user's own line breaks the meter
    assert not meter_holds(user_line_off, [1, 3])
    assert meter_holds(user_line_off, [1, 3], given=1)


def test_strict_meter_wants_every_character_of_a_template() -> None:
    key, lines = ZE, []
    for index in range(4):  # a 五绝 spelled out from its templates: 东 is 平, 月 is 仄
        key = next_key(key, index) if index else key
        lines.append(template(5, key, PING if index in (1, 3) else ZE).replace(PING, "东").replace(ZE, "月"))
    assert strict_meter_holds(lines, [1, 3]) and check_poem(lines, FORMS["五绝"], False, strict_meter=True)["strict_meter"]
    flipped = {"东": "月", "月": "东"}[lines[2][0]]
    loose = lines[:2] + [flipped + lines[2][1:]] + lines[3:]  # the free 1st character changed: 粘对 still holds
    assert meter_holds(loose, [1, 3]) and not strict_meter_holds(loose, [1, 3])
    assert strict_meter_holds(loose, [1, 3], given=3)  # the user's lines are not judged
    assert not strict_meter_holds(DENG_GUAN_QUE_LOU, [1, 3])  # 欲 stands where the template wants 平
    # The user's line 1 sets the key (日 is 仄): lines that fit only the other key's chain do not hold.
    other_key = ["白日依山尽", "月月月东东", "月月东东月", "东东月月东"]
    assert not strict_meter_holds(other_key, [1, 3], given=1)
    own_key = ["白日依山尽"] + lines[1:]  # lines was spelled out from key 仄
    assert strict_meter_holds(own_key, [1, 3], given=1)


def test_rules() -> None:
    assert rhyme_lines(8, False) == [1, 3, 5, 7] and rhyme_lines(4, True) == [0, 1, 3]
    assert next_key(PING, 1) == ZE and next_key(ZE, 2) == ZE  # 对 then 粘
    assert template(5, PING, PING) == "平平仄仄平" and template(7, PING, ZE) == "平平仄仄平平仄"
    assert all(len(template(w, k, e)) == w for w in (5, 7) for k in (PING, ZE) for e in (PING, ZE))


def test_vocab_masks() -> None:
    prosody = VocabProsody(["[PAD]", "东", "月", "看", "，"])
    assert list(prosody.can_ping) == [False, True, False, True, False]
    assert list(prosody.can_ze) == [False, False, True, True, False]
    assert list(prosody.rhyme_mask(frozenset({"上平一东"}))) == [False, True, False, False, False]


@pytest.mark.parametrize("chars, group", [("东风", "上平一东"), ("东月", ""), ("光霜乡", "下平七阳")])
def test_common_rhyme_group(chars: str, group: str) -> None:
    assert common_rhyme_group(list(chars)) == group
