"""Training speed on this CPU: tokens/s of the causal BERT's training step, for sizes, threads,
batch sizes and bf16 autocast, measured in one run so that the figures compare.

    python -m bench.train_speed [--steps 8] [--sizes 4x256,8x512] [--batches 32,64] [--threads 1,2]

Random token ids of the real vocabulary size and a poem's length (66: a 七律 with its prefix);
one warm-up step, then the mean of --steps steps. Prints the CPU first: bf16 helps only where it
has AVX-512 BF16 or AMX.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from bench.engine import cpu_summary
from model.modeling import ModelSize, new_model

VOCAB = 9035  # today's vocabulary and the 词 tune tokens


def size_of(text: str) -> ModelSize:
    """'8x512' -> 8 layers of hidden 512, 8 heads of 64, FFN 4x."""
    layers, hidden = map(int, text.split("x"))
    return ModelSize(layers=layers, hidden=hidden, heads=hidden // 64, ffn=4 * hidden, max_positions=192)


def tokens_per_second(size: ModelSize, batch: int, length: int, bf16: bool, steps: int) -> float:
    model = new_model(VOCAB, size, causal=True).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(10, VOCAB, (batch, length))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    started = 0.0
    for step in range(steps + 1):
        if step == 1:
            started = time.perf_counter()
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return batch * length * steps / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--sizes", default="4x256,8x512")
    parser.add_argument("--batches", default="32,64")
    parser.add_argument("--threads", default="2")
    parser.add_argument("--length", type=int, default=66)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_summary()}, bf16: {'avx512_bf16' in open('/proc/cpuinfo').read()}; torch {torch.__version__}")
    print(f"{'size':>6s} {'threads':>7s} {'batch':>5s} {'fp32 tok/s':>10s} {'bf16 tok/s':>10s} {'bf16/fp32':>9s}")
    for threads in map(int, args.threads.split(",")):
        torch.set_num_threads(threads)
        for text in args.sizes.split(","):
            for batch in map(int, args.batches.split(",")):
                fp32, bf16 = (
                    tokens_per_second(size_of(text), batch, args.length, b, args.steps) for b in (False, True)
                )
                print(f"{text:>6s} {threads:7d} {batch:5d} {fp32:10.0f} {bf16:10.0f} {bf16 / fp32:9.2f}", flush=True)


if __name__ == "__main__":
    main()
