"""PoetClient, its CLI and the servicer's conversions and error mapping, over a fake engine (no model):
fields pass through with proto3 presence, errors become the documented exceptions, streams end
right, cancellation and deadlines reach the engine, each RPC logs one line, a drain lets calls finish."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from concurrent.futures import Future

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from client import GenerateResult, InvalidRequest, PoemOut, PoetClient, Progress, ServerBusy, ServerUnavailable
from client.cli import main as cli_main
from client.errors import PoetClientError
from client.poet_client import service_config
from model.engine.contract import validate
from model.engine.types import MODES, CancelledError, OverloadedError, Poem, PoemRequest, PoemResult, PoetryError
from model.engine.types import Progress as EngineProgress
from model.forms import FORMS
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.grpc_server import build_server, drain

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
        self.closed = False

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
        poem = Poem(
            POEM,
            ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"],
            -2.5,
            "上声十七筱",
            ["平平仄仄仄"] * 4,
            [1, 3],
            {"rhyme": True, "meter": False},
        )
        ticket.future.set_result(PoemResult("五绝", request.mode, [poem] * request.n, ["春"], 12.5))

    def info(self) -> dict:
        return {
            "model_name": "fake",
            "model_version": "0",
            "vocab_size": 7000,
            "forms": ["五绝"],
            "modes": ["random"],
            "max_candidates": 8,
            "max_text": 50,
            "max_batch": 4,
            "max_queue": 2,
            "form_shapes": [FORMS["五绝"].shape()],
            "auto_forms": [{"mode": "random", "width": 0, "lines": 0, "form": "五绝"}],
            "not_in_the_contract": 1,
        }

    def close(self) -> None:
        self.closed = True


@pytest.fixture()
def fake() -> FakeEngine:
    return FakeEngine()


@pytest.fixture()
def address(fake: FakeEngine) -> str:
    serving = build_server(fake, "127.0.0.1", 0, workers=8, max_rpcs=16)
    yield f"127.0.0.1:{serving.port}"
    serving.server.stop(0).wait()


def test_unset_fields_keep_the_engine_defaults_and_set_ones_pass_through(address: str, fake: FakeEngine) -> None:
    with PoetClient(address) as client:
        client.generate(mode="acrostic", text="春", seed=0, rhyme=False, temperature=0.95, n=2)
        client.generate()
    first, second = fake.requests
    assert (first.mode, first.text, first.seed, first.rhyme, first.temperature, first.n) == (
        "acrostic",
        "春",
        0,
        False,
        0.95,
        2,
    )
    assert (first.top_k, first.meter) == (PoemRequest.top_k, PoemRequest.meter)
    assert second == PoemRequest()


def test_generate_returns_typed_results(address: str) -> None:
    with PoetClient(address) as client:
        result = client.generate(n=2)
    assert isinstance(result, GenerateResult) and result.form == "五绝" and result.keywords == ["春"]
    assert result.poems[0] == PoemOut(
        POEM,
        ["春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"],
        -2.5,
        "上声十七筱",
        ["平平仄仄仄"] * 4,
        [1, 3],
        {"rhyme": True, "meter": False},
    )
    assert json.loads(json.dumps(result.to_dict(), ensure_ascii=False))["elapsed_ms"] == 12.5


def test_stream_sends_growing_text_per_candidate_then_one_result(address: str) -> None:
    with PoetClient(address) as client:
        events = list(client.stream(n=2))
    assert isinstance(events[-1], GenerateResult) and all(isinstance(e, Progress) for e in events[:-1])
    for index in (0, 1):
        texts = [e.text for e in events[:-1] if e.index == index]
        assert texts == [POEM[:end] for end in range(1, len(POEM) + 1)]


def test_info_and_health(address: str, fake: FakeEngine) -> None:
    with PoetClient(address) as client:
        info = client.info()
        assert info["model_name"] == "fake" and info["max_queue"] == 2
        assert client.health()
    # The forms' shapes and the engine's automatic choice come through as the engine gave them.
    assert info["form_shapes"] == fake.info()["form_shapes"] and info["auto_forms"] == fake.info()["auto_forms"]
    with PoetClient("127.0.0.1:1", retries=0) as client:
        assert not client.health()


@pytest.mark.parametrize(
    "error, kind, code",
    [
        (PoetryError("未知模式", "unknown mode"), InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
        (OverloadedError("队列已满 / the queue is full"), ServerBusy, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (RuntimeError("a bug"), ServerUnavailable, grpc.StatusCode.INTERNAL),
    ],
)
def test_engine_errors_become_client_errors(address: str, fake: FakeEngine, caplog, error, kind, code) -> None:
    fake.error = error
    caplog.set_level("INFO", logger="poet.grpc")
    for method in ("generate", "stream"):
        with PoetClient(address) as client, pytest.raises(kind) as raised:
            list(getattr(client, method)(mode="acrostic", form="七绝"))
        assert raised.value.code == code
    if kind is InvalidRequest:
        assert (raised.value.zh, raised.value.en) == ("未知模式", "unknown mode")
    assert "a bug" not in raised.value.message  # internals stay in the server's log
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rpc ")]
    assert any(
        "method=Generate mode='acrostic' form='七绝' n=1" in line and f"status={code.name}" in line for line in lines
    )


def test_zh_and_en_travel_apart_as_status_details(address: str, fake: FakeEngine) -> None:
    fake.error = PoetryError("韵脚声调须为 平 / 仄", "rhyme_tone must be 平 / 仄")  # " / " inside: nothing splits it
    with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as raw:
        poet_pb2_grpc.PoetStub(channel).Generate(poet_pb2.GenerateRequest(), timeout=10)
    locales = {}
    for detail in rpc_status.from_call(raw.value).details:
        message = error_details_pb2.LocalizedMessage()
        assert detail.Unpack(message)
        locales[message.locale] = message.message
    assert locales == {"zh-CN": "韵脚声调须为 平 / 仄", "en-US": "rhyme_tone must be 平 / 仄"}
    assert raw.value.details() == "韵脚声调须为 平 / 仄 / rhyme_tone must be 平 / 仄"  # for grpcurl's readers
    with PoetClient(address) as client, pytest.raises(InvalidRequest) as raised:
        client.generate()
    assert (raised.value.zh, raised.value.en) == ("韵脚声调须为 平 / 仄", "rhyme_tone must be 平 / 仄")


# A newline that would forge a second line, and 3 MB (under grpc's 4 MB message limit) that would make a 3 MB line.
@pytest.mark.parametrize("mode", ["acrostic\nrpc id=forged method=Generate status=OK", "x" * 3_000_000])
def test_a_logged_request_value_is_escaped_and_cut_short(address: str, caplog, mode: str) -> None:
    caplog.set_level("INFO", logger="poet.grpc")
    with grpc.insecure_channel(address) as channel:  # the fake engine takes any mode
        poet_pb2_grpc.PoetStub(channel).Generate(poet_pb2.GenerateRequest(mode=mode), timeout=30)
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rpc ")]
    assert "\n" not in line and len(line) < 300 and line.count("status=") == 1


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({"colour": "red"}, "unknown field(s): colour"),
        ({"n": "two"}, "n must be an integer"),
        ({"text": 123}, "text must be a string"),
        ({"rhyme": "yes"}, "rhyme 须为 true 或 false / rhyme must be true or false"),
        ({"seed": -1}, "seed is out of range: -1"),
        ({"top_k": 99999999999}, "top_k is out of range: 99999999999"),
        ({"text": "春\ud800"}, "text is not valid Unicode text"),
    ],
)
def test_bad_fields_are_refused_before_any_call(address: str, fake: FakeEngine, fields: dict, needle: str) -> None:
    for method in ("generate", "stream"):
        with PoetClient(address) as client, pytest.raises(InvalidRequest) as raised:
            list(getattr(client, method)(**fields))
        assert needle in raised.value.message and " / " in raised.value.message
    assert not fake.requests


class CutShort(poet_pb2_grpc.PoetServicer):
    """A broken server whose streams end after `progress` messages, without the result."""

    def __init__(self, progress: int):
        self.progress = progress

    def GenerateStream(self, request, context) -> Iterator[poet_pb2.GenerateStreamReply]:
        for _ in range(self.progress):
            yield poet_pb2.GenerateStreamReply(progress=poet_pb2.Progress(index=0, text="春"))


@pytest.mark.parametrize("progress", [0, 2])
def test_a_stream_that_ends_without_a_result_raises(progress: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(2))
    poet_pb2_grpc.add_PoetServicer_to_server(CutShort(progress), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        seen = []
        with PoetClient(f"127.0.0.1:{port}") as client, pytest.raises(PoetClientError, match="without a result"):
            for event in client.stream():
                seen.append(event)
        assert len(seen) == progress and all(isinstance(e, Progress) for e in seen)
    finally:
        server.stop(0)


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


class UnavailableAtFirst(poet_pb2_grpc.PoetServicer):
    """A server that answers UNAVAILABLE to its first `failures` calls, then a poem; it counts the calls."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def Generate(self, request, context) -> poet_pb2.GenerateReply:
        self._fail_at_first(context)
        return poet_pb2.GenerateReply(form="五绝", poems=[poet_pb2.Poem(text=POEM)])

    def GenerateStream(self, request, context) -> Iterator[poet_pb2.GenerateStreamReply]:
        self._fail_at_first(context)
        yield poet_pb2.GenerateStreamReply(done=poet_pb2.GenerateReply(form="五绝", poems=[poet_pb2.Poem(text=POEM)]))

    def _fail_at_first(self, context: grpc.ServicerContext) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            context.abort(grpc.StatusCode.UNAVAILABLE, "not yet")


@pytest.mark.parametrize("method", ["generate", "stream"])
@pytest.mark.parametrize("retries, failures, calls", [(2, 2, 3), (1, 5, 2), (0, 1, 1)])
def test_unavailable_is_tried_again_retries_times_by_the_channel(
    method: str, retries: int, failures: int, calls: int
) -> None:
    servicer, server = UnavailableAtFirst(failures), grpc.server(futures.ThreadPoolExecutor(2))
    poet_pb2_grpc.add_PoetServicer_to_server(servicer, server)  # no health service: gRPC takes it as healthy
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with PoetClient(f"127.0.0.1:{port}", timeout=10, retries=retries) as client:
            result = client.generate if method == "generate" else lambda: list(client.stream())[-1]
            if failures < calls:
                assert result().poems[0].text == POEM
            else:
                with pytest.raises(ServerUnavailable) as raised:
                    result()
                assert raised.value.code == grpc.StatusCode.UNAVAILABLE and "not yet" in raised.value.en
    finally:
        server.stop(0)
    assert servicer.calls == calls


@pytest.mark.parametrize("retries, attempts", [(1, 2), (2, 3), (4, 5), (9, 5)])
def test_retries_are_the_service_configs_attempts_past_the_first(retries: int, attempts: int) -> None:
    config = json.loads(service_config(retries))
    [method] = config["methodConfig"]
    assert method["name"] == [{"service": "poet.v1.Poet"}]
    assert method["retryPolicy"]["maxAttempts"] == attempts  # gRPC makes at most 5
    assert method["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert config["healthCheckConfig"] == {"serviceName": "poet.v1.Poet"}
    assert "methodConfig" not in json.loads(service_config(0))


@pytest.mark.slow  # waits out retries: over 2 s
def test_unavailable_is_retried_until_the_server_comes_up(fake: FakeEngine) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = []
    starter = threading.Timer(0.3, lambda: servers.append(build_server(fake, "127.0.0.1", port, 4, 8)[0]))
    starter.start()
    try:
        # The first connection is refused; gRPC connects again a second later, within the last attempts.
        with PoetClient(f"127.0.0.1:{port}", retries=4) as client:
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


def test_cli_passes_every_request_field(address: str, fake: FakeEngine) -> None:
    assert (
        cli_main(
            [
                "random",
                "--server",
                address,
                "--repetition-penalty",
                "1.3",
                "--rhyme-first-line",
                "--allow-repeat",
                "--allow-copy",
            ]
        )
        == 0
    )
    request = fake.requests[-1]
    assert (request.repetition_penalty, request.rhyme_first_line, request.no_repeat, request.no_copy) == (
        1.3,
        True,
        False,
        False,
    )


@pytest.mark.parametrize(
    "flags, needle", [(["--seed", "-1"], "seed is out of range"), (["--top-k", "99999999999"], "top_k is out of range")]
)
def test_cli_names_an_out_of_range_field(address: str, flags: list[str], needle: str, capsys) -> None:
    assert cli_main(["random", "--server", address, *flags]) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "field", "choices"),
    [(["limerick"], "mode", MODES), (["random", "--rhyme-tone", "中"], "rhyme_tone", "平仄")],
)
def test_cli_leaves_the_choices_to_the_server_and_prints_its_list(
    address: str, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys, flags: list[str], field: str, choices
) -> None:
    submit = fake.submit

    def checked(request: PoemRequest, *args, **kwargs) -> FakeTicket:
        validate(request)  # the engine's check of the contract
        return submit(request, *args, **kwargs)

    monkeypatch.setattr(fake, "submit", checked)
    assert cli_main([*flags, "--server", address]) == 2
    message = capsys.readouterr().err
    assert message.startswith(field) and all(choice in message for choice in choices), message


def test_cli_errors_are_json_with_json(address: str, fake: FakeEngine, capsys) -> None:
    fake.error = PoetryError("藏头字太多", "too many head characters")
    assert cli_main(["acrostic", "春", "--server", address, "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error == {
        "zh": "藏头字太多",
        "en": "too many head characters",
        "message": "藏头字太多 / too many head characters",
        "code": "INVALID_ARGUMENT",
    }
    assert cli_main(["random", "--server", "127.0.0.1:1", "--json"]) == 1  # nothing listens there
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "UNAVAILABLE"


def test_a_drain_answers_not_serving_refuses_new_calls_and_finishes_those_in_flight(fake: FakeEngine) -> None:
    fake.delay = 0.05  # a stream of 24 characters: about 1.2 s
    serving = build_server(fake, "127.0.0.1", 0, workers=8, max_rpcs=16)
    address = f"127.0.0.1:{serving.port}"
    drainer = threading.Thread(target=drain, args=(serving, fake, 30.0))
    with PoetClient(address) as client, grpc.insecure_channel(address) as channel:
        events = client.stream()
        assert isinstance(next(events), Progress)
        drainer.start()
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 5
        while (
            status := health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
        ) == health_pb2.HealthCheckResponse.SERVING and time.monotonic() < deadline:
            time.sleep(0.01)
        assert status == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.RpcError) as refused:
            poet_pb2_grpc.PoetStub(channel).Generate(poet_pb2.GenerateRequest(), timeout=5)
        assert not fake.tickets[0].future.done()  # all that while, the stream was in flight
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert refused.value.details() == "服务正在关闭 / the server is shutting down"
        assert isinstance(list(events)[-1], GenerateResult)
    drainer.join(10)
    assert not drainer.is_alive() and fake.closed and len(fake.requests) == 1


def test_grpcios_own_concurrency_refusal_reaches_people_in_both_languages(fake: FakeEngine, capsys) -> None:
    # Two RPC slots: the health watch of the clients' channels (client-side health checking; channels
    # with the same settings share it) holds one, and the first stream the other for about a second.
    fake.delay = 0.05
    serving = build_server(fake, "127.0.0.1", 0, workers=4, max_rpcs=2)
    address = f"127.0.0.1:{serving.port}"
    try:
        with PoetClient(address) as client:
            events = client.stream()
            assert isinstance(next(events), Progress)
            with pytest.raises(ServerBusy) as refused:
                client.generate()
            assert cli_main(["random", "--server", address]) == 1
            list(events)
    finally:
        serving.server.stop(0).wait()
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.value.message == (
        "模型服务同时处理的请求已满，请稍后重试 / "
        "the model server has too many requests in flight; please try again shortly"
    )
    assert refused.value.message in capsys.readouterr().err


def test_cli_refuses_text_in_random_mode(address: str, fake: FakeEngine, capsys) -> None:
    assert cli_main(["random", "你好", "--server", address]) == 2
    err = capsys.readouterr().err
    assert "随机模式不用文字" in err and "random mode takes no text" in err and "continue" in err
    assert cli_main(["random", "你好", "--server", address, "--json"]) == 2
    assert "random mode takes no text" in json.loads(capsys.readouterr().out)["error"]["en"]
    assert not fake.requests


@pytest.mark.parametrize(
    "text, form, needle",
    [
        ("床前明月光疑是地上霜举头望明月低头思故乡", "七绝", "reads as 4 line(s) of 5 characters, but a 七绝 has 7"),
        ("白日依山尽", "七律", "reads as 1 line(s) of 5 characters, but a 七律 has 7"),
        ("白日依山尽，黄河入海流。", "七绝", "reads as 1 line(s) of 5"),
        ("朝辞白帝彩云间千里江陵一日还", "五绝", "reads as 2 line(s) of 7 characters, but a 五绝 has 5"),
    ],
)
def test_cli_refuses_an_opening_the_form_would_cut_anew(
    address: str, fake: FakeEngine, capsys, text: str, form: str, needle: str
) -> None:
    assert cli_main(["continue", text, "--form", form, "--server", address]) == 2
    err = capsys.readouterr().err
    assert needle in err and "开头" in err and " / " in err
    assert not fake.requests


@pytest.mark.parametrize(
    "text, form",
    [
        ("床前明月光疑是地上霜", ""),
        ("朝辞白帝彩云间千里江陵一日还", "七绝"),
        ("白日依山", "七绝"),
        ("床前明月光，疑是地上霜。", "五律"),
    ],
)
def test_cli_sends_an_opening_that_fits_its_form(address: str, fake: FakeEngine, text: str, form: str) -> None:
    assert cli_main(["continue", text, "--form", form, "--server", address]) == 0
    assert fake.requests[-1].text == text


def test_cli_stream_shows_progress_as_plain_lines_off_a_terminal(address: str, capsys) -> None:
    assert cli_main(["random", "--server", address, "--stream"]) == 0
    captured = capsys.readouterr()
    progress = captured.err.splitlines()
    assert progress[0] == "0: 春" and progress[-1] == f"0: {POEM}" and len(progress) == len(POEM)
    assert "\r" not in captured.err and "\033" not in captured.err  # no terminal codes in a log
    assert captured.out.splitlines()[0] == "春眠不觉晓，"


@pytest.mark.parametrize("script", ["cli", "batch"])
def test_a_server_list_with_host_names_is_a_usage_error(script: str, tmp_path, capsys) -> None:
    from client.batch import main as batch_main

    run = {
        "cli": lambda argv: cli_main(["random", *argv]),
        "batch": lambda argv: batch_main(["in", "-o", "out", *argv]),
    }
    with pytest.raises(SystemExit) as exit_info:
        run[script](["--server", "poet-a.internal:50051,poet-b.internal:50051"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert "dns:///" in message and "不收 'poet-a.internal:50051'" in message
