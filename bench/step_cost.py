"""The decode step's own cost for several models, in one run: the OpenVINO infer of one step (the
model, the KV cache and the sampler's selection head), without the engine's Python around it.

    python -m bench.step_cost MODEL [MODEL ...] [--rounds 8] [--steps 200]

For each model, the median milliseconds of a step at batch 1 and at batch 64, each row at position
40 (the middle of a 七律), and each as a ratio of the first model's. The models are timed in
alternating rounds in one process, so all see the same machine. A model's step costs the same with
random weights as with trained ones of its shape, so candidate sizes can be timed before training.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from bench.engine import cpu_summary
from model.engine.runtime import DecoderRuntime

BATCHES = (1, 64)
POSITION = 40
CACHE_COLUMNS = 82  # the 诗 engine's


def time_steps(runtime: DecoderRuntime, batch: int, steps: int) -> float:
    """Milliseconds of one step, the mean over `steps` in a row."""
    tokens, positions = np.full(batch, 100, dtype=np.int64), np.full(batch, POSITION, dtype=np.int64)
    runtime.step(tokens, positions)  # the bucket's first infer allocates
    start = time.perf_counter()
    for _ in range(steps):
        runtime.step(tokens, positions)
    return (time.perf_counter() - start) * 1000 / steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_summary()}")
    runtimes = {
        str(m): DecoderRuntime(m / "openvino" / "decoder.xml", max(BATCHES), CACHE_COLUMNS) for m in args.models
    }
    times: dict[tuple[str, int], list[float]] = {(m, b): [] for m in runtimes for b in BATCHES}
    for _ in range(args.rounds):
        for name, runtime in runtimes.items():
            for batch in BATCHES:
                times[name, batch].append(time_steps(runtime, batch, args.steps))
    medians = {key: statistics.median(values) for key, values in times.items()}
    first = next(iter(runtimes))
    for name in runtimes:
        cells = [f"batch {b}: {medians[name, b]:.3f} ms ({medians[name, b] / medians[first, b]:.2f}×)" for b in BATCHES]
        print(f"{name:28s} " + "   ".join(cells))
    print(json.dumps({f"{name} batch {b}": round(ms, 4) for (name, b), ms in medians.items()}))


if __name__ == "__main__":
    main()
