"""The committed generated code is what `python -m proto.build` makes from poet.proto now."""

from __future__ import annotations

from pathlib import Path

from proto.build import build

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    for fresh in build(tmp_path):
        committed = ROOT / fresh.relative_to(tmp_path)
        assert committed.read_text() == fresh.read_text(), f"{committed} is stale: run `python -m proto.build`"


def test_one_request_contract_the_proto_the_engine_and_its_checks_name_the_same_fields() -> None:
    from dataclasses import fields

    from model.engine.contract import SPECS, describe
    from model.engine.types import PoemRequest
    from proto.poet.v1 import poet_pb2

    proto = list(poet_pb2.GenerateRequest.DESCRIPTOR.fields_by_name)
    assert proto == [f.name for f in fields(PoemRequest)] == [s.name for s in SPECS]
    described = {f["name"]: f for f in describe()}
    assert described["temperature"]["default"] == 0.8 and described["temperature"]["above_minimum"]
    assert described["mode"]["choices"] == ["random", "continue", "acrostic", "theme"]
    assert described["seed"]["nullable"] and described["seed"]["default"] is None
