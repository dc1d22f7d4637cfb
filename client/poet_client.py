"""PoetClient: the Python way to talk to the model server."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any, TypeVar

import grpc
from google.protobuf.descriptor import FieldDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

from client.errors import InvalidRequest, PoetClientError, from_rpc_error
from client.settings import ClientSettings
from client.types import FaultOut, GenerateResult, PoemOut, Progress
from model.engine.contract import TYPE_NAMES
from proto.poet.v1 import poet_pb2, poet_pb2_grpc

DEFAULTS = ClientSettings()  # the environment is the caller's to read (ClientSettings.from_env)
FIELDS = tuple(poet_pb2.GenerateRequest.DESCRIPTOR.fields_by_name)  # the request's fields, from the proto
HEALTH_TIMEOUT_S = 5.0
BACKOFF_S, MAX_BACKOFF_S = 0.25, 4.0  # first wait before a retry, and the cap as it doubles
TYPE_OF_FIELD = {
    FieldDescriptor.CPPTYPE_STRING: str,
    FieldDescriptor.CPPTYPE_INT32: int,
    FieldDescriptor.CPPTYPE_UINT64: int,
    FieldDescriptor.CPPTYPE_FLOAT: float,
    FieldDescriptor.CPPTYPE_BOOL: bool,
}
NO_RESULT = ("模型服务的流没有返回结果就结束了", "the model server's stream ended without a result")
T = TypeVar("T")


def result_from_pb(reply: poet_pb2.GenerateReply) -> GenerateResult:
    """The typed result of a GenerateReply (float32 scores rounded to what they can hold)."""
    poems = [
        PoemOut(
            p.text,
            list(p.lines),
            round(p.score, 4),
            p.rhyme_group,
            list(p.tones),
            list(p.rhyme_positions),
            dict(p.constraints),
            [FaultOut(f.line, f.rule, f.user) for f in p.faults],
        )
        for p in reply.poems
    ]
    return GenerateResult(
        reply.form, reply.mode, poems, list(reply.keywords), round(reply.elapsed_ms, 1), list(reply.left_out)
    )


def build_request(fields: dict) -> poet_pb2.GenerateRequest:
    """A GenerateRequest from keyword fields; None means 'server default'."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        names = ", ".join(sorted(unknown))
        raise InvalidRequest(f"未知字段：{names}", f"unknown field(s): {names}")
    request = poet_pb2.GenerateRequest()
    for name, value in fields.items():
        if value is not None:
            set_field(request, name, value)
    return request


def is_unicode(text: str) -> bool:
    """False for a str that UTF-8 cannot encode (a lone surrogate, e.g. from JSON's "\\ud800")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def set_field(request: poet_pb2.GenerateRequest, name: str, value: Any) -> None:
    """Set one field, or raise an InvalidRequest that names it and says what is wrong."""
    if isinstance(value, str) and not is_unicode(value):
        raise InvalidRequest(f"{name} 含有无效的 Unicode 字符", f"{name} is not valid Unicode text")
    try:
        setattr(request, name, value)
    except TypeError:
        zh, en = TYPE_NAMES[TYPE_OF_FIELD[request.DESCRIPTOR.fields_by_name[name].cpp_type]]
        raise InvalidRequest(f"{name} 须为{zh}", f"{name} must be {en}, not {type(value).__name__}") from None
    except ValueError:  # protobuf's only ValueError here: an integer the field cannot hold
        raise InvalidRequest(f"{name} 超出范围：{value!r}", f"{name} is out of range: {value!r}") from None


class PoetClient:
    """`with PoetClient() as c: c.generate(mode="acrostic", text="春夏秋冬", form="七绝")`."""

    def __init__(self, address: str | None = None, timeout: float = DEFAULTS.timeout, retries: int = DEFAULTS.retries):
        self.address = address or DEFAULTS.server
        self.timeout, self.retries = timeout, retries
        self.channel = grpc.insecure_channel(self.address)
        self.stub = poet_pb2_grpc.PoetStub(self.channel)

    def __enter__(self) -> PoetClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel; calls still open on it are cancelled."""
        self.channel.close()

    def generate(self, **fields: object) -> GenerateResult:
        """n poems for one request (the batch fields as keyword arguments)."""
        request = build_request(fields)
        return result_from_pb(self._retry(lambda: self.stub.Generate(request, timeout=self.timeout)))

    def stream(self, **fields: object) -> Iterator[Progress | GenerateResult]:
        """Progress events as characters are decoded, then exactly one GenerateResult
        (a PoetClientError if the stream ends without one)."""
        request = build_request(fields)
        call, first = self._retry(lambda: self._open_stream(request))
        try:
            done = False
            # Read to the end of the stream (done is last): cancelling right after it would log a CANCELLED call.
            for reply in call if first is None else chain([first], call):
                done = reply.HasField("done")
                yield _event(reply)
            if not done:
                raise PoetClientError(*NO_RESULT)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            call.cancel()  # the caller stopped early: let the server free the batch rows now (no-op when done)

    def info(self) -> dict:
        """Model name and version, vocabulary size, forms, modes, rhyme tones, limits and the rules it checks."""
        reply = self._retry(lambda: self.stub.GetInfo(poet_pb2.GetInfoRequest(), timeout=self.timeout))
        return {
            "model_name": reply.model_name,
            "model_version": reply.model_version,
            "vocab_size": reply.vocab_size,
            "forms": list(reply.forms),
            "modes": list(reply.modes),
            "max_candidates": reply.max_candidates,
            "max_text": reply.max_text,
            "max_batch": reply.max_batch,
            "max_queue": reply.max_queue,
            "rhyme_tones": list(reply.rhyme_tones),
            "rules": {r.name: {"constraint": r.constraint, "zh": r.zh, "en": r.en} for r in reply.rules},
            "tunes": [
                {
                    "name": t.name,
                    "pattern": t.pattern,
                    "line_lengths": list(t.line_lengths),
                    "stanzas": list(t.stanzas),
                    "characters": t.characters,
                    "marks": list(t.marks),
                    "repeats": list(t.repeats),
                }
                for t in reply.tunes
            ],
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "default": json.loads(f.default_json),
                    "zh": f.zh,
                    "en": f.en,
                    "minimum": f.minimum if f.HasField("minimum") else None,
                    "maximum": f.maximum if f.HasField("maximum") else None,
                    "above_minimum": f.above_minimum,
                    "choices": list(f.choices),
                    "nullable": f.nullable,
                }
                for f in reply.fields
            ],
        }

    def health(self) -> bool:
        """True when the model server reports SERVING (False when unreachable or draining)."""
        try:
            reply = health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(), timeout=min(self.timeout, HEALTH_TIMEOUT_S)
            )
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def _open_stream(self, request: poet_pb2.GenerateRequest) -> tuple[grpc.Call, poet_pb2.GenerateStreamReply | None]:
        """Start a stream and wait for its first message, so that UNAVAILABLE surfaces where it is retried."""
        call = self.stub.GenerateStream(request, timeout=self.timeout)
        return call, next(call, None)

    def _retry(self, rpc: Callable[[], T]) -> T:
        """Run rpc, retrying with exponential backoff and jitter on UNAVAILABLE only."""
        attempt = 0
        while True:
            try:
                return rpc()
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt >= self.retries:
                    raise from_rpc_error(error) from None
            time.sleep(min(MAX_BACKOFF_S, BACKOFF_S * 2**attempt) * (0.5 + random.random()))
            attempt += 1


def _event(reply: poet_pb2.GenerateStreamReply) -> Progress | GenerateResult:
    if reply.HasField("progress"):
        return Progress(reply.progress.index, reply.progress.text)
    return result_from_pb(reply.done)
