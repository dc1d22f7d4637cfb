"""词 in the engine, on the tiny model with the tunes' tokens: every mode on several tunes keeps the
tune's lines, marks, rhymes, fixed tones and 叠句; the errors name what is wrong."""

from __future__ import annotations

import pytest

from model.engine.engine import Engine
from model.engine.prosody import PING, ZE, heard_tone
from model.engine.router import Router, open_engine
from model.engine.types import PoemRequest, PoetryError
from model.forms import tunes

TUNES = ["浣溪沙", "如梦令", "菩萨蛮", "西江月", "鹧鸪天", "水调歌头"]


def assert_follows_its_tune(poem, name: str) -> None:
    form = tunes()[name]
    assert tuple(map(len, poem.lines)) == form.line_lengths, poem.text
    assert poem.text == form.join(poem.lines)
    for line in form.repeats:
        assert poem.lines[line] == poem.lines[line - 1], poem.text  # 叠句
    for line, pattern in enumerate(form.tones):
        for char, wanted in zip(poem.lines[line], pattern):
            assert wanted not in (PING, ZE) or heard_tone(char) != {PING: ZE, ZE: PING}[wanted], (poem.text, line)
    own = [f for f in poem.faults if not f.user]
    assert own == [], (poem.text, own)


@pytest.mark.parametrize("name", TUNES)
@pytest.mark.parametrize("mode, text", [("random", ""), ("theme", "秋夜思乡"), ("acrostic", "春江花月")])
def test_every_mode_writes_the_tunes_shape_rhymes_and_tones(engine: Engine, name: str, mode: str, text: str) -> None:
    tickets = [engine.submit(PoemRequest(mode=mode, form=name, text=text, seed=seed)) for seed in range(2)]
    for ticket in tickets:
        result = ticket.result(timeout=120)
        assert result.form == name
        poem = result.poems[0]
        assert_follows_its_tune(poem, name)
        assert all(poem.constraints.values()), (poem.text, poem.constraints)
        if mode == "acrostic":
            own = [line for line in range(tunes()[name].lines) if line not in tunes()[name].repeats]
            assert "".join(poem.lines[line][0] for line in own[:4]) == "春江花月"


def test_a_tune_that_changes_rhyme_rhymes_each_set_in_its_own_tone(engine: Engine) -> None:
    poem = engine.generate(PoemRequest(form="菩萨蛮", seed=3), timeout=120).poems[0]
    for rhyme_set in tunes()["菩萨蛮"].rhyme_sets:
        assert all(heard_tone(poem.lines[line][-1]) == rhyme_set.tone for line in rhyme_set.lines), poem.text
    assert poem.rhyme_group.count("/") == 3, poem.rhyme_group  # four rhymes, 仄 平 仄 平


def test_a_continuation_goes_on_in_the_tune(engine: Engine) -> None:
    opening = "一曲新词酒一杯，去年天气旧亭台。"
    poem = engine.generate(PoemRequest(mode="continue", form="浣溪沙", text=opening, seed=1), timeout=120).poems[0]
    assert poem.lines[:2] == ["一曲新词酒一杯", "去年天气旧亭台"]  # with the tune's own marks
    assert_follows_its_tune(poem, "浣溪沙")  # the user's 一 twice is their fault, not the engine's


def test_the_ru_meng_ling_repeats_its_two_character_line(engine: Engine) -> None:
    for seed in range(3):
        poem = engine.generate(PoemRequest(form="如梦令", seed=seed), timeout=120).poems[0]
        assert poem.lines[4] == poem.lines[5] and len(poem.lines[4]) == 2, poem.text


@pytest.mark.parametrize(
    "request_, message",
    [
        (PoemRequest(form="不存在的调"), "GetInfo"),
        (PoemRequest(mode="acrostic", form="如梦令", text="一二三四五六七"), "too few"),  # 7 lines, one a 叠句
        (PoemRequest(mode="continue", form="浣溪沙", text="白日依山尽，"), "pattern is 7-7-7 / 7-7-7"),
    ],
)
def test_errors_say_what_is_wrong(engine: Engine, request_: PoemRequest, message: str) -> None:
    with pytest.raises(PoetryError, match=message):
        engine.submit(request_)


def test_info_lists_the_tunes_with_their_patterns(engine: Engine) -> None:
    listed = {t["name"]: t for t in engine.info()["tunes"]}
    assert len(listed) == 40 and listed["浣溪沙"]["pattern"] == "7-7-7 / 7-7-7" and listed["浣溪沙"]["characters"] == 42
    assert listed["如梦令"]["stanzas"] == [7]


def test_the_router_decodes_verse_and_ci_in_batches_of_their_own(tiny_model_dir) -> None:
    router = open_engine(tiny_model_dir, max_batch=8, max_queue=16)
    try:
        assert isinstance(router, Router)
        assert router.regular.runtime.max_positions < router.ci.runtime.max_positions  # 诗's cache is narrower
        verse = router.submit(PoemRequest(form="七律", seed=1))
        ci = router.submit(PoemRequest(form="浣溪沙", seed=1))
        assert router.engine_for(PoemRequest(form="七律")) is router.regular
        assert router.engine_for(PoemRequest(form="浣溪沙")) is router.ci and not router.regular.tunes
        assert [len(line) for line in ci.result(timeout=60).poems[0].lines] == [7] * 6
        assert len(verse.result(timeout=60).poems[0].lines) == 8
        info = router.info()
        assert info["forms"] == ["五绝", "七绝", "五律", "七律"] and len(info["tunes"]) == 40
        with pytest.raises(PoetryError, match="GetInfo"):
            router.submit(PoemRequest(form="宋词"))
    finally:
        router.close()
