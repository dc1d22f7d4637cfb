"""A real model server on a loopback port, in this process or as a subprocess, for the tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from model.engine.engine import Engine
from server.grpc_server import build_server

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_server(model_dir: Path, max_batch: int = 32, max_queue: int = 64) -> Iterator[tuple[str, Engine]]:
    """An in-process server on a free port: yields its address and engine."""
    engine = Engine(model_dir, max_batch=max_batch, max_queue=max_queue)
    serving = build_server(engine, "127.0.0.1", 0, workers=16, max_rpcs=64)
    try:
        yield f"127.0.0.1:{serving.port}", engine
    finally:
        serving.server.stop(0).wait()
        engine.close()


def start_server_process(model_dir: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    """`python -m server.grpc_server --port 0` as a subprocess; returns it and its address once listening."""
    command = [sys.executable, "-m", "server.grpc_server", "--port", "0", "--model", str(model_dir), *flags]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1", "POET_METRICS_PORT": "0"},  # tests start several servers
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        found = re.search(r"listening on (\S+:\d+)", line)
        if found:
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    process.stdout.close()
    raise RuntimeError("the model server did not start")
