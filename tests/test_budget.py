"""model.budget: equal compute for the student alone and the distilled one, measured once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model import budget
from model.modeling import ModelSize, new_model
from model.tokenizer import CharTokenizer

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]  # training steps


def test_the_distilled_arm_gets_fewer_steps_and_the_budget_is_measured_once(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokenizer = CharTokenizer.load(data_dir / "vocab.txt")
    init = tmp_path / "init"
    new_model(len(tokenizer), ModelSize(1, 32, 1, 64, 192), causal=True).save_pretrained(init)
    tokenizer.save(init / "vocab.txt")
    out = tmp_path / "budget.json"
    flags = ["--init", str(init), "--minutes", "10", "--out", str(out), "--data", str(data_dir)]
    # A teacher 16 times the student's width costs far more than the student's own step.
    budget.main(
        [*flags, "--teacher-size", "4x512", "--batch-size", "4", "--threads", "1", "--rounds", "1", "--steps", "3"]
    )
    alone, kd = map(int, capsys.readouterr().out.split())
    written = json.loads(out.read_text())
    assert (alone, kd) == (written["steps"]["alone"], written["steps"]["kd"])
    assert alone > 1.5 * kd > 0
    assert written["seconds_per_step"]["kd"] > written["seconds_per_step"]["alone"] and written["cpu"]

    written["steps"] = {"alone": 7, "kd": 3}  # another machine resuming the pipeline reads, not measures
    out.write_text(json.dumps(written))
    budget.main(flags)
    assert capsys.readouterr().out.split() == ["7", "3"]

    def pinned(arm_flag: str) -> tuple[list[str], dict]:
        """One arm's steps pinned at 1000: what it prints, and the file it writes."""
        out = tmp_path / f"{arm_flag}.json"
        budget.main(
            [*flags[:2], arm_flag, "1000", "--out", str(out), "--data", str(data_dir), "--teacher-size", "4x512"]
            + ["--batch-size", "4", "--threads", "1", "--rounds", "1", "--steps", "3"]
        )
        return capsys.readouterr().out.split(), json.loads(out.read_text())

    # The lone arm already trained: its steps are pinned and the distilled arm's follow by the ratio.
    printed, written = pinned("--alone-steps")
    seconds = written["seconds_per_step"]
    assert printed == ["1000", str(written["steps"]["kd"])]
    assert written["steps"]["kd"] == pytest.approx(1000 * seconds["alone"] / seconds["kd"], rel=0.01, abs=1)
    assert written["minutes"] == pytest.approx(1000 * seconds["alone"] / 60, abs=0.1)

    # The distilled arm trained first: its steps are pinned and the lone arm gets more by the ratio.
    printed, written = pinned("--kd-steps")
    seconds = written["seconds_per_step"]
    assert printed == [str(written["steps"]["alone"]), "1000"]
    assert written["steps"]["alone"] == pytest.approx(1000 * seconds["kd"] / seconds["alone"], rel=0.01, abs=1)
    assert written["steps"]["alone"] > 1000
