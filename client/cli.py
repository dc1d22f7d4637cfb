"""Command line: `python -m client acrostic 春夏秋冬 --form 七绝` prints a poem from the model server.

Exit status: 0 written, 2 bad input (the server's message is printed), 1 server busy or unreachable.
With --json an error is JSON too, on stdout: {"error": {"zh", "en", "message", "code"}}.
"""
from __future__ import annotations

import argparse
import json
import sys

from client.errors import InvalidRequest, PoetClientError
from client.poet_client import FIELDS, PoetClient
from client.types import GenerateResult

MODES = ("random", "continue", "acrostic", "theme")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Flags left out stay None, so the server's defaults apply."""
    parser = argparse.ArgumentParser(prog="python -m client", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("text", nargs="?", default="", help="opening, acrostic characters or theme")
    parser.add_argument("--form", default="", help="五绝 | 七绝 | 五律 | 七律 (default: the server chooses)")
    parser.add_argument("--n", type=int, default=None, help="candidates (1-8)")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same poem")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--repetition-penalty", type=float, default=None, help="[1, 2]")
    parser.add_argument("--no-rhyme", dest="rhyme", action="store_false", default=None)
    parser.add_argument("--rhyme-first-line", action="store_true", default=None, help="line 1 rhymes too")
    parser.add_argument("--no-meter", dest="meter", action="store_false", default=None)
    parser.add_argument("--strict-meter", action="store_true", default=None)
    parser.add_argument("--allow-repeat", dest="no_repeat", action="store_false", default=None,
                        help="allow a repeated line or a character more than twice")
    parser.add_argument("--allow-copy", dest="no_copy", action="store_false", default=None,
                        help="allow a line copied from the training poems")
    parser.add_argument("--server", default=None, help="HOST:PORT (default $POET_SERVER or 127.0.0.1:50051)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--stream", action="store_true", help="show the characters on stderr as they are decoded")
    return parser.parse_args(argv)


def show(result: GenerateResult) -> None:
    """Each poem one verse a line, then a note of its form, rhyme group and score."""
    for index, poem in enumerate(result.poems):
        if index:
            print()
        print("\n".join(line + ("，" if i % 2 == 0 else "。") for i, line in enumerate(poem.lines)))
        print(f"  [{result.form} · {poem.rhyme_group or '无韵'} · score {poem.score:.2f}]")
    if result.keywords:
        print(f"  keywords: {' '.join(result.keywords)}")


def fetch(client: PoetClient, fields: dict, stream: bool) -> GenerateResult:
    """The result, drawing progress on stderr when streaming to a terminal."""
    if not stream:
        return client.generate(**fields)
    result, draw = None, sys.stderr.isatty()  # redrawing one line only makes sense on a terminal
    for event in client.stream(**fields):
        if isinstance(event, GenerateResult):
            result = event
        elif draw:
            print(f"\r{event.index}: {event.text}\033[K", end="", file=sys.stderr, flush=True)
    if draw:
        print(file=sys.stderr)
    return result  # stream() ends with the result or raises


def report(error: PoetClientError, as_json: bool) -> None:
    """The error's message on stderr, or as a JSON object on stdout where the result would have gone."""
    if not as_json:
        print(error.message, file=sys.stderr)
        return
    zh, _, en = error.message.partition(" / ")
    body = {"zh": zh, "en": en or zh, "message": error.message, "code": error.code.name if error.code else None}
    print(json.dumps({"error": body}, ensure_ascii=False, indent=1))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parse_args(argv)
    fields = {name: getattr(args, name) for name in FIELDS}
    try:
        with PoetClient(args.server) as client:
            result = fetch(client, fields, args.stream)
    except PoetClientError as error:
        report(error, args.json)
        return 2 if isinstance(error, InvalidRequest) else 1
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        show(result)
    return 0
