"""The OpenVINO decode step and the KV cache it reads: one infer call per step for every live row."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import openvino as ov


class DecoderRuntime:
    """Compiled decode-step IR plus a KV cache of max_batch rows × max_positions columns.

    Row r's token at position p stores its key/value in column p, so a row can be rewound
    (backtracking) by feeding from an earlier position, and rows of any length share a step.
    """

    def __init__(self, ir_path: Path, max_batch: int, max_positions: int, threads: int = 0,
                 precision: str = "f32"):
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        core = ov.Core()
        model = core.read_model(Path(ir_path))
        past = [port for port in model.inputs if port.any_name.startswith(("past_key", "past_value"))]
        self.past_names = [port.any_name for port in past]
        shape = past[0].get_partial_shape()  # (B, H, T, D)
        heads, head_dim = shape[1].get_length(), shape[3].get_length()
        self.request = core.compile_model(model, "CPU", config).create_infer_request()
        self.max_batch, self.max_positions = max_batch, max_positions
        self.cache = np.zeros((len(past), max_batch, heads, max_positions, head_dim), dtype=np.float32)
        self.columns = np.arange(max_positions)

    def step(self, token_ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Feed one token per row 0..B-1 at its position; return (B, vocab) logits and store the new K/V."""
        batch = len(token_ids)
        inputs = {
            "input_ids": token_ids.reshape(batch, 1).astype(np.int64),
            "position_ids": positions.reshape(batch, 1).astype(np.int64),
            "past_mask": (self.columns[None, :] < positions[:, None]).astype(np.float32),
        }
        for index, name in enumerate(self.past_names):
            inputs[name] = self.cache[index, :batch]
        self.request.infer(inputs, share_inputs=True)
        rows = np.arange(batch)
        for index, name in enumerate(self.past_names):
            new = self.request.get_tensor(name.replace("past_", "new_")).data  # (B, H, 1, D)
            self.cache[index, rows, :, positions, :] = new[:, :, 0, :]
        return self.request.get_tensor("logits").data.copy()

    def move_row(self, source: int, target: int) -> None:
        """Copy a row's cache to another row (to keep live rows packed at the front)."""
        self.cache[:, target] = self.cache[:, source]
