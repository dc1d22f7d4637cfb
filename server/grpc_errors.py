"""Engine errors become gRPC status codes here, in one interceptor that also logs each RPC."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from model.engine.types import CancelledError, OverloadedError, PoetryError

log = logging.getLogger("poet.grpc")
# Each engine error, its status code, and the message to use when the error carries none
# (a future's TimeoutError is bare); the engine's own bilingual message is passed on otherwise.
STATUS_OF = (
    (PoetryError, grpc.StatusCode.INVALID_ARGUMENT, "请求无效 / invalid request"),
    (OverloadedError, grpc.StatusCode.RESOURCE_EXHAUSTED, "服务繁忙 / the server is busy"),
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED, "超时 / deadline exceeded"),
    (CancelledError, grpc.StatusCode.CANCELLED, "请求已取消 / the request was cancelled"),
)
INTERNAL_MESSAGE = "服务器内部错误 / internal server error"


def status_of(error: Exception) -> tuple[grpc.StatusCode, str]:
    """The status code and message a client should see for an exception from the servicer."""
    for kind, code, fallback in STATUS_OF:
        if isinstance(error, kind):
            return code, str(error) or fallback
    return grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE


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
        self.code, message = status_of(error)
        if self.code == grpc.StatusCode.INTERNAL:
            log.exception("rpc id=%s failed", self.id, exc_info=error)
        context.abort(self.code, message)

    def log(self) -> None:
        """Write the RPC's line: id, method, mode/form/n, status and timings."""
        fields = {"id": self.id, "method": self.method}
        if hasattr(self.request, "mode"):
            request = self.request
            fields |= {"mode": request.mode or "random", "form": request.form or "-",
                       "n": request.n if request.HasField("n") else 1}
        fields |= {"status": self.code.name, "ms": f"{self._ms():.1f}"}
        if self.first_ms is not None:
            fields["first_ms"] = f"{self.first_ms:.1f}"
        log.info("rpc %s", " ".join(f"{key}={value}" for key, value in fields.items()))

    def _ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class ErrorInterceptor(grpc.ServerInterceptor):
    """Wraps every method of one service: exceptions become status codes, each call one log line."""

    def __init__(self, service: str):
        self.prefix = f"/{service}/"

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        """The service's handler with its behaviour wrapped; other services (health, reflection) as they are."""
        handler = continuation(details)
        if handler is None or not details.method.startswith(self.prefix):
            return handler
        method = details.method[len(self.prefix):]
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, method), handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _stream(handler.unary_stream, method), handler.request_deserializer, handler.response_serializer)
        return handler


def _unary(behaviour: Callable, method: str) -> Callable:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
        record = RpcRecord(method, request)
        try:
            return behaviour(request, context)
        except Exception as error:
            record.fail(error, context)
        finally:
            record.log()

    return wrapped


def _stream(behaviour: Callable, method: str) -> Callable:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        record = RpcRecord(method, request)
        try:
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
