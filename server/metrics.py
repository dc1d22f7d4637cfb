"""The model server's Prometheus series, all named poet_*, and what records them: an interceptor for the
calls, the engine's step callback for the decode steps, and gauges read from the engine at each scrape.

Characters per second is `rate(poet_characters_total[1m])`; poems per second `rate(poet_poem_seconds_count[1m])`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from model.engine.engine import Engine
from model.engine.router import Router
from model.engine.types import MODES, PoemRequest
from model.forms import FORMS, tunes
from proto.poet.v1 import poet_pb2

log = logging.getLogger("poet.metrics")
# Labels take only these values (anything else is "other"), so that no request can add a series.
KNOWN_FORMS = frozenset(FORMS) | frozenset(tunes())

REQUESTS = Counter(
    "poet_requests", "Poet calls by method, mode, form and status code", ["method", "mode", "form", "status"]
)
QUEUE_DEPTH = Gauge("poet_queue_depth", "Requests waiting for room in the decode batch")
BATCH_ROWS = Gauge("poet_batch_rows", "Candidates being decoded now, one batch row each")
STEP_SECONDS = Histogram(
    "poet_decode_step_seconds",
    "Seconds per decode step (one character for every row of the batch)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
POEM_SECONDS = Histogram(
    "poet_poem_seconds",
    "Seconds from a Generate or GenerateStream call to its finished poems",
    ["method"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0),
)
CHARACTERS = Counter("poet_characters", "Characters of the finished poems sent (their lines, without marks)")


def request_labels(request: Any) -> tuple[str, str]:
    """A call's mode and form labels: "-" for GetInfo and for bytes that are not a request."""
    if not isinstance(request, poet_pb2.GenerateRequest):
        return "-", "-"
    mode = request.mode or PoemRequest.mode  # an empty mode is the engine's default
    form = "auto" if not request.form else request.form if request.form in KNOWN_FORMS else "other"
    return (mode if mode in MODES else "other"), form


def poems_in(reply: Any) -> list[poet_pb2.Poem] | None:
    """The poems of a Generate reply or of a stream's last message; None for anything else."""
    if isinstance(reply, poet_pb2.GenerateStreamReply) and reply.HasField("done"):
        reply = reply.done
    return list(reply.poems) if isinstance(reply, poet_pb2.GenerateReply) else None


class CallRecord:
    """One call's labels and start; `finish` counts it, and times and measures its poems."""

    def __init__(self, method: str, request: Any):
        self.method = method
        self.mode, self.form = request_labels(request)
        self.started = time.perf_counter()

    def finish(self, code: grpc.StatusCode, last_reply: Any) -> None:
        """Record the call's status, and for finished poems their latency and characters."""
        REQUESTS.labels(self.method, self.mode, self.form, code.name).inc()
        poems = poems_in(last_reply)
        if code == grpc.StatusCode.OK and poems is not None:
            POEM_SECONDS.labels(self.method).observe(time.perf_counter() - self.started)
            CHARACTERS.inc(sum(len(line) for poem in poems for line in poem.lines))


def status_of(context: grpc.ServicerContext, returned: bool) -> grpc.StatusCode:
    """The status the call ends with: the one it was aborted with, else OK once it returned, else
    UNKNOWN (what gRPC sends for an exception nobody turned into a status)."""
    return context.code() or (grpc.StatusCode.OK if returned else grpc.StatusCode.UNKNOWN)


class MetricsInterceptor(grpc.ServerInterceptor):
    """Records every call of one service. It goes first in the server's interceptors, outside the one
    that turns errors into status codes, so that it sees the status each call ends with."""

    def __init__(self, service: str):
        self.prefix = f"/{service}/"

    def intercept_service(self, continuation: Callable, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        """The service's handlers, recorded; other services (health, reflection) as they are."""
        handler = continuation(details)
        if handler is None or not details.method.startswith(self.prefix):
            return handler
        method = details.method[len(self.prefix) :]
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(handler.unary_unary, method), handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _stream(handler.unary_stream, method), handler.request_deserializer, handler.response_serializer
            )
        return handler


def _unary(behaviour: Callable, method: str) -> Callable:
    def recorded(request: Any, context: grpc.ServicerContext) -> Any:
        record, reply = CallRecord(method, request), None
        try:
            reply = behaviour(request, context)
            return reply
        finally:
            record.finish(status_of(context, reply is not None), reply)

    return recorded


def _stream(behaviour: Callable, method: str) -> Callable:
    def recorded(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        record, reply, code = CallRecord(method, request), None, None
        try:
            with closing(behaviour(request, context)) as replies:  # closing: a dropped stream reaches the servicer
                for reply in replies:
                    yield reply
            code = status_of(context, returned=True)
        except GeneratorExit:  # gRPC dropped the stream: the client went away
            code = grpc.StatusCode.CANCELLED
            raise
        finally:
            record.finish(code or status_of(context, returned=False), reply)

    return recorded


def observe_step(seconds: float) -> None:
    """The engine's step callback: one decode step took `seconds`."""
    STEP_SECONDS.observe(seconds)


def watch(engine: Engine | Router) -> None:
    """Queue depth and batch rows, read from the engine's own state at each scrape."""
    engines = [engine.regular, engine.ci] if isinstance(engine, Router) else [engine]
    QUEUE_DEPTH.set_function(lambda: sum(len(e.waiting) for e in engines))
    BATCH_ROWS.set_function(lambda: sum(len(e.live) for e in engines))


def serve(host: str, port: int) -> None:
    """Serve /metrics on host:port from a thread of its own (port 0: not at all)."""
    if port:
        start_http_server(port, addr=host)
        log.info("metrics on http://%s/metrics", f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
