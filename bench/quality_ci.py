"""词 quality, per tune and overall, beside 宋词三百首's (data/test_ci.jsonl) judged by the same code.

bench.quality prints these when the model knows the tunes. For each 词: whether it keeps its tune's
lines (structure); the share of its rhyme positions that rhyme; the share of the tune's fixed
positions (平 or 仄 in the tune table) where the character is not heard in the other tone; whether
a character closes two lines (重韵); the repeated-character rate (叠句 aside). A master's 词 is
judged only where it has its tune's standard form (the others are variants the table does not hold).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from bench.prompts import THEMES
from model.engine.check import check_poem, off_pattern, repeats
from model.engine.engine import Engine
from model.engine.prosody import PING, ZE
from model.engine.types import PoemRequest
from model.forms import Form
from model.text import split_lines

SAMPLE_TUNES = 10  # tunes bench.quality writes, most written first


def judged(lines: list[str], form: Form, forced: set[tuple[int, int]] = frozenset()) -> dict:
    """One 词's figures by the checks the engine reports."""
    structure = tuple(map(len, lines)) == form.line_lengths
    if not structure:
        return {"structure": False}
    faults = [f for f in check_poem(lines, form, False, forced)["faults"] if not f.user]
    unrhymed = {f.line - 1 for f in faults if f.rule == "失韵"}
    fixed = [
        (line, column) for line, pattern in enumerate(form.tones) for column, t in enumerate(pattern) if t in (PING, ZE)
    ]
    off = sum(off_pattern(lines[line][column], form.tones[line][column]) for line, column in fixed)
    own = [line for line in range(len(lines)) if line not in form.repeats]
    chars = sum(len(lines[line]) for line in own)
    repeated = sum(line in own and (line, column) not in forced for line, column in repeats(lines))
    return {
        "structure": True,
        "rhymes": len(form.rhymes),
        "rhymed": len(form.rhymes) - len(unrhymed),
        "fixed": len(fixed),
        "kept_tones": len(fixed) - off,
        "重韵": any(f.rule == "重韵" for f in faults),
        "chars": chars,
        "repeated": repeated,
    }


def figures(poems: list[dict]) -> dict:
    """Totals of judged 词: shares, not counts, so tunes and sets compare."""
    formed = [p for p in poems if p["structure"]]

    def share(part: str, whole: str, digits: int = 3) -> float | None:  # None where no 词 has the form
        return round(sum(p[part] for p in formed) / sum(p[whole] for p in formed), digits) if formed else None

    return {
        "poems": len(poems),
        "structure": round(len(formed) / len(poems), 3) if poems else None,
        "rhyme": share("rhymed", "rhymes"),
        "tones": share("kept_tones", "fixed"),
        "重韵": round(sum(p["重韵"] for p in formed) / len(formed), 3) if formed else None,
        "repeat_rate": share("repeated", "chars", 4),
    }


def ours(engine: Engine, per_tune: int) -> dict[str, list[dict]]:
    """per_tune 词 of each of the first SAMPLE_TUNES tunes, across random, theme and acrostic."""
    tickets = []
    for name in list(engine.tunes)[:SAMPLE_TUNES]:
        for i in range(per_tune):
            mode = ("random", "theme", "acrostic")[i % 3]
            text = {"random": "", "theme": THEMES[i % len(THEMES)], "acrostic": "春夏秋冬"}[mode]
            tickets.append((name, engine.submit(PoemRequest(mode=mode, form=name, text=text, seed=i))))
    cells: dict[str, list[dict]] = defaultdict(list)
    for name, ticket in tickets:
        poem = ticket.result().poems[0]
        cells[name].append(judged(poem.lines, engine.tunes[name], set(ticket.plan.forced)))
    return cells


def masters(test_ci: Path, tunes: dict[str, Form]) -> dict[str, list[dict]]:
    """宋词三百首's 词 of the tunes, judged the same way."""
    cells: dict[str, list[dict]] = defaultdict(list)
    with open(test_ci, encoding="utf-8") as handle:
        for record in map(json.loads, handle):
            if record["form"] in tunes:
                cells[record["form"]].append(judged(split_lines(record["body"])[0], tunes[record["form"]]))
    return cells


def report(cells: dict[str, list[dict]], tunes: dict[str, Form], test_ci: Path) -> dict:
    """Print the 词 table of `ours` and return the overall figures, ours and the masters'."""
    master = masters(test_ci, tunes) if test_ci.exists() else {}
    names = list(figures([]))
    print(
        f"\n词 {'':10s}"
        + " ".join(f"{n:>11s}" for n in names)
        + "   | 宋词三百首 "
        + " ".join(f"{n:>11s}" for n in names)
    )
    for name, poems in cells.items():
        theirs = figures(master.get(name, []))
        print(
            f"{name:12s}"
            + " ".join(f"{str(v):>11s}" for v in figures(poems).values())
            + "   | "
            + " ".join(f"{str(v):>11s}" for v in theirs.values())
        )
    overall = figures([p for poems in cells.values() for p in poems])
    theirs = figures([p for poems in master.values() for p in poems])
    print(
        f"{'all':12s}"
        + " ".join(f"{str(v):>11s}" for v in overall.values())
        + "   | "
        + " ".join(f"{str(v):>11s}" for v in theirs.values())
    )
    print("targets (词): structure 1.0; rhyme, tones ≥ 0.95; 重韵 0; repeat_rate ≤ 1.5 × 宋词三百首's")
    return {"ours": overall, "masters": theirs}
