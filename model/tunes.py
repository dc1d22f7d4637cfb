"""Tune tables (词谱) made from the training 词 (`make data` runs it), for the engine's 词 forms.

    python -m model.tunes [--train data/train.jsonl] [--out model/engine/tunes.json]

For each tune of the training data (the 40 most written, `model.data`):
- its standard form (正体): the most common sequence of line lengths (a line ends at any mark),
  and at each line the mark most of those poems put there, 。 (a sentence ends: 。？！) or ，;
- its 阕: where the second stanza starts, if it has one. The corpus does not mark stanzas, so the
  split is found from the form: a 双调 tune's two stanzas end alike (浣溪沙 7-7-7 / 7-7-7), so the
  break is the sentence end after which the two halves match most lines counted from their ends,
  less a point for every 5 characters by which their lengths differ (菩萨蛮 7-7-5-5 / 5-5-5-5, not
  7-7-5-5-5 / 5-5-5). Where no split scores above 0, a tune of LONG_TUNE characters or more is cut
  at the sentence end nearest its middle (诉衷情 7-5-6-5 / 3-3-3-4-4-4), a shorter one has one
  stanza (如梦令);
- its 叠句: a line that repeats the line before in most poems (如梦令's 知否，知否);
- the tone at each position: 平 or 仄 where at least AGREE of the poems' characters there are
  heard so (prosody.heard_tone), else 中;
- its rhymes: line ends that rhyme together in most poems, by 词林正韵 (cilin.py), found as the
  groups of line ends that rhyme pairwise in at least half the poems; each group's tone is the
  tone most of its characters are heard in. Several groups mean the tune changes rhyme (换韵: 菩萨蛮).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from model.batches import read_poems
from model.engine.cilin import ci_rhymes
from model.engine.prosody import BOTH, PING, ZE, heard_tone
from model.forms import tune as tune_form
from model.text import split_lines

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "model" / "engine" / "tunes.json"
AGREE = 0.8  # share of poems that must agree on a position's tone
RHYME_TOGETHER = 0.5  # share of poems in which two line ends must rhyme to count as rhyming
REPEAT = 0.5  # share of poems in which a line must repeat the one before to be a 叠句
SENTENCE_ENDS = "。？！"
LONG_TUNE = 40  # characters: a tune this long whose halves end unlike still has two 阕 (诉衷情)


def shape_of(body: str) -> tuple[list[str], list[str]]:
    """A 词's lines and their marks, each mark 。 (a sentence ends) or ，."""
    lines, marks = split_lines(body)
    return lines, ["。" if mark in SENTENCE_ENDS else "，" for mark in marks]


def standard_form(bodies: list[str]) -> tuple[tuple[int, ...], list[str], list[list[str]]]:
    """The most common line lengths, the mark most poems of that shape put after each line, and
    the lines of those poems."""
    shapes = [shape_of(body) for body in bodies]
    lengths = Counter(tuple(map(len, lines)) for lines, _ in shapes).most_common(1)[0][0]
    chosen = [(lines, marks) for lines, marks in shapes if tuple(map(len, lines)) == lengths]
    marks = [Counter(m[i] for _, m in chosen).most_common(1)[0][0] for i in range(len(lengths))]
    return lengths, marks, [lines for lines, _ in chosen]


def stanza_break(lengths: tuple[int, ...], marks: list[str]) -> int | None:
    """The first line of the second 阕, or None for a one-stanza tune."""
    ends = [split for split in range(1, len(lengths)) if marks[split - 1] == "。"]
    best, best_score = None, 0.0
    for split in ends:
        first, second = lengths[:split], lengths[split:]
        matched = 0
        while matched < min(len(first), len(second)) and first[-1 - matched] == second[-1 - matched]:
            matched += 1
        score = matched - abs(sum(first) - sum(second)) / 5
        if matched and score > best_score:
            best, best_score = split, score
    if best is None and ends and sum(lengths) >= LONG_TUNE:  # stanzas that end unlike: split in half
        best = min(ends, key=lambda split: abs(2 * sum(lengths[:split]) - sum(lengths)))
    return best


def repeated_lines(poems: list[list[str]]) -> list[int]:
    """Lines that repeat the line before them (叠句) in most poems."""
    count = len(poems[0])
    return [i for i in range(1, count) if sum(p[i] == p[i - 1] for p in poems) >= REPEAT * len(poems)]


def position_tones(poems: list[list[str]]) -> list[str]:
    """Per line, 平/仄/中 at each position by how the poems' characters there are heard."""
    tones = []
    for index, length in enumerate(map(len, poems[0])):
        line = ""
        for column in range(length):
            heard = Counter(heard_tone(p[index][column]) for p in poems)
            decided = heard[PING] + heard[ZE]
            tone = next((t for t in (PING, ZE) if decided and heard[t] >= AGREE * decided), BOTH)
            line += tone
        tones.append(line)
    return tones


def rhyme_groups(poems: list[list[str]]) -> list[dict]:
    """Groups of lines whose ends rhyme together in most poems, each with its tone."""
    count = len(poems[0])
    together = defaultdict(int)
    for poem in poems:
        ends = [ci_rhymes(line[-1]) for line in poem]
        for i, j in combinations(range(count), 2):
            together[i, j] += bool(ends[i] & ends[j])
    linked = {(i, j) for (i, j), n in together.items() if n >= RHYME_TOGETHER * len(poems)}
    groups: list[set[int]] = []
    for i, j in sorted(linked):
        joined = [g for g in groups if i in g or j in g]
        merged = {i, j}.union(*joined)
        groups = [g for g in groups if g not in joined] + [merged]
    found = []
    for group in sorted(groups, key=min):
        heard = Counter(heard_tone(p[i][-1]) for p in poems for i in group)
        found.append({"lines": sorted(group), "tone": PING if heard[PING] >= heard[ZE] else ZE})
    return found


def tune_table(bodies: list[str]) -> dict:
    lengths, marks, poems = standard_form(bodies)
    split = stanza_break(lengths, marks)
    return {
        "poems": len(bodies),
        "standard": len(poems),
        "lines": list(lengths),
        "marks": marks,
        "stanzas": [len(lengths)] if split is None else [split, len(lengths) - split],
        "repeats": repeated_lines(poems),
        "tones": position_tones(poems),
        "rhymes": rhyme_groups(poems),
    }


def build(train: Path) -> dict[str, dict]:
    """The table of every tune in the training 词, most written first."""
    bodies: dict[str, list[str]] = defaultdict(list)
    for poem in read_poems(train):
        if poem.get("kind") == "ci":
            bodies[poem["form"]].append(poem["body"])
    ordered = sorted(bodies, key=lambda tune: (-len(bodies[tune]), tune))
    return {tune: tune_table(bodies[tune]) for tune in ordered}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "train.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tables = build(args.train)
    args.out.write_text(json.dumps(tables, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for tune, table in tables.items():
        changes = "换韵 " if len(table["rhymes"]) > 1 else ""
        print(
            f"{tune:6s} {table['standard']:4d}/{table['poems']:4d}  {tune_form(tune, table).pattern:32s} {changes}"
            f"rhymes {[(g['lines'], g['tone']) for g in table['rhymes']]} repeats {table['repeats']}"
        )


if __name__ == "__main__":
    main()
