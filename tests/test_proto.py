"""The committed generated code is what `python -m proto.build` makes from poet.proto now."""
from __future__ import annotations

from pathlib import Path

from proto.build import build

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    for fresh in build(tmp_path):
        committed = ROOT / fresh.relative_to(tmp_path)
        assert committed.read_text() == fresh.read_text(), f"{committed} is stale: run `python -m proto.build`"
