"""model.curves: the dev points of each run's log, drawn against tokens."""

from __future__ import annotations

import json
from pathlib import Path

from model import compare, curves


def write_log(run: Path, records: list[dict]) -> Path:
    run.mkdir()
    (run / "train.log").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def test_the_dev_points_of_each_run_are_read_in_order_and_drawn(tmp_path: Path, capsys) -> None:
    teacher = write_log(
        tmp_path / "teacher",
        [
            {"step": 50, "tokens": 100, "loss": 5.0},
            {"step": 100, "tokens": 200, "loss": 4.0, "dev_ppl": 150.0, "dev_ppl_ci": 300.0},
            {"step": 200, "tokens": 400, "dev_ppl": 90.5, "dev_ppl_ci": 180.0},
            {"done": True, "step": 200, "tokens": 400},
        ],
    )
    verse_only = write_log(tmp_path / "old", [{"step": 10, "tokens": 50, "dev_ppl": 80.0}])
    assert compare.dev_curve(teacher) == [
        compare.DevPoint(100, 200, 150.0, 300.0),
        compare.DevPoint(200, 400, 90.5, 180.0),
    ]
    assert compare.dev_curve(verse_only) == [compare.DevPoint(10, 50, 80.0, None)]
    out = tmp_path / "curves.png"
    curves.main([str(teacher), str(verse_only), "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "teacher (step: dev 诗 / 词): 100: 150.0 / 300.0, 200: 90.5 / 180.0" in printed
    assert "old (step: dev 诗 / 词): 10: 80.0" in printed
