"""bench.step_cost times the decode step of several models in one run, each against the first."""

from __future__ import annotations

import json

import pytest

from bench import step_cost

pytestmark = pytest.mark.slow  # compiles each model's batch buckets


def test_step_cost_prints_each_models_milliseconds_and_ratio(tiny_model_dir, capsys) -> None:
    step_cost.main([str(tiny_model_dir), str(tiny_model_dir), "--rounds", "2", "--steps", "3"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CPU: ") and lines[1].count("(1.00×)") == 2  # the first model against itself
    figures = json.loads(lines[-1])
    assert set(figures) == {f"{tiny_model_dir} batch 1", f"{tiny_model_dir} batch 64"}
    assert all(0 < ms < 1000 for ms in figures.values())
