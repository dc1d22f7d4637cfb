"""Sampling one token from masked logits: repetition penalty, temperature, top-k, top-p."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max()
    return shifted - np.log(np.exp(shifted).sum())


def choose(logits: np.ndarray, allowed: np.ndarray, used: np.ndarray, params: SamplingParams,
           rng: np.random.Generator) -> Choice | None:
    """Sample among allowed tokens; None when nothing is allowed (a dead end)."""
    if not allowed.any():
        return None
    # Rounding makes the choice robust to the last-bit differences between batch sizes.
    scores = np.round(logits.astype(np.float64), 3)
    model_logprobs = log_softmax(scores)
    mass = float(np.exp(model_logprobs[allowed]).sum())
    if params.repetition_penalty != 1.0 and used.any():
        penalised = scores[used]
        scores[used] = np.where(penalised > 0, penalised / params.repetition_penalty,
                                penalised * params.repetition_penalty)
    candidates = np.flatnonzero(allowed)
    values = scores[candidates] / params.temperature
    if params.top_k and len(candidates) > params.top_k:
        keep = np.argpartition(-values, params.top_k - 1)[:params.top_k]
        candidates, values = candidates[keep], values[keep]
    order = np.lexsort((candidates, -values))  # by score, ties by id: the same order every time
    candidates, values = candidates[order], values[order]
    probs = np.exp(values - values[0])
    probs /= probs.sum()
    if params.top_p < 1.0:
        cut = int(np.searchsorted(np.cumsum(probs), params.top_p)) + 1
        candidates, probs = candidates[:cut], probs[:cut] / probs[:cut].sum()
    index = min(int(np.searchsorted(np.cumsum(probs), rng.random())), len(candidates) - 1)
    token = int(candidates[index])
    return Choice(token, float(model_logprobs[token]), mass)
