"""Protobuf <-> engine dataclasses: the only place the two vocabularies meet."""

from __future__ import annotations

import json

from model.engine.types import PoemRequest, PoemResult, Progress
from proto.poet.v1 import poet_pb2

REQUEST = poet_pb2.GenerateRequest.DESCRIPTOR
OPTIONAL_FIELDS = tuple(f.name for f in REQUEST.fields if f.has_presence)  # unset: the engine's default
PLAIN_FIELDS = tuple(f.name for f in REQUEST.fields if not f.has_presence)  # proto3 strings: empty is unset
FLOAT_FIELDS = tuple(f.name for f in REQUEST.fields if f.cpp_type == f.CPPTYPE_FLOAT)
INFO_FIELDS = tuple(poet_pb2.GetInfoReply.DESCRIPTOR.fields_by_name)


def request_from_pb(message: poet_pb2.GenerateRequest) -> PoemRequest:
    """The engine request: the fields the client set, the dataclass defaults for the rest."""
    fields = {name: getattr(message, name) for name in OPTIONAL_FIELDS if message.HasField(name)}
    fields |= {name: getattr(message, name) for name in PLAIN_FIELDS if getattr(message, name)}
    for name in FLOAT_FIELDS:  # float32 on the wire: 0.95 arrives as 0.949999988
        if name in fields:
            fields[name] = round(fields[name], 6)
    return PoemRequest(**fields)


def reply_to_pb(result: PoemResult) -> poet_pb2.GenerateReply:
    """The wire form of the engine's result."""
    poems = [
        poet_pb2.Poem(
            text=p.text,
            lines=p.lines,
            score=p.score,
            rhyme_group=p.rhyme_group,
            tones=p.tones,
            rhyme_positions=p.rhyme_positions,
            constraints=p.constraints,
            faults=[poet_pb2.Fault(line=f.line, rule=f.rule, user=f.user) for f in p.faults],
        )
        for p in result.poems
    ]
    return poet_pb2.GenerateReply(
        form=result.form,
        mode=result.mode,
        poems=poems,
        keywords=result.keywords,
        elapsed_ms=result.elapsed_ms,
        left_out=result.left_out,
    )


def progress_to_pb(progress: Progress) -> poet_pb2.GenerateStreamReply:
    """A stream message carrying one progress event."""
    return poet_pb2.GenerateStreamReply(progress=poet_pb2.Progress(index=progress.index, text=progress.text))


def info_to_pb(info: dict) -> poet_pb2.GetInfoReply:
    """The engine's info dict as a reply; keys the contract does not know are left out."""
    fields = {key: value for key, value in info.items() if key in INFO_FIELDS}
    fields["rules"] = [poet_pb2.Rule(name=name, **rule) for name, rule in info.get("rules", {}).items()]
    fields["tunes"] = [poet_pb2.Tune(**tune) for tune in info.get("tunes", [])]
    fields["form_shapes"] = [poet_pb2.Tune(**shape) for shape in info.get("form_shapes", [])]
    fields["auto_forms"] = [poet_pb2.AutoForm(**row) for row in info.get("auto_forms", [])]
    fields["fields"] = [
        poet_pb2.RequestField(
            default_json=json.dumps(f["default"], ensure_ascii=False),
            **{k: v for k, v in f.items() if k != "default" and v is not None},
        )
        for f in info.get("fields", [])
    ]
    return poet_pb2.GetInfoReply(**fields)
