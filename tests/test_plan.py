"""Request planning without a model: the rules that turn a request into what the decoder must honour
(which form, which characters where) or into a short bilingual error. No OpenVINO, no torch."""

from __future__ import annotations

import pytest

from model.engine.plan import automatic_forms, plan_request
from model.engine.types import PoemRequest, PoetryError
from model.forms import FORMS
from model.tokenizer import CharTokenizer
from tests.conftest import SHIPPED_MODEL


@pytest.fixture(scope="module")
def tokenizer() -> CharTokenizer:
    return CharTokenizer.load(SHIPPED_MODEL / "vocab.txt")


def test_acrostic_heads_open_the_lines_in_order(tokenizer: CharTokenizer) -> None:
    plan = plan_request(PoemRequest(mode="acrostic", text="春夏秋冬"), tokenizer)
    assert plan.form.name == "七绝" and plan.forced == {(0, 0): "春", (1, 0): "夏", (2, 0): "秋", (3, 0): "冬"}
    assert plan_request(PoemRequest(mode="acrostic", text="春夏秋冬春"), tokenizer).form.name == "七律"


def test_an_opening_typed_without_marks_plans_as_with_them(tokenizer: CharTokenizer) -> None:
    typed, marked = (
        plan_request(PoemRequest(mode="continue", text=text), tokenizer)
        for text in ("白日依山尽黄河入海流", "白日依山尽，黄河入海流。")
    )
    assert typed.forced == marked.forced and typed.given_lines == marked.given_lines == 2
    assert typed.form.name == marked.form.name == "五绝"


def test_a_whole_quatrain_without_a_form_is_continued_as_a_regulated_poem(tokenizer: CharTokenizer) -> None:
    quatrain = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    plan = plan_request(PoemRequest(mode="continue", text=quatrain), tokenizer)
    assert plan.form == FORMS["五律"] and plan.given_lines == 4


def test_the_exported_automatic_choice_is_the_one_the_planner_makes(tokenizer: CharTokenizer) -> None:
    """GetInfo's auto_forms, row by row, against the plan of a request with that mode and count."""
    texts = {
        "random": lambda row: "",
        "theme": lambda row: "秋夜怀人",
        "acrostic": lambda row: "春夏秋冬梅兰竹菊"[: row["lines"]],
        "continue": lambda row: "，".join(["白" * row["width"]] * row["lines"]) + ("。" if row["lines"] else "白"),
    }
    rows = automatic_forms()
    for row in rows:
        if (row["mode"], row["width"], row["lines"]) == ("continue", 5, 0):
            continue  # no opening reads as lines of 5 before its first line has 5 characters
        request = PoemRequest(mode=row["mode"], text=texts[row["mode"]](row))
        assert plan_request(request, tokenizer).form.name == row["form"], row
    assert {(row["mode"], row["width"]) for row in rows} == {
        ("random", 0),
        ("theme", 0),
        ("acrostic", 0),
        ("continue", 5),
        ("continue", 7),
    }
    assert [row["lines"] for row in rows if row["mode"] == "acrostic"] == list(range(1, 9))
    assert [row["form"] for row in rows if row["width"] == 5][3:5] == ["五绝", "五律"]  # a whole 绝句 goes on as a 律诗


@pytest.mark.parametrize(
    "request_fields",
    [
        {"mode": "m" * 20_000},  # echoed whole, a value this long made the status trailer too big for the client
        {"form": "体" * 20_000},
    ],
)
def test_an_error_echoes_a_long_bad_value_cut_short(tokenizer: CharTokenizer, request_fields: dict) -> None:
    with pytest.raises(PoetryError) as error:
        plan_request(PoemRequest(**request_fields), tokenizer)
    assert error.value.zh and len(error.value.zh) < 200 and len(error.value.en) < 200


def test_a_character_the_model_cannot_write_is_named(tokenizer: CharTokenizer) -> None:
    with pytest.raises(PoetryError) as error:
        plan_request(PoemRequest(mode="acrostic", text="春𠀀"), tokenizer)  # an ideograph of CJK extension B
    assert "𠀀" in error.value.zh and "𠀀" in error.value.en
