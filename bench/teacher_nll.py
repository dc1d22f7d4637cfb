"""How the teacher reads the poems each model writes: their mean per-character negative
log-likelihood under the teacher (issue 17: are the new weights' poems better, judged by a
stronger model than the one that wrote them?).

    python -m bench.teacher_nll --teacher runs/teacher/model MODEL [MODEL ...] [--per-cell 32]

Each MODEL (a shipped-weights folder with its OpenVINO IR) writes --per-cell poems for every
mode × form with bench.quality's prompts and seeds (4 × 4 × 32 = 512 by default), with the
default constraints. The teacher scores each poem given its form, as model.score does; the
regular poems of 唐诗三百首 (data/test.jsonl) are scored the same way, for scale. Lower reads
as more natural to the teacher. Every figure comes from this one run.
"""

from __future__ import annotations

import argparse
import json
from contextlib import closing
from pathlib import Path

import torch

from bench.engine import cpu_summary
from bench.quality import bench_engine, run
from model.modeling import load_causal
from model.score import poems_nll, read_poems_file, summary
from model.tokenizer import CharTokenizer

ROOT = Path(__file__).resolve().parent.parent


def written(model_dir: Path, per_cell: int) -> list[tuple[str, str]]:
    """(form, text) of the poems one model writes for bench.quality's prompts."""
    with closing(bench_engine(model_dir)) as engine:
        cells = run(engine, per_cell)
    return [(form, poem["text"]) for (_, form), poems in cells.items() for poem in poems]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--teacher", type=Path, required=True)
    parser.add_argument("--per-cell", type=int, default=32)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_summary()}; torch {torch.__version__}")
    teacher, tokenizer = load_causal(args.teacher), CharTokenizer.load(args.teacher / "vocab.txt")
    rows = {str(model): written(model, args.per_cell) for model in args.models}
    test = args.data / "test.jsonl"
    if test.exists():
        rows["唐诗三百首"] = read_poems_file(test)
    figures = {name: summary(len(poems), *poems_nll(teacher, tokenizer, poems)) for name, poems in rows.items()}
    for name, figure in figures.items():
        print(f"{name:40s} poems {figure['poems']:4d}  nll/char {figure['nll_per_char']:.4f}  ppl {figure['ppl']:.2f}")
    print(json.dumps({"teacher": str(args.teacher), "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
