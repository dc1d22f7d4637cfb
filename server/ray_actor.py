"""One worker of the Ray batch job (server.ray_batch): an engine in the actor's own process, no gRPC.

Its calls run together on the actor's event loop, each awaiting its ticket, so that the engine decodes
every line in flight in one batch (continuous batching), as it does for the model server's RPCs. It lives
in a module of its own so that Ray ships it to the workers by name, not pickled from the driver's __main__.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import ray

from client.batch_io import REQUEST_FIELDS, with_poems
from model.engine.router import open_engine
from model.engine.types import PoemRequest, PoetryError


def poem_request(request: dict) -> PoemRequest:
    """The engine's request from a line's fields; a null or empty one takes its default, as over gRPC
    (where an empty string is an unset field), so that a line means the same to both batch scripts."""
    return PoemRequest(**{name: request[name] for name in REQUEST_FIELDS if request.get(name) not in (None, "")})


@ray.remote
class PoetActor:
    """Holds one engine for its life; `write` turns a request line into its OUT record."""

    def __init__(self, model_dir: str, threads: int, max_batch: int, max_queue: int, line_choices: int):
        self.engine = open_engine(
            Path(model_dir), max_batch=max_batch, max_queue=max_queue, threads=threads, line_choices=line_choices
        )

    def model(self) -> str:
        """The model's name and version; answering it also says the engine is loaded."""
        info = self.engine.info()
        return f"{info['model_name']} {info['model_version']}"

    async def write(self, request: dict) -> dict:
        """The request plus its poems, or plus the error the engine refused it with."""
        try:
            ticket = self.engine.submit(poem_request(request))
        except PoetryError as error:
            return request | {"error": str(error)}
        return with_poems(request, await asyncio.wrap_future(ticket.future))
