"""Serve the web app with waitress: `python -m server.wsgi [--host HOST] [--port PORT]` (port 0 picks a free one)."""
from __future__ import annotations

import argparse
import logging
import os
import signal

from waitress import create_server

from server.web import create_app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="bert-poet web app (waitress)")
    parser.add_argument("--host", default=os.environ.get("POET_WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("POET_WEB_PORT", "8000")))
    # Each open poem stream holds a thread for its few seconds, so allow more than waitress's 4.
    parser.add_argument("--threads", type=int, default=int(os.environ.get("POET_WEB_THREADS", "16")))
    return parser.parse_args(argv)


def stop(signum: int, frame: object) -> None:
    """SIGTERM (from server.run) ends the loop the way Ctrl-C does, so sockets close cleanly."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Start waitress, say where it listens, serve until interrupted."""
    args = parse_args(argv)
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
