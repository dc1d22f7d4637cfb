"""Engine errors become gRPC status codes here, in one interceptor that also logs each RPC,
refuses requests that are not protobuf and counts calls in flight for the drain on SIGTERM."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from model.engine.contract import echo
from model.engine.types import CancelledError, OverloadedError, PoemRequest, PoetryError

log = logging.getLogger("poet.grpc")


class MalformedRequest(Exception):
    """The request bytes are not a valid protobuf message of the method's request type."""


class ShuttingDown(Exception):
    """The server is draining: it finishes the calls in flight and takes no new ones."""


# Each engine error, its status code, and the message to use when the error carries no zh and en of
# its own (a future's TimeoutError is bare; the engine's PoetryError has both).
STATUS_OF = (
    (PoetryError, grpc.StatusCode.INVALID_ARGUMENT, ("请求无效", "invalid request")),
    (OverloadedError, grpc.StatusCode.RESOURCE_EXHAUSTED, ("服务繁忙", "the server is busy")),
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED, ("超时", "deadline exceeded")),
    (CancelledError, grpc.StatusCode.CANCELLED, ("请求已取消", "the request was cancelled")),
    (
        MalformedRequest,
        grpc.StatusCode.INVALID_ARGUMENT,
        ("请求不是有效的 protobuf 消息", "the request is not a valid protobuf message"),
    ),
    (ShuttingDown, grpc.StatusCode.UNAVAILABLE, ("服务正在关闭", "the server is shutting down")),
)
INTERNAL_MESSAGE = ("服务器内部错误", "internal server error")
DEFAULT = PoemRequest()  # what a field the client left unset stands for, in the log
# The locales of the two google.rpc.LocalizedMessage details every error carries; client/errors.py reads them.
ZH, EN = "zh-CN", "en-US"


def status_of(error: Exception) -> tuple[grpc.StatusCode, str, str]:
    """The status code and the (zh, en) messages a client should see for an exception from the servicer."""
    for kind, code, (zh, en) in STATUS_OF:
        if isinstance(error, kind):
            return code, getattr(error, "zh", zh), getattr(error, "en", en)
    return grpc.StatusCode.INTERNAL, *INTERNAL_MESSAGE


def rich_status(code: grpc.StatusCode, zh: str, en: str) -> grpc.Status:
    """A status whose zh and en travel apart, as LocalizedMessage details (trailer grpc-status-details-bin);
    its plain message "zh / en" is for readers without them, such as grpcurl."""
    details = []
    for locale, message in ((ZH, zh), (EN, en)):
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.LocalizedMessage(locale=locale, message=message))
        details.append(detail)
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=f"{zh} / {en}", details=details))


class CallGate:
    """Counts the calls in flight; once closed it refuses new ones, and a drain waits for the rest."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._in_flight, self._closed = 0, False

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold the gate for one call; ShuttingDown once it is closed."""
        with self._idle:
            if self._closed:
                raise ShuttingDown()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def close(self) -> None:
        """Refuse new calls from now on."""
        with self._idle:
            self._closed = True

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to timeout seconds for the calls in flight; True once none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)


def lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """The deserializer, returning a MalformedRequest instead of raising: gRPC would answer INTERNAL."""

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # protobuf's DecodeError, or a string field that is not UTF-8
            return MalformedRequest()

    return deserialize


class RpcRecord:
    """One RPC's request id, timings and outcome; `log()` writes its single structured line."""

    def __init__(self, method: str, request: Any):
        self.id = uuid.uuid4().hex[:12]
        self.method, self.request = method, request
        self.started = time.perf_counter()
        self.first_ms: float | None = None  # streams: time to the first message
        self.code = grpc.StatusCode.OK

    def mark_first(self) -> None:
        """Note the time of a stream's first message."""
        if self.first_ms is None:
            self.first_ms = self._ms()

    def fail(self, error: Exception, context: grpc.ServicerContext) -> None:
        """Record the failure and end the RPC with its status (context.abort raises)."""
        if context.code() not in (None, grpc.StatusCode.OK):  # the servicer aborted on purpose already
            self.code = context.code()
            raise error
        self.code, zh, en = status_of(error)
        if self.code == grpc.StatusCode.INTERNAL:
            log.exception("rpc id=%s failed", self.id, exc_info=error)
        context.abort_with_status(rich_status(self.code, zh, en))

    def log(self) -> None:
        """Write the RPC's line: id, method, mode/form/n, status and timings. The request's own strings are
        escaped and cut short (echo), so that a newline cannot forge a line nor a 3 MB mode write one."""
        fields = {"id": self.id, "method": self.method}
        if hasattr(self.request, "mode"):
            request = self.request
            fields |= {
                "mode": echo(request.mode or DEFAULT.mode),
                "form": echo(request.form or "-"),
                "n": request.n if request.HasField("n") else DEFAULT.n,
            }
        fields |= {"status": self.code.name, "ms": f"{self._ms():.1f}"}
        if self.first_ms is not None:
            fields["first_ms"] = f"{self.first_ms:.1f}"
        log.info("rpc %s", " ".join(f"{key}={value}" for key, value in fields.items()))

    def _ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class ErrorInterceptor(grpc.ServerInterceptor):
    """Wraps every method of one service: exceptions become status codes, each call one log line,
    and every call passes `gate` (so a drain knows when the last one is done)."""

    def __init__(self, service: str, gate: CallGate):
        self.prefix, self.gate = f"/{service}/", gate

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        """The service's handler with its behaviour wrapped; other services (health, reflection) as they are."""
        handler = continuation(details)
        if handler is None or not details.method.startswith(self.prefix):
            return handler
        method = details.method[len(self.prefix) :]
        deserializer = lenient(handler.request_deserializer)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, method, self.gate), deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _stream(handler.unary_stream, method, self.gate), deserializer, handler.response_serializer
            )
        return handler


def _unary(behaviour: Callable, method: str, gate: CallGate) -> Callable:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
        record = RpcRecord(method, request)
        try:
            with gate.call():
                if isinstance(request, MalformedRequest):
                    raise request
                return behaviour(request, context)
        except Exception as error:
            record.fail(error, context)
        finally:
            record.log()

    return wrapped


def _stream(behaviour: Callable, method: str, gate: CallGate) -> Callable:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        record = RpcRecord(method, request)
        try:
            with gate.call():  # held until the stream ends, however it ends
                if isinstance(request, MalformedRequest):
                    raise request
                for reply in behaviour(request, context):
                    record.mark_first()
                    yield reply
        except GeneratorExit:  # gRPC dropped the stream: the client went away
            record.code = grpc.StatusCode.CANCELLED
            raise
        except Exception as error:
            record.fail(error, context)
        finally:
            record.log()

    return wrapped
