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

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, past_mask: torch.Tensor,
                *past: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """input_ids, position_ids (B, 1); past_mask (B, T) of 0/1; past: K0, V0, K1, V1 … each (B, H, T, D)."""
        embeddings = self.model.bert.embeddings
        x = (embeddings.word_embeddings(input_ids) + embeddings.position_embeddings(position_ids)
             + embeddings.token_type_embeddings.weight[0])
        x = embeddings.LayerNorm(x)  # (B, 1, hidden)
        batch = input_ids.shape[0]
        # The new token always sees itself; masked past columns get a large negative bias.
        visible = torch.cat([past_mask.to(x.dtype), torch.ones_like(past_mask[:, :1], dtype=x.dtype)], dim=1)
        bias = ((1.0 - visible) * -1e9)[:, None, None, :]  # (B, 1, 1, T+1)
        new_kv: list[torch.Tensor] = []
        for index, layer in enumerate(self.model.bert.encoder.layer):
            attention = layer.attention.self
            q, k, v = (self._heads(proj(x), batch) for proj in (attention.query, attention.key, attention.value))
            keys = torch.cat([past[2 * index], k], dim=2)  # (B, H, T+1, D)
            values = torch.cat([past[2 * index + 1], v], dim=2)
            scores = q @ keys.transpose(-1, -2) / math.sqrt(self.head_dim) + bias  # (B, H, 1, T+1)
            context = (scores.softmax(dim=-1) @ values).transpose(1, 2).reshape(batch, 1, -1)
            x = layer.attention.output.LayerNorm(layer.attention.output.dense(context) + x)
            x = layer.output.LayerNorm(layer.output.dense(layer.intermediate(x)) + x)
            new_kv += [k, v]
        logits = self.model.cls(x)[:, 0]  # (B, vocab)
        return (logits, *new_kv)

    def _heads(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        return x.view(batch, 1, self.heads, self.head_dim).transpose(1, 2)  # (B, H, 1, D)

    def empty_past(self, batch: int, length: int) -> list[torch.Tensor]:
        shape = (batch, self.heads, length, self.head_dim)
        return [torch.zeros(shape) for _ in range(2 * self.layers)]
