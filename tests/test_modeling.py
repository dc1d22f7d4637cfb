"""The BERT: causal attention, the masked-LM → causal hand-over, config sizes, saving and loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import BertForMaskedLM, BertLMHeadModel

from model.modeling import ModelSize, bert_config, causal_from, load_causal, new_model

VOCAB = 60
SIZE = ModelSize(layers=2, hidden=32, heads=2, ffn=64, max_positions=32)
FIRST_CHAR = 11  # ids below are special tokens
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tokens(seed: int, length: int = 12, batch: int = 2) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(FIRST_CHAR, VOCAB, (batch, length), generator=generator)


@torch.no_grad()
def assert_causal(model: torch.nn.Module, where: int = 7) -> None:
    """Changing the token at `where` leaves positions before it alone and moves it and later ones."""
    ids = tokens(1)
    changed = ids.clone()
    changed[:, where] = FIRST_CHAR + (ids[:, where] - FIRST_CHAR + 1) % (VOCAB - FIRST_CHAR)
    before, after = model(input_ids=ids).logits, model(input_ids=changed).logits
    assert torch.allclose(before[:, :where], after[:, :where], atol=1e-6), (
        f"an earlier position saw a later token: {(before[:, :where] - after[:, :where]).abs().max():.2e}"
    )
    assert (before[:, where:] - after[:, where:]).abs().amax(dim=-1).min() > 1e-4


@pytest.fixture(scope="module")
def causal() -> BertLMHeadModel:
    torch.manual_seed(0)
    return new_model(VOCAB, SIZE, causal=True).eval()


@pytest.fixture(scope="module")
def masked() -> BertForMaskedLM:
    torch.manual_seed(1)
    return new_model(VOCAB, SIZE, causal=False).eval()


def test_bert_config_sizes() -> None:
    size = ModelSize(layers=3, hidden=48, heads=4, ffn=96, max_positions=40)
    config = bert_config(123, size, causal=True)
    assert (
        config.vocab_size,
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.intermediate_size,
        config.max_position_embeddings,
    ) == (123, 3, 48, 4, 96, 40)
    assert config.is_decoder and not config.add_cross_attention and config.type_vocab_size == 1
    assert not bert_config(123, size, causal=False).is_decoder
    model = new_model(123, size, causal=True)
    assert model.bert.embeddings.word_embeddings.weight.shape == (123, 48)
    assert len(model.bert.encoder.layer) == 3
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()


def test_causal_model_never_looks_ahead(causal: BertLMHeadModel) -> None:
    for where in (1, 6, 11):
        assert_causal(causal, where)


def test_causal_mask_holds_with_padding_mask(causal: BertLMHeadModel) -> None:
    ids = tokens(2)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        plain = causal(input_ids=ids).logits
        masked = causal(input_ids=ids, attention_mask=mask).logits
        prefix = causal(input_ids=ids[:, :5]).logits
    assert torch.allclose(plain, masked, atol=1e-5)
    assert torch.allclose(plain[:, :5], prefix, atol=1e-5)  # the first 5 outputs need only the first 5 inputs


def test_masked_lm_is_bidirectional(masked: BertForMaskedLM) -> None:
    ids = tokens(3)
    changed = ids.clone()
    changed[:, 7] = FIRST_CHAR + (ids[:, 7] - FIRST_CHAR + 1) % (VOCAB - FIRST_CHAR)
    with torch.no_grad():
        diff = (masked(input_ids=ids).logits[:, :7] - masked(input_ids=changed).logits[:, :7]).abs().max()
    assert diff > 1e-4  # so that the causal tests above measure something


def test_causal_from_keeps_every_weight(masked: BertForMaskedLM) -> None:
    model = causal_from(masked).eval()
    assert isinstance(model, BertLMHeadModel) and model.config.is_decoder
    source, target = masked.state_dict(), model.state_dict()
    weights = [key for key in source if "position_ids" not in key]
    assert weights and set(weights) <= set(target)
    for key in weights:
        assert torch.equal(source[key], target[key]), key
    assert_causal(model)


def test_save_and_load_causal_round_trip(tmp_path: Path, causal: BertLMHeadModel) -> None:
    causal.save_pretrained(tmp_path)
    loaded = load_causal(tmp_path)
    assert not loaded.training and loaded.config.is_decoder
    ids = tokens(4)
    with torch.no_grad():
        assert torch.allclose(causal(input_ids=ids).logits, loaded(input_ids=ids).logits, atol=1e-6)
    assert_causal(loaded)


def test_load_causal_reads_fp16_weights_as_fp32(tmp_path: Path) -> None:
    torch.manual_seed(5)
    model = new_model(VOCAB, SIZE, causal=True).eval()
    model.half().save_pretrained(tmp_path)
    loaded = load_causal(tmp_path)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert torch.equal(
        loaded.bert.embeddings.word_embeddings.weight, model.bert.embeddings.word_embeddings.weight.float()
    )


def test_load_causal_of_a_masked_lm_save_is_causal(tmp_path: Path, masked: BertForMaskedLM) -> None:
    # load_causal promises a causal LM from any saved BERT, including a pretraining (masked-LM) run.
    masked.save_pretrained(tmp_path)
    loaded = load_causal(tmp_path)
    assert loaded.config.is_decoder
    assert_causal(loaded)
