"""Sampling the next token of many rows at once: mask, repetition penalty, temperature, top-k, top-p, draw.

The whole choice is a small graph that the runtime appends to the decode step, so one OpenVINO
infer call per step both runs the model and picks every row's token: numpy's argpartition over
a full batch's scores, many of them masked (tied), was several times slower than OpenVINO's TopK,
and a draw done in numpy took some 35 small array calls a step even for one row, a share of a lone
poem's time worth saving (model/MODEL_CARD.md, Engine measurements). Each row draws with a uniform number
from its own random generator, and every operation reads its own row only, so a row's choice
never depends on the other rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

FULL_SORT_K = 256  # top_k = 0 (off) still samples among at most this many best tokens
# The graph's top-k width: the smallest of these that covers every row's k. A row takes the first
# k of its candidates: its choice cannot depend on the other rows unless 25+ candidates tie
# exactly at its k-th score.
SELECTION_WIDTHS = (64, 256, 1024)
# The head's outputs, each (B,), and their types; token is -1 where a row allows nothing.
SELECTION_OUTPUTS = {"token": np.int64, "logprob": np.float32, "mass": np.float32}
DISALLOWED = -1e30  # a disallowed token's score in the head's ranking (finite: no inf arithmetic in the graph)
SCORE_LIMIT = 1e29  # allowed scores are clamped to ±this (a temperature near 0 divides them past it), so
# every allowed score stays above DISALLOWED / 2 and every disallowed one below


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_k: int
    top_p: float
    repetition_penalty: float


@dataclass(frozen=True)
class Selection:
    """What one row may choose at a step: the allowed tokens (a 1/0 mask) but the ids banned, the
    used ids the repetition penalty applies to, how to sample, and its uniform number in [0, 1)."""

    row: int
    allowed: np.ndarray
    banned: np.ndarray
    used: np.ndarray
    params: SamplingParams
    uniform: float


@dataclass(frozen=True)
class Choice:
    token: int
    logprob: float  # under the model's own distribution (temperature 1, no mask)
    allowed_mass: float  # probability the model gave to all allowed tokens


def selection_head(logits: ov.Output) -> tuple[list[ov.Node], list[ov.Output]]:
    """The graph over (B, V) logits. Inputs: allowed (B, V) 1/0, factor (B, V) (the repetition
    penalty where a token was used, else 1), temperature, top_k, top_p and a uniform number in
    [0, 1) (each (B, 1)), and k, the candidates' width. Outputs (each (B,)): the drawn token (-1
    where nothing is allowed), its log-probability under the plain model and the mass of the
    allowed tokens. Every (B, V) operation is arithmetic, so OpenVINO fuses them into a few
    passes (boolean inputs and selects cost about a third of a batch-64 step)."""
    f32 = np.float32
    allowed = ops.parameter([-1, -1], f32, name="allowed")
    factor = ops.parameter([-1, -1], f32, name="factor")
    temperature, top_p, uniform = (
        ops.parameter([-1, 1], f32, name=name) for name in ("temperature", "top_p", "uniform")
    )
    top_k = ops.parameter([-1, 1], np.int64, name="top_k")
    width = ops.parameter([], np.int64, name="k")
    # Rounding makes the choice robust to the last-bit differences between batch sizes.
    scores = ops.divide(ops.round(ops.multiply(logits, f32(1000))), f32(1000))
    top = ops.reduce_max(scores, 1, keep_dims=True)
    exp = ops.exp(ops.subtract(scores, top))
    total = ops.reduce_sum(exp, 1, keep_dims=True)
    log_total = ops.add(ops.log(total), top)
    mass = ops.divide(ops.reduce_sum(ops.multiply(exp, allowed), 1, keep_dims=False), ops.squeeze(total, 1))
    # The penalty divides a positive score and multiplies a negative one: with factor ≥ 1 (the
    # request's repetition_penalty is checked to be in [1, 2]) that is the smaller of the two.
    penalised = ops.minimum(ops.multiply(scores, factor), ops.divide(scores, factor))
    tempered = ops.clamp(ops.divide(penalised, temperature), -SCORE_LIMIT, SCORE_LIMIT)
    final = ops.add(tempered, ops.multiply(ops.subtract(f32(1), allowed), f32(DISALLOWED)))
    values, ids = ranked_candidates(final, width)
    index, alive = draw(values, top_k, top_p, uniform, width)
    token = ops.gather_elements(ids, index, 1)
    logprob = ops.subtract(ops.gather_elements(scores, token, 1), log_total)
    token = ops.select(alive, token, np.int64(-1))
    outputs = [ops.squeeze(token, 1).output(0), ops.squeeze(logprob, 1).output(0), mass.output(0)]
    for output, name in zip(outputs, SELECTION_OUTPUTS):
        output.get_tensor().set_names({name})
    return [allowed, factor, temperature, top_k, top_p, uniform, width], outputs


def ranked_candidates(final: ov.Output, width: ov.Output) -> tuple[ov.Output, ov.Output]:
    """Each row's `width` best scores, best first, ties by id, and their ids (each (B, width)).
    OpenVINO's stable TopK is much slower than the plain one over the whole vocabulary: the plain
    one picks the best, which are put in id order and then sorted stably by score."""
    best = ops.topk(final, width, 1, "max", "none", "i64")
    by_id = ops.topk(ops.convert(best.output(1), np.float32), width, 1, "min", "value", "i64").output(1)
    values, ids = (ops.gather_elements(best.output(i), by_id, 1) for i in (0, 1))
    ranked = ops.topk(values, width, 1, "max", "value", "i64", stable=True)
    return ranked.output(0), ops.gather_elements(ids, ranked.output(1), 1).output(0)


def draw(
    values: ov.Output, top_k: ov.Output, top_p: ov.Output, uniform: ov.Output, width: ov.Output
) -> tuple[ov.Output, ov.Output]:
    """Per row, the index (B, 1) of the candidate drawn among its sorted values: within its first
    top_k, then within its top-p nucleus, where the uniform number falls in the cumulative
    weights; and whether the row has an allowed candidate at all (B, 1)."""
    f32 = np.float32
    lead = ops.slice(values, np.array([0]), np.array([1]), np.array([1]), np.array([1]))
    alive = ops.greater(lead, f32(DISALLOWED / 2))
    # Disallowed candidates are DISALLOWED: exp gives 0. Past a row's top-k width they are cut.
    rank = ops.range(np.int64(0), width, np.int64(1), "i64")
    in_top_k = ops.convert(ops.less(rank, top_k), f32)
    weights = ops.multiply(ops.exp(ops.subtract(values, ops.select(alive, lead, f32(0)))), in_top_k)
    cumulative = ops.cumsum(weights, np.int64(1))  # sequential along a row
    total = ops.reduce_max(cumulative, 1, keep_dims=True)  # the last: the weights are not negative

    def count_below(limit: ov.Node) -> ov.Node:
        return ops.reduce_sum(ops.convert(ops.less(cumulative, limit), np.int64), 1, keep_dims=True)

    nucleus_size = ops.add(count_below(ops.multiply(top_p, total)), np.int64(1))
    cut = ops.minimum(ops.select(ops.less(top_p, f32(1)), nucleus_size, width), width)
    last = ops.subtract(cut, np.int64(1))
    nucleus = ops.gather_elements(cumulative, last, 1)
    return ops.minimum(count_below(ops.multiply(uniform, nucleus)), last).output(0), alive.output(0)


class SelectionInputs:
    """The head's input arrays for the rows of one batch bucket, reused step after step (new (B, V)
    arrays every step cost page faults). Each fill undoes only what the previous fill set:
    resetting the whole (B, V) arrays every step cost more, at a full batch."""

    def __init__(self, batch: int, vocab: int):
        self.arrays = {
            "allowed": np.zeros((batch, vocab), dtype=np.float32),
            "factor": np.ones((batch, vocab), dtype=np.float32),
            "temperature": np.ones((batch, 1), dtype=np.float32),
            "top_k": np.ones((batch, 1), dtype=np.int64),
            "top_p": np.ones((batch, 1), dtype=np.float32),
            "uniform": np.zeros((batch, 1), dtype=np.float32),
            "k": np.array(1, dtype=np.int64),
        }
        self._penalised: list[tuple[int, np.ndarray]] = []  # (row, ids) the last fill allowed and penalised

    def fill(self, selections: list[Selection]) -> None:
        """Inputs for a step in which only the selections' rows choose a token; other rows allow
        nothing. (A row that allows nothing keeps its last sampling parameters: they cannot matter.)"""
        arrays = self.arrays
        allowed_all, factor = arrays["allowed"], arrays["factor"]
        choosing = {s.row for s in selections}
        for row, ids in self._penalised:
            factor[row, ids] = 1
            if row not in choosing:  # a choosing row's mask is overwritten below
                allowed_all[row] = 0
        for s in selections:
            allowed_all[s.row] = s.allowed
            allowed_all[s.row, s.banned] = 0
            factor[s.row, s.used] = s.params.repetition_penalty
            arrays["temperature"][s.row] = s.params.temperature
            arrays["top_k"][s.row] = s.params.top_k or FULL_SORT_K
            arrays["top_p"][s.row] = s.params.top_p
            arrays["uniform"][s.row] = s.uniform
        self._penalised = [(s.row, s.used) for s in selections]
        vocab = allowed_all.shape[1]
        widest = max([min(s.params.top_k or FULL_SORT_K, vocab) for s in selections], default=1)
        arrays["k"][...] = min(next((w for w in SELECTION_WIDTHS if w >= widest), vocab), vocab)


def choices(outputs: dict[str, np.ndarray], rows: list[int]) -> list[Choice | None]:
    """The head's choice for each of `rows`; None where a row allows nothing."""
    tokens, logprobs, masses = (outputs[name][rows].tolist() for name in SELECTION_OUTPUTS)
    return [
        None if token < 0 else Choice(token, logprob, mass) for token, logprob, mass in zip(tokens, logprobs, masses)
    ]
