"""Write many poems from a file of requests.

    python -m client.batch IN -o OUT.jsonl [--concurrency 8] [--resume] [--server HOST:PORT]

IN is JSONL, one request a line ({"id","mode","form","text","n","seed","temperature","top_k",
"top_p","rhyme","meter"}, all but mode optional), or plain text with one prompt a line and
--mode. Each OUT line is the request plus "poem", "lines", "score" (and "poems" when n > 1),
or plus "error"; a bad line is reported and the run goes on. Lines are written whole and
flushed one by one, so after a kill --resume skips the ids already done: nothing is lost or doubled.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from client.errors import PoetClientError
from client.poet_client import FIELDS, PoetClient


def read_requests(path: Path, mode: str | None) -> list[dict]:
    """Requests with ids (line numbers where missing); a line that is not a JSON object becomes an error record."""
    requests = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if mode:
            requests.append({"id": str(number), "mode": mode, "text": line.strip()})
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            requests.append({"id": str(number), "error": f"第 {number} 行不是 JSON 对象 / line {number} is not a JSON object: {error}"})
            continue
        request.setdefault("id", str(number))
        requests.append(request)
    return requests


def done_ids(path: Path) -> set[str]:
    """Ids already written to OUT (a torn last line from a kill is ignored)."""
    if not path.exists():
        return set()
    ids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


def generate_one(client: PoetClient, request: dict) -> dict:
    """The request plus its poem(s), or plus an error."""
    if "error" in request:
        return request
    fields = {k: v for k, v in request.items() if k in FIELDS}
    try:
        result = client.generate(**fields)
    except PoetClientError as error:
        return request | {"error": error.message}
    first = result.poems[0]
    record = request | {"form": result.form, "poem": first.text, "lines": first.lines, "score": first.score}
    if len(result.poems) > 1:
        record["poems"] = [{"poem": p.text, "lines": p.lines, "score": p.score} for p in result.poems]
    return record


def run(args: argparse.Namespace) -> tuple[int, int, float]:
    requests = read_requests(args.input, args.mode)
    skip = done_ids(args.output) if args.resume else set()
    todo = [r for r in requests if str(r["id"]) not in skip]
    lock, poems, errors, started = threading.Lock(), 0, 0, time.perf_counter()
    with open(args.output, "a" if args.resume else "w", encoding="utf-8") as out, \
            PoetClient(args.server) as client, ThreadPoolExecutor(args.concurrency) as pool:
        futures = [pool.submit(generate_one, client, r) for r in todo]
        for future in tqdm(as_completed(futures), total=len(futures), desc="poems", file=sys.stderr):
            record = future.result()
            with lock:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
            errors += "error" in record
            poems += "error" not in record
    return poems, errors, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m client.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--mode", choices=("random", "continue", "acrostic", "theme"), help="IN is plain text prompts")
    parser.add_argument("--server", default=None)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--resume", action="store_true", help="skip ids already in OUT")
    args = parser.parse_args(argv)
    poems, errors, seconds = run(args)
    print(f"{poems} poems, {errors} errors, {poems / max(seconds, 1e-9):.1f} poems/s", file=sys.stderr)


if __name__ == "__main__":
    main()
