"""The web app's Prometheus series, all named poet_web_*: requests by route and status, and how long
each took to answer in full; prometheus_client's /metrics is mounted beside the app, on the app's port."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import Counter, Histogram, make_wsgi_app
from werkzeug.middleware.dispatcher import DispatcherMiddleware

REQUESTS = Counter("poet_web_requests", "HTTP requests by route and status", ["route", "status"])
SECONDS = Histogram(
    "poet_web_request_seconds",
    "Seconds from a request to the end of its response (a stream's last event)",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)


def route() -> str:
    """The request's route as declared (/static/<path:filename>, not each file), so that the series stay few;
    "unmatched" for a path or method no route takes."""
    return request.url_rule.rule if request.url_rule else "unmatched"


def start_clock() -> None:
    """Note when the request came in."""
    g.metrics_started = time.perf_counter()


def record_when_sent(response: Response) -> Response:
    """Count and time the request once its response is closed: after the last event of a stream."""
    labels, started = (route(), str(response.status_code)), g.metrics_started

    def record() -> None:
        REQUESTS.labels(*labels).inc()
        SECONDS.labels(labels[0]).observe(time.perf_counter() - started)

    response.call_on_close(record)
    return response


def register(app: Flask) -> None:
    """Count and time every request of the app, and serve /metrics beside it (scrapes are not counted)."""
    app.before_request(start_clock)
    app.after_request(record_when_sent)
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/metrics": make_wsgi_app()})
