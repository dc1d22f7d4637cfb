"""PoetClient, its CLI and the servicer's conversions and error mapping, over a fake engine (no model):
fields pass through with proto3 presence, errors become the documented exceptions, streams end
right, cancellation and deadlines reach the engine, each RPC logs one line."""
from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import Future

import grpc
import pytest

from client import GenerateResult, InvalidRequest, PoemOut, PoetClient, Progress, ServerBusy, ServerUnavailable
from client.cli import main as cli_main
from model.engine.types import (CancelledError, OverloadedError, Poem, PoemRequest, PoemResult, PoetryError,
                                Progress as EngineProgress)
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.grpc_server import build_server

POEM = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"


class FakeTicket:
    """The engine's ticket interface: result(), cancel() and the future the stream waits on."""

    def __init__(self) -> None:
        self.future: Future[PoemResult] = Future()
        self.cancelled = threading.Event()

    def result(self, timeout: float | None = None) -> PoemResult:
        return self.future.result(timeout)

    def cancel(self) -> None:
        self.cancelled.set()


class FakeEngine:
    """Writes the same 五绝 one character per `delay` seconds on a thread, or raises `error` at submit."""

    def __init__(self) -> None:
        self.delay, self.error = 0.0, None
        self.requests: list[PoemRequest] = []
        self.tickets: list[FakeTicket] = []

    def submit(self, request: PoemRequest, on_progress=None, progress_every: int = 1) -> FakeTicket:
        if self.error is not None:
            raise self.error
        ticket = FakeTicket()
        self.requests.append(request)
        self.tickets.append(ticket)
        threading.Thread(target=self._decode, args=(ticket, request, on_progress), daemon=True).start()
        return ticket

    def _decode(self, ticket: FakeTicket, request: PoemRequest, on_progress) -> None:
        for end in range(1, len(POEM) + 1):
            if ticket.cancelled.is_set():
                return ticket.future.set_exception(CancelledError("请求已取消 / the request was cancelled"))
            for index in range(request.n):
                if on_progress:
                    on_progress(EngineProgress(index, POEM[:end]))
            time.sleep(self.delay)
        poem = Poem(POEM, ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"], -2.5, "上声十七筱",
                    ["平平仄仄仄"] * 4, [1, 3], {"rhyme": True, "meter": False})
        ticket.future.set_result(PoemResult("五绝", request.mode, [poem] * request.n, ["春"], 12.5))

    def info(self) -> dict:
        return {"model_name": "fake", "model_version": "0", "vocab_size": 7000, "forms": ["五绝"], "modes": ["random"],
                "max_candidates": 8, "max_text": 50, "max_batch": 4, "max_queue": 2, "not_in_the_contract": 1}


@pytest.fixture()
def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture()
def address(fake: FakeEngine) -> str:
    server, port, _ = build_server(fake, "127.0.0.1", 0, workers=8, max_rpcs=16)
    yield f"127.0.0.1:{port}"
    server.stop(0).wait()


def test_unset_fields_keep_the_engine_defaults_and_set_ones_pass_through(address: str, fake: FakeEngine) -> None:
    with PoetClient(address) as client:
        client.generate(mode="acrostic", text="春", seed=0, rhyme=False, temperature=0.95, n=2)
        client.generate()
    first, second = fake.requests
    assert (first.mode, first.text, first.seed, first.rhyme, first.temperature, first.n) == \
        ("acrostic", "春", 0, False, 0.95, 2)
    assert (first.top_k, first.meter) == (PoemRequest.top_k, PoemRequest.meter)
    assert second == PoemRequest()


def test_generate_returns_typed_results(address: str) -> None:
    with PoetClient(address) as client:
        result = client.generate(n=2)
    assert isinstance(result, GenerateResult) and result.form == "五绝" and result.keywords == ["春"]
    assert result.poems[0] == PoemOut(POEM, ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"], -2.5, "上声十七筱",
                                      ["平平仄仄仄"] * 4, [1, 3], {"rhyme": True, "meter": False})
    assert json.loads(json.dumps(result.to_dict(), ensure_ascii=False))["elapsed_ms"] == 12.5


def test_stream_sends_growing_text_per_candidate_then_one_result(address: str) -> None:
    with PoetClient(address) as client:
        events = list(client.stream(n=2))
    assert isinstance(events[-1], GenerateResult) and all(isinstance(e, Progress) for e in events[:-1])
    for index in (0, 1):
        texts = [e.text for e in events[:-1] if e.index == index]
        assert texts == [POEM[:end] for end in range(1, len(POEM) + 1)]


def test_info_and_health(address: str) -> None:
    with PoetClient(address) as client:
        assert client.info()["model_name"] == "fake" and client.info()["max_queue"] == 2
        assert client.health()
    with PoetClient("127.0.0.1:1", retries=0) as client:
        assert not client.health()


@pytest.mark.parametrize("error, kind, code", [
    (PoetryError("未知模式", "unknown mode"), InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (OverloadedError("队列已满 / the queue is full"), ServerBusy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RuntimeError("a bug"), ServerUnavailable, grpc.StatusCode.INTERNAL),
])
def test_engine_errors_become_client_errors(address: str, fake: FakeEngine, caplog, error, kind, code) -> None:
    fake.error = error
    caplog.set_level("INFO", logger="poet.grpc")
    for method in ("generate", "stream"):
        with PoetClient(address) as client, pytest.raises(kind) as raised:
            list(getattr(client, method)(mode="acrostic", form="七绝"))
        assert raised.value.code == code
    if kind is InvalidRequest:
        assert raised.value.message == "未知模式 / unknown mode"
    assert "a bug" not in raised.value.message  # internals stay in the server's log
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rpc ")]
    assert any("method=Generate mode=acrostic form=七绝 n=1" in line and f"status={code.name}" in line
               for line in lines)


@pytest.mark.parametrize("fields", [{"colour": "red"}, {"n": "two"}, {"seed": -1}])
def test_bad_fields_are_refused_before_any_call(address: str, fake: FakeEngine, fields: dict) -> None:
    with PoetClient(address) as client, pytest.raises(InvalidRequest):
        client.generate(**fields)
    assert not fake.requests


def test_leaving_a_stream_early_cancels_the_engine_ticket(address: str, fake: FakeEngine) -> None:
    fake.delay = 0.05
    with PoetClient(address) as client:
        for _ in client.stream():
            break
    assert fake.tickets[0].cancelled.wait(5)


@pytest.mark.parametrize("method", ["generate", "stream"])
def test_a_deadline_is_deadline_exceeded_and_cancels_the_ticket(address: str, fake: FakeEngine, method: str) -> None:
    fake.delay = 0.05
    with PoetClient(address, timeout=0.3) as client, pytest.raises(ServerUnavailable) as raised:
        list(getattr(client, method)())
    assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert fake.tickets[0].cancelled.wait(5)


def test_calls_without_a_deadline_wait_as_long_as_it_takes(address: str) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = poet_pb2_grpc.PoetStub(channel)
        assert stub.Generate(poet_pb2.GenerateRequest()).poems[0].text == POEM
        assert list(stub.GenerateStream(poet_pb2.GenerateRequest()))[-1].done.poems[0].text == POEM


def test_unavailable_is_retried_until_the_server_comes_up(fake: FakeEngine) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = []
    starter = threading.Timer(0.3, lambda: servers.append(build_server(fake, "127.0.0.1", port, 4, 8)[0]))
    starter.start()
    try:
        with PoetClient(f"127.0.0.1:{port}", retries=6) as client:
            assert client.generate().form == "五绝"
    finally:
        starter.join()
        for server in servers:
            server.stop(0)


def test_cli_prints_verses_json_and_exits_2_on_bad_input(address: str, fake: FakeEngine, capsys) -> None:
    assert cli_main(["acrostic", "春", "--server", address, "--seed", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[:4] == ["春眠不觉晓，", "处处闻啼鸟。", "夜来风雨声，", "花落知多少。"]
    assert cli_main(["random", "--server", address, "--json", "--stream", "--no-rhyme"]) == 0
    assert json.loads(capsys.readouterr().out)["poems"][0]["text"] == POEM and fake.requests[-1].rhyme is False
    fake.error = PoetryError("藏头字太多", "too many head characters")
    assert cli_main(["acrostic", "春夏秋冬春夏秋冬春", "--server", address]) == 2
    assert "too many head characters" in capsys.readouterr().err
