"""The shipped model in model/weights: it loads, its INT8 IR keeps perplexity within 2% of
fp32 PyTorch, and the engine on it writes poems that hold every constraint.

CI has these files (they are committed); without them these tests fail, they do not skip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from model.engine.engine import Engine
from model.engine.runtime import DecoderRuntime
from model.engine.types import PoemRequest
from model.ir_score import ir_poems_nll
from model.modeling import load_causal
from model.score import poems_nll
from model.tokenizer import CharTokenizer

pytestmark = pytest.mark.slow  # the shipped model, in torch and OpenVINO

CLASSICS = [  # poems from outside the training data's exact bodies are not needed: this compares two runtimes
    ("五绝", "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"),
    ("五绝", "千山鸟飞绝，万径人踪灭。孤舟蓑笠翁，独钓寒江雪。"),
    ("七绝", "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"),
    ("七绝", "月落乌啼霜满天，江枫渔火对愁眠。姑苏城外寒山寺，夜半钟声到客船。"),
    ("五律", "国破山河在，城春草木深。感时花溅泪，恨别鸟惊心。烽火连三月，家书抵万金。白头搔更短，浑欲不胜簪。"),
    (
        "七律",
        "风急天高猿啸哀，渚清沙白鸟飞回。无边落木萧萧下，不尽长江滚滚来。"
        "万里悲秋常作客，百年多病独登台。艰难苦恨繁霜鬓，潦倒新停浊酒杯。",
    ),
]


@pytest.fixture(scope="module")
def shipped(shipped_model_dir: Path) -> Path:
    missing = [
        n
        for n in ("config.json", "model.safetensors", "vocab.txt", "openvino/decoder.xml")
        if not (shipped_model_dir / n).exists()
    ]
    assert not missing, f"model/weights lacks {missing}: run the training pipeline and model.ship"
    return shipped_model_dir


def test_config_vocab_and_ir_agree(shipped: Path) -> None:
    config = json.loads((shipped / "config.json").read_text())
    tokenizer = CharTokenizer.load(shipped / "vocab.txt")
    assert config["vocab_size"] == len(tokenizer) and config["is_decoder"]
    assert config["poet_model_version"]
    assert json.loads((shipped / "openvino" / "export.json").read_text())["int8_weights"]


def test_int8_ir_keeps_perplexity_within_two_percent(shipped: Path) -> None:
    torch.set_num_threads(1)
    tokenizer = CharTokenizer.load(shipped / "vocab.txt")
    total, count = poems_nll(load_causal(shipped), tokenizer, CLASSICS)
    fp32 = math.exp(total / count)
    runtime = DecoderRuntime(shipped / "openvino" / "decoder.xml", 8, 96)
    total, count = ir_poems_nll(runtime, tokenizer, CLASSICS)
    int8 = math.exp(total / count)
    assert abs(int8 - fp32) / fp32 < 0.02, (fp32, int8)
    assert fp32 < len(tokenizer) / 20, "the shipped model looks untrained"


def test_engine_on_the_shipped_model_holds_every_constraint(shipped: Path) -> None:
    engine = Engine(shipped, max_batch=32)
    try:
        requests = [
            PoemRequest(mode="acrostic", text="春江花月", seed=1, n=2),
            PoemRequest(mode="continue", text="白日依山尽，", form="五律", seed=2),
            PoemRequest(mode="theme", text="秋夜思乡", form="七律", seed=3),
            PoemRequest(form="五绝", seed=4, n=2),
        ]
        for result in [engine.submit(r) for r in requests]:
            for poem in result.result(120).poems:
                assert all(poem.constraints.values()), (poem.text, poem.constraints)
    finally:
        engine.close()
