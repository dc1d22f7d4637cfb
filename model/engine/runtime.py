"""The OpenVINO decode step and the KV cache it reads: one infer call per step for every live row."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov

from model.engine.fastest import FastestRequest
from model.engine.sampler import SELECTION_OUTPUTS, Choice, Selection, SelectionInputs, choices, selection_head

BATCH_BUCKETS = (1, 2, 4, 8, 16, 24, 32, 48, 64)  # static batch sizes a step is padded up to


class DecoderRuntime:
    """Compiled decode-step IR plus a KV cache of max_batch rows × max_positions columns.

    Row r's token at position p stores its key/value in column p (keys are kept transposed,
    (head, dim, column), as the IR takes them), so a row can be rewound
    (backtracking) by feeding from an earlier position, and rows of any length share a step.
    The sampler's selection head is appended to the IR's logits, so one infer call both runs
    the model and draws every row's next token. The IR has a dynamic batch; it is
    compiled once per batch bucket with every shape static, because OpenVINO's CPU plugin runs
    a static graph faster than a dynamic one by more than a few padded rows cost
    (model/MODEL_CARD.md, Engine measurements).
    """

    def __init__(self, ir_path: Path, max_batch: int, max_positions: int, threads: int = 0, precision: str = "f32"):
        self.config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = threads
        self.core = ov.Core()
        decoder = self.core.read_model(Path(ir_path))
        self.key_names = [p.any_name for p in decoder.inputs if p.any_name.startswith("past_key")]  # by layer
        self.value_names = [p.any_name for p in decoder.inputs if p.any_name.startswith("past_value")]
        shape = decoder.input(self.value_names[0]).get_partial_shape()  # (B, H, T, D)
        self.heads, self.head_dim = shape[1].get_length(), shape[3].get_length()
        logits = decoder.output("logits").get_node().input_value(0)  # what the Result node reads
        self.vocab = logits.get_partial_shape()[1].get_length()
        head_inputs, head_outputs = selection_head(logits)
        self.model = ov.Model(
            list(decoder.outputs) + head_outputs, list(decoder.get_parameters()) + head_inputs, "decoder_with_selection"
        )
        self.max_batch, self.max_positions = max_batch, max_positions
        self.buckets = sorted({b for b in BATCH_BUCKETS if b < max_batch} | {max_batch})
        layers = len(self.key_names)
        self.keys = np.zeros((layers, max_batch, self.heads, self.head_dim, max_positions), dtype=np.float32)
        self.values = np.zeros((layers, max_batch, self.heads, max_positions, self.head_dim), dtype=np.float32)
        self.columns = np.arange(max_positions)
        self.selection = {bucket: SelectionInputs(bucket, self.vocab) for bucket in self.buckets}
        # Compiled up front, so that no request waits for a compile.
        self.requests = {bucket: self._compile(bucket) for bucket in self.buckets}

    def step(self, token_ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Feed one token per row 0..B-1 at its position; return (B, vocab) logits and store the new K/V."""
        batch = len(token_ids)
        self.selection[self._bucket(batch)].fill([])  # no row chooses
        return self._infer(token_ids, positions)[0].get_tensor("logits").data[:batch].copy()

    def decode(
        self,
        token_ids: np.ndarray,
        positions: np.ndarray,
        selections: list[Selection],
        before_infer: Callable[[], None] = lambda: None,
    ) -> list[Choice | None]:
        """Feed one token per row 0..B-1 at its position and draw the next token of each selection's
        row: its Choice, or None where it allows nothing. before_infer runs just before the infer
        call (the engine streams progress there, while the call lets go of the GIL)."""
        self.selection[self._bucket(len(token_ids))].fill(selections)
        before_infer()
        outputs = self._infer(token_ids, positions)[1]
        return choices(outputs, [s.row for s in selections])

    def row_columns(self, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of a row's keys and values in its first `count` columns."""
        return self.keys[:, row, :, :, :count].copy(), self.values[:, row, :, :count].copy()

    def load_columns(self, row: int, keys: np.ndarray, values: np.ndarray) -> None:
        """Write keys and values saved by row_columns into a row's first columns."""
        count = keys.shape[-1]
        self.keys[:, row, :, :, :count] = keys
        self.values[:, row, :, :count] = values

    def move_row(self, source: int, target: int) -> None:
        """Copy a row's cache to another row (to keep live rows packed at the front)."""
        self.keys[:, target] = self.keys[:, source]
        self.values[:, target] = self.values[:, source]

    def _bucket(self, batch: int) -> int:
        return next(b for b in self.buckets if b >= batch)

    def _infer(self, token_ids: np.ndarray, positions: np.ndarray) -> tuple[ov.InferRequest, dict[str, np.ndarray]]:
        """Run a step; the request and the selection head's output arrays."""
        batch = len(token_ids)
        requests, buffers, outputs, new_keys, new_values = self.requests[self._bucket(batch)]
        for name, value in (("input_ids", token_ids), ("position_ids", positions)):
            buffers[name][:batch, 0] = value
            buffers[name][batch:] = 0  # padded rows: token 0 at position 0 (and they allow nothing)
        np.less(self.columns[None, :], buffers["position_ids"], out=buffers["past_mask"])
        # The outputs are read from their tensors: copying every one of them (the (B, V) logits among
        # them) into a new dict every step was a measurable share of a step.
        request = requests.infer()
        # Every layer's new key and value of every row into the column of its position.
        rows = np.arange(batch)
        self.keys[:, rows, :, :, positions] = new_keys[:, :batch, :, 0, :].transpose(1, 0, 2, 3)
        self.values[:, rows, :, positions, :] = new_values[:, :batch, :, 0, :].transpose(1, 0, 2, 3)
        return request, outputs

    def _compile(
        self, bucket: int
    ) -> tuple[FastestRequest, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The compiled step for a batch bucket, the numpy arrays its inputs share memory with, those
        the selection head writes to, and the arrays (layer, row, head, 1, dim) its new keys and
        values are written to (all set once: handing OpenVINO a dict of arrays every step cost
        far more than reading the outputs back with get_tensor). A lone row's step is
        compiled for one thread and for all, and runs on whichever has lately been faster
        (fastest.py), where the two give bitwise the same outputs."""
        model = self.model.clone()
        buffers = {
            "input_ids": np.zeros((bucket, 1), dtype=np.int64),
            "position_ids": np.zeros((bucket, 1), dtype=np.int64),
            "past_mask": np.zeros((bucket, self.max_positions), dtype=np.float32),
        }
        buffers |= self.selection[bucket].arrays
        buffers |= {name: self.keys[index, :bucket] for index, name in enumerate(self.key_names)}
        buffers |= {name: self.values[index, :bucket] for index, name in enumerate(self.value_names)}
        model.reshape({name: list(array.shape) for name, array in buffers.items()})
        new_keys, new_values = (
            np.zeros((len(self.key_names), bucket, self.heads, 1, self.head_dim), dtype=np.float32) for _ in range(2)
        )
        outputs = {name: np.zeros(bucket, dtype=dtype) for name, dtype in SELECTION_OUTPUTS.items()}
        bound = (
            buffers
            | outputs
            | {
                name.replace("past_", "new_"): new[index]
                for names, new in ((self.key_names, new_keys), (self.value_names, new_values))
                for index, name in enumerate(names)
            }
        )
        configs = [self.config]
        if bucket == 1 and self.config.get("INFERENCE_NUM_THREADS") != 1 and (os.cpu_count() or 1) > 1:
            configs = [self.config | {"INFERENCE_NUM_THREADS": 1}, self.config]
        requests = [self.core.compile_model(model, "CPU", config).create_infer_request() for config in configs]
        for request in requests:
            for name, array in bound.items():
                request.set_tensor(name, ov.Tensor(array, shared_memory=True))
        if len(requests) > 1 and not self._same_outputs(requests, buffers):
            requests = requests[:1]
        return FastestRequest(requests), buffers, outputs, new_keys, new_values

    def _same_outputs(self, requests: list[ov.InferRequest], buffers: dict[str, np.ndarray]) -> bool:
        """Whether the requests give bitwise the same outputs for a step over a random cache (then
        which one runs a step cannot change a poem). Leaves the cache and inputs zeroed."""
        rng, rows = np.random.default_rng(0), len(buffers["input_ids"])
        keys, values = self.keys[:, :rows], self.values[:, :rows]
        keys[...] = rng.standard_normal(keys.shape, dtype=np.float32)
        values[...] = rng.standard_normal(values.shape, dtype=np.float32)
        position = self.max_positions // 2
        buffers["input_ids"][:], buffers["position_ids"][:] = self.vocab - 1, position
        buffers["past_mask"][:, :position] = 1
        results = []
        for request in requests:
            request.infer()
            results.append([request.get_tensor(output).data.copy() for output in request.model_outputs])
        for array in (keys, values, buffers["input_ids"], buffers["position_ids"], buffers["past_mask"]):
            array[...] = 0
        return all(np.array_equal(a, b) for result in results[1:] for a, b in zip(results[0], result))
