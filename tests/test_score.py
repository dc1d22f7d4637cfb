"""Perplexity scoring: which lines count as poems, the CLI's one JSON line on the tiny model,
and the shipped checkpoint (which CI has: this test fails, not skips, without it)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.modeling import load_causal
from model.score import parse_poem, poems_nll
from model.tokenizer import CharTokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")
ROOT = Path(__file__).resolve().parent.parent
POEMS = {
    "五绝": "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "七绝": "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。",
    "五律": "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。",
    "七律": "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
    "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。",
}
IRREGULAR = [
    "桃红复含宿雨，柳绿更带朝烟。花落家童未扫，莺啼山客犹眠。",  # six characters a line
    "床前明月光，疑是地上霜。举头望明月。",  # three lines
    "床前明月光，疑是地上霜。举头望明月，低头思故乡里。",  # mixed widths
    "慈母手中线，游子身上衣。临行密密缝，意恐迟迟归。谁言寸草心，报得三春晖。",  # six lines
    "明月几时有？把酒问青天。不知天上宫阙，今夕是何年。",  # 词
    "",
]


def score(path: Path, model_dir: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "model.score", str(path), "--model", str(model_dir)],
        cwd=ROOT,
        env=os.environ | {"OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


@pytest.mark.parametrize("form, body", list(POEMS.items()))
def test_parse_poem_accepts_regular_poems(form: str, body: str) -> None:
    assert parse_poem(body) == (form, body)
    assert parse_poem(f"  {body}\n") == (form, body)


def test_parse_poem_normalises_punctuation() -> None:
    assert parse_poem("床前明月光, 疑是地上霜. 举头望明月, 低头思故乡.") == ("五绝", POEMS["五绝"])


@pytest.mark.parametrize("line", IRREGULAR)
def test_parse_poem_rejects_other_lines(line: str) -> None:
    assert parse_poem(line) is None


@pytest.mark.slow  # a subprocess
def test_score_cli_prints_one_json_line(tmp_path: Path, tiny_model_dir: Path) -> None:
    lines = [
        POEMS["五绝"],
        IRREGULAR[0],
        "",
        POEMS["七律"],
        "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
        IRREGULAR[1],
    ]
    path = tmp_path / "poems.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = score(path, tiny_model_dir)
    assert set(result) == {"poems", "chars", "nll_per_char", "ppl"}
    assert result["poems"] == 3
    assert result["chars"] == len(POEMS["五绝"]) + len(POEMS["七律"]) + 24
    assert result["nll_per_char"] > 0
    assert result["ppl"] == pytest.approx(math.exp(result["nll_per_char"]), rel=1e-3)


def test_a_poems_score_does_not_depend_on_its_batch(tiny_model_dir: Path) -> None:
    # A poem line without its closing mark is still parsed (23 tokens): batched with a full
    # 五绝 (24 tokens) it is padded, and the padding must not be scored.
    model, tokenizer = load_causal(tiny_model_dir), CharTokenizer.load(tiny_model_dir / "vocab.txt")
    open_ended = parse_poem(POEMS["五绝"][:-1])
    other = parse_poem("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。")
    assert open_ended == ("五绝", POEMS["五绝"][:-1])
    alone = [poems_nll(model, tokenizer, [poem]) for poem in (open_ended, other)]
    assert [count for _, count in alone] == [23, 24]
    total, count = poems_nll(model, tokenizer, [open_ended, other])
    assert count == 47, "padding positions were counted as predicted characters"
    assert total == pytest.approx(alone[0][0] + alone[1][0], rel=1e-4)


@pytest.mark.slow  # the shipped checkpoint in torch
def test_shipped_checkpoint_scores(tmp_path: Path, shipped_model_dir: Path) -> None:
    weights = shipped_model_dir / "model.safetensors"
    assert weights.is_file(), (
        f"{weights} is missing: the trained model must be shipped (model/train_pipeline.sh, "
        "then python -m model.ship RUN/model)"
    )
    path = tmp_path / "poems.txt"
    path.write_text("\n".join(POEMS.values()) + "\n", encoding="utf-8")
    result = score(path, shipped_model_dir)
    vocab = len(CharTokenizer.load(shipped_model_dir / "vocab.txt"))
    assert result["poems"] == len(POEMS) and result["chars"] == sum(map(len, POEMS.values()))
    # A uniform guess scores len(vocab); the untrained tiny model scores about 0.99 of that.
    assert math.isfinite(result["ppl"]) and 1 < result["ppl"] < vocab / 10, f"untrained-looking model: {result}"
    assert result["ppl"] == pytest.approx(math.exp(result["nll_per_char"]), rel=1e-3)
