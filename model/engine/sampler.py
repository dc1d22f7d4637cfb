"""Sampling the next token of many rows at once: mask, repetition penalty, temperature, top-k, top-p.

The heavy work (rounding, softmax statistics, masking, top-k selection over the whole vocabulary)
is a small graph that the runtime appends to the decode step, so one OpenVINO infer call per step
both runs the model and narrows every row to its best few tokens: numpy's argpartition over
64 × 9k scores with many masked (tied) entries took about 8 ms a step, OpenVINO's TopK about 1.
Each row then draws from its own candidates with its own random generator, so a row's choice never
depends on the other rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import openvino as ov
import openvino.opset13 as ops

FULL_SORT_K = 256  # top_k = 0 (off) still samples among at most this many best tokens
# The graph's top-k width: the smallest of these that covers every row's k. OpenVINO's stable
# TopK is 40x slower than the plain one, so ties are ordered (by id) afterwards in numpy, and a
# row takes the first k of its sorted candidates: its choice cannot depend on the other rows
# unless 25+ candidates tie exactly at its k-th score.
SELECTION_WIDTHS = (64, 256, 1024)
SELECTION_OUTPUTS = ("values", "ids", "logprobs", "mass")
DISALLOWED = -1e30  # a disallowed token's score in the head's outputs (finite: no inf arithmetic in the graph)
SCORE_LIMIT = 1e29  # allowed scores are clamped to ±this (a temperature near 0 divides them past it), so
                    # every allowed score stays above DISALLOWED / 2 and every disallowed one below


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_k: int
    top_p: float
    repetition_penalty: float


@dataclass(frozen=True)
class Choice:
    token: int
    logprob: float  # under the model's own distribution (temperature 1, no mask)
    allowed_mass: float  # probability the model gave to all allowed tokens


def selection_head(logits: ov.Output) -> tuple[list[ov.Node], list[ov.Output]]:
    """The graph over (B, V) logits: inputs allowed (B, V) 1/0, factor (B, V) (the repetition penalty
    where a token was used, else 1), temperature (B, 1), width k; outputs the k best allowed tokens
    of each row (values after penalty and temperature, ids, log-probabilities under the plain
    model) and the mass of the allowed tokens. Every (B, V) operation is arithmetic, so OpenVINO
    fuses them into a few passes (boolean inputs and selects cost about a third of a batch-64 step)."""
    f32 = np.float32
    allowed = ops.parameter([-1, -1], f32, name="allowed")
    factor = ops.parameter([-1, -1], f32, name="factor")
    temperature = ops.parameter([-1, 1], f32, name="temperature")
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
    best = ops.topk(final, width, 1, "max", "value", "i64")
    logprobs = ops.subtract(ops.gather_elements(scores, best.output(1), 1), log_total)
    outputs = [best.output(0), best.output(1), logprobs.output(0), mass.output(0)]
    for output, name in zip(outputs, SELECTION_OUTPUTS):
        output.get_tensor().set_names({name})
    return [allowed, factor, temperature, width], outputs


class SelectionInputs:
    """The head's input arrays for the rows of one batch bucket, reused step after step (new (B, V)
    arrays every step cost page faults). Each fill undoes only what the previous fill set:
    resetting the whole (B, V) arrays every step cost about 0.15 ms at batch 64."""

    def __init__(self, batch: int, vocab: int):
        self.arrays = {"allowed": np.zeros((batch, vocab), dtype=np.float32),
                       "factor": np.ones((batch, vocab), dtype=np.float32),
                       "temperature": np.ones((batch, 1), dtype=np.float32), "k": np.array(1, dtype=np.int64)}
        self._penalised: list[tuple[int, np.ndarray]] = []  # (row, ids) the last fill allowed and penalised

    def fill(self, rows: list[int], allowed: list[np.ndarray], banned: list[np.ndarray], used: list[np.ndarray],
             params: list[SamplingParams]) -> None:
        """Inputs for a step in which only `rows` choose a token: row rows[i] allows allowed[i] except
        the ids banned[i] and penalises the ids used[i]; other rows allow nothing. (A row that allows
        nothing keeps its last temperature: its scores all stay below DISALLOWED / 2 whatever it is.)"""
        allowed_all, factor, temperature = self.arrays["allowed"], self.arrays["factor"], self.arrays["temperature"]
        choosing = set(rows)
        for row, ids in self._penalised:
            factor[row, ids] = 1
            if row not in choosing:  # a choosing row's mask is overwritten below
                allowed_all[row] = 0
        for row, allow, ban, use, param in zip(rows, allowed, banned, used, params):
            allowed_all[row] = allow
            allowed_all[row, ban] = 0
            factor[row, use] = param.repetition_penalty
            temperature[row] = param.temperature
        self._penalised = list(zip(rows, used))
        vocab = allowed_all.shape[1]
        widest = max([min(p.top_k or FULL_SORT_K, vocab) for p in params], default=1)
        self.arrays["k"][...] = min(next((w for w in SELECTION_WIDTHS if w >= widest), vocab), vocab)


def choose(outputs: dict[str, np.ndarray], rows: list[int], params: list[SamplingParams],
           rngs: list[np.random.Generator]) -> list[Choice | None]:
    """One choice for each of `rows` from the head's outputs; None where a row allows nothing."""
    if not rows:
        return []
    values, ids = outputs["values"][rows], outputs["ids"][rows]
    order = np.lexsort((ids, -values), axis=1)  # by score, ties by id
    line = np.arange(len(rows))[:, None]
    values, ids = values[line, order], ids[line, order]
    widths = np.array([p.top_k or FULL_SORT_K for p in params])  # the draw never looks past the head's width
    indices = draw(values, widths, np.array([p.top_p for p in params]), rngs)
    picked = np.maximum(indices, 0)[:, None]  # gathered for every row at once; dead ends dropped below
    tokens = np.take_along_axis(ids, picked, 1)[:, 0].tolist()
    logprobs = np.take_along_axis(outputs["logprobs"][rows], np.take_along_axis(order, picked, 1), 1)[:, 0].tolist()
    masses = outputs["mass"][rows].tolist()
    return [None if index < 0 else Choice(token, logprob, mass)
            for index, token, logprob, mass in zip(indices.tolist(), tokens, logprobs, masses)]


def draw(values: np.ndarray, widths: np.ndarray, top_p: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
    """Per row, the index of the candidate drawn among its sorted values (its first `widths`,
    then its top-p nucleus); -1 where a row has no allowed candidate."""
    width = values.shape[1]
    alive = values[:, 0] > DISALLOWED / 2
    best = np.where(alive, values[:, 0], 0)[:, None]
    # Disallowed candidates are DISALLOWED: exp gives 0. Past a row's top-k width they are cut.
    weights = np.exp(values - best) * (np.arange(width) < widths[:, None])
    cumulative = np.cumsum(weights, axis=1)  # sequential per row: a row's sums never depend on the others
    total = cumulative[:, -1]
    cut = np.minimum(np.where(top_p < 1.0, (cumulative < (top_p * total)[:, None]).sum(axis=1) + 1, width), width)
    nucleus = cumulative[np.arange(len(values)), cut - 1]
    uniform = np.array([rng.random() if live else 0.0 for rng, live in zip(rngs, alive.tolist())])
    index = np.minimum((cumulative < (uniform * nucleus)[:, None]).sum(axis=1), cut - 1)
    return np.where(alive, index, -1)
