"""The engine: requests in, poems out, every live candidate sharing one decode step (continuous batching)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from model.engine.candidate import Candidate, Shared
from model.engine.check import RULES, check_poem
from model.engine.contract import describe
from model.engine.copies import CopyTable
from model.engine.plan import MAX_PREFIX_TOKENS, Plan, automatic_forms, plan_request
from model.engine.prosody import VocabProsody
from model.engine.runtime import DecoderRuntime
from model.engine.types import (
    FORM_NAMES,
    MAX_CANDIDATES,
    MAX_TEXT,
    MODES,
    RHYME_TONES,
    CancelledError,
    OverloadedError,
    Poem,
    PoemRequest,
    PoemResult,
    Progress,
)
from model.forms import FORMS, Form, tunes
from model.text import is_han
from model.tokenizer import CharTokenizer, form_token

log = logging.getLogger(__name__)
ProgressCallback = Callable[[Progress], None]
StepCallback = Callable[[float], None]  # told each decode step's seconds
OPENING_TOKENS = 2  # every prefix starts [CLS] [form]: their keys and values are computed once per form
LINE_CHOICES = 2  # versions written of a 律诗's answering lines 4 and 6, the more parallel kept (1: the first)


class Ticket:
    """A submitted request: wait on result(), or cancel() to stop its decoding and free its rows."""

    def __init__(
        self,
        request: PoemRequest,
        plan: Plan,
        candidates: list[Candidate],
        on_progress: ProgressCallback | None,
        progress_every: int = 1,
    ):
        self.request, self.plan, self.candidates = request, plan, candidates
        self.on_progress, self.progress_every = on_progress, progress_every
        self.future: Future[PoemResult] = Future()
        self.cancelled = False
        self.started = time.perf_counter()
        self.shown = [""] * len(candidates)

    def result(self, timeout: float | None = None) -> PoemResult:
        """The finished poems; raises TimeoutError, CancelledError or the request's error."""
        return self.future.result(timeout)

    def cancel(self) -> None:
        self.cancelled = True

    def report_progress(self) -> None:
        """Tell on_progress a candidate's text: its first character, then whenever it has grown by
        progress_every characters since last told, was cut back to re-sample a line, or is finished."""
        if self.on_progress is None:
            return
        for candidate in self.candidates:
            text, shown = candidate.text(), self.shown[candidate.index]
            if text == shown:
                continue
            cut_back = not text.startswith(shown)
            if not shown or cut_back or candidate.done or len(text) - len(shown) >= self.progress_every:
                self.shown[candidate.index] = text
                self.on_progress(Progress(candidate.index, text))


def known_tunes(tokenizer: CharTokenizer, positions: int) -> dict[str, Form]:
    """The 词 tunes a model knows: its vocabulary has their token and its positions hold them."""
    return {
        name: form
        for name, form in tunes().items()
        if form_token(name) in tokenizer.ids and MAX_PREFIX_TOKENS + form.tokens <= positions
    }


class Engine:
    """Loads the OpenVINO IR once and decodes every request's candidates in one shared batch."""

    def __init__(
        self,
        model_dir: Path,
        max_batch: int = 64,
        max_queue: int = 256,
        threads: int = 0,
        precision: str = "f32",
        line_choices: int = LINE_CHOICES,
        tunes_too: bool = True,
        on_step: StepCallback | None = None,
    ):
        model_dir = Path(model_dir)
        self.tokenizer = CharTokenizer.load(model_dir / "vocab.txt")
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.model_name = config.get("poet_model_name", model_dir.name)
        self.model_version = config.get("poet_model_version", "dev")
        self.max_batch, self.max_queue = max(max_batch, MAX_CANDIDATES), max_queue
        # The 词 tunes, unless this engine is for 诗 only (router.py: its cache is half as wide).
        self.tunes = known_tunes(self.tokenizer, config["max_position_embeddings"]) if tunes_too else {}
        forms = FORMS | self.tunes
        # The cache holds the longest sequence a request can make, not every position the model
        # knows: every step reads all of it (a 七律's 82 columns are 50 MB at batch 64; the longest
        # tune's 160 about twice that).
        longest = MAX_PREFIX_TOKENS + max(form.tokens for form in forms.values())
        self.runtime = DecoderRuntime(
            model_dir / "openvino" / "decoder.xml", self.max_batch, longest, threads, precision
        )
        # A new row starts from its form's cached opening instead of feeding it: 2 of a 七律's 65 steps.
        self.openings = {form: self._opening(form) for form in forms}
        han = np.array([is_han(token) for token in self.tokenizer.tokens])
        self.shared = Shared(
            self.tokenizer, VocabProsody(self.tokenizer.tokens), han, CopyTable.load(model_dir), line_choices
        )
        self.on_step = on_step  # called from the decode thread: whoever watches the engine (the server's metrics)
        self.waiting: deque[Ticket] = deque()
        self.live: list[Candidate] = []
        self.owner: dict[int, Ticket] = {}  # id(candidate) -> its ticket
        self.unreported: list[Ticket] = []  # tickets the last step changed, told just before the next infer
        self.wakeup = threading.Condition()
        self.running = True
        self.thread = threading.Thread(target=self._loop, name="poet-engine", daemon=True)
        self.thread.start()

    # -- public API -----------------------------------------------------------------
    def submit(
        self, request: PoemRequest, on_progress: ProgressCallback | None = None, progress_every: int = 1
    ) -> Ticket:
        """Queue a request; raises PoetryError for bad input and OverloadedError when the queue is full.
        on_progress (called from the decode thread) gets a candidate's text at its first character,
        every progress_every characters after, at each cut-back and when it is finished."""
        plan = plan_request(request, self.tokenizer, self.tunes)
        seed = request.seed if request.seed is not None else int.from_bytes(os.urandom(8), "little") >> 1
        candidates = [Candidate(self.shared, request, plan, seed, i) for i in range(request.n)]
        ticket = Ticket(request, plan, candidates, on_progress, progress_every)
        with self.wakeup:
            if not self.running:
                raise OverloadedError("引擎正在关闭 / the engine is shutting down")
            if len(self.waiting) >= self.max_queue:
                raise OverloadedError("队列已满，请稍后再试 / the queue is full, try again later")
            self.waiting.append(ticket)
            self.wakeup.notify()
        return ticket

    def generate(self, request: PoemRequest, timeout: float | None = None) -> PoemResult:
        """Submit and wait for the poems."""
        ticket = self.submit(request)
        try:
            return ticket.result(timeout)
        except TimeoutError:
            ticket.cancel()
            raise

    def info(self) -> dict:
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "vocab_size": len(self.tokenizer),
            "forms": list(FORM_NAMES),
            "modes": list(MODES),
            "max_candidates": MAX_CANDIDATES,
            "max_text": MAX_TEXT,
            "max_batch": self.max_batch,
            "max_queue": self.max_queue,
            "rhyme_tones": list(RHYME_TONES),
            "rules": {
                name: {"constraint": constraint, "zh": zh, "en": en} for name, (constraint, zh, en) in RULES.items()
            },
            "fields": describe(),
            "tunes": [form.shape() for form in self.tunes.values()],
            "form_shapes": [FORMS[name].shape() for name in FORM_NAMES],
            "auto_forms": automatic_forms(),
        }

    def close(self) -> None:
        """Stop the decode thread; requests still queued or running are cancelled."""
        with self.wakeup:
            self.running = False
            self.wakeup.notify()
        self.thread.join()

    # -- the decode loop ------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self.wakeup:
                while self.running and not self.live and not self.waiting:
                    self.wakeup.wait()
                if not self.running:
                    break
                self._admit()
            try:
                self._drop_cancelled()
                if self.live:
                    self._step()
                if not self.live:  # no infer call coming to report before
                    self._report()
            except Exception as error:  # a bug must fail the requests in the batch, not hang them
                log.exception("decode step failed")
                self._fail_live(error)
        self._report()
        for ticket in list(self.waiting) + self._live_tickets():
            self._finish(ticket, CancelledError("引擎已关闭 / the engine was shut down"))

    def _admit(self) -> None:
        """Move waiting requests into the batch while all their candidates fit."""
        while self.waiting and len(self.live) + len(self.waiting[0].candidates) <= self.max_batch:
            ticket = self.waiting.popleft()
            if ticket.cancelled:
                self._finish(ticket, CancelledError("请求已取消 / the request was cancelled"))
                continue
            if all(c.done for c in ticket.candidates):  # an opening that fills its form: nothing to
                self.unreported.append(ticket)  # decode, its result goes out with the next report
                continue
            for candidate in ticket.candidates:
                candidate.row = len(self.live)
                self.runtime.load_columns(candidate.row, *self.openings[ticket.plan.form.name])
                candidate.fed = OPENING_TOKENS
                self.live.append(candidate)
                self.owner[id(candidate)] = ticket

    def _opening(self, form: str) -> tuple[np.ndarray, np.ndarray]:
        """The keys and values of a prefix's first tokens, fed one by one through row 0 (before the
        decode thread starts); a row's first step then feeds the token after them."""
        for position, token in enumerate(self.tokenizer.prefix(form)[:OPENING_TOKENS]):
            self.runtime.step(np.array([token]), np.array([position]))
        return self.runtime.row_columns(0, OPENING_TOKENS)

    def _step(self) -> None:
        started = time.perf_counter()
        inputs = np.array([c.next_input() for c in self.live])
        choosing = [c for c in self.live if c.chooses_after_this_feed()]
        # A cell's constraints depend only on the tokens before it, so they go into the same infer call.
        picked = self.runtime.decode(
            inputs[:, 0], inputs[:, 1], [c.selection() for c in choosing], before_infer=self._report
        )
        for candidate in self.live:
            candidate.fed += 1
        for candidate, choice in zip(choosing, picked):
            candidate.take(choice)
        self.unreported = self._live_tickets()
        for candidate in [c for c in choosing if c.done]:  # a finished candidate leaves while its siblings go on
            self._release_row(candidate)
        if self.on_step is not None:
            self.on_step(time.perf_counter() - started)

    def _report(self) -> None:
        """Progress and finished results of the last step. Called just before the next infer call:
        the threads that stream them to clients then run while the decoder has let go of the GIL,
        instead of taking it from the step's Python work (a gRPC server under 64 streams went from
        about 67% to 72-80% of the engine's own throughput)."""
        tickets, self.unreported = self.unreported, []
        for ticket in tickets:
            try:
                ticket.report_progress()
                if all(c.done for c in ticket.candidates) and not ticket.future.done():
                    self._finish(ticket, self._result(ticket))
            except Exception as error:  # a failing callback or check fails its own request only
                log.exception("reporting a request failed")
                ticket.cancel()  # its rows, if any are left, leave at the next step
                self._finish(ticket, error)

    def _live_tickets(self) -> list[Ticket]:
        """The tickets with candidates in the batch, each once."""
        return list({id(t): t for t in self.owner.values()}.values())

    def _fail_live(self, error: Exception) -> None:
        for ticket in self._live_tickets():
            self._release(ticket)
            self._finish(ticket, error)

    def _drop_cancelled(self) -> None:
        for ticket in self._live_tickets():
            if ticket.cancelled:
                self._release(ticket)
                self._finish(ticket, CancelledError("请求已取消 / the request was cancelled"))

    @staticmethod
    def _finish(ticket: Ticket, outcome: PoemResult | Exception) -> None:
        """Settle a ticket's future once: a ticket can finish and be cancelled in the same step."""
        if ticket.future.done():
            return
        if isinstance(outcome, Exception):
            ticket.future.set_exception(outcome)
        else:
            ticket.future.set_result(outcome)

    def _release(self, ticket: Ticket) -> None:
        """Take a ticket's candidates still in the batch out of it."""
        for candidate in ticket.candidates:
            if id(candidate) in self.owner:
                self._release_row(candidate)

    def _release_row(self, candidate: Candidate) -> None:
        """Take a candidate out of the batch, moving the last row into its place."""
        last = self.live.pop()
        if last is not candidate:
            self.runtime.move_row(last.row, candidate.row)
            last.row = candidate.row
            self.live[candidate.row] = last
        del self.owner[id(candidate)]

    def _result(self, ticket: Ticket) -> PoemResult:
        """The finished poems, each checked whole; a candidate identical to an earlier one (a whole
        poem typed by the user, given back n times) is left out."""
        request, plan = ticket.request, ticket.plan
        poems: dict[str, Poem] = {}
        for candidate in ticket.candidates:
            lines = candidate.lines()
            facts = check_poem(
                lines, plan.form, plan.first_line_rhymes, plan.forced, request.strict_meter, plan.rhyme_tone
            )
            kept = all(lines[line][column] == char for (line, column), char in plan.forced.items())
            own_lines = lines[plan.given_lines :]
            constraints = {
                "well_formed": facts["well_formed"],
                "kept": kept,
                "rhyme": facts["rhyme"],
                "meter": facts["meter"],
                "no_repeat": facts["no_repeat"],
                "no_copy": not any(line in self.shared.copies for line in own_lines),
            }
            if request.strict_meter:
                constraints["strict_meter"] = facts["strict_meter"]
            poems.setdefault(
                candidate.text(),
                Poem(
                    candidate.text(),
                    lines,
                    round(candidate.score(), 4),
                    facts["rhyme_group"],
                    facts["tones"],
                    facts["rhyme_positions"],
                    constraints,
                    facts["faults"],
                ),
            )
        elapsed = (time.perf_counter() - ticket.started) * 1000
        return PoemResult(
            plan.form.name, request.mode, list(poems.values()), plan.keywords, round(elapsed, 1), plan.left_out
        )
