"""Print the run folder whose last dev perplexity is lowest (the experiment's winner).

python -m model.compare RUN [RUN ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def last_dev_ppl(run: Path) -> float:
    """The final dev perplexity a run logged."""
    values = [json.loads(line).get("dev_ppl") for line in (run / "train.log").read_text().splitlines()]
    found = [v for v in values if v is not None]
    if not found:
        raise SystemExit(f"{run} logged no dev perplexity")
    return found[-1]


def main(argv: list[str] | None = None) -> None:
    runs = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    for run in runs:
        print(f"{run}: dev ppl {last_dev_ppl(run)}", file=sys.stderr)
    print(min(runs, key=last_dev_ppl))


if __name__ == "__main__":
    main()
