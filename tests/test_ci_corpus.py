"""宋词 in the corpus: tune names, the most-written tunes, the 词 test set held out (宋词三百首), and
the vocabulary grown by a token per tune without moving an old id."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import ci_corpus, data
from model.ci_corpus import ci_body, most_written, tune_name
from model.tokenizer import CharTokenizer, form_token

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "chinese-poetry"


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, list[dict]], list[str], list[str]]:
    return data.build_splits(FIXTURE)


@pytest.mark.parametrize(
    "rhythmic, tune",
    [
        ("浣溪沙", "浣溪沙"),
        ("鳳棲梧・蝶戀花", "蝶恋花"),
        ("酹江月・念奴娇", "念奴娇"),
        (" 如夢令 ", "如梦令"),
        ("失调名", None),
        ("失調名", None),
        ("", None),
    ],
)
def test_tune_name_drops_the_alias_and_knows_no_unknown_tune(rhythmic: str, tune: str | None) -> None:
    assert tune_name(rhythmic) == tune


def test_ci_body_keeps_han_and_marks_only() -> None:
    assert ci_body(["昨夜雨疏風驟，濃睡不消殘酒。", "知否？知否？"]) == "昨夜雨疏风骤，浓睡不消残酒。知否？知否？"
    assert ci_body(["春□花落，人去也。"]) is None  # a lost character
    assert ci_body(["（注）春花落。"]) is None
    assert ci_body(["春花落"]) is None  # no closing mark


def test_most_written_counts_aliases_under_their_tune_and_breaks_ties_by_name() -> None:
    records = [{"form": f} for f in ["蝶恋花", "浣溪沙", "蝶恋花", "如梦令", "浣溪沙", "菩萨蛮"]]
    assert most_written(records, 3) == ["浣溪沙", "蝶恋花", "如梦令"]


def test_ci_of_the_known_tunes_join_training_and_the_test_set_is_held_out(built) -> None:
    splits, _, tunes = built
    assert tunes[0] == "如梦令"  # 3 in the fixture (one is 宋词三百首's and one shares its couplets)
    assert "蝶恋花" in tunes and "失调名" not in tunes and None not in tunes
    ci = [p for p in splits["train"] + splits["dev"] if p.get("kind") == "ci"]
    assert {p["form"] for p in ci} <= set(tunes)
    assert all(p["title"] == p["form"] for p in ci)
    test_ci = splits["test_ci"]
    assert [p["form"] for p in test_ci] == ["如梦令"]  # 湘春夜月 is not one of the fixture's tunes
    assert test_ci[0]["body"].endswith("知否，知否，应是绿肥红瘦。") and test_ci[0]["split"] == "test"
    # The training 如梦令 shares two lines with the test one: held out with it, as for 唐诗三百首.
    assert not any("浓睡不消残酒" in p["body"] for p in splits["train"] + splits["dev"])
    assert any(p["form"] == "如梦令" and "常记溪亭日暮" in p["body"] for p in ci)
    assert not any("□" in p["body"] for p in ci)


def test_the_vocabulary_grows_by_a_token_per_tune_and_no_old_id_moves(built, tmp_path: Path) -> None:
    splits, pretrain, tunes = built
    data.write_outputs(tmp_path, splits, pretrain, tunes)
    base = CharTokenizer.load(data.BASE_VOCAB)
    grown = CharTokenizer.load(tmp_path / "vocab.txt")
    assert grown.tokens[: len(base)] == base.tokens
    assert grown.tokens[len(base) :] == [form_token(t) for t in tunes if form_token(t) not in base.ids]
    assert all(form_token(t) in grown.ids for t in tunes)  # the shipped vocabulary may hold some already
    assert grown.prefix("如梦令")[1] == grown.ids["[如梦令]"]
    assert (tmp_path / "test_ci.jsonl").exists() and not (tmp_path / "test_ci.txt").exists()
    assert ci_corpus.TOP_TUNES == 40
