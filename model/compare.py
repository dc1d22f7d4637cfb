"""Print the run folder whose last dev perplexity is lowest (the experiment's winner); the reader
of the dev evaluations in a run's log, which `model.curves` draws too.

python -m model.compare RUN [RUN ...]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path


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


def last_dev_ppl(run: Path) -> float:
    """The final dev perplexity a run logged."""
    curve = dev_curve(run)
    if not curve:
        raise SystemExit(f"{run} logged no dev perplexity")
    return curve[-1].ppl


def main(argv: list[str] | None = None) -> None:
    runs = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    for run in runs:
        print(f"{run}: dev ppl {last_dev_ppl(run)}", file=sys.stderr)
    print(min(runs, key=last_dev_ppl))


if __name__ == "__main__":
    main()
