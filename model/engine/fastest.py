"""Run each step on whichever of several equivalent infer requests has lately been the fastest.

A lone row's step is compiled for one thread and for every core, two here (runtime.py). Which is faster depends on
what the host's neighbours leave of the cache and memory, and changes from minute to minute: with
the cache to itself, one thread; with busy neighbours, two (model/MODEL_CARD.md, Engine
measurements). The requests give bitwise the same outputs, so the choice never changes a poem.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

RECENT = 32  # the current request's last steps, whose median stands for its speed
TRIAL_EVERY = 1024  # steps of the current request between trials of another
TRIAL_STEPS = 24  # a trial's steps on another request, of which the first WARM_UP are not counted:
WARM_UP = 8  # each compiled model holds its own copy of the weights, cold in the cache at first


class Request(Protocol):
    def infer(self, *, share_outputs: bool) -> object: ...


class FastestRequest:
    """Infer requests bound to the same arrays; infer() runs one and returns it."""

    def __init__(self, requests: list[Request], clock: Callable[[], float] = time.perf_counter):
        self.requests, self.clock = requests, clock
        self.current = 0
        self.recent: deque[float] = deque(maxlen=RECENT)
        self.until_trial = RECENT  # the first trial comes as soon as the current one has a median
        self.on_trial: int | None = None  # the request being tried
        self.trial: list[float] = []  # its step times, warm-up left out
        self.trial_steps = 0
        self.offset = 1  # the next request tried is this many places after the current one

    def infer(self) -> Request:
        index = self._choose()
        request = self.requests[index]
        started = self.clock()
        request.infer(share_outputs=True)
        self._record(index, self.clock() - started)
        return request

    def _choose(self) -> int:
        if self.on_trial is None and len(self.requests) > 1 and self.until_trial <= 0:
            self.on_trial = (self.current + self.offset) % len(self.requests)
            self.offset = self.offset % (len(self.requests) - 1) + 1  # each of the others in turn
            self.trial, self.trial_steps = [], 0
        return self.current if self.on_trial is None else self.on_trial

    def _record(self, index: int, seconds: float) -> None:
        if index != self.on_trial:
            self.recent.append(seconds)
            self.until_trial -= 1
            return
        self.trial_steps += 1
        if self.trial_steps > WARM_UP:
            self.trial.append(seconds)
        if self.trial_steps == TRIAL_STEPS:
            if statistics.median(self.trial) < statistics.median(self.recent):
                self.current = index
                self.recent = deque(self.trial, maxlen=RECENT)
            self.on_trial, self.until_trial = None, TRIAL_EVERY
