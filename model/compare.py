"""Print the run folder whose model reads the dev poems best (the experiment's winner); and the
reader of the dev evaluations in a run's log, which `model.curves` draws.

python -m model.compare RUN [RUN ...] [--data data]

The winner has the lowest perplexity per character over every dev poem, 诗 and 词 together
(`model.score` of RUN/model on data/dev.jsonl): the served model writes both, and the two figures
a log keeps apart can disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from model.score import score_file

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DevPoint:
    """One dev evaluation a run logged: perplexity of the regular poems, and of the 词 where dev has some."""

    step: int
    tokens: int
    ppl: float
    ppl_ci: float | None


def dev_curve(run: Path) -> list[DevPoint]:
    """Every dev evaluation in a run's train.log (written by `model.train`), in order."""
    records = [json.loads(line) for line in (run / "train.log").read_text(encoding="utf-8").splitlines()]
    return [DevPoint(r["step"], r["tokens"], r["dev_ppl"], r.get("dev_ppl_ci")) for r in records if "dev_ppl" in r]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    dev_ppl = {run: score_file(args.data / "dev.jsonl", run / "model")["ppl"] for run in args.runs}
    for run, ppl in dev_ppl.items():
        logged = ", ".join(f"{p.ppl} / {p.ppl_ci}" for p in dev_curve(run)[-1:])
        print(f"{run}: all dev poems {ppl} (its log's last 诗 / 词: {logged or 'none'})", file=sys.stderr)
    print(min(dev_ppl, key=dev_ppl.__getitem__))


if __name__ == "__main__":
    main()
