"""The web app: the poetry studio page and a JSON / Server-Sent Events API over client.PoetClient."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import opencc
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from client import PoetClient
from client.errors import InvalidRequest, PoetClientError, ServerBusy, ServerUnavailable
from client.settings import ClientSettings
from client.types import Progress
from server import pinyin, web_metrics
from server.web_validation import WebError, error_body, parse_convert, parse_generate, parse_query

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("poet.web")
bp = Blueprint("web", __name__)

MAX_REQUEST_BYTES = 16 * 1024  # a generate request is a few hundred bytes
HEALTH_TIMEOUT_S = 3.0  # the status chip should not wait as long as a poem
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
UNAVAILABLE = ("模型服务未启动或无法连接，请稍后重试", "the model server is not reachable; please try again shortly")
BUSY = ("模型服务繁忙，请稍后重试", "the model server is busy; please try again shortly")
UPSTREAM = ("模型服务出错，请重试", "the model server failed; please try again")
RETRY_AFTER = {"Retry-After": "2"}  # seconds: a restarting model server or a full queue clears in a few
HTTP_ZH = {404: "没有这个地址", 405: "不支持这种请求方法", 413: "请求过大", 400: "请求有误"}
_clients_lock = threading.Lock()  # waitress's threads ask for the app's clients at once
_convert_lock = threading.Lock()  # one OpenCC converter object is shared by waitress's threads


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app, reading the client's settings from the environment once; tests pass config such
    as CLIENT_FACTORY, a fake PoetClient class."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    client = ClientSettings.from_env()
    app.config.from_mapping(
        POET_SERVER=client.server,
        POET_TIMEOUT=client.timeout,
        POET_RETRIES=client.retries,
        CLIENT_FACTORY=PoetClient,  # called as factory(address=, timeout=, retries=) once per timeout, then kept
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        DEBUG=False,  # Flask reads FLASK_DEBUG into DEBUG; the debugger must never face the network
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # poems stay readable in the JSON
    app.json.sort_keys = False  # fields in the documented order
    app.extensions["poet_clients"] = {}  # timeout → PoetClient (poet_client)
    app.register_blueprint(bp)
    app.register_blueprint(pinyin.bp)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    web_metrics.register(app)  # and /metrics
    return app


def poet_client(timeout: float | None = None) -> PoetClient:
    """The app's client for calls with this timeout, made at its first use and kept: one channel, with
    its connections and health watches to every replica, serves all of waitress's threads (a gRPC
    channel is thread-safe), so a request pays for no connection and the replicas share the load."""
    config, clients = current_app.config, current_app.extensions["poet_clients"]
    timeout = timeout or config["POET_TIMEOUT"]
    with _clients_lock:
        if timeout not in clients:
            clients[timeout] = config["CLIENT_FACTORY"](
                address=config["POET_SERVER"], timeout=timeout, retries=config["POET_RETRIES"]
            )
        return clients[timeout]


def json_body() -> Any:
    """The request's JSON whatever its Content-Type says, or a WebError."""
    data = request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise WebError("请求不是有效的 JSON", "the request body is not valid JSON") from None
    except RecursionError:  # thousands of nested brackets: json's decoder recurses once per level
        raise WebError("请求的 JSON 嵌套过深", "the request body's JSON is nested too deeply") from None


def sse(event: str, data: dict) -> str:
    """One Server-Sent Event; compact JSON never spans lines."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def encode_item(item: Any) -> str:
    """A stream item as an event: progress while writing, done with the whole result."""
    if isinstance(item, Progress):
        return sse("progress", {"index": item.index, "text": item.text})
    return sse("done", item.to_dict())


@bp.get("/")
def index() -> str:
    """The studio page: its script builds the modes, forms and limits from /api/info and reads a shared
    link's ?mode=&form=&text= itself."""
    return render_template("index.html")


@bp.post("/api/generate")
def generate() -> Response:
    """Write poems and answer when all are finished."""
    params = parse_generate(json_body())
    result = poet_client().generate(**params)
    return jsonify(result.to_dict())


@bp.route("/api/stream", methods=["GET", "POST"])
def stream() -> Response:
    """Write poems as Server-Sent Events: progress per character, then done (or error)."""
    params = parse_generate(json_body()) if request.method == "POST" else parse_query(request.args)
    if request.method == "HEAD":  # Flask answers HEAD with the GET view: checked, headers only, no poem written
        return Response(mimetype="text/event-stream")
    stack = ExitStack()
    try:
        items = poet_client().stream(**params)
        stack.callback(getattr(items, "close", lambda: None))  # cancels the RPC if the browser leaves
        # The first item is awaited here, so a refused request gets a real 400/503 status, not a 200 stream.
        # PoetClient.stream() always yields a result or raises, so there is a first item.
        first = next(items)
    except BaseException:
        stack.close()
        raise
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(stream_events(first, items, stack), mimetype="text/event-stream", headers=headers)
    response.call_on_close(stack.close)  # also when the body is never read (a client gone at once)
    return response


def stream_events(first: Any, items: Iterator[Any], stack: ExitStack) -> Iterator[str]:
    """The events of a stream already started; failures after the start become an error event."""
    with stack:
        try:
            for item in chain([first], items):
                yield encode_item(item)
        except PoetClientError as error:
            body, _ = client_error_response(error)
            yield sse("error", body)
        except Exception:  # the status line has gone already: tell the page rather than cut the stream
            log.exception("stream failed")
            yield sse("error", error_body(*UPSTREAM))


@bp.get("/api/health")
def health() -> tuple[Response, int] | tuple[Response, int, dict]:
    """200 when the model server is serving, 503 otherwise."""
    try:
        serving = poet_client(HEALTH_TIMEOUT_S).health()
    except PoetClientError:
        serving = False
    if serving:
        return jsonify({"web": "ok", "model": "SERVING"}), 200
    return jsonify({"web": "ok", "model": "UNAVAILABLE", **error_body(*UNAVAILABLE)}), 503, RETRY_AFTER


@bp.get("/api/info")
def info() -> Response:
    """What the model server says about itself: model, modes, forms, tunes, the request's fields and limits."""
    return jsonify(poet_client(HEALTH_TIMEOUT_S).info())


@bp.post("/api/convert")
def convert() -> Response:
    """Simplified ↔ traditional characters with OpenCC."""
    text, config = parse_convert(json_body())
    with _convert_lock:
        converted = converter(config).convert(text)
    return jsonify({"text": converted})


@lru_cache(maxsize=2)
def converter(config: str) -> opencc.OpenCC:
    """One OpenCC converter per direction; loading its dictionaries takes a while."""
    return opencc.OpenCC(config)


def client_error_response(error: PoetClientError) -> tuple[dict, int]:
    """The JSON body and status for an error the client raised."""
    if isinstance(error, InvalidRequest):
        return error_body(error.zh, error.en), 400
    if isinstance(error, ServerBusy):
        return error_body(*BUSY), 503
    if isinstance(error, ServerUnavailable):
        return error_body(*UNAVAILABLE), 503
    log.warning("model server error: %s", error)
    return error_body(*UPSTREAM), 502


def register_error_handlers(app: Flask) -> None:
    """Every API failure answers JSON with a bilingual message; none is an HTML 500."""

    @app.errorhandler(WebError)
    def web_error(error: WebError) -> tuple[dict, int]:
        return error.to_dict(), error.status

    @app.errorhandler(PoetClientError)
    def client_error(error: PoetClientError) -> tuple[dict, int, dict]:
        body, status = client_error_response(error)
        return body, status, (RETRY_AFTER if status == 503 else {})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if not request.path.startswith("/api/") and error.code != 413:
            return error
        return error_body(HTTP_ZH.get(error.code or 400, "请求有误"), error.description or error.name), error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[dict, int]:
        log.exception("unexpected error")
        return error_body("服务器内部错误", "internal server error"), 500


def add_security_headers(response: Response) -> Response:
    """A strict Content-Security-Policy and friends on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
