"""`python -m server.run` (what `make run` starts): both servers come up, a poem goes through the
page's API, and SIGTERM stops all three processes."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from tests.grpc_helpers import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def test_run_serves_a_poem_and_stops_everything_on_sigterm(tiny_model_dir) -> None:
    web, grpc_port = free_port(), free_port()
    env = os.environ | {"POET_WEB_PORT": str(web), "POET_GRPC_PORT": str(grpc_port), "POET_MODEL": str(tiny_model_dir)}
    process = subprocess.Popen([sys.executable, "-m", "server.run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, reply = time.monotonic() + 120, None
        while reply is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{web}/api/generate", method="POST",
                                                 data=json.dumps({"mode": "acrostic", "text": "春秋"}).encode(),
                                                 headers={"Content-Type": "application/json"})
                reply = json.loads(urllib.request.urlopen(request, timeout=30).read())
            except OSError:
                time.sleep(0.5)
        assert reply and [line[0] for line in reply["poems"][0]["lines"][:2]] == ["春", "秋"]
        children = children_of(process.pid)
        assert len(children) == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(40) == 0
        assert not [pid for pid in children if os.path.exists(f"/proc/{pid}")], "a server outlived server.run"
    finally:
        for pid in children_of(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.kill()
