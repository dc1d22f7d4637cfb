"""Load test of a running model server: N concurrent streaming clients for T seconds.

    python -m bench.load [--server 127.0.0.1:50051] [--concurrency 64] [--seconds 60] [--form 七律]

Each client loops GenerateStream calls until the time is up (bounded, loopback only), then the
script prints throughput, p50/p95/p99 latency and errors by status code.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections import Counter

import grpc

from bench.engine import percentile
from proto.poet.v1 import poet_pb2, poet_pb2_grpc


def client_loop(address: str, form: str, stop_at: float, seed0: int, latencies: list[float], errors: Counter,
                lock: threading.Lock) -> None:
    """Stream poems one after another until stop_at; record each latency or error code."""
    with grpc.insecure_channel(address) as channel:
        stub = poet_pb2_grpc.PoetStub(channel)
        seed = seed0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                replies = list(stub.GenerateStream(poet_pb2.GenerateRequest(form=form, seed=seed), timeout=60))
                assert replies[-1].HasField("done")
                with lock:
                    latencies.append(time.perf_counter() - started)
            except grpc.RpcError as error:
                with lock:
                    errors[error.code().name] += 1
            seed += 1000


def run(address: str, concurrency: int, seconds: float, form: str) -> dict:
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    started = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(address, form, started + seconds, i, latencies, errors, lock))
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ms = lambda share: round(percentile(latencies, share) * 1000, 1) if latencies else None  # noqa: E731
    return {"concurrency": concurrency, "seconds": round(elapsed, 1), "poems": len(latencies),
            "poems_per_s": round(len(latencies) / elapsed, 2), "p50_ms": ms(0.5), "p95_ms": ms(0.95),
            "p99_ms": ms(0.99), "errors": dict(errors)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("POET_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--form", default="七律")
    args = parser.parse_args(argv)
    result = run(args.server, args.concurrency, args.seconds, args.form)
    print(f"{result['poems']} poems in {result['seconds']} s: {result['poems_per_s']} poems/s, "
          f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors'] or 'none'}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
