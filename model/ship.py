"""Copy a trained model into model/weights (fp16 safetensors, vocab, IR) — what `make run` serves.

python -m model.ship RUN/model [--version NAME]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from model.engine.copies import write_table
from model.export import DEFAULT_MODEL, export
from model.modeling import load_causal

ROOT = Path(__file__).resolve().parent.parent


def ship(source: Path, version: str, dest: Path = DEFAULT_MODEL, train: Path = ROOT / "data" / "train.jsonl") -> None:
    """Weights in fp16 (half the size in git; loaded back as fp32), the INT8 IR and the copy table."""
    model = load_causal(source)
    model.config.poet_model_name = "bert-poet"
    model.config.poet_model_version = version
    model.half().save_pretrained(dest)
    shutil.copy(source / "vocab.txt", dest / "vocab.txt")
    export(dest, int8=True)
    write_table(train, dest)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("--version", default=None, help="default: the source run's folder name")
    args = parser.parse_args(argv)
    ship(args.source, args.version or args.source.parent.name)


if __name__ == "__main__":
    main()
