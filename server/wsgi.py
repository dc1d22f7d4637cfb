"""Serve the web app with waitress: `python -m server.wsgi [--host HOST] [--port PORT]` (port 0 picks a free one)."""

from __future__ import annotations

import argparse
import logging
import signal

from waitress import create_server

from server.settings import WebSettings
from server.web import create_app


def parse_args(argv: list[str] | None, defaults: WebSettings) -> argparse.Namespace:
    """Flags, each defaulting to its setting (read from the environment by main)."""
    parser = argparse.ArgumentParser(description="bert-poet web app (waitress)")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    return parser.parse_args(argv)


def stop(signum: int, frame: object) -> None:
    """SIGTERM (from server.run) ends the loop the way Ctrl-C does, so sockets close cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Start waitress, say where it listens, serve until interrupted."""
    args = parse_args(argv, WebSettings.from_env())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = create_server(create_app(), host=args.host, port=args.port, threads=args.threads)
    signal.signal(signal.SIGTERM, stop)
    print(f"web app on http://{server.effective_host}:{server.effective_port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
