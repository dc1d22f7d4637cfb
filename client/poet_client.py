"""PoetClient: the Python way to talk to the model server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from google.protobuf.descriptor import FieldDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc

from client.errors import InvalidRequest, PoetClientError, from_rpc_error
from client.settings import ClientSettings, grpc_target
from client.types import FaultOut, GenerateResult, PoemOut, Progress
from model.engine.contract import TYPE_NAMES
from proto.poet.v1 import poet_pb2, poet_pb2_grpc

DEFAULTS = ClientSettings()  # the environment is the caller's to read (ClientSettings.from_env)
FIELDS = tuple(poet_pb2.GenerateRequest.DESCRIPTOR.fields_by_name)  # the request's fields, from the proto
HEALTH_TIMEOUT_S = 5.0
SERVICE = poet_pb2.DESCRIPTOR.services_by_name["Poet"].full_name  # poet.v1.Poet
MAX_ATTEMPTS = 5  # gRPC's cap on a retryPolicy's maxAttempts (it logs an error for more, and clamps)
TYPE_OF_FIELD = {
    FieldDescriptor.CPPTYPE_STRING: str,
    FieldDescriptor.CPPTYPE_INT32: int,
    FieldDescriptor.CPPTYPE_UINT64: int,
    FieldDescriptor.CPPTYPE_FLOAT: float,
    FieldDescriptor.CPPTYPE_BOOL: bool,
}
NO_RESULT = ("模型服务的流没有返回结果就结束了", "the model server's stream ended without a result")
T = TypeVar("T")


def service_config(retries: int) -> str:
    """The channel's service config: round robin over the replicas whose health service says the Poet
    service is SERVING (a draining one gets no new calls), and UNAVAILABLE tried again `retries` times
    with backoff, on another replica where there is one; a stream only until its first message."""
    config: dict[str, Any] = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": SERVICE},
    }
    if retries > 0:
        retry = {
            "maxAttempts": min(retries + 1, MAX_ATTEMPTS),
            "initialBackoff": "0.25s",  # doubled each time up to maxBackoff, with gRPC's jitter
            "maxBackoff": "4s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        }
        config["methodConfig"] = [{"name": [{"service": SERVICE}], "retryPolicy": retry}]
    return json.dumps(config)


def shape_from_pb(shape: poet_pb2.Tune) -> dict:
    """A form's or a tune's shape as a dict: name, pattern, line lengths, stanzas, characters, marks, 叠句."""
    return {
        "name": shape.name,
        "pattern": shape.pattern,
        "line_lengths": list(shape.line_lengths),
        "stanzas": list(shape.stanzas),
        "characters": shape.characters,
        "marks": list(shape.marks),
        "repeats": list(shape.repeats),
    }


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
        """address: one model server, a gRPC target or a comma-separated list (client/settings.py); a
        bilingual ValueError for a list with host names."""
        self.address = address or DEFAULTS.server
        self.timeout = timeout
        options = [("grpc.service_config", service_config(retries))]
        self.channel = grpc.insecure_channel(grpc_target(self.address), options=options)
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
        return result_from_pb(self._call(lambda: self.stub.Generate(request, timeout=self.timeout)))

    def stream(self, **fields: object) -> Iterator[Progress | GenerateResult]:
        """Progress events as characters are decoded, then exactly one GenerateResult
        (a PoetClientError if the stream ends without one)."""
        request = build_request(fields)
        call = self.stub.GenerateStream(request, timeout=self.timeout)
        try:
            done = False
            # Read to the end of the stream (done is last): cancelling right after it would log a CANCELLED call.
            for reply in call:
                done = reply.HasField("done")
                yield _event(reply)
            if not done:
                raise PoetClientError(*NO_RESULT)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            call.cancel()  # the caller stopped early: let the server free the batch rows now (no-op when done)

    def info(self) -> dict:
        """Model name and version, vocabulary size, forms (with their shapes, and the one written where a request
        names none), tunes, modes, rhyme tones, limits, the request's fields and the rules it checks."""
        reply = self._call(lambda: self.stub.GetInfo(poet_pb2.GetInfoRequest(), timeout=self.timeout))
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
            "tunes": [shape_from_pb(t) for t in reply.tunes],
            "form_shapes": [shape_from_pb(t) for t in reply.form_shapes],
            "auto_forms": [
                {"mode": a.mode, "width": a.width, "lines": a.lines, "form": a.form} for a in reply.auto_forms
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
                    "labels": list(f.labels),
                    "nullable": f.nullable,
                }
                for f in reply.fields
            ],
        }

    def health(self) -> bool:
        """True when the model server reports SERVING (False when unreachable or draining); with several,
        when one that the channel takes for healthy does."""
        try:
            reply = health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(), timeout=min(self.timeout, HEALTH_TIMEOUT_S)
            )
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    @staticmethod
    def _call(rpc: Callable[[], T]) -> T:
        """Run a unary rpc (retried by the channel's service config); a failure raises a PoetClientError."""
        try:
            return rpc()
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


def _event(reply: poet_pb2.GenerateStreamReply) -> Progress | GenerateResult:
    if reply.HasField("progress"):
        return Progress(reply.progress.index, reply.progress.text)
    return result_from_pb(reply.done)
