"""model.compare: the winner reads all dev poems best, whatever the runs' logs say."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
import torch

from model import compare
from model.batches import read_poems
from model.modeling import ModelSize, new_model
from model.tokenizer import CharTokenizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_run(run: Path, tokenizer: CharTokenizer, logged_ppl: float, bias: torch.Tensor | None = None) -> Path:
    torch.manual_seed(0)
    model = new_model(len(tokenizer), ModelSize(1, 32, 1, 64, 192), causal=True)
    if bias is not None:
        model.cls.predictions.bias.data.copy_(bias)
    model.save_pretrained(run / "model")
    tokenizer.save(run / "model" / "vocab.txt")
    (run / "train.log").write_text(json.dumps({"step": 10, "tokens": 99, "dev_ppl": logged_ppl}) + "\n")
    return run


def test_the_run_whose_model_knows_the_dev_characters_wins_though_its_log_says_otherwise(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokenizer = CharTokenizer.load(data_dir / "vocab.txt")
    counts = Counter(tokenizer.encode("".join(p["body"] for p in read_poems(data_dir / "dev.jsonl"))))
    unigram = torch.tensor([math.log(counts[i] + 0.1) for i in range(len(tokenizer))])
    blind = make_run(tmp_path / "blind", tokenizer, logged_ppl=10.0)
    knowing = make_run(tmp_path / "knowing", tokenizer, logged_ppl=99.0, bias=unigram)
    compare.main([str(blind), str(knowing), "--data", str(data_dir)])
    captured = capsys.readouterr()
    assert captured.out.strip() == str(knowing)
    assert f"{blind}: all dev poems" in captured.err and "its log's last 诗 / 词: 10.0 / None" in captured.err
