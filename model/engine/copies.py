"""Lines of the training poems, as a sorted table of CRC32 hashes, to refuse verbatim copies.

A hash collision (about 1.3M lines in 2^32) only makes the engine re-sample a new line: harmless.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

TABLE_NAME = "train_lines.npy"


def line_hash(line: str) -> int:
    return zlib.crc32(line.encode("utf-8"))


def write_table(train_jsonl: Path, dest_dir: Path) -> Path:
    """Hash every line of every training poem into dest_dir/train_lines.npy."""
    with open(train_jsonl, encoding="utf-8") as handle:
        hashes = {line_hash(line) for row in handle for line in json.loads(row)["lines"]}
    path = dest_dir / TABLE_NAME
    np.save(path, np.array(sorted(hashes), dtype=np.uint32))
    return path


class CopyTable:
    """Membership test for training lines; empty when the model ships no table."""

    def __init__(self, hashes: Iterable[int] = ()):
        self.hashes = np.array(sorted(hashes), dtype=np.uint32)

    @classmethod
    def load(cls, model_dir: Path) -> CopyTable:
        path = Path(model_dir) / TABLE_NAME
        table = cls()
        if path.exists():
            table.hashes = np.load(path)
        return table

    def __contains__(self, line: str) -> bool:
        value = np.uint32(line_hash(line))  # a Python int would make numpy cast the whole table
        index = int(np.searchsorted(self.hashes, value))
        return index < len(self.hashes) and int(self.hashes[index]) == value

    def __len__(self) -> int:
        return len(self.hashes)
