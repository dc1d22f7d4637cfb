"""The decode step with an explicit KV cache, in PyTorch and as OpenVINO IR (fp32 and INT8), against
the full BertLMHeadModel forward on the tiny random model.

The cache is kept as the engine keeps it (model/engine/runtime.py): a fixed number of columns,
the token at position p writes column p, and past_mask marks columns < p as valid.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openvino as ov
import pytest
import torch

from model.decode_step import DecodeStep
from model.export import INT8_MODE, IR_NAME, convert, input_names, output_names
from model.modeling import load_causal

LENGTH, COLUMNS = 10, 16  # tokens fed, cache columns
CPU_F32 = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": 1}
FP32_ATOL = 1e-3  # fp32 IR vs PyTorch full recomputation, max abs logit difference
INT8_RELATIVE = 0.05  # INT8 IR vs PyTorch: max abs difference over the range of the logits
pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]  # exports through torch tracing


@pytest.fixture(scope="module")
def model(tiny_model_dir: Path):
    return load_causal(tiny_model_dir)


@pytest.fixture(scope="module")
def fp32_ir(tiny_model_dir: Path) -> ov.CompiledModel:
    return ov.Core().compile_model(convert(tiny_model_dir, int8=False), "CPU", CPU_F32)


@pytest.fixture(scope="module")
def int8_ir(tiny_model_dir: Path) -> ov.CompiledModel:
    return ov.Core().compile_model(tiny_model_dir / "openvino" / IR_NAME, "CPU", CPU_F32)


def random_ids(model, batch: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(11, model.config.vocab_size, size=(batch, LENGTH))


@torch.no_grad()
def full_logits(model, ids: np.ndarray) -> np.ndarray:
    """(B, L, vocab) from one causal forward over the whole sequence."""
    return model(input_ids=torch.from_numpy(ids)).logits.numpy()


def run_steps(step_fn, model, ids: np.ndarray, garbage: bool = False, columns: int = COLUMNS) -> np.ndarray:
    """Feed ids one position at a time through step_fn(inputs) -> (logits, new K/V list), keeping the cache."""
    config = model.config
    heads, dim = config.num_attention_heads, config.hidden_size // config.num_attention_heads
    batch = len(ids)
    rng = np.random.default_rng(123)
    layers = config.num_hidden_layers
    keys = np.zeros((layers, batch, heads, dim, columns), dtype=np.float32)  # transposed, as the IR takes them
    values = np.zeros((layers, batch, heads, columns, dim), dtype=np.float32)
    out = []
    for position in range(ids.shape[1]):
        if garbage:  # every column that is not yet valid holds large random values
            keys[..., position:] = rng.normal(0, 1000, keys[..., position:].shape)
            values[:, :, :, position:] = rng.normal(0, 1000, values[:, :, :, position:].shape)
        mask = (np.arange(columns)[None, :] < position).repeat(batch, 0).astype(np.float32)
        past = [array[layer] for layer in range(layers) for array in (keys, values)]
        logits, new = step_fn(
            ids[:, position : position + 1].astype(np.int64), np.full((batch, 1), position, dtype=np.int64), mask, past
        )
        for layer in range(layers):
            keys[layer, :, :, :, position] = new[2 * layer][:, :, 0]
            values[layer, :, :, position] = new[2 * layer + 1][:, :, 0]
        out.append(logits)
    return np.stack(out, axis=1)  # (B, L, vocab)


def torch_step(step: DecodeStep):
    @torch.no_grad()
    def run(ids, positions, mask, past):
        logits, *new = step(
            torch.from_numpy(ids),
            torch.from_numpy(positions),
            torch.from_numpy(mask),
            *(torch.from_numpy(p.copy()) for p in past),
        )
        return logits.numpy(), [kv.numpy() for kv in new]

    return run


def ir_step(compiled: ov.CompiledModel, layers: int):
    request = compiled.create_infer_request()

    def run(ids, positions, mask, past):
        names = input_names(layers)
        request.infer(dict(zip(names, [ids, positions, mask, *(p.copy() for p in past)])))
        outputs = [request.get_tensor(name).data.copy() for name in output_names(layers)]
        return outputs[0], outputs[1:]

    return run


def test_decode_step_matches_the_full_forward(model) -> None:
    ids = random_ids(model, 2, seed=0)
    stepped = run_steps(torch_step(DecodeStep(model)), model, ids)
    assert np.abs(stepped - full_logits(model, ids)).max() <= 1e-4


def test_decode_step_new_kv_shapes(model) -> None:
    step = DecodeStep(model)
    past = step.empty_past(3, 5)
    with torch.no_grad():
        logits, *new = step(torch.full((3, 1), 20), torch.zeros(3, 1, dtype=torch.long), torch.zeros(3, 5), *past)
    assert logits.shape == (3, model.config.vocab_size)
    assert len(new) == 2 * model.config.num_hidden_layers
    assert all(kv.shape == (3, step.heads, 1, step.head_dim) for kv in new)


def test_fp32_ir_matches_pytorch_full_recomputation(model, fp32_ir: ov.CompiledModel) -> None:
    ids = random_ids(model, 2, seed=1)
    stepped = run_steps(ir_step(fp32_ir, model.config.num_hidden_layers), model, ids)
    assert np.abs(stepped - full_logits(model, ids)).max() <= FP32_ATOL


def test_masked_past_columns_are_ignored(model, fp32_ir: ov.CompiledModel) -> None:
    ids = random_ids(model, 2, seed=2)
    layers = model.config.num_hidden_layers
    for step_fn in (ir_step(fp32_ir, layers), torch_step(DecodeStep(model))):
        clean = run_steps(step_fn, model, ids)
        noisy = run_steps(step_fn, model, ids, garbage=True)
        assert np.abs(clean - noisy).max() <= 1e-5


def test_int8_ir_stays_close(model, int8_ir: ov.CompiledModel, tiny_model_dir: Path) -> None:
    record = json.loads((tiny_model_dir / "openvino" / "export.json").read_text())
    assert record["int8_weights"] is True and record["weights"] == INT8_MODE == "INT8_SYM"
    ir = ov.Core().read_model(tiny_model_dir / "openvino" / IR_NAME)
    weight_types = {op.get_element_type() for op in ir.get_ops() if op.get_type_name() == "Constant"}
    assert ov.Type.i8 in weight_types and ov.Type.u8 not in weight_types, "not symmetric INT8 weights"
    ids = random_ids(model, 2, seed=3)
    reference = full_logits(model, ids)
    stepped = run_steps(ir_step(int8_ir, model.config.num_hidden_layers), model, ids)
    spread = reference.max() - reference.min()
    assert np.abs(stepped - reference).max() <= INT8_RELATIVE * spread
    assert np.abs(stepped - reference).max() > 0  # it is not secretly the fp32 model


def test_ir_names_and_dynamic_batch(model, fp32_ir: ov.CompiledModel) -> None:
    layers = model.config.num_hidden_layers
    assert [port.get_any_name() for port in fp32_ir.inputs] == input_names(layers)
    assert [port.get_any_name() for port in fp32_ir.outputs] == output_names(layers)
    step_fn = ir_step(fp32_ir, layers)  # one compiled model for every batch size and cache length
    ids = random_ids(model, 3, seed=4)
    together = run_steps(step_fn, model, ids)
    assert together.shape == (3, LENGTH, model.config.vocab_size)
    for row in range(3):
        alone = run_steps(step_fn, model, ids[row : row + 1], columns=LENGTH)
        assert alone.shape == (1, LENGTH, model.config.vocab_size)
        assert np.abs(alone[0] - together[row]).max() <= 1e-5
