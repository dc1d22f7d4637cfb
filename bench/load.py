"""Load test of model servers on this machine: N concurrent streaming clients for T seconds.

    python -m bench.load [--server 127.0.0.1:50051[,127.0.0.1:50052...] | --replicas 3 [--model model/weights]]
                         [--concurrency 64] [--seconds 60] [--form 七律]
                         [--in-process [--model model/weights] [--max-batch 64]]

Each client has its own channel and makes GenerateStream calls one after another until the time
is up (the last call may run past it), then the script prints throughput, p50/p95/p99 latency of
a whole poem and of its first message, and errors by status code; last a JSON line of the same.
The channels balance a list of servers as PoetClient's do (round robin over the healthy ones).
With --replicas N the script starts N model servers of --model on free loopback ports itself (each
reads its other settings from the environment, as server.grpc_server does), loads them through one
target, and stops them at the end: on one machine they share its cores.
The clients are asyncio tasks on one thread (grpc.aio): the load generator shares the server's
CPU, and 64 client threads woken for every streamed message cost it about a third of a core.
With --in-process the same load also runs on an engine in this process (no gRPC, the server
idle meanwhile), in turns with the server (ROUNDS each of seconds/ROUNDS, since this VM's speed
drifts within minutes), and the script prints the server's throughput as a share of the engine's;
that engine decodes as many rows at once as the server says it does (GetInfo), else --max-batch.
Only loopback addresses are accepted: this is a benchmark, not a way to flood someone's server.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from bench.engine import DEFAULT_MODEL, keep_in_flight
from client.poet_client import service_config
from client.settings import ClientSettings, grpc_target
from model.engine.router import open_engine
from model.engine.types import PoemRequest
from model.forms import FORMS
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.run import wait_until_serving
from server.settings import ServerSettings

CALL_TIMEOUT_S = 120.0
INFO_TIMEOUT_S = 5.0
ROUNDS = 4  # turns of engine and server with --in-process
# As PoetClient's channels: round robin over the replicas whose health says SERVING, UNAVAILABLE retried.
CHANNEL_OPTIONS = [("grpc.service_config", service_config(ClientSettings().retries))]
STOP_TIMEOUT_S = 30


@dataclass
class Tally:
    """Latencies and errors from every client."""

    poems: list[float] = field(default_factory=list)  # seconds per whole stream
    first: list[float] = field(default_factory=list)  # seconds to the first message
    errors: Counter = field(default_factory=Counter)  # status code name -> count
    seconds: float = 0.0  # time the clients ran, last poems included


def is_loopback(servers: str) -> bool:
    """True for localhost, 127.x.x.x and [::1] addresses (HOST:PORT), and for a list of only those."""
    return all(is_loopback_address(address.strip()) for address in servers.split(","))


def is_loopback_address(address: str) -> bool:
    """True for one loopback HOST:PORT."""
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def percentile_ms(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of seconds, in milliseconds; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000, 1)


async def one_poem(stub: poet_pb2_grpc.PoetStub, request: poet_pb2.GenerateRequest, tally: Tally) -> None:
    """Stream one poem and record its latencies, or the status code it failed with."""
    started, first = time.perf_counter(), None
    try:
        done = False
        async for reply in stub.GenerateStream(request, timeout=CALL_TIMEOUT_S):
            if first is None:
                first = time.perf_counter() - started
            done = reply.HasField("done")
        outcome = "OK" if done else "INCOMPLETE"
    except grpc.RpcError as error:
        outcome = error.code().name
    if outcome == "OK":
        tally.poems.append(time.perf_counter() - started)
        tally.first.append(first)
    else:
        tally.errors[outcome] += 1


async def client_loop(address: str, form: str, stop_at: float, client: int, tally: Tally) -> None:
    """One client: poems one after another until stop_at, each with its own seed."""
    async with grpc.aio.insecure_channel(grpc_target(address), options=CHANNEL_OPTIONS) as channel:
        stub = poet_pb2_grpc.PoetStub(channel)
        seed = client * 1_000_003  # distinct seeds across clients, so no two poems are the same work
        while time.monotonic() < stop_at:
            await one_poem(stub, poet_pb2.GenerateRequest(form=form, seed=seed), tally)
            seed += 1


async def run_clients(address: str, concurrency: int, seconds: float, form: str, tally: Tally) -> None:
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(client_loop(address, form, stop_at, i, tally) for i in range(concurrency)))


def run(address: str, concurrency: int, seconds: float, form: str, tally: Tally | None = None) -> Tally:
    """Run the clients for `seconds` (their last poems may run past it), adding to tally."""
    tally = tally or Tally()
    started = time.monotonic()
    asyncio.run(run_clients(address, concurrency, seconds, form, tally))
    tally.seconds += time.monotonic() - started
    return tally


def summary(tally: Tally, concurrency: int, form: str) -> dict:
    """Throughput, latency percentiles and errors of a tally."""
    return {
        "concurrency": concurrency,
        "form": form,
        "seconds": round(tally.seconds, 1),
        "poems": len(tally.poems),
        "poems_per_s": round(len(tally.poems) / tally.seconds, 2),
        **{f"p{p}_ms": percentile_ms(tally.poems, p / 100) for p in (50, 95, 99)},
        **{f"first_p{p}_ms": percentile_ms(tally.first, p / 100) for p in (50, 95, 99)},
        "errors": dict(tally.errors),
    }


def server_max_batch(address: str) -> int | None:
    """The rows the server decodes together, from its GetInfo; None when it does not answer."""
    with grpc.insecure_channel(grpc_target(address), options=CHANNEL_OPTIONS) as channel:
        try:
            reply = poet_pb2_grpc.PoetStub(channel).GetInfo(poet_pb2.GetInfoRequest(), timeout=INFO_TIMEOUT_S)
        except grpc.RpcError:
            return None
    return reply.max_batch or None


def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def replicas(count: int, model: Path) -> Iterator[str]:
    """count model servers of model on free loopback ports, started side by side and stopped (SIGTERM)
    at the end; yields their addresses as one comma-separated list."""
    ports = [free_port() for _ in range(count)]
    addresses = [f"127.0.0.1:{port}" for port in ports]
    # No /metrics (they would need a port each) and no logs (a line per poem): the load is what is measured.
    command = [sys.executable, "-m", "server.grpc_server", "--model", str(model), "--metrics-port", "0"]
    processes = [
        subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in ports
    ]
    try:
        for address, process in zip(addresses, processes):
            wait_until_serving(address, process)
        yield ",".join(addresses)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(STOP_TIMEOUT_S)


def compare(
    address: str, model: Path, concurrency: int, seconds: float, form: str, max_batch: int
) -> tuple[Tally, float]:
    """The server's tally and the in-process engine's poems/s (max_batch rows at once), loaded in turns."""
    engine = open_engine(model, max_batch=max_batch)
    try:
        engine.generate(PoemRequest(form=form, seed=0))  # warm-up
        tally, poems, elapsed = Tally(), 0, 0.0
        for _ in range(ROUNDS):
            done, took = keep_in_flight(engine, concurrency, seconds / ROUNDS, form)
            poems, elapsed = poems + done, elapsed + took
            run(address, concurrency, seconds / ROUNDS, form, tally)
        return tally, poems / elapsed
    finally:
        engine.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Flags; refuses servers that are not on loopback."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    client, server = ClientSettings.from_env(), ServerSettings.from_env()
    parser.add_argument("--server", default=client.server, help="HOST:PORT, or a comma-separated list of them")
    parser.add_argument(
        "--replicas", type=int, default=0, help="start this many model servers of --model and load them instead"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="clients streaming at once")
    parser.add_argument("--seconds", type=float, default=60, help="how long to keep starting poems")
    parser.add_argument("--form", default="七律", choices=list(FORMS))
    parser.add_argument("--in-process", action="store_true", help="also run the load on an engine in this process")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="weights for --replicas and --in-process")
    parser.add_argument(
        "--max-batch",
        type=int,
        default=server.max_batch,
        help="rows the --in-process engine decodes together when the server's GetInfo does not say",
    )
    args = parser.parse_args(argv)
    if args.replicas < 0:
        parser.error("--replicas must not be negative")
    if not args.replicas and not is_loopback(args.server):
        parser.error(f"{args.server} is not a loopback address")
    return args


def measure(args: argparse.Namespace, servers: str) -> dict:
    """The load's summary over servers, with the in-process engine's share where asked."""
    if args.in_process:
        max_batch = server_max_batch(servers) or args.max_batch
        tally, engine_rate = compare(servers, args.model, args.concurrency, args.seconds, args.form, max_batch)
    else:
        tally, engine_rate = run(servers, args.concurrency, args.seconds, args.form), None
    result = summary(tally, args.concurrency, args.form)
    if engine_rate:
        result |= {
            "in_process_poems_per_s": round(engine_rate, 2),
            "server_share_of_in_process": round(result["poems_per_s"] / engine_rate, 3),
        }
    return result


def main(argv: list[str] | None = None) -> None:
    """Parse flags, start the replicas if asked, run and print the numbers."""
    args = parse_args(argv)
    if args.replicas:
        with replicas(args.replicas, args.model) as servers:
            result = {"replicas": args.replicas} | measure(args, servers)
    else:
        result = measure(args, args.server)
    over = f" over {args.replicas} replicas" if args.replicas else ""
    print(
        f"{result['poems']} poems in {result['seconds']} s at concurrency {args.concurrency}{over}: "
        f"{result['poems_per_s']} poems/s; latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"p99 {result['p99_ms']} ms; first message p50 {result['first_p50_ms']} ms; "
        f"errors {result['errors'] or 'none'}"
    )
    if "in_process_poems_per_s" in result:
        print(
            f"in process: {result['in_process_poems_per_s']:.2f} poems/s; the server reaches "
            f"{result['server_share_of_in_process']:.0%} of it (target ≥80%)"
        )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
