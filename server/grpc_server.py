"""The gRPC model server: poet.v1.Poet over the engine, with health, reflection, draining and metrics.

    python -m server.grpc_server [--host 127.0.0.1] [--port 50051] [--model model/weights]
                                 [--max-batch 64] [--max-queue 256] [--workers 96] [--max-rpcs 512]
                                 [--stream-every 16] [--smooth-streams 4] [--rpc-nice 10] [--grace 10]
                                 [--metrics-port 9464]

Every flag defaults to its environment variable (POET_GRPC_HOST, POET_GRPC_PORT, POET_MODEL, ...:
server/settings.py), read once at start.
SIGTERM or Ctrl-C drains: health turns NOT_SERVING, new Poet calls get UNAVAILABLE, calls in
flight get --grace seconds to finish, then the server and the engine stop and the process exits 0.
Prometheus scrapes http://HOST:METRICS_PORT/metrics (server/metrics.py lists the series).
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import NamedTuple

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from model.engine.engine import Engine, Ticket
from model.engine.router import Router, open_engine
from model.engine.types import PoemResult, Progress
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server import metrics
from server.convert import info_to_pb, progress_to_pb, reply_to_pb, request_from_pb
from server.grpc_errors import CallGate, ErrorInterceptor
from server.settings import ServerSettings

log = logging.getLogger("poet.grpc")
DEFAULTS = ServerSettings()
SERVICE = poet_pb2.DESCRIPTOR.services_by_name["Poet"].full_name  # poet.v1.Poet
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
NO_DEADLINE_S = 1e6  # without a deadline time_remaining() is huge, not None, and waiting that long overflows
# Once the last Poet call has returned, the replies it left get this long to go out before the server
# stops; health watches and reflection streams, which never end by themselves, are cut then.
FLUSH_S = 1.0


class PoetServicer(poet_pb2_grpc.PoetServicer):
    """Converts protobuf to engine calls and back; ErrorInterceptor turns engine errors into status codes."""

    def __init__(
        self,
        engine: Engine | Router,
        stream_every: int = DEFAULTS.stream_every,
        smooth_streams: int = DEFAULTS.smooth_streams,
    ):
        self.engine, self.stream_every, self.smooth_streams = engine, stream_every, smooth_streams
        self.streams = 0  # GenerateStream calls in flight
        self.streams_lock = threading.Lock()

    def Generate(self, request: poet_pb2.GenerateRequest, context: grpc.ServicerContext) -> poet_pb2.GenerateReply:
        """All n poems of one request in one reply."""
        ticket = self._submit(request, context)
        return reply_to_pb(wait(ticket, remaining_s(context)))

    def GenerateStream(
        self, request: poet_pb2.GenerateRequest, context: grpc.ServicerContext
    ) -> Iterator[poet_pb2.GenerateStreamReply]:
        """Progress as the engine decodes, then the finished poems as the last message."""
        # The engine calls back from its decode thread: a queue hands the events to this RPC's thread,
        # and None (put once the result is set, after every progress event) ends the stream.
        events: queue.Queue[Progress | None] = queue.Queue()
        with self.streams_lock:
            self.streams += 1
            every = 1 if self.streams <= self.smooth_streams else self.stream_every
        try:
            ticket = self._submit(request, context, events.put, every)
            ticket.future.add_done_callback(lambda _: events.put(None))
            while (event := next_event(events, ticket, context)) is not None:
                yield progress_to_pb(event)
            yield poet_pb2.GenerateStreamReply(done=reply_to_pb(ticket.result(timeout=0)))
        finally:
            with self.streams_lock:
                self.streams -= 1

    def GetInfo(self, request: poet_pb2.GetInfoRequest, context: grpc.ServicerContext) -> poet_pb2.GetInfoReply:
        """The model and the limits this server runs with."""
        return info_to_pb(self.engine.info())

    def _submit(
        self,
        request: poet_pb2.GenerateRequest,
        context: grpc.ServicerContext,
        on_progress: Callable[[Progress], None] | None = None,
        every: int = 1,
    ) -> Ticket:
        ticket = self.engine.submit(request_from_pb(request), on_progress, every)
        # Runs when the RPC ends for any reason: if the client went away or its deadline passed, decoding
        # stops and the batch rows are freed; after a finished poem cancel() changes nothing.
        if not context.add_callback(ticket.cancel):
            ticket.cancel()  # the RPC had already ended
        return ticket


def remaining_s(context: grpc.ServicerContext) -> float | None:
    """Seconds left before the call's deadline, or None when it has none."""
    left = context.time_remaining()
    return None if left is None or left > NO_DEADLINE_S else left


def wait(ticket: Ticket, timeout: float | None) -> PoemResult:
    """The ticket's result within timeout seconds; on timeout the ticket is cancelled."""
    try:
        return ticket.result(timeout=timeout)
    except TimeoutError:
        ticket.cancel()
        raise TimeoutError from None  # grpc_errors gives its zh and en


def next_event(events: queue.Queue, ticket: Ticket, context: grpc.ServicerContext) -> Progress | None:
    """The stream's next progress event, or None once the result is ready; honours the deadline."""
    try:
        return events.get(timeout=remaining_s(context))
    except queue.Empty:
        ticket.cancel()
        raise TimeoutError from None  # grpc_errors gives its zh and en


def lower_thread_priority(niceness: int) -> None:
    """Make the calling thread nicer by `niceness` (Linux keeps a niceness per thread; elsewhere nothing).
    Runs as the RPC pool's initializer: if it raised, the pool would refuse every RPC."""
    if sys.platform != "linux" or niceness <= 0:
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except OSError as error:  # a sandbox may forbid it: serve at the normal priority
        log.warning("could not lower an RPC thread's priority: %s", error)


class Serving(NamedTuple):
    """A started server, the port it listens on, and what a drain needs."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    gate: CallGate  # every Poet call passes it


def build_server(
    engine: Engine | Router,
    host: str,
    port: int,
    workers: int,
    max_rpcs: int,
    stream_every: int = DEFAULTS.stream_every,
    rpc_niceness: int = DEFAULTS.rpc_nice,
    smooth_streams: int = DEFAULTS.smooth_streams,
) -> Serving:
    """A started server with health and reflection, serving from the first call."""
    pool = futures.ThreadPoolExecutor(
        max_workers=workers, thread_name_prefix="poet-rpc", initializer=lower_thread_priority, initargs=(rpc_niceness,)
    )
    gate = CallGate()
    interceptors = [metrics.MetricsInterceptor(SERVICE), ErrorInterceptor(SERVICE, gate)]  # metrics see the status
    server = grpc.server(pool, interceptors=interceptors, maximum_concurrent_rpcs=max_rpcs)
    poet_pb2_grpc.add_PoetServicer_to_server(PoetServicer(engine, stream_every, smooth_streams), server)
    # Blocking watches: each holds an RPC thread while it lasts, but the non-blocking ones deadlock the server
    # when a watch starts as another ends (grpc/grpc#43403), and clients that check health open and end
    # them all the time.
    health_servicer = health.HealthServicer(experimental_non_blocking=False)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE, HEALTH_SERVICE, reflection.SERVICE_NAME), server)
    bound = server.add_insecure_port(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")  # IPv6 in brackets
    for name in ("", SERVICE):  # the engine is loaded already: serving from the first call
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    server.start()
    return Serving(server, bound, health_servicer, gate)


def drain(serving: Serving, engine: Engine | Router, grace: float) -> None:
    """NOT_SERVING, refuse new Poet calls, let those in flight finish within grace seconds, then stop."""
    log.info("draining: NOT_SERVING, %.0f s for calls in flight", grace)
    started = time.monotonic()
    serving.gate.close()  # first, so that a client told NOT_SERVING finds new calls refused
    serving.health.enter_graceful_shutdown()
    # The server keeps running meanwhile, so that health checks answer NOT_SERVING rather than UNAVAILABLE.
    if not serving.gate.wait_idle(grace):
        log.warning("grace period over: cancelling the calls still in flight")
    left = max(0.0, grace - (time.monotonic() - started))
    serving.server.stop(min(left, FLUSH_S)).wait()
    engine.close()
    log.info("stopped")


def parse_args(argv: list[str] | None, defaults: ServerSettings) -> argparse.Namespace:
    """Flags, each defaulting to its setting (read from the environment by main)."""
    parser = argparse.ArgumentParser(
        prog="python -m server.grpc_server", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port, help="0 picks a free port")
    parser.add_argument("--model", type=Path, default=defaults.model, help="weights folder with openvino/decoder.xml")
    parser.add_argument("--max-batch", type=int, default=defaults.max_batch, help="candidates decoded together")
    parser.add_argument(
        "--max-queue", type=int, default=defaults.max_queue, help="requests waiting before RESOURCE_EXHAUSTED"
    )
    parser.add_argument(
        "--line-choices",
        type=int,
        default=defaults.line_choices,
        help="versions of a 律诗's lines 4 and 6 written, the most parallel kept (1: the first)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="threads for RPCs; a stream holds one for its whole life, and so does each client process's health watch",
    )
    parser.add_argument(
        "--max-rpcs", type=int, default=defaults.max_rpcs, help="concurrent RPCs before RESOURCE_EXHAUSTED"
    )
    parser.add_argument(
        "--stream-every",
        type=int,
        default=defaults.stream_every,
        help="characters per progress message of a stream started under load (1: every "
        "character); the first character, a line cut back for re-sampling and the "
        "finished poem go at once",
    )
    parser.add_argument(
        "--smooth-streams",
        type=int,
        default=defaults.smooth_streams,
        help="streams in flight up to which every character is sent (0: always --stream-every)",
    )
    parser.add_argument(
        "--rpc-nice",
        type=int,
        default=defaults.rpc_nice,
        help="how much nicer the RPC threads run than the decode thread (0: the same)",
    )
    parser.add_argument("--grace", type=float, default=defaults.grace, help="seconds calls in flight get on SIGTERM")
    parser.add_argument(
        "--metrics-port", type=int, default=defaults.metrics_port, help="port of /metrics on --host (0: no metrics)"
    )
    return parser.parse_args(argv)


def check_options(args: argparse.Namespace) -> None:
    """Stop with a message for an option out of its range, before anything starts."""
    if args.stream_every < 1:
        raise SystemExit("--stream-every must be at least 1")
    if args.smooth_streams < 0:
        raise SystemExit("--smooth-streams must not be negative")
    if not 0 <= args.rpc_nice <= 19:
        raise SystemExit("--rpc-nice must be between 0 and 19")
    if args.line_choices < 1:
        raise SystemExit("--line-choices must be at least 1")
    if not 0 <= args.metrics_port <= 65535:
        raise SystemExit("--metrics-port must be between 0 and 65535")


def open_measured_engine(args: argparse.Namespace) -> Engine | Router:
    """Serve /metrics, then load the engine it measures: a metrics port that is taken stops the server
    before the model loads."""
    try:
        metrics.serve(args.host, args.metrics_port)
    except OSError as error:
        raise SystemExit(f"--metrics-port {args.metrics_port}: {error.strerror}") from None
    engine = open_engine(
        args.model,
        max_batch=args.max_batch,
        max_queue=args.max_queue,
        line_choices=args.line_choices,
        on_step=metrics.observe_step,
    )
    metrics.watch(engine)
    return engine


def main(argv: list[str] | None = None) -> None:
    """Load the model, serve until SIGTERM or Ctrl-C, then drain and exit 0."""
    args = parse_args(argv, ServerSettings.from_env())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    check_options(args)
    engine = open_measured_engine(args)
    serving = build_server(
        engine, args.host, args.port, args.workers, args.max_rpcs, args.stream_every, args.rpc_nice, args.smooth_streams
    )
    info = engine.info()
    log.info(
        "gRPC server listening on %s:%d (model %s %s)",
        args.host,
        serving.port,
        info["model_name"],
        info["model_version"],
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    drain(serving, engine, args.grace)


if __name__ == "__main__":
    main()
