"""FastestRequest: steps run on whichever request has lately been faster (fake requests, fake clock)."""

from __future__ import annotations

from model.engine.fastest import RECENT, TRIAL_EVERY, TRIAL_STEPS, WARM_UP, FastestRequest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TimedRequest:
    """An infer that takes `cost` seconds on the fake clock (the first `cold` calls cost 10x)."""

    def __init__(self, clock: Clock, cost: float, cold: int = 0):
        self.clock, self.cost, self.cold, self.calls = clock, cost, cold, 0

    def infer(self, *, share_outputs: bool) -> None:
        self.calls += 1
        self.clock.now += self.cost * (10 if self.calls <= self.cold else 1)


def run(fastest: FastestRequest, steps: int) -> list[int]:
    """Which request ran each step."""
    return [fastest.requests.index(fastest.infer()) for _ in range(steps)]


def test_it_moves_to_a_faster_request_after_a_trial_and_back_when_that_changes() -> None:
    clock = Clock()
    slow, fast = TimedRequest(clock, 2.0), TimedRequest(clock, 1.0, cold=WARM_UP)
    fastest = FastestRequest([slow, fast], clock)
    ran = run(fastest, RECENT + TRIAL_STEPS + 10)
    assert ran[:RECENT] == [0] * RECENT  # the first request until it has a median
    assert ran[RECENT : RECENT + TRIAL_STEPS] == [1] * TRIAL_STEPS  # then a trial of the other
    assert ran[RECENT + TRIAL_STEPS :] == [1] * 10  # its cold warm-up steps did not count against it
    fast.cost = 3.0  # the neighbours got busy
    ran = run(fastest, TRIAL_EVERY + TRIAL_STEPS)
    trial = TRIAL_EVERY - 10  # steps of the current one since it was chosen, 10 of them above
    assert ran[:trial] == [1] * trial  # no trial before its turn
    assert ran[trial:] == [0] * (TRIAL_STEPS + 10)  # the trial, and the first request chosen again


def test_it_stays_with_the_current_request_when_the_other_is_slower() -> None:
    clock = Clock()
    fastest = FastestRequest([TimedRequest(clock, 1.0), TimedRequest(clock, 1.5)], clock)
    ran = run(fastest, RECENT + TRIAL_STEPS + TRIAL_EVERY)
    assert ran.count(1) == TRIAL_STEPS
    assert ran[-TRIAL_EVERY:] == [0] * TRIAL_EVERY


def test_a_single_request_runs_every_step() -> None:
    clock = Clock()
    only = TimedRequest(clock, 1.0)
    fastest = FastestRequest([only], clock)
    assert run(fastest, 3 * TRIAL_EVERY) == [0] * (3 * TRIAL_EVERY)
    assert only.calls == 3 * TRIAL_EVERY
