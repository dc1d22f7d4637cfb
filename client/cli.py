"""Command line: `poet acrostic 春夏秋冬 --form 七绝` (or `python -m client ...`) prints a poem from the model server.

Exit status: 0 written, 2 bad input (the server's message is printed), 1 server busy or unreachable.
The modes, forms, rhyme tones and ranges are the server's: a value it does not take is refused with a
message that lists what it takes.
Text the server would take but not use as written is refused here: text in random mode (it would be
ignored), and an opening whose lines have the other length than --form's (it would be cut anew).
With --json an error is JSON too, on stdout: {"error": {"zh", "en", "message", "code"}}.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from client.errors import InvalidRequest, PoetClientError
from client.poet_client import FIELDS, PoetClient
from client.settings import ClientSettings, add_server_argument
from client.types import GenerateResult

LINE_WIDTH = {"五": 5, "七": 7}  # a 诗 form's name opens with its characters a line (五言, 七言)
NUMERAL = {width: numeral for numeral, width in LINE_WIDTH.items()}
LINE_BREAKS = re.compile(r"[\s，。、；：！？,.;:!?]+")  # what ends a line of an opening, as the server reads it


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Flags left out stay None, so the server's defaults apply."""
    parser = argparse.ArgumentParser(
        prog="poet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", help="how to write (a mode the server lacks is refused with its list of modes)")
    parser.add_argument("text", nargs="?", default="", help="opening, acrostic characters or theme")
    parser.add_argument(
        "--form",
        default="",
        help="a 诗 form or a 词 tune (浣溪沙 …), as the server's GetInfo lists them; default: the server chooses",
    )
    parser.add_argument("--n", type=int, default=None, help="candidates")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same poem")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--repetition-penalty", type=float, default=None)
    parser.add_argument("--no-rhyme", dest="rhyme", action="store_false", default=None)
    parser.add_argument("--rhyme-first-line", action="store_true", default=None, help="line 1 rhymes too")
    parser.add_argument("--rhyme-tone", default=None, help="平 (平韵, the default) or 仄 (仄韵)")
    parser.add_argument("--no-meter", dest="meter", action="store_false", default=None)
    parser.add_argument("--strict-meter", action="store_true", default=None)
    parser.add_argument(
        "--allow-repeat",
        dest="no_repeat",
        action="store_false",
        default=None,
        help="allow a repeated line or a character more than twice",
    )
    parser.add_argument(
        "--allow-copy",
        dest="no_copy",
        action="store_false",
        default=None,
        help="allow a line copied from the training poems",
    )
    add_server_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument(
        "--stream",
        action="store_true",
        help="show the characters on stderr as they are decoded (one line per update unless a terminal)",
    )
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


def check_text(mode: str, text: str, form: str) -> None:
    """Raise InvalidRequest for text the server would not use as written: any text in random mode,
    and an opening line that is whole lines of 5 (or 7) characters while the form's lines have 7 (or 5)."""
    if mode == "random" and text.strip():
        raise InvalidRequest(
            f"随机模式不用文字，“{text}”会被忽略：以它开头请用 continue，以它为题请用 theme",
            f"random mode takes no text, so {text!r} would be ignored: use continue to open "
            "with it, or theme to write on it",
        )
    width = LINE_WIDTH.get(form[:1])
    if mode != "continue" or width is None:
        return
    other = 7 if width == 5 else 5
    for line in filter(None, LINE_BREAKS.split(text)):
        if len(line) % other == 0 and len(line) % width:  # the server would cut it into lines of `width`
            count, n = len(line) // other, NUMERAL[other]
            raise InvalidRequest(
                f"开头“{line}”是 {count} 句{n}言，而{form}每句 {width} 字：请用 --form {n}绝 或 {n}律，或不加 --form",
                f"the opening {line!r} reads as {count} line(s) of {other} "
                f"characters, but a {form} has {width} a line: use --form {n}绝 or {n}律, "
                "or leave --form out",
            )


def fetch(client: PoetClient, fields: dict, stream: bool) -> GenerateResult:
    """The result; when streaming, progress on stderr: redrawn in place on a terminal, else one
    plain line per update, so that a log or a pipe shows it too."""
    if not stream:
        return client.generate(**fields)
    result, terminal = None, sys.stderr.isatty()
    for event in client.stream(**fields):
        if isinstance(event, GenerateResult):
            result = event
        elif terminal:
            print(f"\r{event.index}: {event.text}\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(f"{event.index}: {event.text}", file=sys.stderr, flush=True)
    if terminal:
        print(file=sys.stderr)
    return result  # stream() ends with the result or raises


def report(error: PoetClientError, as_json: bool) -> None:
    """The error's message on stderr, or as a JSON object on stdout where the result would have gone."""
    if not as_json:
        print(error.message, file=sys.stderr)
        return
    body = {"zh": error.zh, "en": error.en, "message": error.message, "code": error.code.name if error.code else None}
    print(json.dumps({"error": body}, ensure_ascii=False, indent=1))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parse_args(argv)
    settings = ClientSettings.from_env()
    fields = {name: getattr(args, name) for name in FIELDS}
    try:
        check_text(args.mode, args.text, args.form)
        with PoetClient(args.server or settings.server, settings.timeout, settings.retries) as client:
            result = fetch(client, fields, args.stream)
    except PoetClientError as error:
        report(error, args.json)
        return 2 if isinstance(error, InvalidRequest) else 1
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        show(result)
    return 0
