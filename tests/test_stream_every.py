"""The model server streams every character while few streams are in flight, and coalesces past that."""

from __future__ import annotations

from concurrent.futures import Future

from model.engine.types import Progress
from proto.poet.v1 import poet_pb2
from server.grpc_server import PoetServicer


class Ticket:
    def __init__(self) -> None:
        self.future: Future = Future()

    def cancel(self) -> None:
        pass


class Engine:
    """Records each request's progress_every; tells the first character at once and never finishes."""

    def __init__(self) -> None:
        self.every: list[int] = []

    def submit(self, request, on_progress, progress_every: int) -> Ticket:
        self.every.append(progress_every)
        on_progress(Progress(0, "春"))
        return Ticket()


class Context:
    def add_callback(self, callback) -> bool:
        return True

    def time_remaining(self) -> None:
        return None


def open_stream(servicer: PoetServicer):
    """A stream that has submitted its request and sent its first character."""
    stream = servicer.GenerateStream(poet_pb2.GenerateRequest(), Context())
    assert next(stream).progress.text == "春"
    return stream


def test_every_character_while_the_server_has_room_then_every_few() -> None:
    engine = Engine()
    servicer = PoetServicer(engine, stream_every=16, smooth_streams=2)
    streams = [open_stream(servicer) for _ in range(3)]
    assert engine.every == [1, 1, 16]
    for stream in streams:
        stream.close()  # the client went away: the stream no longer counts
    assert servicer.streams == 0
    open_stream(servicer).close()
    assert engine.every[-1] == 1
