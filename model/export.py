"""Export the shipped weights to an OpenVINO IR of one decode step with an explicit KV cache.

    python -m model.export [--model model/weights] [--no-int8]

Writes MODEL/openvino/decoder.xml+.bin: inputs input_ids, position_ids (B, 1), past_mask (B, T),
past_key_i (B, H, D, T: keys are cached transposed) and past_value_i (B, H, T, D); outputs logits
(B, vocab) of the last position and new_key_i / new_value_i (B, H, 1, D). Batch and T are dynamic.
Weights are compressed to INT8 (nncf, INT8_SYM: per output channel, no zero point) unless --no-int8.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import openvino as ov
import torch

from model.decode_step import DecodeStep
from model.modeling import load_causal

log = logging.getLogger(__name__)
DEFAULT_MODEL = Path(__file__).resolve().parent / "weights"
IR_NAME = "decoder.xml"
INT8_MODE = "INT8_SYM"  # nncf's CompressWeightsMode (see convert for why symmetric)


def input_names(layers: int) -> list[str]:
    past = [f"past_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]
    return ["input_ids", "position_ids", "past_mask", *past]


def output_names(layers: int) -> list[str]:
    return ["logits", *[f"new_{kind}_{i}" for i in range(layers) for kind in ("key", "value")]]


def convert(model_dir: Path, int8: bool = True) -> ov.Model:
    """The decode step of the model in model_dir as an OpenVINO model."""
    step = DecodeStep(load_causal(model_dir))
    # Trace with a non-empty past: an empty one gives broken Concat shapes.
    example = (
        torch.zeros(2, 1, dtype=torch.long),
        torch.ones(2, 1, dtype=torch.long),
        torch.ones(2, 3),
        *step.empty_past(2, 3),
    )
    heads, dim = step.heads, step.head_dim
    shapes = [[-1, 1], [-1, 1], [-1, -1]] + [[-1, heads, dim, -1], [-1, heads, -1, dim]] * step.layers
    types = [ov.Type.i64, ov.Type.i64] + [ov.Type.f32] * (1 + 2 * step.layers)
    with torch.no_grad():
        ov_model = ov.convert_model(
            step, example_input=example, input=[(ov.PartialShape(s), t) for s, t in zip(shapes, types)]
        )
    for port, name in zip(ov_model.inputs, input_names(step.layers)):
        port.get_tensor().set_names({name})
    for port, name in zip(ov_model.outputs, output_names(step.layers)):
        port.get_tensor().set_names({name})
    if int8:
        import nncf

        # Symmetric: on an AVX2-only CPU the FC kernels unpack the weights every step (a lone row's step is
        # bound by that), and without a zero point to subtract a lone row's step is faster than with
        # INT8_ASYM, at the same perplexity (model/MODEL_CARD.md, Engine measurements).
        ov_model = nncf.compress_weights(ov_model, mode=nncf.CompressWeightsMode[INT8_MODE])
    return ov_model


def export(model_dir: Path, int8: bool = True, out_dir: Path | None = None) -> Path:
    """Write the IR under out_dir (default model_dir/openvino) with a small record of how."""
    out_dir = out_dir or model_dir / "openvino"
    out_dir.mkdir(parents=True, exist_ok=True)
    ov.save_model(convert(model_dir, int8), out_dir / IR_NAME, compress_to_fp16=False)
    record = {
        "source": str(model_dir.name),
        "int8_weights": int8,
        "weights": INT8_MODE if int8 else "fp32",
        "openvino": ov.get_version(),
    }
    (out_dir / "export.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s", out_dir / IR_NAME)
    return out_dir / IR_NAME


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--no-int8", action="store_true", help="keep fp32 weights")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    export(args.model, int8=not args.no_int8)


if __name__ == "__main__":
    main()
