"""Protobuf <-> engine dataclasses: the only place the two vocabularies meet."""
from __future__ import annotations

from model.engine.types import PoemRequest, PoemResult, Progress
from proto.poet.v1 import poet_pb2

OPTIONAL_FIELDS = ("n", "seed", "temperature", "top_k", "top_p", "repetition_penalty", "rhyme",
                   "rhyme_first_line", "meter", "strict_meter", "no_repeat", "no_copy")


def request_from_pb(message: poet_pb2.GenerateRequest) -> PoemRequest:
    """Fields the client set; the dataclass defaults stand for the rest."""
    fields = {name: getattr(message, name) for name in OPTIONAL_FIELDS if message.HasField(name)}
    for name in ("temperature", "top_p", "repetition_penalty"):  # float32 on the wire: 0.95 -> 0.949999...
        if name in fields:
            fields[name] = round(fields[name], 6)
    return PoemRequest(mode=message.mode or "random", form=message.form, text=message.text, **fields)


def reply_to_pb(result: PoemResult) -> poet_pb2.GenerateReply:
    poems = [poet_pb2.Poem(text=p.text, lines=p.lines, score=p.score, rhyme_group=p.rhyme_group, tones=p.tones,
                           rhyme_positions=p.rhyme_positions, constraints=p.constraints) for p in result.poems]
    return poet_pb2.GenerateReply(form=result.form, mode=result.mode, poems=poems, keywords=result.keywords,
                                  elapsed_ms=result.elapsed_ms)


def progress_to_pb(progress: Progress) -> poet_pb2.GenerateStreamReply:
    return poet_pb2.GenerateStreamReply(progress=poet_pb2.Progress(index=progress.index, text=progress.text))


def info_to_pb(info: dict) -> poet_pb2.GetInfoReply:
    return poet_pb2.GetInfoReply(**info)
