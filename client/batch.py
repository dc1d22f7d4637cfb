"""Write many poems from a file of requests.

    poet-batch IN -o OUT.jsonl [--concurrency 8] [--ordered] [--resume] [--server HOST:PORT[,HOST:PORT…]]
    poet-batch heads.txt --mode acrostic -o OUT.jsonl      (or python -m client.batch ...)

IN is JSONL, one request a line ({"id","mode","form","text","n","seed","temperature","top_k",
"top_p","rhyme","meter"} and PoetClient's other fields, all but mode optional, ids default to the
line number), or plain text with one prompt a line and --mode. Each OUT line is the request plus
"form" and its first poem: "poem" (the text), "lines", "score", "rhyme_group", "tones",
"rhyme_positions", "constraints" (which checks hold) and "faults" (the rules it breaks, by line),
with "poems" holding every candidate when n > 1; or the request plus "error" for a line that is not
JSON, lacks "mode", has an unknown field or an id an earlier line has (that record also gets "line",
its line number), or a request the server refuses; the run goes on. OUT's order is the order
requests finish in, or IN's with --ordered. A missing or unreadable IN, or a bad flag, stops the run
before OUT is touched (exit 2).

Lines are written whole, one write each, so a killed run loses nothing it finished, and --resume
appends only the ids OUT lacks. Requests the server could not answer (unreachable, timed out,
still busy after retries) are left out of OUT and counted, so a later --resume does them; the
run stops early when the server is unreachable. It exits 1 when a line failed (an "error" record;
--resume does not retry those) or something is left to do, and says how many of each.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import grpc
from tqdm import tqdm

from client.batch_io import (
    REQUEST_FIELDS,
    RecordWriter,
    Summary,
    add_file_arguments,
    load_requests,
    positive,
    report,
    to_do,
    with_poems,
)
from client.errors import InvalidRequest, ServerBusy, ServerUnavailable
from client.poet_client import PoetClient
from client.settings import ClientSettings, add_server_argument

BUSY_RETRIES, BUSY_BACKOFF_S = 6, 0.5  # a full queue empties in seconds: wait up to ~30 s in all


def generate_one(client: PoetClient, request: dict, stop: threading.Event) -> dict | None:
    """The record for OUT, or None when the run is stopping; retries while the server is busy."""
    if "error" in request:
        return request
    fields = {k: v for k, v in request.items() if k in REQUEST_FIELDS}
    attempt = 0
    while not stop.is_set():
        try:
            return with_poems(request, client.generate(**fields))
        except InvalidRequest as error:
            return request | {"error": error.message}
        except ServerBusy:
            if attempt == BUSY_RETRIES:
                raise
        time.sleep(BUSY_BACKOFF_S * 2**attempt * (0.5 + random.random()))
        attempt += 1
    return None


def run(args: argparse.Namespace, requests: list[dict], settings: ClientSettings) -> Summary:
    """Generate every request OUT lacks, writing each record as soon as it is done (or its turn comes)."""
    todo = to_do(requests, args.output, args.resume)
    summary, stop, started = Summary(), threading.Event(), time.perf_counter()
    with (
        RecordWriter(args.output, args.resume, args.ordered) as out,
        PoetClient(args.server or settings.server, args.timeout, settings.retries) as client,
        ThreadPoolExecutor(args.concurrency) as pool,
    ):
        futures = {pool.submit(generate_one, client, r, stop): index for index, r in enumerate(todo)}
        for future in tqdm(as_completed(futures), total=len(futures), desc="requests", file=sys.stderr):
            out.put(futures[future], take(future, stop, summary))
    summary.seconds = time.perf_counter() - started
    return summary


def take(future: Future[dict | None], stop: threading.Event, summary: Summary) -> dict | None:
    """A finished task's record, counted; a server failure is counted as not done (and may stop the run)."""
    try:
        record = future.result()
    except (ServerBusy, ServerUnavailable) as error:
        record = None
        if error.code == grpc.StatusCode.UNAVAILABLE and not stop.is_set():
            stop.set()  # unreachable even after the client's retries: the rest would fail the same way
            tqdm.write(f"stopping: {error.message}", file=sys.stderr)
    summary.count(record)
    return record


def main(argv: list[str] | None = None) -> int:
    """Run a batch; prints a summary on stderr and returns 0 when every line has its poems, 1 when a line
    failed or is left to do, 2 for bad input."""
    parser = argparse.ArgumentParser(
        prog="poet-batch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_file_arguments(parser)
    add_server_argument(parser)
    parser.add_argument("--concurrency", type=positive(int), default=8, help="requests in flight")
    parser.add_argument("--timeout", type=positive(float), default=120.0, help="seconds per request")
    args = parser.parse_args(argv)
    requests = load_requests(parser.prog, args)  # before OUT is opened: a mistake here must not truncate it
    if requests is None:
        return 2
    return report(run(args, requests, ClientSettings.from_env()), args.output)


if __name__ == "__main__":
    sys.exit(main())
