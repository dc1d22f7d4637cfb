"""What can go wrong talking to the model server, as exceptions a caller can act on."""
from __future__ import annotations

import grpc

# Refusals grpcio itself writes, in English, before any of the server's own (bilingual) code runs.
GRPC_OWN_MESSAGES = {
    "Concurrent RPC limit exceeded!": "模型服务同时处理的请求已满，请稍后重试 / "
                                      "the model server has too many requests in flight; please try again shortly",
}


class PoetClientError(Exception):
    """Base class: `message` is the text to show a person (bilingual when the server wrote it)."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None):
        super().__init__(message)
        self.message, self.code = message, code


class InvalidRequest(PoetClientError):
    """The server refused the request's content (INVALID_ARGUMENT): fix the input."""


class ServerBusy(PoetClientError):
    """The server's queue is full (RESOURCE_EXHAUSTED): try again shortly."""


class ServerUnavailable(PoetClientError):
    """The server cannot be reached, timed out or failed: try again later."""


def from_rpc_error(error: grpc.RpcError) -> PoetClientError:
    """The exception a caller should see for a failed RPC."""
    code, details = error.code(), error.details() or ""
    details = GRPC_OWN_MESSAGES.get(details, details)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidRequest(details, code)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ServerBusy(details or "模型服务繁忙 / the model server is busy", code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ServerUnavailable("模型服务超时 / the model server timed out", code)
    return ServerUnavailable(f"模型服务不可用 / the model server is unavailable ({code.name}: {details})", code)
