"""The Python client of the bert-poet model server: `from client import PoetClient`."""

from client.errors import InvalidRequest, PoetClientError, ServerBusy, ServerUnavailable
from client.poet_client import PoetClient
from client.types import GenerateResult, PoemOut, Progress

__all__ = [
    "PoetClient",
    "GenerateResult",
    "PoemOut",
    "Progress",
    "PoetClientError",
    "InvalidRequest",
    "ServerBusy",
    "ServerUnavailable",
]
