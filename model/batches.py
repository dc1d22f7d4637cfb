"""Training batches: masked-LM windows of the pretraining text, and prefixed poems."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from model.tokenizer import SPECIAL_TOKENS, CharTokenizer

IGNORE = -100  # label of positions that carry no loss


def read_poems(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(map(len, rows))
    return torch.tensor([row + [value] * (width - len(row)) for row in rows])


class MaskedWindows:
    """Random windows of the pretraining text with BERT's 15% masking (80/10/10)."""

    def __init__(self, text_path: Path, tokenizer: CharTokenizer, window: int = 62):
        docs = Path(text_path).read_text(encoding="utf-8").split("\n")
        stream = [tokenizer.sep_id]
        for doc in docs:
            stream += tokenizer.encode(doc) + [tokenizer.sep_id]
        self.stream = np.array(stream, dtype=np.int64)
        self.tokenizer, self.window = tokenizer, window

    def batch(self, rng: random.Random, size: int) -> dict[str, torch.Tensor]:
        starts = [rng.randrange(len(self.stream) - self.window) for _ in range(size)]
        body = torch.from_numpy(np.stack([self.stream[s : s + self.window] for s in starts]))
        cls = torch.full((size, 1), self.tokenizer.cls_id)
        ids = torch.cat([cls, body, torch.full((size, 1), self.tokenizer.sep_id)], dim=1)
        generator = torch.Generator().manual_seed(rng.randrange(2**31))
        chosen = (torch.rand(ids.shape, generator=generator) < 0.15) & (ids >= len(SPECIAL_TOKENS))
        labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
        roll = torch.rand(ids.shape, generator=generator)
        inputs = ids.clone()
        inputs[chosen & (roll < 0.8)] = self.tokenizer.mask_id
        noise = chosen & (roll >= 0.8) & (roll < 0.9)
        first_char = len(SPECIAL_TOKENS)
        inputs[noise] = torch.randint(first_char, len(self.tokenizer), ids.shape, generator=generator)[noise]
        return {"input_ids": inputs, "labels": labels}


def poem_sequence(tokenizer: CharTokenizer, poem: dict, keywords: list[str]) -> tuple[list[int], int]:
    """prefix + body + [EOS], and where the body starts."""
    prefix = tokenizer.prefix(poem["form"], keywords)
    return prefix + tokenizer.encode(poem["body"]) + [tokenizer.eos_id], len(prefix)


def fits(tokenizer: CharTokenizer, poem: dict, positions: int) -> bool:
    """Whether the poem with the longest prefix training gives it fits the model's positions."""
    longest_prefix = len(tokenizer.prefix(poem["form"], poem.get("keywords", [])[:3]))
    return longest_prefix + len(poem["body"]) + 1 <= positions


class PoemBatches:
    """Batches of one form at a time (no padding inside the body) with 0-3 of the poem's keywords."""

    def __init__(self, poems: list[dict], tokenizer: CharTokenizer, no_keyword_share: float = 0.3):
        self.by_form: dict[str, list[dict]] = defaultdict(list)
        for poem in poems:
            self.by_form[poem["form"]].append(poem)
        self.forms = sorted(self.by_form)
        self.weights = [len(self.by_form[f]) for f in self.forms]
        self.tokenizer, self.no_keyword_share = tokenizer, no_keyword_share

    def keywords(self, rng: random.Random, poem: dict) -> list[str]:
        words = poem.get("keywords", [])
        if not words or rng.random() < self.no_keyword_share:
            return []
        return rng.sample(words, rng.randint(1, min(3, len(words))))

    def batch(self, rng: random.Random, size: int) -> dict[str, torch.Tensor]:
        form = rng.choices(self.forms, self.weights)[0]
        rows, labels = [], []
        for poem in rng.choices(self.by_form[form], k=size):
            ids, start = poem_sequence(self.tokenizer, poem, self.keywords(rng, poem))
            rows.append(ids)
            labels.append([IGNORE] * start + ids[start:])
        ids = pad(rows, self.tokenizer.pad_id)
        return {
            "input_ids": ids,
            "attention_mask": (ids != self.tokenizer.pad_id).long(),
            "labels": pad(labels, IGNORE),
        }
