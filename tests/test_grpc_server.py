"""The model server on a loopback port, through PoetClient and raw stubs: every RPC, streaming,
health, reflection, bad input, deadlines, cancellation, overload and draining on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from client import GenerateResult, InvalidRequest, PoetClient, Progress, ServerBusy, ServerUnavailable
from model.engine.types import CancelledError
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.grpc_errors import CallGate, ShuttingDown
from server.grpc_server import lower_thread_priority, main
from server.settings import ServerSettings
from tests.grpc_helpers import running_server, start_server_process

DEFAULTS = ServerSettings()


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    with running_server(tiny_model_dir) as (address, engine):
        yield address


def test_generate_returns_n_poems_with_everything_the_engine_knows(server: str) -> None:
    with PoetClient(server) as client:
        result = client.generate(mode="acrostic", text="春夏秋冬", form="七绝", n=2, seed=1)
    assert result.form == "七绝" and result.mode == "acrostic" and len(result.poems) == 2
    for poem in result.poems:
        assert [line[0] for line in poem.lines] == list("春夏秋冬")
        assert len(poem.tones) == 4 and all(len(t) == 7 for t in poem.tones)
        assert poem.rhyme_group and poem.rhyme_positions == [1, 3] and all(poem.constraints.values())
    assert result.elapsed_ms > 0


def test_faults_rhyme_tone_and_the_rules_travel_over_the_wire(server: str) -> None:
    with PoetClient(server) as client:
        judged = client.generate(mode="continue", text="床前明月光，疑是地上霜。举头望明月，低头思故乡。", seed=1)
        oblique = client.generate(form="五绝", rhyme_tone="仄", seed=3)
        info = client.info()
    assert any((f.line, f.rule, f.user) == (3, "失粘", True) for f in judged.poems[0].faults)
    assert not judged.poems[0].constraints["meter"]
    assert oblique.poems[0].rhyme_group.startswith(("上", "去", "入")) and all(oblique.poems[0].constraints.values())
    assert info["rhyme_tones"] == ["平", "仄"]
    assert {f.rule for f in judged.poems[0].faults} <= set(info["rules"])
    assert (
        info["rules"]["失粘"]["constraint"] == "meter" and info["rules"]["失粘"]["zh"] and info["rules"]["失粘"]["en"]
    )


def test_tunes_are_listed_and_an_unknown_one_says_where_the_list_is(server: str) -> None:
    with PoetClient(server) as client:
        tunes = {t["name"]: t for t in client.info()["tunes"]}
        poem = client.generate(form="浣溪沙", seed=2).poems[0]
        with pytest.raises(InvalidRequest, match="GetInfo"):
            client.generate(form="宋词")
    assert tunes["浣溪沙"]["pattern"] == "7-7-7 / 7-7-7" and tunes["浣溪沙"]["line_lengths"] == [7] * 6
    assert tunes["如梦令"]["repeats"] == [5] and tunes["浣溪沙"]["marks"][-1] == "。"
    assert [len(line) for line in poem.lines] == [7] * 6


def test_the_same_seed_gives_the_same_poem_over_the_wire(server: str) -> None:
    with PoetClient(server) as client:
        first, second = (client.generate(form="五律", seed=9, temperature=0.9, top_p=0.9) for _ in range(2))
    assert first.poems[0].text == second.poems[0].text


def test_theme_reports_keywords(server: str) -> None:
    with PoetClient(server) as client:
        result = client.generate(mode="theme", text="秋天的夜晚思念故乡", seed=2)
    assert result.keywords


def last_line_start(text: str) -> int:
    """Where the last line of a poem's text (finished or not) begins."""
    body = text[:-1] if text and text[-1] in "，。" else text
    return max(body.rfind("，"), body.rfind("。")) + 1


def test_stream_sends_growing_progress_then_one_result(server: str) -> None:
    with PoetClient(server) as client:
        events = list(client.stream(mode="random", form="七律", n=2, seed=4))
    assert isinstance(events[-1], GenerateResult) and all(isinstance(e, Progress) for e in events[:-1])
    final = {i: p.text for i, p in enumerate(events[-1].poems)}
    for index in final:
        texts = [e.text for e in events[:-1] if e.index == index]
        assert texts and texts[-1] == final[index]
        # Each update grows the text (by --stream-every characters), or changes only its last line: cut
        # back to re-sample it, or an answering line replaced by its best version.
        assert all(
            b.startswith(a) or len(os.path.commonprefix([a, b])) >= last_line_start(a) for a, b in zip(texts, texts[1:])
        )
        assert len(texts) >= len(final[index]) // DEFAULTS.stream_every  # an update every few characters


def test_info(server: str) -> None:
    with PoetClient(server) as client:
        info = client.info()
    assert (
        info["vocab_size"] > 1000 and info["forms"] == ["五绝", "七绝", "五律", "七律"] and info["max_candidates"] == 8
    )


@pytest.mark.skipif(sys.platform != "linux", reason="thread niceness is Linux's")
def test_rpc_threads_run_nicer_than_the_decoder(server: str) -> None:
    with PoetClient(server) as client:
        client.info()
    rpc_threads = [t for t in threading.enumerate() if t.name.startswith("poet-rpc")]
    decoder = next(t for t in threading.enumerate() if t.name == "poet-engine")
    decoder_niceness = os.getpriority(os.PRIO_PROCESS, decoder.native_id)
    assert rpc_threads
    for thread in rpc_threads:
        assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(decoder_niceness + DEFAULTS.rpc_nice, 19)


@pytest.mark.skipif(sys.platform != "linux", reason="thread niceness is Linux's")
def test_a_thread_that_may_not_lower_its_priority_still_serves(monkeypatch, caplog) -> None:
    def forbidden(*args):
        raise PermissionError("not here")

    monkeypatch.setattr(os, "setpriority", forbidden)
    lower_thread_priority(DEFAULTS.rpc_nice)  # the pool's initializer: raising would break every RPC
    assert any("priority" in record.message for record in caplog.records)


@pytest.mark.parametrize("option", [["--stream-every", "0"], ["--rpc-nice", "20"], ["--rpc-nice", "-1"]])
def test_a_bad_option_stops_the_server_before_the_model_loads(option: list[str], tmp_path) -> None:
    with pytest.raises(SystemExit, match=option[0]):  # no model there: loading it would fail otherwise
        main(["--model", str(tmp_path / "no-model"), "--port", "0", *option])


def test_health_and_reflection(server: str) -> None:
    with grpc.insecure_channel(server) as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="poet.v1.Poet"))
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = {s.name for reply in replies for s in reply.list_services_response.service}
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="poet.v1.Poet")
        files = next(stub.ServerReflectionInfo(iter([request]))).file_descriptor_response.file_descriptor_proto
    assert {"poet.v1.Poet", "grpc.health.v1.Health"} <= names
    assert any(b"GenerateStream" in proto for proto in files)  # a client such as grpcurl can learn the contract


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({"mode": "sonnet"}, "mode must be one of random"),
        ({"mode": "acrostic", "text": "春夏秋冬春夏秋冬春"}, "at most 8"),
        ({"mode": "acrostic", "text": "abc"}, "Chinese characters"),
        ({"mode": "continue", "text": "床前明月光啊，"}, "5 or 7"),
        ({"mode": "random", "n": 20}, "n must"),
        ({"mode": "random", "temperature": 5.0}, "temperature"),
        ({"mode": "random", "top_k": 5000}, "top_k"),
        ({"mode": "random", "top_p": 0.0}, "top_p"),
        ({"mode": "random", "repetition_penalty": 3.0}, "repetition_penalty"),
        ({"mode": "random", "seed": 2**63}, "seed"),
        ({"mode": "random", "form": "十四行"}, "unknown form"),
        ({"mode": "continue", "text": ""}, "opening"),
        ({"mode": "continue", "text": "春" * 200}, "text too long"),
        ({"mode": "theme", "text": ""}, "theme"),
    ],
)
def test_bad_requests_are_invalid_argument_with_a_bilingual_message(server: str, fields: dict, needle: str) -> None:
    with PoetClient(server) as client, pytest.raises(InvalidRequest) as error:
        client.generate(**fields)
    assert needle in error.value.message and " / " in error.value.message
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_huge_bad_value_is_invalid_argument_with_a_short_message_and_log_line(server: str, caplog) -> None:
    caplog.set_level("INFO", logger="poet.grpc")
    with PoetClient(server, retries=0) as client, pytest.raises(InvalidRequest) as error:
        client.generate(mode="m" * 20_000)  # echoed whole, its trailer would pass the client's 8 KiB limit
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "mode" in error.value.en and len(error.value.zh) < 200 and len(error.value.en) < 200
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rpc ") and "mmmm" in r.getMessage()]
    assert "status=INVALID_ARGUMENT" in line and len(line) < 300


@pytest.mark.parametrize("method", ["Generate", "GenerateStream"])
def test_bytes_that_are_not_a_request_are_invalid_argument(server: str, method: str) -> None:
    with grpc.insecure_channel(server) as channel, pytest.raises(grpc.RpcError) as error:
        call = (channel.unary_unary if method == "Generate" else channel.unary_stream)(f"/poet.v1.Poet/{method}")
        result = call(b"\xff\xff\xff\xff", timeout=10)  # no serializers: the bytes go out as they are
        if method == "GenerateStream":
            list(result)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == "请求不是有效的 protobuf 消息 / the request is not a valid protobuf message"


@pytest.mark.parametrize("stream", [False, True])
def test_a_deadline_is_honoured(server: str, stream: bool) -> None:
    request = poet_pb2.GenerateRequest(form="七律", n=8)
    with grpc.insecure_channel(server) as channel, pytest.raises(grpc.RpcError) as error:
        stub = poet_pb2_grpc.PoetStub(channel)
        if stream:
            list(stub.GenerateStream(request, timeout=0.01))
        else:
            stub.Generate(request, timeout=0.01)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_cancelled_stream_frees_its_rows(tiny_model_dir) -> None:
    with running_server(tiny_model_dir, max_batch=8, max_queue=2) as (address, engine):
        tickets = []
        submit = engine.submit
        engine.submit = lambda *args, **kwargs: tickets.append(submit(*args, **kwargs)) or tickets[-1]
        with grpc.insecure_channel(address) as channel:
            call = poet_pb2_grpc.PoetStub(channel).GenerateStream(poet_pb2.GenerateRequest(form="七律", n=8, seed=1))
            next(call)  # decoding has started and holds all 8 rows
            call.cancel()
        with pytest.raises(CancelledError):  # stopped mid-poem, not left to finish
            tickets[0].result(timeout=10)
        deadline = time.monotonic() + 10
        while engine.live and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not engine.live
        with PoetClient(address, timeout=60) as client:
            assert len(client.generate(form="五绝", n=8, seed=2).poems) == 8


def test_a_full_queue_answers_resource_exhausted_at_once(tiny_model_dir) -> None:
    with running_server(tiny_model_dir, max_batch=8, max_queue=1) as (address, engine):
        errors, done = [], []

        def ask(seed: int) -> None:
            try:
                with PoetClient(address, timeout=60) as client:
                    done.append(client.generate(form="七律", n=8, seed=seed))
            except ServerBusy as error:
                errors.append(error)

        threads = [threading.Thread(target=ask, args=(s,)) for s in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors and done and len(errors) + len(done) == 6


def test_unreachable_server_is_unavailable_after_retries() -> None:
    with PoetClient("127.0.0.1:1", timeout=2, retries=1) as client, pytest.raises(ServerUnavailable):
        client.generate()


@pytest.mark.slow  # a server subprocess
def test_sigterm_drains_in_flight_calls_and_exits_zero(tiny_model_dir) -> None:
    process, address = start_server_process(tiny_model_dir, "--grace", "20", "--max-batch", "32")
    try:
        with grpc.insecure_channel(address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service="poet.v1.Poet"))
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            firsts, finals = [], []
            streams = [
                threading.Thread(target=stream_to_the_end, args=(address, seed, firsts, finals)) for seed in range(4)
            ]  # 4 x 8 candidates: the batch holds them all at once
            for thread in streams:
                thread.start()
            deadline = time.monotonic() + 30
            while len(firsts) < 4 and time.monotonic() < deadline:
                time.sleep(0.002)  # every stream is being decoded
            process.send_signal(signal.SIGTERM)
            assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
            watch.cancel()
            # While the streams are still being decoded, the server answers: NOT_SERVING, and no new calls.
            check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            with pytest.raises(grpc.RpcError) as refused:
                poet_pb2_grpc.PoetStub(channel).Generate(poet_pb2.GenerateRequest(), timeout=5)
            in_flight = 4 - len(finals)
            for thread in streams:
                thread.join(60)
        assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING and in_flight > 0
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE and "shutting down" in refused.value.details()
        assert all(isinstance(e, Progress) for e in firsts) and len(firsts) == 4
        assert all(isinstance(e, GenerateResult) for e in finals) and len(finals) == 4
        assert process.wait(30) == 0
        log = process.stdout.read()
        assert "status=OK" in log[log.index("draining") :]  # at least one stream finished while draining
        with PoetClient(address, timeout=2, retries=0) as client, pytest.raises(ServerUnavailable):
            client.generate()
    finally:
        process.kill()
        process.stdout.close()


def stream_to_the_end(address: str, seed: int, firsts: list, finals: list) -> None:
    """One 七律 stream (n=8): its first event goes to firsts, its last to finals."""
    with PoetClient(address, timeout=60) as client:
        events = client.stream(form="七律", n=8, seed=seed)
        firsts.append(next(events))
        finals.append(list(events)[-1])


def test_the_call_gate_refuses_new_calls_once_closed_and_waits_for_the_rest() -> None:
    gate = CallGate()
    held = gate.call()
    held.__enter__()
    gate.close()
    with pytest.raises(ShuttingDown):
        with gate.call():
            pass
    assert not gate.wait_idle(0.05)  # one call still in flight
    threading.Timer(0.05, held.__exit__, (None, None, None)).start()
    assert gate.wait_idle(5)
