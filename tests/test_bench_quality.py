"""bench.quality's figures, for 诗 and 词: computed by the engine's checks, the same for our poems and
the masters'; on hand-made poems whose faults are known, and on the tiny model's poems."""

from __future__ import annotations

import json

import pytest

from bench import quality_ci
from bench.quality import figures, parallelism
from model.engine.check import check_poem
from model.engine.engine import Engine
from model.forms import FORMS, tunes

RU_MENG_LING = ["常记溪亭日暮", "沉醉不知归路", "兴尽晚回舟", "误入藕花深处", "争渡", "争渡", "惊起一滩鸥鹭"]


def judged_poem(lines: list[str], form: str = "五绝") -> dict:
    faults = check_poem(lines, FORMS[form], False)["faults"]
    return {"lines": lines, "faults": faults, "forced": set(), "given_lines": 0}


def test_verse_figures_count_the_rules_the_poems_break() -> None:
    good = judged_poem(["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"])
    level_first = judged_poem(["白日依山高", "黄河入海流", "欲穷千里目", "更上一层楼"])  # 高: line 1 ends 平 unrhymed
    repeated = judged_poem(["白日依山尽", "黄河入日流", "欲穷千里目", "更上一层流"])  # 日 again, 流 closes two lines
    found = figures([good, level_first, repeated], corpus=None)
    assert found["poems"] == 3 and found["first_line"] == round(1 / 3, 3)
    assert found["重韵"] == round(1 / 3, 3) and found["repeat_rate"] == round(2 / 60, 4)
    assert found["meter"] == round(2 / 3, 3)


def test_parallelism_is_measured_on_the_middle_couplets_against_chance() -> None:
    lines = [
        "国破山河在",
        "城春草木深",
        "感时花溅泪",
        "恨别鸟惊心",
        "烽火连三月",
        "家书抵万金",
        "白头搔更短",
        "浑欲不胜簪",
    ]
    median, chance, mean = parallelism([{"lines": lines}, {"lines": lines[::-1]}])
    assert 0 < median <= 1 and 0 <= chance <= 1 and mean == median


def test_a_masters_ci_of_the_standard_form_keeps_its_tune() -> None:
    form = tunes()["如梦令"]
    found = quality_ci.judged(RU_MENG_LING, form)
    assert found["structure"] and found["rhymed"] == found["rhymes"] == len(form.rhymes)
    assert found["kept_tones"] / found["fixed"] > 0.8 and not found["重韵"]
    assert quality_ci.judged(RU_MENG_LING[:-1], form) == {"structure": False}
    totals = quality_ci.figures([found, {"structure": False}])
    assert totals["structure"] == 0.5 and totals["rhyme"] == 1.0


def test_our_ci_figures_on_the_tiny_model(engine: Engine) -> None:
    cells = quality_ci.ours(engine, per_tune=1)
    assert len(cells) == quality_ci.SAMPLE_TUNES
    overall = quality_ci.figures([p for poems in cells.values() for p in poems])
    assert overall["structure"] == 1.0 and overall["rhyme"] == 1.0 and overall["tones"] == 1.0 and overall["重韵"] == 0


@pytest.mark.slow
def test_teacher_nll_scores_each_models_poems_under_the_teacher(tiny_model_dir, tmp_path, capsys) -> None:
    from bench import teacher_nll

    poems = teacher_nll.written(tiny_model_dir, per_cell=1)
    assert len(poems) == 16 and all(text.endswith("。") for _, text in poems)
    teacher_nll.main(
        [str(tiny_model_dir), "--teacher", str(tiny_model_dir), "--per-cell", "1", "--data", str(tmp_path)]
    )
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    figure = report["figures"][str(tiny_model_dir)]
    assert figure["poems"] == 16 and figure["chars"] > 16 * 20
    assert 0 < figure["nll_per_char"] < 20 and "唐诗三百首" not in report["figures"]  # no test split in tmp_path
