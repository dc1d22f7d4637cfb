"""`python -m server.run` (what `make run` starts): both servers come up, a poem goes through the
page's API, and SIGTERM stops all three processes. `make run` installs only what serving needs: the
serving path runs with every training and test package unimportable; the console scripts start."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from importlib.metadata import entry_points, packages_distributions
from pathlib import Path

import pytest

from tests.grpc_helpers import ROOT

pytestmark = pytest.mark.slow  # server.run, make and the console scripts run as subprocesses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def test_run_serves_a_poem_and_stops_everything_on_sigterm(tiny_model_dir) -> None:
    web, grpc_port = free_port(), free_port()
    env = os.environ | {
        "POET_WEB_PORT": str(web),
        "POET_GRPC_PORT": str(grpc_port),
        "POET_MODEL": str(tiny_model_dir),
        "POET_METRICS_PORT": "0",  # another test may hold the default port
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "server.run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline, reply = time.monotonic() + 120, None
        while reply is None and time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{web}/api/generate",
                    method="POST",
                    data=json.dumps({"mode": "acrostic", "text": "春秋"}).encode(),
                    headers={"Content-Type": "application/json"},
                )
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


# Run in a fresh interpreter with the dev packages made unimportable: model server, engine and page serve.
SERVE_WITHOUT_DEV_PACKAGES = """
import sys
from pathlib import Path
for name in sys.argv[2:]:
    sys.modules[name] = None  # `import name` raises ImportError from now on
import client.batch, client.cli, server.run, server.wsgi
from model.engine.engine import Engine
from server.grpc_server import build_server
from server.web import create_app
engine = Engine(Path(sys.argv[1]), max_batch=4, max_queue=4)
serving = build_server(engine, "127.0.0.1", 0, workers=4, max_rpcs=8)
page = create_app({"POET_SERVER": f"127.0.0.1:{serving.port}"}).test_client()
assert page.get("/").status_code == 200
for body in ({"mode": "theme", "text": "秋夜思乡", "form": "五绝"}, {"mode": "acrostic", "text": "春秋"}):
    reply = page.post("/api/generate", json=body)
    assert reply.status_code == 200, reply.get_json()
assert page.post("/api/convert", json={"text": "春眠不觉晓", "to": "traditional"}).get_json() == {"text": "春眠不覺曉"}
serving.server.stop(0).wait()
engine.close()
print("served without", len(sys.argv) - 2, "modules")
"""


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {normalised(re.split(r"[<>=!~ ;\[]", line)[0]) for line in lines if line}


def test_serving_imports_none_of_the_training_and_test_packages(tiny_model_dir) -> None:
    dev = requirement_names(ROOT / "requirements-dev.txt")
    assert {"torch", "transformers", "safetensors", "nncf", "pytest", "hypothesis"} <= dev
    assert not dev & requirement_names(ROOT / "requirements.txt")
    modules = sorted(m for m, dists in packages_distributions().items() if {normalised(d) for d in dists} & dev)
    assert "torch" in modules and "grpc_tools" in modules
    done = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_DEV_PACKAGES, str(tiny_model_dir), *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "served without" in done.stdout


def make_dry_run(target: str) -> str:
    """The commands `make TARGET` would run from scratch, without running them."""
    return subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_make_run_installs_the_serving_set_and_make_test_adds_the_rest() -> None:
    run = make_dry_run("run")
    assert "-r requirements.txt" in run and "-e ." in run and "requirements-dev" not in run
    assert "server.run" in run and "proto.build" not in run  # the generated code is committed
    assert "-r requirements-dev.txt" in make_dry_run("test")
    for target in ("train", "export", "data", "bench"):  # all of these need torch
        assert "-r requirements-dev.txt" in make_dry_run(target), target


def test_make_test_lints_first_and_test_fast_leaves_the_slow_and_browser_tests_out() -> None:
    test = make_dry_run("test")
    assert test.index("ruff check .") < test.index("pytest")
    assert '-m "not slow and not browser"' in make_dry_run("test-fast")
    assert "ruff format ." in make_dry_run("format")


def test_console_scripts_are_installed(tmp_path: Path) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"bert-poet": "server.run:main", "poet": "client.cli:main", "poet-batch": "client.batch:main"}
    for name, target in scripts.items():
        assert [e.value for e in entry_points(group="console_scripts", name=name)] == [target]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "poet"), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "usage: poet " in done.stdout, done.stderr
