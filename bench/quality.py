"""Poem quality with default constraints, beside the masters': 50 poems for every mode × form,
and the regular poems of 唐诗三百首 (data/test.jsonl, `make data`) judged by the same code.

    python -m bench.quality [--model model/weights] [--per-cell 50] [--data data]

With a model that knows the 词 tunes, the same number of 词 for each of ten tunes follows
(bench/quality_ci.py), beside 宋词三百首 (data/test_ci.jsonl).

Per mode × form and overall: the share well-formed and with the user's text kept; then, for ours
and the masters', every figure of `figures`: the share of poems that rhyme and keep the meter by
our rules (check.RULES), the share with a first line that ends 平 without rhyming, with 三平尾, with
孤平, with 重韵 (a character closing two lines); the repeated-character rate (characters that repeat
an earlier one, over all characters; the second of a doubling the masters use, such as 萧萧, and
the user's own characters aside), the share of poems that double a character at all (萧萧, 北北),
the median 对仗 of the 律诗's middle couplets (model/engine/parallel.py) and what the same measure
gives lines paired by chance,
distinct-1/2, and the share of lines copied verbatim from the training poems (exactly when
data/train.jsonl exists, else by the model's shipped table of line hashes). A fault in the user's
own lines (a continuation's opening) is not counted against ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from collections.abc import Container
from contextlib import closing
from pathlib import Path

from bench import quality_ci
from bench.prompts import prompt
from model.engine.check import RULES, check_poem, doublings, repeats, rhymes_on_first_line
from model.engine.copies import CopyTable
from model.engine.engine import Engine
from model.engine.parallel import couplet_parallelism, poem_parallelism
from model.engine.types import MODES, Fault, PoemRequest
from model.forms import FORMS, form_of

ROOT = Path(__file__).resolve().parent.parent
METER_RULES = {rule for rule, (constraint, _, _) in RULES.items() if constraint == "meter"}


def training_lines(path: Path, model_dir: Path) -> Container[str] | None:
    """The training lines from the corpus, or else the model's hash table of them; None without either."""
    if path.exists():
        with open(path, encoding="utf-8") as handle:
            return {line for row in handle for line in json.loads(row)["lines"]}
    table = CopyTable.load(model_dir)
    return table if len(table.hashes) else None


def distinct(lines_of_poems: list[list[str]], n: int) -> float:
    """Distinct n-grams of characters within lines, over all n-grams."""
    grams = [line[i : i + n] for lines in lines_of_poems for line in lines for i in range(len(line) - n + 1)]
    return len(set(grams)) / max(1, len(grams))


def parallelism(poems: list[dict]) -> tuple[float | None, float | None, float | None]:
    """The median 对仗 of the 律诗 (their middle couplets); the same for the lines paired across
    poems (each line 3 and 5 with the next 律诗's line 4 and 6): what chance gives, so the
    measure's own level shows; and the mean, finer than the median of a few possible values."""
    regulated = [p["lines"] for p in poems if len(p["lines"]) == 8]
    if len(regulated) < 2:
        return None, None, None
    shifted = regulated[1:] + regulated[:1]
    chance = [
        (couplet_parallelism(a[2], b[3]) + couplet_parallelism(a[4], b[5])) / 2
        for a, b in zip(regulated, shifted)
        if len(a[0]) == len(b[0])
    ]
    facing = [poem_parallelism(lines) for lines in regulated]
    return (
        round(statistics.median(facing), 3),
        round(statistics.median(chance), 3) if chance else None,
        round(statistics.mean(facing), 3),
    )


def figures(poems: list[dict], corpus: Container[str] | None) -> dict:
    """The quality figures of judged poems: each has "lines", "faults" (the engine's own, not the
    user's), "forced" (the user's cells) and "given_lines" (the user's whole lines)."""

    def share(test) -> float:  # noqa: ANN001
        return round(sum(map(test, poems)) / len(poems), 3)

    def has(rules: set[str], line: int | None = None):  # noqa: ANN202
        return lambda p: any(f.rule in rules and (line is None or f.line == line) for f in p["faults"])

    chars = sum(len(line) for p in poems for line in p["lines"])
    repeated = sum(cell not in p["forced"] for p in poems for cell in repeats(p["lines"]))
    own_lines = [line for p in poems for line in p["lines"][p["given_lines"] :]]  # the user's own lines are not copies
    copied = round(sum(line in corpus for line in own_lines) / len(own_lines), 3) if corpus is not None else None
    parallel, chance, mean_parallel = parallelism(poems)
    return {
        "poems": len(poems),
        "rhyme": share(lambda p: not has({"失韵"})(p)),
        "meter": share(lambda p: not has(METER_RULES)(p)),
        "first_line": share(has({"平收"}, line=1)),
        "三平尾": share(has({"三平尾"})),
        "孤平": share(has({"孤平"})),
        "重韵": share(has({"重韵"})),
        "repeat_rate": round(repeated / chars, 4),
        "doubling": share(lambda p: doublings(p["lines"]) > 0),
        "对仗": parallel,
        "对仗_chance": chance,
        "对仗_mean": mean_parallel,
        "distinct_1": round(distinct([p["lines"] for p in poems], 1), 3),
        "distinct_2": round(distinct([p["lines"] for p in poems], 2), 3),
        "copied_lines": copied,
    }


def masters(test: Path) -> list[dict]:
    """The regular poems of the test set, judged as ours are: line 1 rhymes where it does."""
    poems = []
    with open(test, encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            lines = row["lines"]
            facts = check_poem(lines, form_of(lines), rhymes_on_first_line(lines))
            poems.append({"lines": lines, "faults": facts["faults"], "forced": set(), "given_lines": 0})
    return poems


def bench_engine(model_dir: Path) -> Engine:
    """The engine that writes every quality figure's poems: a whole bench queued at once, 64 rows a batch."""
    return Engine(model_dir, max_batch=64, max_queue=4096)


def run(engine: Engine, per_cell: int) -> dict[tuple[str, str], list[dict]]:
    tickets = []
    for mode in MODES:
        for form in FORMS.values():
            for i in range(per_cell):
                text = prompt(mode, form.chars_per_line, form.lines, i)
                request = PoemRequest(mode=mode, form=form.name, text=text, seed=i)
                tickets.append(((mode, form.name), engine.submit(request)))
    cells: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for cell, ticket in tickets:
        poem = ticket.result().poems[0]
        forced = set(ticket.plan.forced)
        own: list[Fault] = [f for f in poem.faults if not f.user]
        cells[cell].append(
            {
                "text": poem.text,
                "lines": poem.lines,
                "faults": own,
                "forced": forced,
                "given_lines": ticket.plan.given_lines,
                "well_formed": poem.constraints["well_formed"],
                "kept": poem.constraints["kept"],
            }
        )
    return cells


def row(name: str, values: dict) -> str:
    return f"{name:16s}" + " ".join(f"{str(v):>12s}" for v in values.values())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "model" / "weights")
    parser.add_argument("--per-cell", type=int, default=50)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    corpus = training_lines(args.data / "train.jsonl", args.model)
    with closing(bench_engine(args.model)) as engine:
        cells = run(engine, args.per_cell)
        ci_cells = quality_ci.ours(engine, args.per_cell) if engine.tunes else None
        tunes = engine.tunes
    ours = [p for poems in cells.values() for p in poems]
    columns = ["well_formed", "kept", *figures(ours, corpus)]
    print(f"{'':16s}" + " ".join(f"{c:>12s}" for c in columns))
    for (mode, form), poems in cells.items():
        kept = {k: round(sum(p[k] for p in poems) / len(poems), 3) for k in ("well_formed", "kept")}
        print(row(f"{mode} {form}", kept | figures(poems, corpus)))
    overall = {k: round(sum(p[k] for p in ours) / len(ours), 3) for k in ("well_formed", "kept")} | figures(
        ours, corpus
    )
    print(row("ours, all", overall))
    test = args.data / "test.jsonl"
    if test.exists():
        master = {"well_formed": "-", "kept": "-"} | figures(masters(test), corpus)
        print(row("唐诗三百首", master))
    else:
        master = None
        print("唐诗三百首: data/test.jsonl is missing (make data)")
    print(
        "targets: well_formed, kept, rhyme, meter 1.0; 重韵 0; repeat_rate ≤ 1.5 × the masters'; "
        "对仗 ≥ 0.8 × the masters'; copied_lines ≤ 0.03"
    )
    ci = quality_ci.report(ci_cells, tunes, args.data / "test_ci.jsonl") if ci_cells else None
    print(json.dumps({"ours": overall, "masters": master, "ci": ci}, ensure_ascii=False))


if __name__ == "__main__":
    main()
