"""Property-based fuzzing of the web API and the gRPC request message, end to end (waitress, the Flask
app, PoetClient, the gRPC server, a tiny model): whatever is sent, the answer is 2xx or a 4xx that says
what was wrong (bilingual JSON), or gRPC OK / INVALID_ARGUMENT / RESOURCE_EXHAUSTED, never a crash;
and both servers still write a poem afterwards. A few hundred examples in all, derandomized, so that
every run tries the same cases."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from urllib.parse import urlencode

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from waitress import create_server

from client import PoetClient
from client.poet_client import FIELDS
from model.engine.types import FORM_NAMES, MODES
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.web import create_app
from tests.grpc_helpers import running_server

pytestmark = pytest.mark.slow  # hypothesis against live servers

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
GRPC_ANSWERS = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED}
RPC_TIMEOUT_S = 60

# Text a person might send, and text meant to break things: lone surrogates, 𠀀 (outside the BMP).
CHARACTERS = st.one_of(st.characters(), st.sampled_from("春夏秋冬山水，。 \ud800\udfff𠀀"))
TEXT = st.text(CHARACTERS, max_size=70)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(10**300, 10**420), st.floats(), TEXT)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
FIELD_NAMES = st.sampled_from(sorted({*FIELDS, "lines", "to"}))  # the generate fields, pinyin's and convert's
PLAUSIBLE = st.one_of(
    st.sampled_from([*MODES, *FORM_NAMES, "traditional", "simplified", "春夏秋冬", "平", 1, 0.9, True]), JSON_VALUES
)
OBJECTS = st.dictionaries(FIELD_NAMES | TEXT, PLAUSIBLE, max_size=6)
NESTED = st.integers(1, 8000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)
BODIES = st.one_of(OBJECTS.map(json.dumps), JSON_VALUES.map(json.dumps), st.binary(max_size=200), NESTED)


@pytest.fixture(scope="module")
def servers(tiny_model_dir) -> Iterator[tuple[str, int]]:
    """The gRPC address and the web port of a real pair over the tiny model."""
    with running_server(tiny_model_dir, max_batch=16, max_queue=64) as (address, _):
        app = create_app({"POET_SERVER": address, "POET_TIMEOUT": RPC_TIMEOUT_S})
        web = create_server(app, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=web.run, daemon=True)
        thread.start()
        yield address, web.effective_port
        web.close()


def request(port: int, method: str, path: str, body: bytes | str | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=RPC_TIMEOUT_S)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def assert_answered(status: int, body: bytes) -> None:
    """2xx, or a 4xx with the bilingual JSON error every API error carries."""
    assert 200 <= status < 500, (status, body[:500])
    if status >= 400:
        error = json.loads(body)["error"]
        assert error["zh"] and error["en"] and error["message"] == f"{error['zh']} / {error['en']}"


def assert_still_serves(address: str, port: int) -> None:
    status, body = request(
        port, "POST", "/api/generate", json.dumps({"mode": "acrostic", "text": "春秋", "form": "五绝"})
    )
    assert status == 200, body[:500]
    assert [line[0] for line in json.loads(body)["poems"][0]["lines"][:2]] == ["春", "秋"]
    with PoetClient(address, retries=0) as client:
        assert client.health() and client.generate(mode="random", form="五绝").poems


def api_posts() -> list[str]:
    """Every POST route of the web API, so that a new one is fuzzed too."""
    app = create_app()
    return sorted(
        str(rule)
        for rule in app.url_map.iter_rules()
        if str(rule).startswith("/api/") and "POST" in (rule.methods or ())
    )


def test_any_body_to_any_api_route_is_answered(servers: tuple[str, int]) -> None:
    @settings(FUZZ, max_examples=160)
    @given(path=st.sampled_from(api_posts()), body=BODIES)
    def probe(path: str, body: str | bytes) -> None:
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        assert_answered(*request(servers[1], "POST", path, raw))

    probe()
    assert_still_serves(*servers)


def test_any_query_is_answered(servers: tuple[str, int]) -> None:
    @settings(FUZZ, max_examples=50)
    @given(path=st.sampled_from(["/api/stream", "/"]), query=st.dictionaries(FIELD_NAMES | TEXT, TEXT, max_size=5))
    def probe(path: str, query: dict[str, str]) -> None:
        encoded = urlencode(
            {k.encode("utf-8", "surrogatepass"): v.encode("utf-8", "surrogatepass") for k, v in query.items()}
        )
        assert_answered(*request(servers[1], "GET", f"{path}?{encoded}"))

    probe()
    assert_still_serves(*servers)


def field_values(field: FieldDescriptor) -> st.SearchStrategy:
    """Values a GenerateRequest field can hold, weighted towards the edges of its range."""
    if field.name in ("mode", "form", "rhyme_tone"):
        return st.sampled_from([*MODES, *FORM_NAMES, "平", "仄", ""]) | st.text(max_size=8)
    if field.cpp_type == FieldDescriptor.CPPTYPE_STRING:
        return st.sampled_from(["春夏秋冬", "白日依山尽黄河入海流", "床前明月光，疑是地上霜。", "秋夜"]) | st.text(
            max_size=70
        )
    if field.cpp_type == FieldDescriptor.CPPTYPE_INT32:
        return st.integers(-2, 10) | st.integers(-(2**31), 2**31 - 1)
    if field.cpp_type == FieldDescriptor.CPPTYPE_UINT64:
        return st.integers(0, 2**64 - 1)
    if field.cpp_type == FieldDescriptor.CPPTYPE_FLOAT:
        return st.floats(-3, 3, width=32) | st.floats(width=32)
    assert field.cpp_type == FieldDescriptor.CPPTYPE_BOOL, field.name
    return st.booleans()


REQUESTS = st.fixed_dictionaries(
    {}, optional={f.name: field_values(f) for f in poet_pb2.GenerateRequest.DESCRIPTOR.fields}
)


def assert_listed(error: grpc.RpcError) -> None:
    assert error.code() in GRPC_ANSWERS, (error.code(), error.details())
    assert " / " in (error.details() or ""), error.details()  # Chinese / English


def test_any_request_message_gets_a_listed_status(servers: tuple[str, int]) -> None:
    @settings(FUZZ, max_examples=80)
    @given(fields=REQUESTS, streaming=st.booleans())
    def probe(fields: dict, streaming: bool) -> None:
        message = poet_pb2.GenerateRequest(**fields)
        with grpc.insecure_channel(servers[0]) as channel:
            stub = poet_pb2_grpc.PoetStub(channel)
            try:
                if streaming:
                    assert list(stub.GenerateStream(message, timeout=RPC_TIMEOUT_S))[-1].HasField("done")
                else:
                    assert stub.Generate(message, timeout=RPC_TIMEOUT_S).poems
            except grpc.RpcError as error:
                assert_listed(error)

    probe()
    assert_still_serves(*servers)


def test_any_bytes_as_a_request_get_a_listed_status(servers: tuple[str, int]) -> None:
    @settings(FUZZ, max_examples=40)
    @given(raw=st.binary(max_size=120))
    def probe(raw: bytes) -> None:
        with grpc.insecure_channel(servers[0]) as channel:
            generate = channel.unary_unary("/poet.v1.Poet/Generate")  # no serializer: the bytes go as they are
            try:
                generate(raw, timeout=RPC_TIMEOUT_S)
            except grpc.RpcError as error:
                assert_listed(error)

    probe()
    assert_still_serves(*servers)
