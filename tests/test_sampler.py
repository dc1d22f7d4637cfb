"""Sampling: masks respected, top-k/top-p honoured, repetition penalised, seeded."""
from __future__ import annotations

import numpy as np

from model.engine.sampler import Choice, SamplingParams, choose_batch


def choose(logits, allowed, used, params, rng) -> Choice | None:
    """One row through the batch sampler."""
    return choose_batch(logits[None], allowed[None], [np.flatnonzero(used)], [params], [rng])[0]

GREEDY = SamplingParams(temperature=1.0, top_k=1, top_p=1.0, repetition_penalty=1.0)


def logits() -> np.ndarray:
    return np.array([5.0, 4.0, 3.0, 2.0, 1.0], dtype=np.float32)


def test_the_mask_is_respected_and_greedy_picks_the_best_allowed() -> None:
    allowed = np.array([False, False, True, True, False])
    choice = choose(logits(), allowed, np.zeros(5, bool), GREEDY, np.random.default_rng(0))
    assert choice.token == 2
    assert 0 < choice.allowed_mass < 0.2
    assert choice.logprob < 0


def test_nothing_allowed_is_a_dead_end() -> None:
    assert choose(logits(), np.zeros(5, bool), np.zeros(5, bool), GREEDY, np.random.default_rng(0)) is None


def test_repetition_penalty_can_change_the_choice() -> None:
    used = np.array([True, False, False, False, False])
    params = SamplingParams(1.0, 1, 1.0, repetition_penalty=2.0)  # 5.0 / 2 = 2.5 < 4.0
    assert choose(logits(), np.ones(5, bool), used, params, np.random.default_rng(0)).token == 1


def test_top_p_keeps_only_the_nucleus() -> None:
    peaked = np.array([10.0, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
    params = SamplingParams(1.0, 0, 0.5, 1.0)
    tokens = {choose(peaked, np.ones(5, bool), np.zeros(5, bool), params, np.random.default_rng(s)).token for s in range(50)}
    assert tokens == {0}


def test_a_row_does_not_depend_on_the_other_rows() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(6, 50)).astype(np.float32)
    allowed, used = rng.random((6, 50)) < 0.7, rng.random((6, 50)) < 0.1
    params = [SamplingParams(0.8, k, 0.9, 1.2) for k in (0, 5, 40, 5, 0, 40)]
    batched = choose_batch(rows, allowed, [np.flatnonzero(u) for u in used], params,
                           [np.random.default_rng(i) for i in range(6)])
    alone = [choose(rows[i], allowed[i], used[i], params[i], np.random.default_rng(i)) for i in range(6)]
    assert batched == alone


def test_same_seed_same_choices_and_sampling_spreads() -> None:
    params = SamplingParams(1.0, 0, 1.0, 1.0)
    flat = np.zeros(5, dtype=np.float32)
    draw = lambda seed: [choose(flat, np.ones(5, bool), np.zeros(5, bool), params, rng).token  # noqa: E731
                         for rng in [np.random.default_rng(seed)] for _ in range(40)]
    assert draw(3) == draw(3)
    assert len(set(draw(3))) == 5
