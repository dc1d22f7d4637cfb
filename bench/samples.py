"""The model card's samples, written by the engine with its default constraints.

    python -m bench.samples [--model model/weights]

Each row is what `python -m client MODE --form FORM --text TEXT --seed SEED` asks (the same
engine, the same seed: the same poem). Prints one line a poem: mode, form, text, seed, the theme's
keywords, the poem, its rhyme group and its faults (the user's own marked 用户). For the 词, the
tunes bench.quality writes (the ten most written), random, seeds 1-10. Read them before calling new weights better.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.quality_ci import SAMPLE_TUNES
from model.engine.engine import Engine
from model.engine.router import Router, open_engine
from model.engine.types import MODE_LABELS, PoemRequest
from model.export import DEFAULT_MODEL

VERSE = [  # mode, form, text, seed, rhyme tone
    ("random", "五绝", "", 1, "平"),
    ("random", "七绝", "", 2, "平"),
    ("random", "五律", "", 3, "平"),
    ("acrostic", "七绝", "春夏秋冬", 5, "平"),
    ("acrostic", "五绝", "明月清风", 6, "平"),
    ("acrostic", "七律", "国泰民安年年好", 7, "平"),
    ("continue", "五律", "白日依山尽，", 8, "平"),
    ("continue", "七绝", "故人西辞黄鹤楼，", 9, "平"),
    ("theme", "七绝", "秋夜思乡", 10, "平"),
    ("theme", "五律", "送别友人", 11, "平"),
    ("theme", "七律", "城市的夜晚灯火", 12, "平"),
    ("random", "七律", "", 4, "平"),
    ("continue", "五绝", "千山鸟飞绝，万径人踪灭。", 13, "平"),
    ("random", "七绝", "", 14, "仄"),
]


def requests(tunes: list[str]) -> list[PoemRequest]:
    verse = [PoemRequest(mode=m, form=f, text=t, seed=s, rhyme_tone=tone) for m, f, t, s, tone in VERSE]
    return verse + [PoemRequest(form=tune, seed=seed) for seed, tune in enumerate(tunes, start=1)]


def sample_line(engine: Engine | Router, request: PoemRequest) -> str:
    result = engine.generate(request)
    poem = result.poems[0]
    asked = " ".join(
        part
        for part in (
            "词" if request.form in engine.tunes else MODE_LABELS[request.mode],
            "仄韵" if request.rhyme_tone == "仄" else "",
            request.form,
            request.text,
            f"seed {request.seed}",
            f"[{' '.join(result.keywords)}]" if result.keywords else "",
        )
        if part
    )
    faults = " ".join(f"第{f.line}句{f.rule}{'(用户)' if f.user else ''}" for f in poem.faults)
    return f"{asked}  {poem.text}  ({poem.rhyme_group})" + (f" faults: {faults}" if faults else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args(argv)
    engine = open_engine(args.model, max_batch=8, max_queue=64)
    try:
        for request in requests(list(engine.tunes)[:SAMPLE_TUNES]):
            print(sample_line(engine, request), flush=True)
    finally:
        engine.close()


if __name__ == "__main__":
    main()
