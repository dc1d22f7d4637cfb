"""Perplexity of poems under the model, conditioned only on their form.

    python -m model.score FILE [--model model/weights]

FILE holds one poem per line (simplified, with ，。), or is a .jsonl split of `model.data` whose
records name their form (a 词's is its tune: data/test_ci.jsonl is 宋词三百首). Prints one JSON line
{"poems": N, "chars": M, "nll_per_char": x, "ppl": y}; M counts the characters and
punctuation marks predicted (the end token is not counted).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import torch
import torch.nn.functional as F

from model.batches import IGNORE, pad
from model.forms import form_of
from model.modeling import load_causal
from model.text import normalise_punctuation, split_lines
from model.tokenizer import CharTokenizer

DEFAULT_MODEL = Path(__file__).resolve().parent / "weights"


def sequence_nll(
    model: torch.nn.Module, ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, int]:
    """Summed next-token NLL over labelled positions, and how many there were."""
    logits = model(input_ids=ids, attention_mask=attention_mask).logits[:, :-1]
    targets = labels[:, 1:]
    nll = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE, reduction="sum"
    )
    return nll, int((targets != IGNORE).sum())


@torch.no_grad()
def poems_nll(
    model: torch.nn.Module, tokenizer: CharTokenizer, poems: list[tuple[str, str]], batch_size: int = 64
) -> tuple[float, int]:
    """Total NLL and count of the body tokens of (form, body) poems, prefixed by the form alone."""
    by_form: dict[str, list[str]] = defaultdict(list)
    for form, body in poems:
        by_form[form].append(body)
    total, count = 0.0, 0
    for form, bodies in by_form.items():
        prefix = tokenizer.prefix(form)
        for i in range(0, len(bodies), batch_size):
            rows = [prefix + tokenizer.encode(body) for body in bodies[i : i + batch_size]]
            ids = pad(rows, tokenizer.pad_id)
            labels = ids.clone()
            labels[:, : len(prefix)] = IGNORE
            labels[ids == tokenizer.pad_id] = IGNORE
            nll, n = sequence_nll(model, ids, labels)
            total, count = total + float(nll), count + n
    return total, count


def parse_poem(line: str) -> tuple[str, str] | None:
    """(form, body) of one poem line, or None when it has no regular form."""
    body = normalise_punctuation(line.strip())
    lines, _ = split_lines(body)
    form = form_of(lines)
    return (form.name, body) if form else None


def read_poems_file(path: Path) -> list[tuple[str, str]]:
    """(form, body) of the regular poems of a one-poem-per-line file, or of every record of a .jsonl split."""
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix == ".jsonl":
        return [(record["form"], record["body"]) for record in map(json.loads, text.splitlines())]
    return [p for p in map(parse_poem, text.splitlines()) if p]


def summary(poems: int, total: float, count: int) -> dict:
    """The JSON line both scorers print."""
    nll = total / max(count, 1)
    return {"poems": poems, "chars": count, "nll_per_char": round(nll, 4), "ppl": round(math.exp(nll), 2)}


def score_file(path: Path, model_dir: Path) -> dict:
    poems = read_poems_file(path)
    tokenizer = CharTokenizer.load(model_dir / "vocab.txt")
    return summary(len(poems), *poems_nll(load_causal(model_dir), tokenizer, poems))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    print(json.dumps(score_file(args.file, args.model)))


if __name__ == "__main__":
    main()
