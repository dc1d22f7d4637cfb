"""What can go wrong talking to the model server, as exceptions a caller can act on; the one place
a failed RPC's status is read."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

# The locales of the LocalizedMessage details the server sends with every error (server/grpc_errors.py).
ZH, EN = "zh-CN", "en-US"
# Refusals grpcio itself writes, in English, before any of the server's own code runs.
GRPC_OWN_MESSAGES = {
    "Concurrent RPC limit exceeded!": (
        "模型服务同时处理的请求已满，请稍后重试",
        "the model server has too many requests in flight; please try again shortly",
    ),
}
BUSY = ("模型服务繁忙", "the model server is busy")
TIMED_OUT = ("模型服务超时", "the model server timed out")


class PoetClientError(Exception):
    """Base class: `zh` and `en` say what went wrong to a person; `message` is both, for one line of text."""

    def __init__(self, zh: str, en: str, code: grpc.StatusCode | None = None):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en, self.code = zh, en, code

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"


class InvalidRequest(PoetClientError):
    """The server refused the request's content (INVALID_ARGUMENT): fix the input."""


class ServerBusy(PoetClientError):
    """The server's queue is full (RESOURCE_EXHAUSTED): try again shortly."""


class ServerUnavailable(PoetClientError):
    """The server cannot be reached, timed out or failed: try again later."""


def localized(error: grpc.RpcError) -> tuple[str, str] | None:
    """The server's (zh, en) from the status details, or None when it sent none (grpcio's own refusals,
    a server that is not ours, a connection that failed)."""
    try:
        status = rpc_status.from_call(error)
    except (AttributeError, ValueError):  # not a grpc.Call, or a status whose details do not match it
        return None
    messages = {}
    for detail in status.details if status else ():
        message = error_details_pb2.LocalizedMessage()
        if detail.Unpack(message):
            messages[message.locale] = message.message
    return (messages[ZH], messages[EN]) if ZH in messages and EN in messages else None


def from_rpc_error(error: grpc.RpcError) -> PoetClientError:
    """The exception a caller should see for a failed RPC."""
    code, details = error.code(), error.details() or ""
    zh, en = localized(error) or GRPC_OWN_MESSAGES.get(details) or (details, details)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidRequest(zh, en, code)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ServerBusy(*((zh, en) if details else BUSY), code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ServerUnavailable(*TIMED_OUT, code)
    return ServerUnavailable(
        f"模型服务不可用（{code.name}）", f"the model server is unavailable ({code.name}: {en})", code
    )
