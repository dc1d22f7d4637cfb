"""Sampling: masks respected, top-k/top-p honoured, repetition penalised, seeded.

The selection head runs here on its own, compiled over a logits input, as the runtime runs it
appended to the decode step."""

from __future__ import annotations

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from model.engine.sampler import (
    SELECTION_OUTPUTS,
    Choice,
    SamplingParams,
    Selection,
    SelectionInputs,
    choices,
    selection_head,
)


def compile_head() -> ov.InferRequest:
    logits = ops.parameter([-1, -1], np.float32, name="logits")
    inputs, outputs = selection_head(logits.output(0))
    model = ov.Model(outputs, [logits, *inputs])
    return ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}).create_infer_request()


HEAD = compile_head()


def choose_rows(logits, allowed, used, params, rngs) -> list[Choice | None]:
    """Every row of logits (R, V) through the head; used: (R, V) bool; each row draws from its rng."""
    rows = list(range(len(logits)))
    banned = [np.zeros(0, dtype=np.int64)] * len(rows)
    inputs = SelectionInputs(len(rows), logits.shape[1])
    inputs.fill(
        [
            Selection(row, allow, ban, np.flatnonzero(use), param, rng.random())
            for row, allow, ban, use, param, rng in zip(rows, allowed, banned, used, params, rngs)
        ]
    )
    HEAD.infer({"logits": logits, **inputs.arrays})
    return choices({name: HEAD.get_tensor(name).data.copy() for name in SELECTION_OUTPUTS}, rows)


def choose_one(logits, allowed, used, params, rng) -> Choice | None:
    return choose_rows(logits[None], allowed[None], used[None], [params], [rng])[0]


GREEDY = SamplingParams(temperature=1.0, top_k=1, top_p=1.0, repetition_penalty=1.0)


def logits() -> np.ndarray:
    return np.array([5.0, 4.0, 3.0, 2.0, 1.0], dtype=np.float32)


def test_the_mask_is_respected_and_greedy_picks_the_best_allowed() -> None:
    allowed = np.array([False, False, True, True, False])
    choice = choose_one(logits(), allowed, np.zeros(5, bool), GREEDY, np.random.default_rng(0))
    assert choice.token == 2
    assert 0 < choice.allowed_mass < 0.2
    expected = 3.0 - np.log(np.exp(logits().astype(np.float64)).sum())
    assert abs(choice.logprob - expected) < 1e-5


def test_banned_ids_are_not_allowed() -> None:
    inputs = SelectionInputs(1, 5)
    inputs.fill([Selection(0, np.ones(5, bool), np.array([0, 1]), np.zeros(0, np.int64), GREEDY, 0.5)])
    assert inputs.arrays["allowed"][0].tolist() == [0, 0, 1, 1, 1]


def test_a_fill_leaves_nothing_of_the_one_before() -> None:
    inputs = SelectionInputs(3, 5)
    everything, nothing = np.ones(5, np.float32), np.zeros(0, np.int64)
    penalising = SamplingParams(0.5, 1, 1.0, repetition_penalty=1.5)
    inputs.fill(
        [
            Selection(row, everything, nothing, used, penalising, 0.5)
            for row, used in enumerate([np.array([0, 1]), np.array([3]), np.array([4])])
        ]
    )
    inputs.fill([Selection(1, np.array([0, 0, 1, 1, 0], np.float32), nothing, np.array([2]), penalising, 0.5)])
    assert not inputs.arrays["allowed"][[0, 2]].any()  # rows that do not choose allow nothing
    assert inputs.arrays["allowed"][1].tolist() == [0, 0, 1, 1, 0]
    assert (inputs.arrays["factor"] != 1).sum() == 1 and inputs.arrays["factor"][1, 2] == 1.5


def test_nothing_allowed_is_a_dead_end() -> None:
    assert choose_one(logits(), np.zeros(5, bool), np.zeros(5, bool), GREEDY, np.random.default_rng(0)) is None


def test_repetition_penalty_can_change_the_choice() -> None:
    used = np.array([True, False, False, False, False])
    params = SamplingParams(1.0, 1, 1.0, repetition_penalty=2.0)  # 5.0 / 2 = 2.5 < 4.0
    assert choose_one(logits(), np.ones(5, bool), used, params, np.random.default_rng(0)).token == 1


def test_top_p_keeps_only_the_nucleus() -> None:
    peaked = np.array([10.0, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
    params = SamplingParams(1.0, 0, 0.5, 1.0)
    tokens = {
        choose_one(peaked, np.ones(5, bool), np.zeros(5, bool), params, np.random.default_rng(s)).token
        for s in range(50)
    }
    assert tokens == {0}


class Fixed:
    """A random generator that always draws the same number."""

    def __init__(self, value: float):
        self.value = value

    def random(self) -> float:
        return self.value


def test_the_uniform_number_falls_in_the_cumulative_probabilities() -> None:
    scores = np.log(np.array([0.5, 0.3, 0.2], dtype=np.float32))
    plain, nucleus = SamplingParams(1.0, 0, 1.0, 1.0), SamplingParams(1.0, 0, 0.7, 1.0)
    ones, nothing = np.ones(3, bool), np.zeros(3, bool)
    pick = lambda params, u: choose_one(scores, ones, nothing, params, Fixed(u)).token  # noqa: E731
    assert [pick(plain, u) for u in (0.1, 0.49, 0.51, 0.79, 0.81, 0.99)] == [0, 0, 1, 1, 2, 2]
    # top-p 0.7 keeps {0, 1} (the fewest best tokens holding 0.7): the uniform number spreads over their 0.8
    assert [pick(nucleus, u) for u in (0.6, 0.64, 0.9)] == [0, 1, 1]


def test_top_k_keeps_the_k_best_and_ties_go_to_the_lower_id() -> None:
    tied = np.array([1.0, 3.0, 3.0, 3.0, 0.0], dtype=np.float32)
    params = SamplingParams(1.0, 2, 1.0, 1.0)
    tokens = {
        choose_one(tied, np.ones(5, bool), np.zeros(5, bool), params, np.random.default_rng(s)).token for s in range(60)
    }
    assert tokens == {1, 2}


def test_a_row_does_not_depend_on_the_other_rows() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(6, 300)).astype(np.float32)
    allowed, used = rng.random((6, 300)) < 0.7, rng.random((6, 300)) < 0.1
    params = [SamplingParams(0.8, k, 0.9, 1.2) for k in (0, 5, 40, 5, 0, 40)]
    batched = choose_rows(rows, allowed, used, params, [np.random.default_rng(i) for i in range(6)])
    alone = [choose_one(rows[i], allowed[i], used[i], params[i], np.random.default_rng(i)) for i in range(6)]
    assert batched == alone


def test_same_seed_same_choices_and_sampling_spreads() -> None:
    params = SamplingParams(1.0, 0, 1.0, 1.0)
    flat = np.zeros(5, dtype=np.float32)

    def draw(seed: int) -> list[int]:
        rng = np.random.default_rng(seed)
        return [choose_one(flat, np.ones(5, bool), np.zeros(5, bool), params, rng).token for _ in range(40)]

    assert draw(3) == draw(3)
    assert len(set(draw(3))) == 5


def test_repetition_penalty_lowers_a_negative_score_too() -> None:
    negative = np.array([-1.0, -1.2, -3.0], dtype=np.float32)
    used = np.array([True, False, False])
    params = SamplingParams(1.0, 1, 1.0, repetition_penalty=1.5)  # -1.0 * 1.5 = -1.5 < -1.2
    assert choose_one(negative, np.ones(3, bool), used, params, np.random.default_rng(0)).token == 1


def test_a_temperature_near_zero_never_lets_a_disallowed_token_through() -> None:
    scores = np.array([20.0, -5.0, 3.0, 1.0], dtype=np.float32)
    allowed = np.array([False, True, True, True])
    for temperature in (1e-30, 1e-45):  # scores / temperature reach the mask's size, or overflow
        params = SamplingParams(temperature, 0, 1.0, 1.0)
        tokens = {
            choose_one(scores, allowed, np.zeros(4, bool), params, np.random.default_rng(s)).token for s in range(20)
        }
        assert tokens and tokens <= {1, 2, 3}
