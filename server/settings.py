"""The model server's and the web page's settings: each default once, with the environment variable that
changes it (the README's configuration table lists them). Each process reads its environment once, in its
main, and its flags override what it read; where a client finds the model server is client/settings.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from client.settings import HOST, PORT, FromEnvironment, env

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServerSettings(FromEnvironment):
    """`python -m server.grpc_server`: the flag of each field is its name, as --max-batch for max_batch."""

    host: str = env("POET_GRPC_HOST", HOST)
    port: int = env("POET_GRPC_PORT", PORT)
    model: Path = env("POET_MODEL", ROOT / "model" / "weights")  # config, safetensors, vocab, openvino/
    max_batch: int = env("POET_MAX_BATCH", 64)  # sequences decoded together in one step
    max_queue: int = env("POET_MAX_QUEUE", 256)  # requests waiting before RESOURCE_EXHAUSTED
    # Versions written of a 律诗's answering lines 4 and 6, the one that faces its partner best kept
    # (对仗): more is more parallel and slower (model/MODEL_CARD.md has both).
    line_choices: int = env("POET_LINE_CHOICES", 2)
    # RPC threads; a stream holds one for its whole life, and so does the health watch of each client
    # process (its channels share one).
    workers: int = env("POET_GRPC_WORKERS", 96)
    max_rpcs: int = env("POET_MAX_RPCS", 512)  # RPCs at once before RESOURCE_EXHAUSTED
    # Characters per progress message of a stream started under load: a couplet at a time (two 七言
    # lines and their marks). Each message costs CPU that the decoder's threads would have had, and
    # the fewer a stream sends the more poems the server writes (model/MODEL_CARD.md has the numbers).
    stream_every: int = env("POET_STREAM_EVERY", 16)
    # Streams in flight up to which every character goes out, so that a person sees the poem being
    # written; a stream that starts past it (the server under load) is coalesced every stream_every.
    smooth_streams: int = env("POET_SMOOTH_STREAMS", 4)
    # The RPC threads run this much nicer than the decode thread, so that under load they take the CPU
    # the decoder leaves rather than pre-empting it: more throughput and a steadier p95 (see the card).
    rpc_nice: int = env("POET_RPC_NICE", 10)
    grace: float = env("POET_GRACE", 10.0)  # seconds the calls in flight get to finish on SIGTERM
    # Prometheus scrapes /metrics here, on the gRPC host (0: no metrics server); 9464 is the port
    # OpenTelemetry's Prometheus exporter uses.
    metrics_port: int = env("POET_METRICS_PORT", 9464)


@dataclass(frozen=True)
class WebSettings(FromEnvironment):
    """`python -m server.wsgi`: the page and its API (where it finds the model server: ClientSettings)."""

    host: str = env("POET_WEB_HOST", HOST)
    port: int = env("POET_WEB_PORT", 8000)
    threads: int = env("POET_WEB_THREADS", 16)  # each open poem stream holds one, so more than waitress's 4
