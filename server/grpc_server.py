"""The gRPC model server: poet.v1.Poet over the engine, with health, reflection and draining.

    python -m server.grpc_server [--host 127.0.0.1] [--port 50051] [--model model/weights]
"""
from __future__ import annotations

import argparse
import itertools
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from model.engine import Engine, Ticket
from model.engine.types import CancelledError, OverloadedError, PoetryError, Progress
from proto.poet.v1 import poet_pb2, poet_pb2_grpc
from server.convert import info_to_pb, progress_to_pb, reply_to_pb, request_from_pb

log = logging.getLogger("poet.grpc")
ROOT = Path(__file__).resolve().parent.parent
SERVICE = poet_pb2.DESCRIPTOR.services_by_name["Poet"].full_name
_request_ids = itertools.count(1)


class PoetServicer(poet_pb2_grpc.PoetServicer):
    """Converts protobuf to engine calls and back; engine errors become status codes."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def Generate(self, request: poet_pb2.GenerateRequest, context: grpc.ServicerContext) -> poet_pb2.GenerateReply:
        with RpcLog("Generate", request, context):
            ticket = self._submit(request, context)
            return reply_to_pb(self._wait(ticket, context))

    def GenerateStream(self, request: poet_pb2.GenerateRequest,
                       context: grpc.ServicerContext) -> Iterator[poet_pb2.GenerateStreamReply]:
        with RpcLog("GenerateStream", request, context):
            updates: queue.Queue[Progress] = queue.Queue()
            ticket = self._submit(request, context, updates.put)
            while not ticket.future.done():
                try:
                    yield progress_to_pb(updates.get(timeout=self._poll_interval(context)))
                except queue.Empty:
                    self._check_deadline(ticket, context)
            while not updates.empty():
                yield progress_to_pb(updates.get())
            yield poet_pb2.GenerateStreamReply(done=reply_to_pb(self._wait(ticket, context)))

    def GetInfo(self, request: poet_pb2.GetInfoRequest, context: grpc.ServicerContext) -> poet_pb2.GetInfoReply:
        return info_to_pb(self.engine.info())

    def _submit(self, request: poet_pb2.GenerateRequest, context: grpc.ServicerContext, on_progress=None) -> Ticket:
        try:
            ticket = self.engine.submit(request_from_pb(request), on_progress)
        except PoetryError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except OverloadedError as error:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(error))
        context.add_callback(ticket.cancel)  # the client went away or the deadline passed: free the rows
        return ticket

    def _wait(self, ticket: Ticket, context: grpc.ServicerContext):
        try:
            return ticket.result(timeout=context.time_remaining())
        except TimeoutError:
            ticket.cancel()
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "超时 / deadline exceeded")
        except CancelledError as error:
            context.abort(grpc.StatusCode.CANCELLED, str(error))

    @staticmethod
    def _poll_interval(context: grpc.ServicerContext) -> float:
        remaining = context.time_remaining()
        return 0.5 if remaining is None else max(0.0, min(0.5, remaining))

    def _check_deadline(self, ticket: Ticket, context: grpc.ServicerContext) -> None:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            ticket.cancel()
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "超时 / deadline exceeded")


class RpcLog:
    """One structured log line per RPC: id, method, mode/form, status and time."""

    def __init__(self, method: str, request: poet_pb2.GenerateRequest, context: grpc.ServicerContext):
        self.method, self.request, self.context = method, request, context
        self.id = next(_request_ids)

    def __enter__(self) -> RpcLog:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        code = self.context.code() if error is not None else grpc.StatusCode.OK
        log.info("rpc id=%d method=%s mode=%s form=%s n=%s status=%s ms=%.1f", self.id, self.method,
                 self.request.mode or "random", self.request.form or "-", self.request.n if self.request.HasField("n") else 1,
                 getattr(code, "name", code), (time.perf_counter() - self.started) * 1000)


def build_server(engine: Engine, host: str, port: int, workers: int,
                 max_rpcs: int) -> tuple[grpc.Server, int, health.HealthServicer]:
    """A started server; returns it, the port it listens on and its health servicer."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), maximum_concurrent_rpcs=max_rpcs)
    poet_pb2_grpc.add_PoetServicer_to_server(PoetServicer(engine), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = (SERVICE, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME)
    reflection.enable_server_reflection(names, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    for name in ("", SERVICE):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, bound, health_servicer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=env("POET_GRPC_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("POET_GRPC_PORT", "50051")), help="0 picks a free port")
    parser.add_argument("--model", type=Path, default=Path(env("POET_MODEL", ROOT / "model" / "weights")))
    parser.add_argument("--max-batch", type=int, default=int(env("POET_MAX_BATCH", "64")))
    parser.add_argument("--max-queue", type=int, default=int(env("POET_MAX_QUEUE", "256")))
    parser.add_argument("--workers", type=int, default=int(env("POET_GRPC_WORKERS", "96")),
                        help="threads for RPCs; a stream holds one for its whole life")
    parser.add_argument("--max-rpcs", type=int, default=int(env("POET_MAX_RPCS", "512")),
                        help="concurrent RPCs before RESOURCE_EXHAUSTED")
    parser.add_argument("--grace", type=float, default=float(env("POET_GRACE", "10")), help="seconds to drain on SIGTERM")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = Engine(args.model, max_batch=args.max_batch, max_queue=args.max_queue)
    server, port, health_servicer = build_server(engine, args.host, args.port, args.workers, args.max_rpcs)
    log.info("gRPC server listening on %s:%d (model %s %s)", args.host, port, engine.model_name, engine.model_version)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    log.info("draining: NOT_SERVING, %.0f s for in-flight calls", args.grace)
    health_servicer.enter_graceful_shutdown()
    server.stop(args.grace).wait()
    engine.close()
    log.info("stopped")


if __name__ == "__main__":
    main()
