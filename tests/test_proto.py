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


def test_the_modes_chinese_names_travel_with_the_contract() -> None:
    from model.engine.contract import describe
    from model.engine.types import MODE_LABELS
    from server.convert import info_to_pb

    mode = next(f for f in describe() if f["name"] == "mode")
    assert (
        dict(zip(mode["choices"], mode["labels"]))
        == MODE_LABELS
        == {
            "random": "随机",
            "continue": "续写",
            "acrostic": "藏头",
            "theme": "主题",
        }
    )
    sent = next(f for f in info_to_pb({"fields": describe()}).fields if f.name == "mode")
    assert list(sent.labels) == list(MODE_LABELS.values())


def test_an_empty_request_takes_every_default_from_the_engine() -> None:
    from model.engine.types import PoemRequest
    from proto.poet.v1 import poet_pb2
    from server.convert import request_from_pb

    assert request_from_pb(poet_pb2.GenerateRequest()) == PoemRequest()
    asked = request_from_pb(poet_pb2.GenerateRequest(mode="theme", text="秋夜", temperature=0.95))
    assert (asked.mode, asked.form, asked.text, asked.temperature) == ("theme", "", "秋夜", 0.95)


def test_the_forms_shapes_and_the_automatic_choice_travel_in_get_info() -> None:
    from client.poet_client import shape_from_pb
    from model.engine.plan import automatic_forms
    from model.engine.types import FORM_NAMES
    from model.forms import FORMS
    from server.convert import info_to_pb

    info = {"form_shapes": [FORMS[name].shape() for name in FORM_NAMES], "auto_forms": automatic_forms()}
    reply = info_to_pb(info)
    assert [shape_from_pb(shape) for shape in reply.form_shapes] == info["form_shapes"]
    sent = [{"mode": a.mode, "width": a.width, "lines": a.lines, "form": a.form} for a in reply.auto_forms]
    assert sent == info["auto_forms"]
