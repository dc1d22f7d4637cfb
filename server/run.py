"""`make run`: start the gRPC model server, wait until it is SERVING, then the web app; stop both together.

python -m server.run    (ports: POET_GRPC_PORT, default 50051; POET_WEB_PORT, default 8000; the model server's
                         Prometheus /metrics on POET_METRICS_PORT, default 9464, the page's on its own port:
                         server/settings.py)
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from server.settings import ServerSettings, WebSettings

log = logging.getLogger("poet.run")
START_TIMEOUT_S = 120


def wait_until_serving(address: str, process: subprocess.Popen, timeout: float = START_TIMEOUT_S) -> None:
    """Poll the standard health service until the model is loaded, or fail if the server died."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"model server exited with code {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"model server at {address} not serving after {timeout:.0f} s")


def stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Both signals stop the pair: SIGTERM from a supervisor, SIGINT from Ctrl-C (even where a shell
    # started us with SIGINT ignored).
    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    model, page = ServerSettings.from_env(), WebSettings.from_env()
    address = f"{model.host}:{model.port}"
    env = os.environ | {"POET_SERVER": address}  # the children read the rest of their settings themselves
    model_server = subprocess.Popen(
        [sys.executable, "-m", "server.grpc_server", "--host", model.host, "--port", str(model.port)], env=env
    )
    web = None
    try:
        wait_until_serving(address, model_server)
        web = subprocess.Popen([sys.executable, "-m", "server.wsgi", "--port", str(page.port)], env=env)
        log.info("bert-poet is ready: open http://%s:%s  (Ctrl-C stops)", page.host, page.port)
        while model_server.poll() is None and web.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (web, model_server):
            if process and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (web, model_server):
            if process:
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
