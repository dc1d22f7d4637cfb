"""How the training poems use characters, for the engine's rules (`make data` runs it):

- the usual reading at a line's end of each character that 平水韵 lists in both tones (看 过 行 思):
  how often the masters close a rhyming line with it (a 平 reading) against a line that must end
  仄, each share taken of all such positions;
- the characters they double (叠字: 萧萧, 悠悠), which the no-repeat rule allows to be doubled.

    python -m model.usage [--train data/train.jsonl] [--out model/engine/usage.json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from model.batches import read_poems
from model.engine.check import common_rhyme_group
from model.engine.prosody import BOTH, PING, ZE, tone_of
from model.forms import form_of

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "model" / "engine" / "usage.json"
MIN_EVIDENCE = 5  # line ends seen before a usual reading is decided
MIN_DOUBLED = 20  # training poems that double a character before it may be doubled


def count_usage(poems: list[dict]) -> tuple[Counter[str], Counter[str], int, int, Counter[str]]:
    """Per two-tone character: ends of rhyming lines, ends of lines that must end 仄 (both in poems
    that rhyme in one level-tone group, 首句 aside: it may go either way); the totals of those
    positions; and how many poems double each character inside a line."""
    level, oblique, doubled = Counter(), Counter(), Counter()
    level_total = oblique_total = 0
    for poem in poems:
        lines = poem["lines"]
        doubled.update({line[i] for line in lines for i in range(1, len(line)) if line[i] == line[i - 1]})
        rhymes = form_of(lines).rhyme_lines(False)
        if not common_rhyme_group([lines[i][-1] for i in rhymes]):
            continue
        for index, line in enumerate(lines[1:], start=1):
            end = line[-1]
            if index in rhymes:
                level_total += 1
                level[end] += tone_of(end) == BOTH
            else:
                oblique_total += 1
                oblique[end] += tone_of(end) == BOTH
    return level, oblique, level_total, oblique_total, doubled


def usual_readings(level: Counter[str], oblique: Counter[str], level_total: int, oblique_total: int) -> dict[str, str]:
    """平 or 仄 for each two-tone character seen often enough at line ends."""
    readings = {}
    for char in sorted(set(level) | set(oblique)):
        if level[char] + oblique[char] >= MIN_EVIDENCE:
            as_level, as_oblique = level[char] / max(level_total, 1), oblique[char] / max(oblique_total, 1)
            readings[char] = PING if as_level >= as_oblique else ZE
    return readings


def build(train: Path) -> dict:
    poems = [p for p in read_poems(train) if p.get("kind") != "ci"]
    level, oblique, level_total, oblique_total, doubled = count_usage(poems)
    return {
        "line_end_readings": usual_readings(level, oblique, level_total, oblique_total),
        "doubled": "".join(sorted(c for c, n in doubled.items() if n >= MIN_DOUBLED)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=ROOT / "data" / "train.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    usage = build(args.train)
    args.out.write_text(json.dumps(usage, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    readings = Counter(usage["line_end_readings"].values())
    print(
        f"{args.out}: {len(usage['line_end_readings'])} usual readings ({readings[PING]} 平, {readings[ZE]} 仄), "
        f"{len(usage['doubled'])} doubled characters"
    )


if __name__ == "__main__":
    main()
