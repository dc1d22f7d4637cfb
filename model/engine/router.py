"""Two engines behind one interface: 诗 and 词 decode in batches of their own.

Every step of a batch reads its whole KV cache, and a cache holds the longest sequence its forms
can make: 82 columns for a 七律, 160 for the longest tune. One engine for both would read the wide
cache for every 诗 too, about halving a batch of 64 七律 (on an AVX-512 EPYC, bench.engine). So the
router keeps an engine for the regular forms and one for the tunes; an idle one only waits.
"""

from __future__ import annotations

import json
from pathlib import Path

from model.engine.engine import Engine, ProgressCallback, Ticket, known_tunes
from model.engine.types import PoemRequest, PoemResult
from model.forms import Form
from model.tokenizer import CharTokenizer


class Router:
    """Engine's submit, generate, info, close and tunes, over a 诗 engine and a 词 engine."""

    def __init__(self, model_dir: Path, **settings: object):
        self.regular = Engine(model_dir, tunes_too=False, **settings)
        self.ci = Engine(model_dir, **settings)

    @property
    def tunes(self) -> dict[str, Form]:
        return self.ci.tunes

    def engine_for(self, request: PoemRequest) -> Engine:
        return self.ci if isinstance(request.form, str) and request.form in self.ci.tunes else self.regular

    def submit(
        self, request: PoemRequest, on_progress: ProgressCallback | None = None, progress_every: int = 1
    ) -> Ticket:
        return self.engine_for(request).submit(request, on_progress, progress_every)

    def generate(self, request: PoemRequest, timeout: float | None = None) -> PoemResult:
        return self.engine_for(request).generate(request, timeout)

    def info(self) -> dict:
        return self.regular.info() | {"tunes": self.ci.info()["tunes"]}

    def close(self) -> None:
        self.regular.close()
        self.ci.close()


def open_engine(model_dir: Path, **settings: object) -> Engine | Router:
    """A router where the model knows 词 tunes, else one engine."""
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    tokenizer = CharTokenizer.load(Path(model_dir) / "vocab.txt")
    knows_tunes = bool(known_tunes(tokenizer, config["max_position_embeddings"]))
    return Router(model_dir, **settings) if knows_tunes else Engine(model_dir, **settings)
