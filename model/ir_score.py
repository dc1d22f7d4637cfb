"""Perplexity of poems under the OpenVINO IR, teacher-forced through the engine's KV-cache runtime.

    python -m model.ir_score FILE [--model model/weights] [--ir decoder.xml]

Same conditioning and counting as model.score (form only; characters and punctuation), so the
two can be compared: it is how we check that INT8 weights cost less than 2% perplexity.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from model.engine.runtime import DecoderRuntime
from model.score import DEFAULT_MODEL, read_poems_file, summary
from model.tokenizer import CharTokenizer


def ir_poems_nll(runtime: DecoderRuntime, tokenizer: CharTokenizer, poems: list[tuple[str, str]]) -> tuple[float, int]:
    """Total NLL and count of body tokens, batching poems of one form and length per pass (a 词's
    length varies within its tune)."""
    by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
    for form, body in poems:
        by_shape[form, len(body)].append(body)
    total, count = 0.0, 0
    for (form, _), bodies in by_shape.items():
        prefix = tokenizer.prefix(form)
        for i in range(0, len(bodies), runtime.max_batch):
            rows = np.array([prefix + tokenizer.encode(b) for b in bodies[i : i + runtime.max_batch]])
            for position in range(rows.shape[1] - 1):
                logits = runtime.step(rows[:, position], np.full(len(rows), position)).astype(np.float64)
                if position + 1 >= len(prefix):
                    shifted = logits - logits.max(axis=1, keepdims=True)
                    logprobs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
                    total -= float(logprobs[np.arange(len(rows)), rows[:, position + 1]].sum())
                    count += len(rows)
    return total, count


def score_file(path: Path, model_dir: Path, ir: Path | None = None) -> dict:
    tokenizer = CharTokenizer.load(model_dir / "vocab.txt")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    runtime = DecoderRuntime(ir or model_dir / "openvino" / "decoder.xml", 64, config["max_position_embeddings"])
    poems = read_poems_file(path)
    return summary(len(poems), *ir_poems_nll(runtime, tokenizer, poems))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--ir", type=Path, default=None, help="default: MODEL/openvino/decoder.xml")
    args = parser.parse_args(argv)
    print(json.dumps(score_file(args.file, args.model, args.ir)))


if __name__ == "__main__":
    main()
