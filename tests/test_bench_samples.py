"""bench.samples: the model card's sample lines, from the shipped model's engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import samples
from model.engine.router import open_engine
from model.engine.types import PoemRequest

pytestmark = pytest.mark.slow  # compiles the shipped model


def test_a_sample_line_says_what_was_asked_the_poem_its_rhyme_and_whose_faults(shipped_model_dir: Path) -> None:
    engine = open_engine(shipped_model_dir, max_batch=8, max_queue=16)
    try:
        theme = samples.sample_line(engine, PoemRequest(mode="theme", form="七绝", text="秋夜思乡", seed=10))
        opening = "千山鸟飞绝，万径人踪灭。"  # 鸟 and 飞 are both 平: the user's own fault
        kept = samples.sample_line(engine, PoemRequest(mode="continue", form="五绝", text=opening, seed=13))
        again = samples.sample_line(engine, PoemRequest(mode="continue", form="五绝", text=opening, seed=13))
    finally:
        engine.close()
    asked, poem, rest = theme.split("  ", 2)
    assert asked.startswith("主题 七绝 秋夜思乡 seed 10 [") and len(poem) == 32 and rest.startswith("(")
    assert f"  {opening}" in kept and "第1句二四同声(用户)" in kept
    assert again == kept  # same seed, same poem


def test_the_samples_cover_every_mode_and_each_tune_given() -> None:
    tunes = ["浣溪沙", "水调歌头", "鹧鸪天"]
    asked = samples.requests(tunes)
    assert {r.mode for r in asked} == {"random", "continue", "acrostic", "theme"}
    assert [(r.form, r.seed) for r in asked if r.form in tunes] == [("浣溪沙", 1), ("水调歌头", 2), ("鹧鸪天", 3)]
