"""Engine speed against the seed-style baseline, on the shipped weights, 七律 (64 tokens).

    python -m bench.engine [--model model/weights] [--poems 20]

Baseline: PyTorch eager, the whole sequence recomputed for every new character, one request
at a time; baseline and engine are timed in alternating rounds, so both see the same machine.
Engine: OpenVINO IR with the KV cache, constrained sampling, continuous batching.
Prints p50/p95 latency of one poem, throughput at 1/8/32/64 concurrent requests, peak RSS and
the ratios engine/baseline; the throughput ratio takes the baseline's speed from a round of its
poems timed just before the 64-request level.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path

from model.engine.engine import LINE_CHOICES, Engine
from model.engine.router import Router, open_engine
from model.engine.types import PoemRequest

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model" / "weights"
CONCURRENCY = (1, 8, 32, 64)
ROUND = 5  # poems timed in a row before switching between baseline and engine
THROUGHPUT_SECONDS = 10.0  # each concurrency level starts poems for this long (the drain after
# it, with fewer than N in flight, weighs less the longer it is)


def cpu_summary() -> str:
    """The CPU's model and its widest vector extension: the engine's batch-1 step is several times
    slower relative to the baseline on an AVX2-only host than on an AVX-512 one (see the model card)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    widest = next((name for name in ("avx512f", "avx2") if name in flags), "no avx2")
    return f"{model}, {os.cpu_count()} CPUs, {widest.replace('avx512f', 'avx512')}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def baseline_poem(model, tokenizer, seed: int) -> str:
    """One 七律 the seed way: recompute everything for each character, top-k 40 sampling."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = tokenizer.prefix("七律")
    start = len(ids)
    marks = {7: tokenizer.ids["，"], 15: tokenizer.ids["。"]}
    with torch.no_grad():
        for position in range(64):
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]  # the whole sequence, every time
            if position % 16 in marks:
                ids.append(marks[position % 16])
                continue
            top = torch.topk(logits / 0.8, 40)
            ids.append(int(top.indices[torch.multinomial(top.values.softmax(-1), 1, generator=generator)]))
    return tokenizer.decode(ids[start:])


def load_baseline(model_dir: Path) -> Callable[[int], str]:
    """The baseline as a function of the seed: one 七律 per call."""
    import torch

    from model.modeling import load_causal
    from model.tokenizer import CharTokenizer

    torch.set_num_threads(2)
    model, tokenizer = load_causal(model_dir), CharTokenizer.load(model_dir / "vocab.txt")
    return lambda seed: baseline_poem(model, tokenizer, seed)


def timed(run: Callable[[int], object], seeds: range) -> list[float]:
    """Seconds each call of run(seed) took."""
    times = []
    for seed in seeds:
        started = time.perf_counter()
        run(seed)
        times.append(time.perf_counter() - started)
    return times


def bench_latency(
    baseline: Callable[[int], str], engine: Engine | Router, poems: int
) -> tuple[list[float], list[float]]:
    """Seconds per poem of the baseline and of the engine, timed in alternating rounds of ROUND poems
    so that both see the same machine: on a shared VM its speed drifts by 2x within minutes."""
    baseline(0), engine.generate(PoemRequest(form="七律", seed=0))  # warm-up
    base, latencies = [], []
    for first in range(0, poems, ROUND):
        seeds = range(first, min(first + ROUND, poems))
        base += timed(baseline, seeds)
        latencies += timed(lambda s: engine.generate(PoemRequest(form="七律", seed=s)), seeds)
    return base, latencies


def keep_in_flight(engine: Engine | Router, concurrency: int, seconds: float, form: str = "七律") -> tuple[int, float]:
    """Poems the engine finished and the seconds it took, keeping `concurrency` requests in flight
    (a new one starts as soon as any finishes) for `seconds`, then waiting for the last (as
    bench.load's clients do)."""
    started = time.monotonic()
    seeds = itertools.count()
    in_flight = {engine.submit(PoemRequest(form=form, seed=next(seeds))).future for _ in range(concurrency)}
    poems = 0
    while in_flight:
        done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            future.result()
        poems += len(done)
        if time.monotonic() - started < seconds:
            in_flight |= {engine.submit(PoemRequest(form=form, seed=next(seeds))).future for _ in done}
    return poems, time.monotonic() - started


def bench_throughput(baseline: Callable[[int], str], engine: Engine | Router) -> tuple[dict[int, float], float]:
    """Poems/s with `concurrent` requests kept in flight, for each level of CONCURRENCY, and the
    baseline's single-stream poems/s timed in a round of ROUND poems just before the last level,
    so that the throughput ratio compares the same minute of this VM."""
    throughput, baseline_rate = {}, 0.0
    for concurrent in CONCURRENCY:
        if concurrent == CONCURRENCY[-1]:
            baseline_rate = ROUND / sum(timed(baseline, range(ROUND)))
        poems, seconds = keep_in_flight(engine, concurrent, THROUGHPUT_SECONDS)
        throughput[concurrent] = poems / seconds
    return throughput, baseline_rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--poems", type=int, default=20, help="poems timed one at a time, each side")
    parser.add_argument("--precision", default="f32", help="OpenVINO inference precision (f32, bf16)")
    parser.add_argument(
        "--line-choices",
        type=int,
        default=LINE_CHOICES,
        help="versions of a 律诗's lines 4 and 6 written, the most parallel kept",
    )
    args = parser.parse_args(argv)
    baseline = load_baseline(args.model)
    engine = open_engine(
        args.model, max_batch=64, max_queue=256, precision=args.precision, line_choices=args.line_choices
    )
    try:
        base, latencies = bench_latency(baseline, engine, args.poems)
        throughput, baseline_rate = bench_throughput(baseline, engine)
    finally:
        engine.close()
    base_p50, base_rate = statistics.median(base), 1 / statistics.mean(base)
    result = {
        "baseline_p50_ms": round(base_p50 * 1000, 1),
        "baseline_p95_ms": round(percentile(base, 0.95) * 1000, 1),
        "baseline_poems_per_s": round(base_rate, 2),
        "engine_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "engine_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "engine_poems_per_s": {c: round(r, 1) for c, r in throughput.items()},
        "latency_ratio": round(base_p50 / statistics.median(latencies), 1),
        # against the baseline round timed just before the 64 level, not the latency rounds
        "baseline_poems_per_s_before_64": round(baseline_rate, 2),
        "throughput_ratio_64_vs_baseline_1": round(throughput[64] / baseline_rate, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "precision": args.precision,
        "cpu": cpu_summary(),
    }
    print(
        f"baseline (PyTorch eager, recompute)  p50 {result['baseline_p50_ms']} ms  p95 {result['baseline_p95_ms']} ms  "
        f"{result['baseline_poems_per_s']} poems/s"
    )
    print(f"engine (OpenVINO, KV cache)          p50 {result['engine_p50_ms']} ms  p95 {result['engine_p95_ms']} ms")
    for concurrent, rate in result["engine_poems_per_s"].items():
        print(f"  {concurrent:3d} concurrent: {rate} poems/s")
    print(
        f"latency ×{result['latency_ratio']} (target ≥15)   "
        f"throughput@64 ×{result['throughput_ratio_64_vs_baseline_1']} of baseline single-stream "
        f"({result['baseline_poems_per_s_before_64']} poems/s just before; target ≥50)"
        f"   peak RSS {result['peak_rss_mb']} MB   ({result['cpu']})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
