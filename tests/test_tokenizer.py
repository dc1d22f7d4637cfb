"""CharTokenizer: building with min_count, vocab.txt round trips, OpenCC folding, unknowns, the prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.tokenizer import (
    CLS,
    EOS,
    FORM_TOKENS,
    KW,
    MASK,
    PAD,
    SEP,
    SPECIAL_TOKENS,
    UNK,
    CharTokenizer,
    UnknownCharacterError,
)

POEMS = [
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
]


@pytest.fixture(scope="module")
def tokenizer() -> CharTokenizer:
    return CharTokenizer.build(POEMS, min_count=1)


def test_build_keeps_characters_seen_min_count_times_most_frequent_first() -> None:
    built = CharTokenizer.build(["春风春风春", "花"], min_count=2)
    assert built.tokens[: len(SPECIAL_TOKENS)] == SPECIAL_TOKENS
    assert built.tokens[len(SPECIAL_TOKENS) :] == ["春", "风", "，", "。"]  # 花 seen once; the marks always
    assert [
        built.tokens[i]
        for i in (built.pad_id, built.unk_id, built.cls_id, built.sep_id, built.mask_id, built.eos_id, built.kw_id)
    ] == [PAD, UNK, CLS, SEP, MASK, EOS, KW]
    everything = CharTokenizer.build(POEMS, min_count=1)
    assert set("".join(POEMS)) <= set(everything.tokens)
    assert len(everything) == len(SPECIAL_TOKENS) + len(set("".join(POEMS)))


def test_save_and_load_round_trip(tmp_path: Path, tokenizer: CharTokenizer) -> None:
    tokenizer.save(tmp_path / "vocab.txt")
    loaded = CharTokenizer.load(tmp_path / "vocab.txt")
    assert loaded.tokens == tokenizer.tokens and loaded.ids == tokenizer.ids
    assert loaded.encode(POEMS[0]) == tokenizer.encode(POEMS[0])


def test_a_vocabulary_built_from_multiline_text_round_trips(tmp_path: Path) -> None:
    # model.train.vocabulary() passes the whole of pretrain.txt, newlines included, to build().
    pretrain_txt = "\n".join(POEMS) + "\n"
    built = CharTokenizer.build(POEMS + [pretrain_txt], min_count=1)
    built.save(tmp_path / "vocab.txt")
    loaded = CharTokenizer.load(tmp_path / "vocab.txt")
    assert loaded.tokens == built.tokens, "a whitespace token does not survive vocab.txt (one token per line)"
    assert len(set(loaded.tokens)) == len(loaded.tokens)


def test_encode_decode_round_trip_on_the_shipped_vocabulary(shipped_model_dir: Path) -> None:
    shipped = CharTokenizer.load(shipped_model_dir / "vocab.txt")
    for poem in POEMS:
        ids = shipped.encode(poem, strict=True)
        assert len(ids) == len(poem) and shipped.unk_id not in ids
        assert shipped.decode(ids) == poem


def test_traditional_characters_map_to_simplified_ids(tokenizer: CharTokenizer) -> None:
    assert "鄉" not in tokenizer.ids
    assert tokenizer.id_of("鄉") == tokenizer.ids["乡"]
    assert tokenizer.encode("舉頭望明月，低頭思故鄉。", strict=True) == tokenizer.encode("举头望明月，低头思故乡。")
    assert tokenizer.decode(tokenizer.encode("牀前明月光")) == "床前明月光"


def test_unknown_characters(tokenizer: CharTokenizer) -> None:
    assert tokenizer.encode("明月Q") == [tokenizer.ids["明"], tokenizer.ids["月"], tokenizer.unk_id]
    with pytest.raises(UnknownCharacterError) as error:
        tokenizer.encode("明月Q", strict=True)
    assert error.value.char == "Q" and "'Q'" in str(error.value)
    with pytest.raises(UnknownCharacterError) as error:
        tokenizer.id_of("鹤", strict=True)  # Han, but not in this small vocabulary
    assert error.value.char == "鹤"
    assert isinstance(error.value, ValueError)


def test_prefix_layout(tokenizer: CharTokenizer) -> None:
    ids = tokenizer.ids
    assert tokenizer.prefix("五绝") == [tokenizer.cls_id, ids[FORM_TOKENS["五绝"]], tokenizer.sep_id]
    assert tokenizer.prefix("七律", ["明月", "故乡"]) == [
        tokenizer.cls_id,
        ids["[七律]"],
        tokenizer.kw_id,
        ids["明"],
        ids["月"],
        tokenizer.kw_id,
        ids["故"],
        ids["乡"],
        tokenizer.sep_id,
    ]
    assert tokenizer.decode(tokenizer.prefix("五律", ["黄河"])) == "[CLS][五律][KW]黄河[SEP]"
    with pytest.raises(KeyError):
        tokenizer.prefix("词")
