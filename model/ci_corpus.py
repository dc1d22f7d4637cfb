"""宋词 from the corpus: tune names, the most-written tunes, one record per 词, the held-out test set.

The package's `rhythmic` field names the tune (词牌). "A・B" marks an alias, A, of the tune B
(酹江月・念奴娇, 金缕曲・贺新郎): the 词 counts under B. 失调名 means the tune is unknown.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from model.text import clean, is_han, split_lines, to_simplified

TOP_TUNES = 40  # the tunes the model learns, most written first
UNKNOWN_TUNE = "失调名"
TEST_FILE = "songci/宋词三百首.json"
CI_MARKS = "，。？！；："


def tune_name(rhythmic: str) -> str | None:
    """The tune a 词 is written to, simplified and with its alias dropped; None when unknown."""
    name = to_simplified(rhythmic.strip()).split("・")[-1].strip()
    return None if not name or name == UNKNOWN_TUNE else name


def ci_body(paragraphs: list[str]) -> str | None:
    """A 词's text, simplified with normalised marks, or None when it holds anything but Han
    characters and line marks (□ for a lost character, editors' notes in brackets)."""
    body = clean("".join(paragraphs))
    lines, marks = split_lines(body)
    if not lines or not all(marks) or not all(is_han(line) for line in lines):
        return None
    return body


def ci_record(raw: dict, split: str = "") -> dict | None:
    """One 词 as a training record (form = its tune), or None when its tune or text is unusable."""
    tune = tune_name(raw.get("rhythmic", ""))
    body = ci_body(raw.get("paragraphs") or [])
    if tune is None or body is None:
        return None
    lines, _ = split_lines(body)
    record = {
        "title": tune,
        "author": to_simplified(raw.get("author", "")),
        "dynasty": "song",
        "form": tune,
        "body": body,
        "lines": lines,
        "kind": "ci",
    }
    return record | ({"split": split} if split else {})


def read_all(dist: Path) -> list[dict]:
    """Every usable 词 of ci.song.*.json, in file order."""
    records = []
    for path in sorted((dist / "songci").glob("ci.song.*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            record = ci_record(raw)
            if record:
                records.append(record)
    return records


def most_written(records: list[dict], count: int = TOP_TUNES) -> list[str]:
    """The `count` tunes with the most 词, most first (ties by name, so the list is reproducible)."""
    counts = Counter(record["form"] for record in records)
    return [tune for tune, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:count]]


def load_test(dist: Path, tunes: list[str]) -> list[dict]:
    """The 词 of 宋词三百首 written to one of `tunes`, deduplicated by body."""
    seen: set[str] = set()
    records = []
    for raw in json.loads((dist / TEST_FILE).read_text(encoding="utf-8")):
        record = ci_record(raw, "test")
        if record and record["form"] in tunes and record["body"] not in seen:
            seen.add(record["body"])
            records.append(record)
    return records
