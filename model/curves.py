"""The model card's training curves: dev perplexity against tokens seen, one line per run.

    python -m model.curves runs/teacher runs/student_alone runs/student_kd --out model/curves.png

Reads each run's train.log (`model.compare.dev_curve`) and draws dev perplexity of the regular poems
and of the 词 (log scale) against the tokens that run read. Tokens, not steps: the teacher's batches
are twice the students'. A student's axis counts its own tokens only, not those of the weights it
started from. Prints the points too, for the card's tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 (the backend first)

from model.compare import DevPoint, dev_curve  # noqa: E402


def plot(curves: dict[str, list[DevPoint]], out: Path) -> None:
    figure, (verse, ci) = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for name, points in curves.items():
        millions = [p.tokens / 1e6 for p in points]
        verse.plot(millions, [p.ppl for p in points], marker=".", label=name)
        with_ci = [(m, p.ppl_ci) for m, p in zip(millions, points) if p.ppl_ci is not None]
        if with_ci:
            ci.plot(*zip(*with_ci), marker=".", label=name)
    for axes, title in ((verse, "dev perplexity, regular poems"), (ci, "dev perplexity, ci (40 tunes)")):
        axes.set_yscale("log")
        axes.set_xlabel("tokens read by the run (millions)")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    curves = {run.name: dev_curve(run) for run in args.runs}
    for name, points in curves.items():
        rows = ", ".join(f"{p.step}: {p.ppl}" + (f" / {p.ppl_ci}" if p.ppl_ci else "") for p in points)
        print(f"{name} (step: dev 诗 / 词): {rows}")
    plot(curves, args.out)


if __name__ == "__main__":
    main()
