"""Poem quality with default constraints: 50 poems for every mode × form.

    python -m bench.quality [--model model/weights] [--per-cell 50] [--train data/train.jsonl]

Prints, per mode × form and overall, the share well-formed, user text kept, rhymed, metred,
poems with a repeated line, distinct-1/2, and the share of lines copied verbatim from the
training poems: exactly when data/train.jsonl exists (`make data`), else by the model's shipped
table of line hashes (train_lines.npy; a CRC32 collision, about 0.03% of lines, counts as a copy).
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Container
from pathlib import Path

from bench.prompts import prompt
from model.engine import Engine
from model.engine.copies import CopyTable
from model.engine.types import MODES, PoemRequest
from model.forms import FORMS

ROOT = Path(__file__).resolve().parent.parent


def training_lines(path: Path, model_dir: Path) -> Container[str] | None:
    """The training lines from the corpus, or else the model's hash table of them; None without either."""
    if path.exists():
        with open(path, encoding="utf-8") as handle:
            return {line for row in handle for line in json.loads(row)["lines"]}
    table = CopyTable.load(model_dir)
    return table if len(table.hashes) else None


def distinct(lines_of_poems: list[list[str]], n: int) -> float:
    """Distinct n-grams of characters within lines, over all n-grams."""
    grams = [line[i:i + n] for lines in lines_of_poems for line in lines for i in range(len(line) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def summarise(poems: list[dict], corpus: Container[str] | None) -> dict:
    lines = [p["lines"] for p in poems]
    all_lines = [line for p in poems for line in p["lines"][p["given_lines"]:]]  # the user's own lines are not copies
    share = lambda key: round(sum(p[key] for p in poems) / len(poems), 3)  # noqa: E731
    return {
        "poems": len(poems), "well_formed": share("well_formed"), "kept": share("kept"),
        "rhyme": share("rhyme"), "meter": share("meter"),
        "repeated_lines": sum(len(set(ls)) != len(ls) for ls in lines),
        "distinct_1": round(distinct(lines, 1), 3), "distinct_2": round(distinct(lines, 2), 3),
        "copied_lines": round(sum(l in corpus for l in all_lines) / len(all_lines), 3) if corpus is not None else None,
    }


def run(engine: Engine, per_cell: int) -> dict[tuple[str, str], list[dict]]:
    tickets = []
    for mode in MODES:
        for form in FORMS.values():
            for i in range(per_cell):
                text = prompt(mode, form.chars_per_line, form.lines, i)
                request = PoemRequest(mode=mode, form=form.name, text=text, seed=i)
                tickets.append(((mode, form.name), text, engine.submit(request)))
    cells: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for cell, text, ticket in tickets:
        poem = ticket.result().poems[0]
        facts = {key: poem.constraints[key] for key in ("well_formed", "kept", "rhyme", "meter")}
        width = FORMS[cell[1]].chars_per_line
        given = len(text.replace("，", "").replace("。", "")) // width if cell[0] == "continue" else 0  # whole user lines
        cells[cell].append(facts | {"lines": poem.lines, "given_lines": given})
    return cells


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "model" / "weights")
    parser.add_argument("--per-cell", type=int, default=50)
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "train.jsonl")
    args = parser.parse_args(argv)
    corpus = training_lines(args.train, args.model)
    engine = Engine(args.model, max_batch=64, max_queue=4096)
    try:
        cells = run(engine, args.per_cell)
    finally:
        engine.close()
    header = f"{'mode':9s}{'form':5s} " + " ".join(f"{k:>9s}" for k in summarise(cells[next(iter(cells))], corpus))
    print(header)
    for (mode, form), poems in cells.items():
        row = summarise(poems, corpus)
        print(f"{mode:9s}{form:5s} " + " ".join(f"{str(v):>9s}" for v in row.values()))
    overall = summarise([p for poems in cells.values() for p in poems], corpus)
    print(f"{'all':14s} " + " ".join(f"{str(v):>9s}" for v in overall.values()))
    print("targets: well_formed 1.0, kept 1.0, rhyme ≥0.98, meter ≥0.95, repeated_lines 0, copied_lines ≤0.03")
    print(json.dumps(overall))


if __name__ == "__main__":
    main()
