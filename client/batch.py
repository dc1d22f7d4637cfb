"""Write many poems from a file of requests.

    poet-batch IN -o OUT.jsonl [--concurrency 8] [--ordered] [--resume] [--server HOST:PORT]
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
import json
import math
import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
from tqdm import tqdm

from client.errors import InvalidRequest, ServerBusy, ServerUnavailable
from client.poet_client import FIELDS, PoetClient
from client.settings import ClientSettings
from client.types import GenerateResult, PoemOut

MODES = ("random", "continue", "acrostic", "theme")
INPUT_FIELDS = {"id", *FIELDS}
BUSY_RETRIES, BUSY_BACKOFF_S = 6, 0.5  # a full queue empties in seconds: wait up to ~30 s in all


@dataclass
class Summary:
    """What one run did."""

    requests: int = 0  # lines written with poems
    poems: int = 0  # poems in those lines (n each)
    errors: int = 0  # lines written with an error: failed
    not_done: int = 0  # requests left for a later --resume
    seconds: float = 0.0


def read_requests(path: Path, mode: str | None) -> list[dict]:
    """Requests with ids (line numbers where missing); a bad line becomes an error record."""
    requests, first_line = [], {}  # first_line: each id and the line it first came on
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if mode:
            requests.append({"id": str(number), "mode": mode, "text": line.strip()})
            continue
        request, defaulted = parse_line(line, number)
        seen = first_line.setdefault(str(request["id"]), number)
        if seen != number:  # the later line is refused, so that an id in OUT names one request
            own = "（其行号）" if defaulted else ""
            own_en = " (its line number, as it has none)" if defaulted else ""
            request |= {
                "line": number,
                "error": f"第 {number} 行的 id{own} 与第 {seen} 行重复 / "
                f"duplicate id: line {number} has the id{own_en} of line {seen}",
            }
        requests.append(request)
    return requests


def parse_line(line: str, number: int) -> tuple[dict, bool]:
    """One JSONL line as a request with its id, or an error record saying what is wrong with it;
    and whether the id is the line number because the line names none."""
    try:
        request = json.loads(line)
        if not isinstance(request, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return {
            "id": str(number),
            "error": f"第 {number} 行不是 JSON 对象 / line {number} is not a JSON object: {error}",
        }, True
    defaulted = "id" not in request
    request.setdefault("id", str(number))
    unknown = sorted(set(request) - INPUT_FIELDS)
    if unknown:
        names = ", ".join(unknown)
        return request | {
            "error": f"第 {number} 行有未知字段：{names} / line {number} has unknown field(s): {names}"
        }, defaulted
    if request.get("mode") is None:  # the one field the spec requires: a missing mode is a mistake, not random
        return request | {"error": f'第 {number} 行缺少 mode / line {number} has no "mode"'}, defaulted
    return request, defaulted


def resume_key(record: dict) -> str:
    """What --resume matches IN and OUT by: the id, and the line too for a duplicate id's error."""
    return f"{record['id']} (line {record['line']})" if "line" in record else str(record["id"])


def done_ids(path: Path) -> set[str]:
    """Resume keys of the records in OUT; a torn last line (a kill mid-write) is cut off so appending starts clean."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as out:
            out.truncate(data.rfind(b"\n") + 1)
    ids = set()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            ids.add(resume_key(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def poem_fields(poem: PoemOut) -> dict:
    """Everything the server says of a poem, its text as "poem": the checks travel with it, to filter on."""
    fields = asdict(poem)
    return {"poem": fields.pop("text"), **fields}


def with_poems(request: dict, result: GenerateResult) -> dict:
    """The request plus its first poem, and all of them when there are several."""
    record = request | {"form": result.form, **poem_fields(result.poems[0])}
    if len(result.poems) > 1:
        record["poems"] = [poem_fields(p) for p in result.poems]
    return record


def generate_one(client: PoetClient, request: dict, stop: threading.Event) -> dict | None:
    """The record for OUT, or None when the run is stopping; retries while the server is busy."""
    if "error" in request:
        return request
    fields = {k: v for k, v in request.items() if k in FIELDS}
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
    """Generate every request OUT lacks, writing each record as soon as it is done."""
    skip = done_ids(args.output) if args.resume else set()
    todo = [r for r in requests if resume_key(r) not in skip]
    summary, stop, started = Summary(), threading.Event(), time.perf_counter()
    # Unbuffered binary: each record is one write(2), so a kill never leaves half a record behind.
    with (
        open(args.output, "ab" if args.resume else "wb", buffering=0) as out,
        PoetClient(args.server or settings.server, args.timeout, settings.retries) as client,
        ThreadPoolExecutor(args.concurrency) as pool,
    ):
        futures = [pool.submit(generate_one, client, r, stop) for r in todo]
        # In order, a finished record waits for those before it; the pool keeps working meanwhile.
        finished = futures if args.ordered else as_completed(futures)
        for future in tqdm(finished, total=len(futures), desc="requests", file=sys.stderr):
            record = take(future, stop, summary)
            if record is not None:
                out.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    summary.seconds = time.perf_counter() - started
    return summary


def take(future: Future[dict | None], stop: threading.Event, summary: Summary) -> dict | None:
    """A finished task's record, counted; a server failure is counted as not done (and may stop the run)."""
    try:
        record = future.result()
    except (ServerBusy, ServerUnavailable) as error:
        summary.not_done += 1
        if error.code == grpc.StatusCode.UNAVAILABLE and not stop.is_set():
            stop.set()  # unreachable even after the client's retries: the rest would fail the same way
            tqdm.write(f"stopping: {error.message}", file=sys.stderr)
        return None
    if record is None:
        summary.not_done += 1
    elif "error" in record:
        summary.errors += 1
    else:
        summary.requests += 1
        summary.poems += len(record.get("poems", [record]))
    return record


def positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: a number of `kind` above 0."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
        if not 0 < value < math.inf:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be above 0 and finite, not {text}")
        return value

    return parse


def read_error(path: Path, error: OSError | UnicodeDecodeError) -> str:
    """A one-line message for an IN that cannot be read."""
    if isinstance(error, UnicodeDecodeError):
        return f"{path} 不是 UTF-8 文本 / {path} is not UTF-8 text (byte {error.start})"
    return f"无法读取 {path} / cannot read {path}: {error.strerror}"


def main(argv: list[str] | None = None) -> int:
    """Run a batch; prints a summary on stderr and returns 0 when every line has its poems, 1 when a line
    failed or is left to do, 2 for bad input."""
    parser = argparse.ArgumentParser(
        prog="poet-batch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", type=Path, help="JSONL requests, or plain prompts with --mode")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSONL records")
    parser.add_argument("--mode", choices=MODES, help="IN is plain text, one prompt a line, all in this mode")
    parser.add_argument("--server", default=None, help=f"HOST:PORT (default $POET_SERVER or {ClientSettings().server})")
    parser.add_argument("--concurrency", type=positive(int), default=8, help="requests in flight")
    parser.add_argument("--timeout", type=positive(float), default=120.0, help="seconds per request")
    parser.add_argument("--resume", action="store_true", help="append, skipping ids already in OUT")
    parser.add_argument("--ordered", action="store_true", help="write records in IN's order rather than as they finish")
    args = parser.parse_args(argv)
    try:  # before OUT is opened: a mistake here must not truncate it
        requests = read_requests(args.input, args.mode)
    except (OSError, UnicodeDecodeError) as error:
        print(f"{parser.prog}: error: {read_error(args.input, error)}", file=sys.stderr)
        return 2
    summary = run(args, requests, ClientSettings.from_env())
    print(summary_lines(summary, args.output), file=sys.stderr)
    return 1 if summary.errors or summary.not_done else 0


def summary_lines(summary: Summary, output: Path) -> str:
    """The run's closing lines: what was written, what failed and what is left for --resume."""
    left = f", {summary.not_done} not done (run again with --resume)" if summary.not_done else ""
    lines = [
        f"{summary.requests} requests, {summary.poems} poems, {summary.errors} errors{left}, "
        f"{summary.poems / max(summary.seconds, 1e-9):.1f} poems/s in {summary.seconds:.1f} s"
    ]
    if summary.errors:
        lines.append(
            f'{summary.errors} 行失败，原因见 {output} 中各行的 "error" / '
            f'{summary.errors} line(s) failed: see their "error" in {output}'
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
