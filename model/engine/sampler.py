"""Sampling the next token of many rows at once: mask, repetition penalty, temperature, top-k, top-p.

The heavy work (softmax, masking, top-k selection) runs over the whole batch in numpy; each
row then draws from its own few candidates with its own random generator, so a row's choice
never depends on the other rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FULL_SORT_K = 256  # top_k = 0 (off) still samples among at most this many best tokens


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


def choose_batch(logits: np.ndarray, allowed: np.ndarray, used: list[np.ndarray], params: list[SamplingParams],
                 rngs: list[np.random.Generator]) -> list[Choice | None]:
    """One choice per row of logits (R, V); used[r] holds the token ids row r has written already.
    None where a row allows nothing (a dead end)."""
    # Rounding makes the choice robust to the last-bit differences between batch sizes.
    scores = np.round(logits.astype(np.float32, copy=False), 3)
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    log_totals = np.log(exp.sum(axis=1))
    masses = np.sum(exp, axis=1, where=allowed) / np.exp(log_totals)
    rows = np.repeat(np.arange(len(used)), [len(u) for u in used])  # few per row: penalise them sparsely
    columns = np.concatenate(used) if used else np.zeros(0, dtype=np.int64)
    penalty = np.array([p.repetition_penalty for p in params], dtype=np.float32)[rows]
    values = scores[rows, columns]
    scores[rows, columns] = np.where(values > 0, values / penalty, values * penalty)
    scores /= np.array([p.temperature for p in params], dtype=np.float32)[:, None]
    scores[~allowed] = -np.inf
    choices: list[Choice | None] = [None] * len(params)
    vocab = scores.shape[1]
    for k in {p.top_k or FULL_SORT_K for p in params}:
        group = [r for r, p in enumerate(params) if (p.top_k or FULL_SORT_K) == k]
        k = min(k, vocab)
        block = scores if len(group) == len(params) else scores[group]  # no copy when all rows agree
        best = np.argpartition(block, vocab - k, axis=1)[:, vocab - k:]
        for row, candidates in zip(group, best):
            if not allowed[row].any():
                continue
            token = draw(scores[row, candidates], candidates, params[row].top_p, rngs[row])
            logprob = float(shifted[row, token] - log_totals[row])
            choices[row] = Choice(token, logprob, float(masses[row]))
    return choices


def draw(values: np.ndarray, candidates: np.ndarray, top_p: float, rng: np.random.Generator) -> int:
    """Sample one candidate from the nucleus of its values (ordered by value, ties by id)."""
    keep = np.isfinite(values)
    values, candidates = values[keep], candidates[keep]
    order = np.lexsort((candidates, -values))
    values, candidates = values[order], candidates[order]
    probs = np.exp(values - values[0])
    probs /= probs.sum()
    if top_p < 1.0:
        cut = int(np.searchsorted(np.cumsum(probs), top_p)) + 1
        candidates, probs = candidates[:cut], probs[:cut] / probs[:cut].sum()
    index = min(int(np.searchsorted(np.cumsum(probs), rng.random())), len(candidates) - 1)
    return int(candidates[index])
