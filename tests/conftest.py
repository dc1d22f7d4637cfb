"""Shared fixtures: a tiny random BERT exported to OpenVINO (fast unit and integration tests),
the shipped model, and training data made from the fixture corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "model" / "weights"
FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "chinese-poetry"


def make_tiny_model(directory: Path, layers: int = 2, hidden: int = 64) -> Path:
    """A randomly initialised causal BERT over the shipped vocabulary and the 词 tunes' tokens, with
    positions for the longest tune, saved and exported."""
    import torch

    from model.export import export
    from model.forms import tunes
    from model.modeling import ModelSize, new_model
    from model.tokenizer import CharTokenizer

    torch.manual_seed(0)
    tokenizer = CharTokenizer.load(SHIPPED_MODEL / "vocab.txt").with_forms(tunes())
    size = ModelSize(layers=layers, hidden=hidden, heads=2, ffn=2 * hidden, max_positions=192)
    model = new_model(len(tokenizer), size, causal=True)
    model.save_pretrained(directory)
    tokenizer.save(directory / "vocab.txt")
    export(directory, int8=True)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Path that `Engine` loads: config.json, model.safetensors, vocab.txt, openvino/decoder.xml."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def engine(tiny_model_dir: Path):
    """A real engine over the tiny model, shared by the tests of one session."""
    from model.engine.engine import Engine

    engine = Engine(tiny_model_dir, max_batch=32, max_queue=64)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/dev/test.jsonl and pretrain.txt made by model.data from the fixture corpus."""
    from model import data

    out = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "DEV_PERCENT", 50)  # a handful of poems: make sure dev is not empty
        splits, pretrain, tunes = data.build_splits(FIXTURE_CORPUS)
    data.add_keywords([poem for poems in splits.values() for poem in poems])
    data.write_outputs(out, splits, pretrain, tunes)
    return out


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module: on a small shared CPU, two threads that wait on each other cost 100x."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def shipped_model_dir() -> Path:
    return SHIPPED_MODEL
