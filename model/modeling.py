"""The BERT: a transformers BertLMHeadModel whose self-attention is causal (is_decoder=True)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM, BertLMHeadModel


@dataclass
class ModelSize:
    """Size settings; the default (~5M parameters) trains at ~3k tokens/s on the 2-core CPU."""

    layers: int = 4
    hidden: int = 256
    heads: int = 4
    ffn: int = 1024
    max_positions: int = 96

    @classmethod
    def parse(cls, text: str, max_positions: int = 96) -> ModelSize:
        """'8x512' -> 8 layers of hidden 512 in heads of 64, an FFN four times as wide."""
        layers, hidden = (int(part) for part in text.lower().split("x"))
        return cls(layers, hidden, hidden // 64, 4 * hidden, max_positions)


def bert_config(vocab_size: int, size: ModelSize, causal: bool) -> BertConfig:
    """A BertConfig; causal=True makes the attention mask lower-triangular."""
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=size.hidden,
        num_hidden_layers=size.layers,
        num_attention_heads=size.heads,
        intermediate_size=size.ffn,
        max_position_embeddings=size.max_positions,
        type_vocab_size=1,
        pad_token_id=0,
        is_decoder=causal,
        add_cross_attention=False,
        tie_word_embeddings=True,
    )


def new_model(vocab_size: int, size: ModelSize, causal: bool) -> BertLMHeadModel | BertForMaskedLM:
    """A freshly initialised BERT: causal LM head, or masked-LM for pretraining."""
    config = bert_config(vocab_size, size, causal)
    return BertLMHeadModel(config) if causal else BertForMaskedLM(config)


def causal_from(masked_lm: BertForMaskedLM) -> BertLMHeadModel:
    """The same weights under a causal LM head: both heads share parameter names."""
    config = masked_lm.config.to_dict() | {"is_decoder": True}
    model = BertLMHeadModel(BertConfig.from_dict(config))
    missing, unexpected = model.load_state_dict(masked_lm.state_dict(), strict=False)
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    return model


def load_causal(path: Path) -> BertLMHeadModel:
    """A saved model (fp32 or fp16 on disk) as an fp32 causal LM in eval mode."""
    # transformers 5 fixes each layer's causality when it builds it: say so at load time.
    return BertLMHeadModel.from_pretrained(path, dtype=torch.float32, is_decoder=True).eval()


def fit_model(model: BertLMHeadModel | BertForMaskedLM, vocab_size: int, positions: int) -> torch.nn.Module:
    """The model grown to a larger vocabulary (new tokens appended) and to more positions; what it
    had learnt is kept, the new rows start as BERT initialises them."""
    if model.config.vocab_size < vocab_size:
        model.resize_token_embeddings(vocab_size, mean_resizing=False)
    embeddings = model.bert.embeddings
    old = embeddings.position_embeddings
    if old.num_embeddings < positions:
        grown = torch.nn.Embedding(positions, old.embedding_dim)
        grown.weight.data.normal_(0.0, model.config.initializer_range)
        grown.weight.data[: old.num_embeddings] = old.weight.data
        embeddings.position_embeddings = grown
        embeddings.position_ids = torch.nn.Buffer(torch.arange(positions).expand((1, -1)), persistent=False)
        embeddings.token_type_ids = torch.nn.Buffer(torch.zeros((1, positions), dtype=torch.long), persistent=False)
        model.config.max_position_embeddings = positions
    return model


def size_of(model: torch.nn.Module) -> dict:
    return {"parameters": sum(p.numel() for p in model.parameters())} | asdict(ModelSize())
