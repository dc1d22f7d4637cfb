"""Prometheus metrics: the model server's calls by method, mode, form and status, its poems' latency and
characters, queue depth and batch rows; the web app's requests by route and status; and both /metrics
endpoints, scraped over HTTP around a real request, with the poet_ series moving."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from client import InvalidRequest, PoetClient, Progress
from model.engine.types import PoetryError
from server import metrics
from server.grpc_server import build_server, main
from server.web import create_app
from tests.test_client import FakeEngine
from tests.test_replicas import start_replicas, start_web_app, stop

Sample = tuple[str, frozenset]  # a series' name and its labels, as scraped


def value(name: str, **labels: str) -> float:
    """A series' value in this process's registry (0 before it is first recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def changes(samples: Callable[[], float], action: Callable[[], object]) -> float:
    """How much samples() moved while action ran."""
    before = samples()
    action()
    return samples() - before


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture()
def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture()
def address(fake: FakeEngine) -> Iterator[str]:
    serving = build_server(fake, "127.0.0.1", 0, workers=8, max_rpcs=16)
    yield f"127.0.0.1:{serving.port}"
    serving.server.stop(0).wait()


def test_a_poem_is_counted_timed_and_measured(address: str) -> None:
    ok = {"method": "Generate", "mode": "acrostic", "form": "七绝", "status": "OK"}
    with PoetClient(address) as client:
        generate = partial(client.generate, mode="acrostic", form="七绝", text="春")
        assert changes(partial(value, "poet_requests_total", **ok), generate) == 1
        assert changes(partial(value, "poet_poem_seconds_count", method="Generate"), generate) == 1
        assert changes(partial(value, "poet_characters_total"), generate) == 20  # the fake's 五绝, marks left out
        stream = partial(list, client.stream())
        assert changes(partial(value, "poet_poem_seconds_count", method="GenerateStream"), stream) == 1
        info = {"method": "GetInfo", "mode": "-", "form": "-", "status": "OK"}
        assert changes(partial(value, "poet_requests_total", **info), client.info) == 1


def test_a_refused_request_is_counted_with_its_status_and_not_timed(address: str, fake: FakeEngine) -> None:
    fake.error = PoetryError("未知模式", "unknown mode")
    refused = {"method": "Generate", "mode": "other", "form": "other", "status": "INVALID_ARGUMENT"}
    with PoetClient(address) as client:

        def ask() -> None:
            with pytest.raises(InvalidRequest, match="unknown mode"):
                client.generate(mode="sonnet", form="十四行")  # labels stay few: neither is a known one

        assert changes(partial(value, "poet_requests_total", **refused), ask) == 1
        assert changes(partial(value, "poet_poem_seconds_count", method="Generate"), ask) == 0


def test_a_stream_the_client_leaves_is_counted_cancelled(address: str, fake: FakeEngine) -> None:
    fake.delay = 0.05
    cancelled = {"method": "GenerateStream", "mode": "random", "form": "auto", "status": "CANCELLED"}
    before = value("poet_requests_total", **cancelled)
    with PoetClient(address) as client:
        for event in client.stream():
            assert isinstance(event, Progress)
            break
    assert wait_until(lambda: value("poet_requests_total", **cancelled) == before + 1)


def test_queue_depth_and_batch_rows_are_read_from_the_engine_at_each_scrape() -> None:
    engine = SimpleNamespace(waiting=deque(["a", "b"]), live=["x", "y", "z"])
    metrics.watch(engine)
    assert (value("poet_queue_depth"), value("poet_batch_rows")) == (2, 3)
    engine.waiting.clear()
    assert value("poet_queue_depth") == 0


def test_the_web_app_counts_requests_by_route_template_and_serves_metrics() -> None:
    page = create_app({"TESTING": True}).test_client()
    for path, route, status in [
        ("/", "/", "200"),
        ("/x/1", "unmatched", "404"),
        ("/static/no-such-file", "/static/<path:filename>", "404"),  # the route, not the file asked for
    ]:
        requests = partial(value, "poet_web_requests_total", route=route, status=status)
        # buffered: the test client then closes the response, which is when it is recorded
        assert changes(requests, partial(page.get, path, buffered=True)) == 1, path
    scrape = page.get("/metrics")
    assert scrape.status_code == 200 and scrape.mimetype == "text/plain"
    assert 'poet_web_request_seconds_count{route="/"}' in scrape.text
    assert 'poet_web_requests_total{route="/metrics"' not in scrape.text  # scrapes are not counted


def test_a_metrics_port_that_is_taken_stops_the_server_before_the_model_loads(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with pytest.raises(SystemExit, match=f"--metrics-port {port}"):  # no model there: loading would fail
            main(["--model", str(tmp_path / "no-model"), "--port", "0", "--metrics-port", port])


def scrape(url: str) -> dict[Sample, float]:
    """Every sample at a /metrics URL."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.slow  # a model server and the web app as subprocesses
def test_both_metrics_endpoints_move_after_a_request(tiny_model_dir: Path, tmp_path: Path) -> None:
    [replica] = start_replicas(tiny_model_dir, tmp_path, 1)
    web, url = start_web_app(tmp_path / "web.log", replica.address)
    try:
        model_metrics, web_metrics = f"http://127.0.0.1:{replica.metrics_port}/metrics", f"{url}/metrics"
        model_before, web_before = scrape(model_metrics), scrape(web_metrics)
        body = json.dumps({"mode": "acrostic", "text": "春夏秋冬", "form": "七绝"}).encode()
        request = urllib.request.Request(f"{url}/api/generate", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.status == 200
        model_after = scrape(model_metrics)
        generate = {"method": "Generate", "mode": "acrostic", "form": "七绝", "status": "OK"}
        assert moved(model_before, model_after, "poet_requests_total", **generate) == 1
        assert moved(model_before, model_after, "poet_poem_seconds_count", method="Generate") == 1
        assert moved(model_before, model_after, "poet_characters_total") == 28
        assert moved(model_before, model_after, "poet_decode_step_seconds_count") > 0
        assert {"poet_queue_depth", "poet_batch_rows"} <= {name for name, _ in model_after}
        route = {"route": "/api/generate", "status": "200"}
        # The web app records a request once its response is closed, just after the client has it.
        assert wait_until(lambda: moved(web_before, scrape(web_metrics), "poet_web_requests_total", **route) == 1)
        assert moved(web_before, scrape(web_metrics), "poet_web_request_seconds_count", route="/api/generate") == 1
    finally:
        stop(web)
        stop(replica.process)
