"""Replicas behind one client target: gRPC's round_robin over the model servers, client-side health
checking (a replica that reports NOT_SERVING gets no new calls) and UNAVAILABLE retried on another
replica; a batch and the web app over three real replicas lose nothing when one is killed part way."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from client import PoetClient
from client.poet_client import service_config
from server.grpc_server import SERVICE, Serving, build_server
from tests.grpc_helpers import ROOT
from tests.test_client import FakeEngine

REQUESTS = 300
KILL_AFTER = 50  # poems written in all before a replica is killed: the run is well under way
START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_line(log: Path, pattern: str, process: subprocess.Popen) -> re.Match:
    """The first match of pattern in a process's log, once it is written; fails if the process dies first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text(encoding="utf-8"))
        if found:
            return found
        assert process.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never came in {log}")


def start_process(module: str, flags: list[str], log: Path, **environ: str) -> subprocess.Popen:
    """`python -m module flags`, its output in log."""
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module, *flags],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PYTHONUNBUFFERED": "1", **environ},
        )


@dataclass
class Replica:
    """A model server subprocess, its address, its /metrics port and its log (which outlives a kill)."""

    process: subprocess.Popen
    address: str
    metrics_port: int
    log: Path

    def served(self) -> int:
        """Generate calls it answered with poems, counted from its log."""
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return sum("method=Generate " in line and " status=OK " in line for line in lines)


def start_replicas(model_dir: Path, folder: Path, count: int) -> list[Replica]:
    """count model servers on free ports (gRPC and /metrics), started side by side."""
    started = []
    for index in range(count):
        log, metrics_port = folder / f"replica-{index}.log", free_port()
        flags = ["--port", "0", "--metrics-port", str(metrics_port), "--model", str(model_dir), "--max-batch", "32"]
        started.append((start_process("server.grpc_server", flags, log), metrics_port, log))
    return [
        Replica(process, wait_for_line(log, r"listening on (\S+:\d+)", process).group(1), metrics_port, log)
        for process, metrics_port, log in started
    ]


def start_web_app(log: Path, server: str) -> tuple[subprocess.Popen, str]:
    """The web app (waitress) on a free port over POET_SERVER=server: the process and its URL."""
    process = start_process("server.wsgi", ["--port", "0"], log, POET_SERVER=server)
    return process, wait_for_line(log, r"web app on (http://\S+)", process).group(1)


def stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()


@pytest.fixture()
def replicas(tiny_model_dir: Path, tmp_path: Path) -> Iterator[list[Replica]]:
    started = start_replicas(tiny_model_dir, tmp_path, 3)
    yield started
    for replica in started:
        stop(replica.process)


def kill_part_way(replicas: list[Replica], victim: Replica, running: Callable[[], bool]) -> int:
    """SIGKILL victim once the run is under way and the victim has served some; what the others had
    served at that moment."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while sum(r.served() for r in replicas) < KILL_AFTER or not victim.served():
        assert running() and time.monotonic() < deadline, "the run ended before a replica could be killed"
        time.sleep(0.02)
    stop(victim.process)
    assert running(), "the run ended before a replica could be killed"
    return sum(r.served() for r in replicas if r is not victim)


def request_lines(count: int) -> str:
    """count JSONL requests for 七律, each its own seed (a 七律 keeps the run going for some seconds)."""
    return "".join(json.dumps({"mode": "random", "form": "七律", "seed": seed}) + "\n" for seed in range(count))


@pytest.mark.slow  # three model servers and the batch script as subprocesses
def test_a_batch_over_three_replicas_writes_every_poem_while_one_is_killed(
    replicas: list[Replica], tmp_path: Path
) -> None:
    requests, out, log = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "batch.log"
    requests.write_text(request_lines(REQUESTS), encoding="utf-8")
    servers = ",".join(r.address for r in replicas)
    batch = start_process("client.batch", [str(requests), "-o", str(out), "--server", servers], log)
    try:
        others_at_kill = kill_part_way(replicas, replicas[2], lambda: batch.poll() is None)
        assert batch.wait(START_TIMEOUT_S) == 0, log.read_text(encoding="utf-8")[-3000:]
    finally:
        stop(batch)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == REQUESTS and all(record.get("poem") for record in records)
    assert f"{REQUESTS} requests, {REQUESTS} poems, 0 errors" in log.read_text(encoding="utf-8")
    assert all(replica.served() for replica in replicas)
    assert sum(r.served() for r in replicas[:2]) > others_at_kill  # the others went on after the kill


def post_generate(url: str, seed: int) -> tuple[int, dict]:
    """POST /api/generate for a 七律: the status and the JSON body."""
    request = urllib.request.Request(
        f"{url}/api/generate",
        data=json.dumps({"mode": "random", "form": "七律", "seed": seed}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow  # three model servers and the web app as subprocesses
def test_the_web_app_over_three_replicas_answers_every_request_while_one_is_killed(
    replicas: list[Replica], tmp_path: Path
) -> None:
    web, url = start_web_app(tmp_path / "web.log", ",".join(r.address for r in replicas))
    try:
        with ThreadPoolExecutor(8) as pool:
            replies = [pool.submit(post_generate, url, seed) for seed in range(REQUESTS)]
            kill_part_way(replicas, replicas[0], lambda: not all(reply.done() for reply in replies))
            answers = [reply.result() for reply in replies]
    finally:
        stop(web)
    failed = [(status, body) for status, body in answers if status != 200]
    assert not failed, failed[:3]
    assert all(body["poems"][0]["text"] for _, body in answers)
    assert all(replica.served() for replica in replicas)


# In-process replicas over a fake engine: what the channel's service config does, in a second.
@pytest.fixture()
def fakes() -> Iterator[list[tuple[Serving, FakeEngine]]]:
    engines = [FakeEngine() for _ in range(3)]
    servings = [build_server(engine, "127.0.0.1", 0, workers=8, max_rpcs=16) for engine in engines]
    yield list(zip(servings, engines))
    for serving in servings:
        serving.server.stop(0).wait()


def calls_to(fakes: list[tuple[Serving, FakeEngine]], client: PoetClient, calls: int) -> list[int]:
    """Make calls Generate calls; how many each replica got."""
    before = [len(engine.requests) for _, engine in fakes]
    for _ in range(calls):
        client.generate()
    return [len(engine.requests) - count for (_, engine), count in zip(fakes, before)]


def test_a_list_of_servers_is_balanced_round_robin(fakes: list[tuple[Serving, FakeEngine]]) -> None:
    with PoetClient(",".join(f"127.0.0.1:{serving.port}" for serving, _ in fakes)) as client:
        deadline = time.monotonic() + 5
        while not all(calls_to(fakes, client, 3)) and time.monotonic() < deadline:
            pass  # until every connection is ready
        assert calls_to(fakes, client, 9) == [3, 3, 3]


def test_a_replica_that_reports_not_serving_gets_no_new_calls(fakes: list[tuple[Serving, FakeEngine]]) -> None:
    (unhealthy, _), *_ = fakes
    with PoetClient(",".join(f"127.0.0.1:{serving.port}" for serving, _ in fakes)) as client:
        assert all(calls_to(fakes, client, 12))
        unhealthy.health.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)  # its Poet service still answers
        deadline = time.monotonic() + 5
        while calls_to(fakes, client, 3)[0] and time.monotonic() < deadline:
            pass  # the health watch tells the channel within moments
        first, *others = calls_to(fakes, client, 12)
        assert first == 0 and all(others)
        unhealthy.health.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
        deadline = time.monotonic() + 5
        while not calls_to(fakes, client, 3)[0] and time.monotonic() < deadline:
            pass
        assert calls_to(fakes, client, 12)[0]  # back in the rotation


def test_a_replica_that_refuses_calls_has_them_retried_on_another(
    fakes: list[tuple[Serving, FakeEngine]], caplog
) -> None:
    caplog.set_level("INFO", logger="poet.grpc")
    (closing, _), *_ = fakes
    closing.gate.close()  # UNAVAILABLE while its health still says SERVING, as at a drain's first moment
    with PoetClient(",".join(f"127.0.0.1:{serving.port}" for serving, _ in fakes)) as client:
        assert calls_to(fakes, client, 9)[0] == 0  # every call answered, by the other two
    assert any("status=UNAVAILABLE" in record.getMessage() for record in caplog.records)  # after a refusal


def test_health_watches_that_start_and_end_all_the_time_never_stall_the_server() -> None:
    serving = build_server(FakeEngine(), "127.0.0.1", 0, workers=32, max_rpcs=256)
    # A pool of its own: every channel opens its own connection, so its own health watch, and ends it on close.
    options = [("grpc.service_config", service_config(0)), ("grpc.use_local_subchannel_pool", 1)]
    failures: list[grpc.StatusCode] = []

    def churn() -> None:
        for _ in range(50):
            if failures:
                return
            with grpc.insecure_channel(f"127.0.0.1:{serving.port}", options=options) as channel:
                try:
                    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                except grpc.RpcError as error:
                    failures.append(error.code())

    threads = [threading.Thread(target=churn) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures  # grpcio's non-blocking health watches deadlock the server here (grpc/grpc#43403)
    serving.server.stop(0)  # not waited for: a stalled server would never finish stopping
