"""Training: the learning-rate schedule, that steps lower the loss, BERT masking, and the CLI
end to end (log, checkpoint, saved model, --resume) on a tiny corpus built from the fixture."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from model.batches import IGNORE, MaskedWindows, PoemBatches, read_poems
from model.distill import kd_loss
from model.modeling import ModelSize, fit_model, new_model
from model.tokenizer import SPECIAL_TOKENS, CharTokenizer
from model.train import batch_loss, learning_rate

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]  # training runs
ROOT = Path(__file__).resolve().parent.parent
TINY = ModelSize(layers=2, hidden=32, heads=2, ffn=64, max_positions=96)


@pytest.fixture(scope="module")
def tokenizer(data_dir: Path) -> CharTokenizer:
    return CharTokenizer.load(data_dir / "vocab.txt")


def test_learning_rate_warms_up_then_decays_to_a_tenth() -> None:
    peak, warmup, total = 1e-3, 10, 110
    rates = [learning_rate(step, peak, warmup, total) for step in range(total + 20)]
    assert rates[0] == pytest.approx(peak / warmup)
    assert all(a < b for a, b in zip(rates[:warmup], rates[1:warmup]))  # linear rise
    assert rates[warmup - 1] == pytest.approx(peak) and rates[warmup] == pytest.approx(peak)
    assert all(a >= b for a, b in zip(rates[warmup:], rates[warmup + 1 :]))  # then never rises
    assert rates[warmup + (total - warmup) // 2] == pytest.approx(peak * 0.55)  # cosine midpoint
    assert rates[total] == pytest.approx(peak * 0.1) and rates[-1] == pytest.approx(peak * 0.1)
    assert max(rates) == pytest.approx(peak) and min(rates) > 0


def test_optimizer_steps_lower_the_loss_on_a_fixed_batch(data_dir: Path, tokenizer: CharTokenizer) -> None:
    torch.manual_seed(0)
    source = PoemBatches(read_poems(data_dir / "train.jsonl"), tokenizer)
    batch = source.batch(random.Random(0), 4)
    assert ((batch["labels"] != IGNORE) <= (batch["attention_mask"] == 1)).all()
    model = new_model(len(tokenizer), TINY, causal=True).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss, read = batch_loss(model, "finetune", batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert read == int(batch["attention_mask"].sum())
    assert losses[0] == pytest.approx(math.log(len(tokenizer)), rel=0.25)  # a fresh model is near uniform
    assert losses[-1] < 0.7 * losses[0], losses


def test_masked_windows_mask_fifteen_percent_80_10_10(tmp_path: Path, tokenizer: CharTokenizer) -> None:
    poems = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n白日依山尽，黄河入海流。欲穷千里目，更上一层楼。\n"
    (tmp_path / "pretrain.txt").write_text(poems * 20, encoding="utf-8")
    windows = MaskedWindows(tmp_path / "pretrain.txt", tokenizer, window=30)
    rng = random.Random(0)
    specials = torch.tensor([tokenizer.ids[t] for t in SPECIAL_TOKENS])
    counts = {"chars": 0, "chosen": 0, "masked": 0, "random": 0, "kept": 0}
    for _ in range(20):
        batch = windows.batch(rng, 32)
        inputs, labels = batch["input_ids"], batch["labels"]
        assert inputs.shape == labels.shape == (32, 32)
        assert (inputs[:, 0] == tokenizer.cls_id).all() and (inputs[:, -1] == tokenizer.sep_id).all()
        chosen = labels != IGNORE
        original = torch.where(chosen, labels, inputs)  # unchosen positions are left as they were
        special = torch.isin(original, specials)
        assert not (chosen & special).any(), "a special token was masked"
        assert not torch.isin(labels[chosen], specials).any()
        assert not ((inputs == tokenizer.mask_id) & ~chosen).any()
        assert not torch.isin(inputs[chosen & (inputs != tokenizer.mask_id)], specials).any()
        counts["chars"] += int((~special).sum())
        counts["chosen"] += int(chosen.sum())
        counts["masked"] += int((chosen & (inputs == tokenizer.mask_id)).sum())
        counts["kept"] += int((chosen & (inputs == labels)).sum())
        counts["random"] += int((chosen & (inputs != tokenizer.mask_id) & (inputs != labels)).sum())
    assert 0.12 < counts["chosen"] / counts["chars"] < 0.18, counts
    assert 0.74 < counts["masked"] / counts["chosen"] < 0.86, counts
    assert 0.06 < counts["random"] / counts["chosen"] < 0.14, counts
    assert 0.06 < counts["kept"] / counts["chosen"] < 0.15, counts


def train_command(data_dir: Path, out: Path, *flags: str) -> list[str]:
    return [
        sys.executable,
        "-W",
        "ignore",
        "-m",
        "model.train",
        "--stage",
        "finetune",
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--batch-size",
        "4",
        "--eval-every",
        "3",
        "--size",
        "2x64",
        "--precision",
        "fp32",
        *flags,
    ]


def run_train(data_dir: Path, out: Path, *flags: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        train_command(data_dir, out, *flags),
        cwd=ROOT,
        env=os.environ | {"POET_TRAIN_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def log_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train.log").read_text().splitlines()]


def test_train_cli_writes_log_checkpoint_and_model_then_resumes(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_train(data_dir, out, "--max-steps", "3")
    records = log_records(out)
    evals = [r for r in records if "dev_ppl" in r]
    assert [r["step"] for r in evals] == [3] and math.isfinite(evals[0]["dev_ppl"]) and evals[0]["dev_ppl"] > 1
    assert records[-1]["done"] is True and records[-1]["step"] == 3
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] == 3
    for name in ("config.json", "model.safetensors", "vocab.txt"):
        assert (out / "model" / name).is_file(), name
    assert (out / "model" / "vocab.txt").read_text() == (data_dir / "vocab.txt").read_text()
    tokens_after_3 = records[-1]["tokens"]

    resumed = run_train(data_dir, out, "--max-steps", "5", "--resume")
    assert "resumed at step 3" in resumed.stderr
    later = log_records(out)[len(records) :]
    assert [r["step"] for r in later if "dev_ppl" in r] == [5], later
    assert all(r["step"] > 3 for r in later), "the resumed run started again from the beginning"
    assert later[-1]["done"] is True and later[-1]["step"] == 5 and later[-1]["tokens"] > tokens_after_3
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] == 5


def test_a_resumed_run_continues_from_the_saved_step_with_the_same_data_order(data_dir: Path, tmp_path: Path) -> None:
    """Stopped after 3 steps and resumed, a run takes the batches and losses an unbroken run takes."""
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    run_train(data_dir, straight, "--max-steps", "6", "--log-every", "1", "--eval-every", "100")
    run_train(data_dir, stopped, "--max-steps", "3", "--log-every", "1", "--eval-every", "100")
    run_train(data_dir, stopped, "--max-steps", "6", "--log-every", "1", "--eval-every", "100", "--resume")
    losses = lambda out: [(r["step"], r["tokens"], r["loss"]) for r in log_records(out) if "loss" in r]  # noqa: E731
    assert [step for step, _, _ in losses(stopped)] == [1, 2, 3, 4, 5, 6]
    for (step, tokens, loss), (step2, tokens2, loss2) in zip(losses(straight), losses(stopped)):
        assert (step, tokens) == (step2, tokens2) and loss == pytest.approx(loss2, abs=1e-4)
    assert all("tokens_per_s" in r for r in log_records(stopped) if "loss" in r)


def test_a_run_killed_after_its_checkpoint_logs_each_step_once_when_resumed(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    run_train(data_dir, out, "--max-steps", "3", "--log-every", "1", "--eval-every", "100")
    with open(out / "train.log", "a") as log:  # steps 4 and 5 logged, then killed before the next checkpoint
        log.writelines(json.dumps({"step": step, "tokens": 0, "loss": 9.0}) + "\n" for step in (4, 5))
    run_train(data_dir, out, "--max-steps", "6", "--log-every", "1", "--eval-every", "100", "--resume")
    steps = [r["step"] for r in log_records(out) if "loss" in r]
    assert steps == [1, 2, 3, 4, 5, 6] and all(r.get("loss") != 9.0 for r in log_records(out))


def test_sigterm_checkpoints_the_step_reached_saves_no_model_and_fails_so_a_pipeline_stops(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "stopped"
    command = train_command(data_dir, out, "--max-steps", "100000", "--log-every", "1", "--eval-every", "100000")
    process = subprocess.Popen(
        command, cwd=ROOT, env=os.environ | {"POET_TRAIN_THREADS": "1"}, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 90
    while not (out / "train.log").exists() or (out / "train.log").read_text().count("\n") < 3:
        assert process.poll() is None and time.monotonic() < deadline, "training did not start"
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    saved = torch.load(out / "checkpoint.pt", weights_only=False)["step"]
    assert saved >= 3 and saved == log_records(out)[-1]["step"], "the checkpoint is not the last step logged"
    assert not (out / "model").exists(), "an unfinished run saved a model that marks it done"
    run_train(data_dir, out, "--max-steps", str(saved + 2), "--log-every", "1", "--eval-every", "100000", "--resume")
    assert [r["step"] for r in log_records(out) if "loss" in r] == list(range(1, saved + 3))


def test_dev_perplexity_is_logged_for_verse_and_ci_apart(data_dir: Path, tmp_path: Path) -> None:
    run_train(data_dir, tmp_path / "run", "--max-steps", "3")
    evals = [r for r in log_records(tmp_path / "run") if "dev_ppl" in r]
    assert evals and all(math.isfinite(r["dev_ppl"]) for r in evals)
    dev = read_poems(data_dir / "dev.jsonl")
    assert all(("dev_ppl_ci" in r) == any(p.get("kind") == "ci" for p in dev) for r in evals)


def test_kd_loss_is_zero_for_the_teachers_own_logits_and_pulls_a_student_toward_them() -> None:
    torch.manual_seed(0)
    teacher = torch.randn(2, 5, 11)
    mask = torch.ones(2, 5, dtype=torch.bool)
    assert kd_loss(teacher, teacher, mask, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.zeros(2, 5, 11, requires_grad=True)
    optimizer = torch.optim.Adam([student], lr=0.3)
    losses = []
    for _ in range(100):
        loss = kd_loss(student, teacher, mask, 2.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 0 and losses[-1] < 0.05 * losses[0]
    # Masked positions do not count: a student wrong only there has no loss.
    wrong_there = teacher.clone()
    wrong_there[:, -1] = -teacher[:, -1]
    mask[:, -1] = False
    assert kd_loss(wrong_there, teacher, mask, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert kd_loss(wrong_there, teacher, torch.ones_like(mask), 2.0).item() > 0.01


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_kd_loss_and_its_gradient_are_autograds_through_log_softmax_and_kl_div(dtype: torch.dtype) -> None:
    torch.manual_seed(1)
    student, teacher = 3 * torch.randn(3, 4, 50, dtype=dtype), 3 * torch.randn(3, 4, 50, dtype=dtype)
    mask, before = torch.rand(3, 4) < 0.7, student.clone()
    ours = student.clone().requires_grad_()
    kd_loss(ours, teacher, mask, 2.0).backward(torch.tensor(1.5))
    plain = student.double().requires_grad_()
    kl = F.kl_div(
        F.log_softmax(plain[mask] / 2.0, dim=-1),
        F.log_softmax(teacher.double()[mask] / 2.0, dim=-1),
        log_target=True,
        reduction="batchmean",
    )
    (1.5 * kl * 4.0).backward()
    assert kd_loss(student, teacher, mask, 2.0).item() == pytest.approx(kl.item() * 4.0, rel=1e-5)
    assert ours.grad.dtype == dtype and student.equal(before) and ours.equal(before)  # inputs left as they were
    tolerance = 1e-6 if dtype == torch.float32 else 1e-2
    assert torch.allclose(ours.grad.double(), plain.grad, atol=tolerance)
    assert not ours.grad[~mask].any()


def test_distilling_a_tiny_student_from_a_tiny_teacher_runs_and_logs(
    data_dir: Path, tmp_path: Path, tokenizer: CharTokenizer
) -> None:
    teacher_dir = tmp_path / "teacher"
    new_model(len(tokenizer), ModelSize(2, 64, 2, 128, 192), causal=True).save_pretrained(teacher_dir)
    tokenizer.save(teacher_dir / "vocab.txt")
    run_train(data_dir, tmp_path / "student", "--max-steps", "3", "--teacher", str(teacher_dir), "--kd-weight", "0.7")
    records = log_records(tmp_path / "student")
    assert records[-1]["done"] is True and any("dev_ppl" in r for r in records)


def test_a_model_grows_to_new_tokens_and_positions_keeping_what_it_learnt(tokenizer: CharTokenizer) -> None:
    torch.manual_seed(0)
    small = new_model(len(tokenizer) - 5, ModelSize(2, 32, 2, 64, 96), causal=True)
    words = small.bert.embeddings.word_embeddings.weight.detach().clone()
    positions = small.bert.embeddings.position_embeddings.weight.detach().clone()
    grown = fit_model(small, len(tokenizer), 192)
    assert grown.config.vocab_size == len(tokenizer) and grown.config.max_position_embeddings == 192
    assert torch.equal(grown.bert.embeddings.word_embeddings.weight[: len(words)], words)
    assert torch.equal(grown.bert.embeddings.position_embeddings.weight[:96], positions)
    assert grown.cls.predictions.decoder.weight.data_ptr() == grown.bert.embeddings.word_embeddings.weight.data_ptr()
    logits = grown(input_ids=torch.randint(0, len(tokenizer), (1, 150))).logits
    assert logits.shape == (1, 150, len(tokenizer)) and torch.isfinite(logits).all()
