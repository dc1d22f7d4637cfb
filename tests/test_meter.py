"""平水韵 tables and the rules of regulated verse, each shown on a poem that keeps it and one that
breaks it; the checks judge the whole poem, the user's lines included."""

from __future__ import annotations

import pytest

from model.engine.check import RULES, check_poem, common_rhyme_group, doublings, repeats, rhymes_on_first_line
from model.engine.meter import key_faults, line_faults, next_key, strict_meter_holds, template
from model.engine.prosody import BOTH, PING, ZE, VocabProsody, heard_tone, may_double, rhyme_groups, tone_of
from model.forms import FORMS

DENG_GUAN_QUE_LOU = ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"]  # 五绝, 尤 rhyme, regulated
ZAO_FA_BAI_DI_CHENG = ["朝辞白帝彩云间", "千里江陵一日还", "两岸猿声啼不住", "轻舟已过万重山"]  # 七绝, 删 rhyme
JING_YE_SI = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]  # a 古绝: 粘 breaks at line 3


def rules_of(lines: list[str], form: str = "五绝", first_line_rhymes: bool = False) -> set[tuple[int, str]]:
    return {(f.line, f.rule) for f in check_poem(lines, FORMS[form], first_line_rhymes)["faults"]}


def test_tones_and_groups_come_from_the_table_in_simplified_form() -> None:
    assert tone_of("东") == PING and tone_of("月") == ZE and tone_of("看") == BOTH
    assert tone_of("風") == tone_of("风") == PING  # traditional and simplified alike
    assert "上平一东" in rhyme_groups("风", PING)
    assert rhyme_groups("月", PING) == frozenset()


def test_a_two_tone_character_is_heard_as_the_masters_use_it_at_a_line_end() -> None:
    assert heard_tone("东") == PING and heard_tone("月") == ZE  # one tone: that one
    assert tone_of("行") == BOTH and heard_tone("行") == PING  # closes rhyming lines
    assert tone_of("过") == BOTH and heard_tone("过") == ZE  # closes lines that must end 仄
    assert may_double("萧") and not may_double("北")


def test_regulated_poems_pass() -> None:
    facts = check_poem(DENG_GUAN_QUE_LOU, FORMS["五绝"], first_line_rhymes=False)
    assert facts["well_formed"] and facts["rhyme"] and facts["meter"] and facts["no_repeat"]
    assert facts["rhyme_group"] == "下平十一尤" and facts["faults"] == []
    facts = check_poem(ZAO_FA_BAI_DI_CHENG, FORMS["七绝"], first_line_rhymes=True)
    assert facts["rhyme"] and facts["meter"] and facts["rhyme_positions"] == [0, 1, 3]
    assert rhymes_on_first_line(ZAO_FA_BAI_DI_CHENG) and not rhymes_on_first_line(DENG_GUAN_QUE_LOU)


def test_a_broken_rhyme_names_its_line() -> None:
    unrhymed = DENG_GUAN_QUE_LOU[:3] + ["更上一层台"]  # 台 rhymes in 灰, not 尤
    facts = check_poem(unrhymed, FORMS["五绝"], False)
    assert not facts["rhyme"] and (4, "失韵") in rules_of(unrhymed)


def test_a_line_off_the_key_chain_is_shi_dui_or_shi_nian() -> None:
    off_key = DENG_GUAN_QUE_LOU[:3] + ["更登一层楼"]  # 登 is 平 where 粘对 wants 仄: line 4 opposes line 3
    assert (4, "失对") in rules_of(off_key) and not check_poem(off_key, FORMS["五绝"], False)["meter"]
    assert key_faults(DENG_GUAN_QUE_LOU) == []


def test_the_whole_poem_is_judged_jing_ye_si_breaks_nian_at_line_3() -> None:
    faults = rules_of(JING_YE_SI)
    assert (3, "失粘") in faults
    assert (4, "失对") not in faults  # one slip is one fault: line 4 opposes line 3 as it should


def test_a_first_line_that_ends_level_must_rhyme() -> None:
    # 千载九重行: 行 is heard 平 and does not rhyme in 歌 (过, 多): the line may not end so.
    assert line_faults("千载九重行", rhymes=False) == ["平收"]
    assert line_faults("白日依山尽", rhymes=False) == []
    level_ending = ["白日依山高"] + DENG_GUAN_QUE_LOU[1:]
    assert (1, "平收") in rules_of(level_ending)
    assert not check_poem(level_ending, FORMS["五绝"], False)["meter"]


def test_three_level_tones_at_a_line_end() -> None:
    assert "三平尾" in line_faults("白日依山高", rhymes=True)  # 依山高: 平平平
    assert "三平尾" not in line_faults("黄河入海流", rhymes=True)


@pytest.mark.parametrize(
    "line, lone",
    [("故日入海流", True), ("日故山海流", True), ("日月入山流", False), ("山月入海流", True), ("平山入海流", False)],
)
def test_gu_ping_is_one_level_tone_with_oblique_on_both_sides(line: str, lone: bool) -> None:
    # 故日入海流: no 平 besides the rhyme at all; 日故山海流 仄仄平仄平 and 山月入海流 平仄仄仄平: one 平
    # between 仄; 日月入山流 仄仄仄平平: the one 平 beside the rhyme, a regular template; 平山入海流 平平仄仄平.
    assert ("孤平" in line_faults(line, rhymes=True)) == lone


def test_a_character_closing_two_lines_is_chong_yun() -> None:
    lines = ["今日平生得", "不嫌诗病迟", "花间一壶酒", "独酌懒成迟"]
    assert (4, "重韵") in rules_of(lines)
    assert not check_poem(lines, FORMS["五绝"], False)["no_repeat"]


def test_repeats_count_every_character_but_the_doublings_the_masters_use() -> None:
    assert repeats(["萧萧落木下", "不尽长江流"]) == []  # 萧萧 is a doubling
    assert repeats(["北北落木下", "不尽长江流"]) == [(0, 1)]  # 北北 is not one the masters use
    assert repeats(["白日依山尽", "黄河入日流"]) == [(1, 3)]
    assert repeats(["萧萧萧木下", "不尽长江流"]) == [(0, 2)]  # a third in a row repeats
    assert doublings(["萧萧落木下", "北北长江流"]) == 2
    assert (2, "重字") in rules_of(["白日依山尽", "黄河入日流", "欲穷千里目", "更上一层楼"])
    assert (2, "重句") in rules_of(["白日依山尽", "白日依山尽", "欲穷千里目", "更上一层楼"])


def test_faults_on_the_users_own_cells_are_marked_theirs() -> None:
    forced = {(0, c) for c in range(5)} | {(1, c) for c in range(5)}
    lines = ["白日依山高", "黄河入海流", "欲穷千里目", "更上一层楼"]
    faults = check_poem(lines, FORMS["五绝"], False, forced)["faults"]
    assert [(f.line, f.rule, f.user) for f in faults if f.rule == "平收"] == [(1, "平收", True)]


def test_every_fault_names_a_known_rule_with_both_languages() -> None:
    lines = ["白日依山高", "黄河入日高", "欲穷千里目", "欲穷千里目"]
    faults = check_poem(lines, FORMS["五绝"], False)["faults"]
    assert faults and all(f.rule in RULES for f in faults)
    assert all(constraint in ("rhyme", "meter", "no_repeat") and zh and en for constraint, zh, en in RULES.values())


def test_strict_meter_wants_every_character_of_a_template() -> None:
    key, lines = ZE, []
    for index in range(4):  # a 五绝 spelled out from its templates: 东 is 平, 月 is 仄
        key = next_key(key, index) if index else key
        lines.append(template(5, key, PING if index in (1, 3) else ZE).replace(PING, "东").replace(ZE, "月"))
    assert (
        strict_meter_holds(lines, [1, 3]) and check_poem(lines, FORMS["五绝"], False, strict_meter=True)["strict_meter"]
    )
    flipped = {"东": "月", "月": "东"}[lines[2][0]]
    loose = lines[:2] + [flipped + lines[2][1:]] + lines[3:]  # the free 1st character changed: 粘对 still holds
    assert key_faults(loose) == [] and not strict_meter_holds(loose, [1, 3])
    assert not strict_meter_holds(DENG_GUAN_QUE_LOU, [1, 3])  # 欲 stands where the template wants 平


def test_rules() -> None:
    assert FORMS["七律"].rhyme_lines(False) == [1, 3, 5, 7] and FORMS["五绝"].rhyme_lines(True) == [0, 1, 3]
    assert next_key(PING, 1) == ZE and next_key(ZE, 2) == ZE  # 对 then 粘
    assert template(5, PING, PING) == "平平仄仄平" and template(7, PING, ZE) == "平平仄仄平平仄"
    assert all(len(template(w, k, e)) == w for w in (5, 7) for k in (PING, ZE) for e in (PING, ZE))


def test_vocab_masks() -> None:
    prosody = VocabProsody(["[PAD]", "东", "月", "看", "，", "过"])
    assert list(prosody.can_ping) == [False, True, False, True, False, True]
    assert list(prosody.can_ze) == [False, False, True, True, False, True]
    assert list(prosody.tone_mask(PING, heard=True)) == [False, True, False, True, False, False]
    assert list(prosody.tone_mask(ZE, heard=True)) == [False, False, True, False, False, True]
    assert list(prosody.rhyme_mask(frozenset({"上平一东"}))) == [False, True, False, False, False, False]


@pytest.mark.parametrize("chars, group", [("东风", "上平一东"), ("东月", ""), ("光霜乡", "下平七阳")])
def test_common_rhyme_group(chars: str, group: str) -> None:
    assert common_rhyme_group(list(chars)) == group


def test_a_form_carries_its_lines_marks_and_rhymes() -> None:
    qilv = FORMS["七律"]
    assert qilv.line_lengths == (7,) * 8 and qilv.marks == ("，", "。") * 4 and qilv.tokens == 64
    assert qilv.line_starts == (0, 8, 16, 24, 32, 40, 48, 56) and qilv.cell(17) == (2, 1) and qilv.cell(7) == (0, 7)
    assert qilv.regulated and qilv.first_line_may_rhyme
    assert qilv.join(DENG_GUAN_QUE_LOU) == "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
