"""One decoding step of the causal BERT with an explicit KV cache, as a plain torch module.

This is what `model.export` hands to OpenVINO: transformers' DynamicCache does not convert,
so the step is written over the same weights with flat tensors in and out. The caller keeps
the cache; the step returns only the new key/value column of each layer.
"""

from __future__ import annotations

import math

import torch
from transformers import BertLMHeadModel


class DecodeStep(torch.nn.Module):
    """(token, position, which past columns are valid, past K/V) -> (last logits, new K/V)."""

    def __init__(self, model: BertLMHeadModel):
        super().__init__()
        self.model = model.eval()
        config = model.config
        self.layers = config.num_hidden_layers
        self.heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads

    def forward(
        self, input_ids: torch.Tensor, position_ids: torch.Tensor, past_mask: torch.Tensor, *past: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """input_ids, position_ids (B, 1); past_mask (B, T) of 0/1; past: K0, V0, K1, V1 …, keys (B, H, D, T)
        and values (B, H, T, D). Returns logits (B, vocab) and the new K/V, each (B, H, 1, D)."""
        embeddings = self.model.bert.embeddings
        x = (
            embeddings.word_embeddings(input_ids)
            + embeddings.position_embeddings(position_ids)
            + embeddings.token_type_embeddings.weight[0]
        )
        x = embeddings.LayerNorm(x)  # (B, 1, hidden)
        batch = input_ids.shape[0]
        scale = 1.0 / math.sqrt(self.head_dim)
        past_bias = ((1.0 - past_mask.to(x.dtype)) * -1e9)[:, None, None, :]  # (B, 1, 1, T): masked columns
        new_kv: list[torch.Tensor] = []
        for index, layer in enumerate(self.model.bert.encoder.layer):
            attention = layer.attention.self
            q, k, v = (self._heads(proj(x), batch) for proj in (attention.query, attention.key, attention.value))
            past_keys, past_values = past[2 * index], past[2 * index + 1]
            # Scale the one query, not the (B, H, 1, T) scores: OpenVINO moved a scale on the scores
            # onto every cached key, a pass over the whole cache per layer.
            q = q * scale
            # Keys are cached transposed, (D, T) a head, so q @ K needs no transpose: OpenVINO repacked
            # a transposed operand every step (model/MODEL_CARD.md, Engine measurements).
            # The new token attends to the past columns and to itself. Scoring the two apart, instead
            # of concatenating its K/V onto the cache, saves copying the whole cache every layer.
            past_scores = q @ past_keys + past_bias  # (B, H, 1, T)
            own_score = (q * k).sum(dim=-1, keepdim=True)  # (B, H, 1, 1)
            probs = torch.cat([past_scores, own_score], dim=-1).softmax(dim=-1)
            context = probs[..., :-1] @ past_values + probs[..., -1:] * v  # (B, H, 1, D)
            context = context.transpose(1, 2).reshape(batch, 1, -1)
            x = layer.attention.output.LayerNorm(layer.attention.output.dense(context) + x)
            x = layer.output.LayerNorm(layer.output.dense(layer.intermediate(x)) + x)
            new_kv += [k, v]
        logits = self.model.cls(x)[:, 0]  # (B, vocab)
        return (logits, *new_kv)

    def _heads(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        return x.view(batch, 1, self.heads, self.head_dim).transpose(1, 2)  # (B, H, 1, D)

    def empty_past(self, batch: int, length: int) -> list[torch.Tensor]:
        """Zero past K/V for `length` columns: keys (B, H, D, T), values (B, H, T, D)."""
        key, value = (batch, self.heads, self.head_dim, length), (batch, self.heads, length, self.head_dim)
        return [torch.zeros(shape) for _ in range(self.layers) for shape in (key, value)]
