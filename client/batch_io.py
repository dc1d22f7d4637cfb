"""The batch scripts' files, shared by client.batch (over gRPC) and server.ray_batch (over Ray actors), so
that both read the same JSONL and write the same records: requests read from IN, the ids --resume skips,
the record a line becomes, OUT written one whole record at a time, and the summary at the end."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from client.types import GenerateResult, PoemOut
from model.engine.contract import SPECS
from model.engine.types import MODES, Poem, PoemResult

REQUEST_FIELDS = tuple(spec.name for spec in SPECS)  # a line's fields, as the request contract names them
INPUT_FIELDS = {"id", *REQUEST_FIELDS}


@dataclass
class Summary:
    """What one run did."""

    requests: int = 0  # lines written with poems
    poems: int = 0  # poems in those lines (n each)
    errors: int = 0  # lines written with an error: failed
    not_done: int = 0  # requests left for a later --resume
    seconds: float = 0.0

    def count(self, record: dict | None) -> None:
        """Count one finished line: None is one left for --resume."""
        if record is None:
            self.not_done += 1
        elif "error" in record:
            self.errors += 1
        else:
            self.requests += 1
            self.poems += len(record.get("poems", [record]))


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


def to_do(requests: list[dict], output: Path, resume: bool) -> list[dict]:
    """The requests this run writes: all of them, or with --resume those OUT lacks."""
    skip = done_ids(output) if resume else set()
    return [r for r in requests if resume_key(r) not in skip]


def poem_fields(poem: PoemOut | Poem) -> dict:
    """Everything known of a poem, its text as "poem": the checks travel with it, to filter on."""
    fields = asdict(poem)
    return {"poem": fields.pop("text"), **fields}


def with_poems(request: dict, result: GenerateResult | PoemResult) -> dict:
    """The request plus its first poem, and all of them when there are several: the same record from the
    client's result (client.batch) and the engine's (server.ray_batch), which carry the same fields."""
    record = request | {"form": result.form, **poem_fields(result.poems[0])}
    if len(result.poems) > 1:
        record["poems"] = [poem_fields(p) for p in result.poems]
    return record


def encoded(record: dict) -> bytes:
    """One OUT line. A lone surrogate that JSON let into a string (a bad line echoed in its error) is written
    as JSON's own escape, which reads back the same, since UTF-8 cannot hold it."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")


class RecordWriter:
    """OUT, each record in one write(2) (unbuffered), so a killed run never leaves half a record behind;
    records go out as they finish, or with `ordered` in IN's order (a record waits for those before it)."""

    def __init__(self, path: Path, append: bool, ordered: bool):
        self.path, self.append, self.ordered = path, append, ordered
        self.held: dict[int, dict | None] = {}  # ordered: finished records waiting for an earlier one
        self.next_index = 0

    def __enter__(self) -> Self:
        self.file = open(self.path, "ab" if self.append else "wb", buffering=0)
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.file.close()

    def put(self, index: int, record: dict | None) -> None:
        """The record of the index-th request to do; None for one left undone (nothing is written for it)."""
        if not self.ordered:
            self._write(record)
            return
        self.held[index] = record
        while self.next_index in self.held:
            self._write(self.held.pop(self.next_index))
            self.next_index += 1

    def _write(self, record: dict | None) -> None:
        if record is not None:
            self.file.write(encoded(record))


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


def add_file_arguments(parser: argparse.ArgumentParser) -> None:
    """IN, OUT and how they are read and written: the flags both batch scripts take."""
    parser.add_argument("input", type=Path, help="JSONL requests, or plain prompts with --mode")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSONL records")
    parser.add_argument("--mode", choices=MODES, help="IN is plain text, one prompt a line, all in this mode")
    parser.add_argument("--resume", action="store_true", help="append, skipping ids already in OUT")
    parser.add_argument("--ordered", action="store_true", help="write records in IN's order rather than as they finish")


def load_requests(prog: str, args: argparse.Namespace) -> list[dict] | None:
    """IN's requests, or None after saying in one line why IN cannot be read (before OUT is touched)."""
    try:
        return read_requests(args.input, args.mode)
    except (OSError, UnicodeDecodeError) as error:
        print(f"{prog}: error: {read_error(args.input, error)}", file=sys.stderr)
        return None


def read_error(path: Path, error: OSError | UnicodeDecodeError) -> str:
    """A one-line message for an IN that cannot be read."""
    if isinstance(error, UnicodeDecodeError):
        return f"{path} 不是 UTF-8 文本 / {path} is not UTF-8 text (byte {error.start})"
    return f"无法读取 {path} / cannot read {path}: {error.strerror}"


def report(summary: Summary, output: Path) -> int:
    """Print the summary on stderr; the exit status: 0 when every line has its poems, 1 when a line failed
    or is left to do."""
    print(summary_lines(summary, output), file=sys.stderr)
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
