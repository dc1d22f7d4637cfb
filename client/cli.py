"""Command line: `python -m client acrostic 春夏秋冬 --form 七绝` prints a poem from the model server."""
from __future__ import annotations

import argparse
import json
import sys

from client.errors import InvalidRequest, PoetClientError
from client.poet_client import PoetClient
from client.types import GenerateResult, Progress

MODES = ("random", "continue", "acrostic", "theme")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m client", description=__doc__)
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("text", nargs="?", default="", help="opening, acrostic characters or theme")
    parser.add_argument("--form", default="", help="五绝 | 七绝 | 五律 | 七律")
    parser.add_argument("--n", type=int, default=None, help="candidates (1-8)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--no-rhyme", dest="rhyme", action="store_false", default=None)
    parser.add_argument("--no-meter", dest="meter", action="store_false", default=None)
    parser.add_argument("--strict-meter", action="store_true", default=None)
    parser.add_argument("--server", default=None, help="HOST:PORT (default $POET_SERVER or 127.0.0.1:50051)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--stream", action="store_true", help="show characters as they are decoded")
    return parser.parse_args(argv)


def show(result: GenerateResult) -> None:
    for index, poem in enumerate(result.poems):
        if index:
            print()
        print("\n".join(line + ("，" if i % 2 == 0 else "。") for i, line in enumerate(poem.lines)))
        print(f"  [{result.form} · {poem.rhyme_group or '无韵'} · score {poem.score:.2f}]")
    if result.keywords:
        print(f"  keywords: {' '.join(result.keywords)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fields = {k: getattr(args, k) for k in ("mode", "text", "form", "n", "seed", "temperature", "top_k", "top_p",
                                            "rhyme", "meter", "strict_meter")}
    try:
        with PoetClient(args.server) as client:
            if args.stream:
                for event in client.stream(**fields):
                    if isinstance(event, Progress):
                        print(f"\r{event.text}", end="", file=sys.stderr, flush=True)
                    else:
                        result = event
                print(file=sys.stderr)
            else:
                result = client.generate(**fields)
    except InvalidRequest as error:
        print(error.message, file=sys.stderr)
        return 2
    except PoetClientError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1)) if args.json else show(result)
    return 0
