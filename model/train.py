"""Training: stage 1 masked-LM pretraining, stage 2 causal fine-tuning on prefixed poems and 词,
optionally distilled from a teacher.

    python -m model.train --stage finetune --init scratch --out runs/teacher --size 8x512 --max-steps 40000
    python -m model.train --stage finetune --init model/weights --out runs/ft --max-steps 6000
    python -m model.train --stage finetune --init scratch --out runs/kd --teacher runs/teacher/model

Safe in the background: a JSON log (OUT/train.log: tokens seen, tokens/s, dev perplexity of 诗
and of 词), a checkpoint every few minutes and on SIGTERM or Ctrl-C (OUT/checkpoint.pt: model,
optimizer, step, the data order's random state), --resume, a step budget, fixed seeds. bf16 autocast where the
CPU has bf16 instructions (2.5-3x on AVX-512 BF16; measure with `python -m bench.train_speed`).
The same script runs on a GPU with --device cuda. The finished model is saved with
save_pretrained to OUT/model together with vocab.txt.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import signal
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm
from transformers import BertForMaskedLM

from model.batches import IGNORE, MaskedWindows, PoemBatches, fits, read_poems
from model.distill import kd_loss
from model.modeling import ModelSize, causal_from, fit_model, load_causal, new_model
from model.score import poems_nll
from model.tokenizer import CharTokenizer

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


def vocabulary(data: Path) -> CharTokenizer:
    """data/vocab.txt, which `model.data` writes: the shipped vocabulary with the tunes appended."""
    path = data / "vocab.txt"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make data` first")
    return CharTokenizer.load(path)


def initial_model(stage: str, init: str, tokenizer: CharTokenizer, size: ModelSize) -> torch.nn.Module:
    """A new model of `size`, or the init model grown to the vocabulary and positions training needs."""
    if init == "scratch":
        return new_model(len(tokenizer), size, causal=stage == "finetune")
    own = CharTokenizer.load(Path(init) / "vocab.txt").tokens
    if own != tokenizer.tokens[: len(own)]:
        raise SystemExit(f"{init}/vocab.txt is not the start of the data's vocabulary: ids would move")
    pretrained = BertForMaskedLM.from_pretrained(init)
    if stage == "pretrain":
        model = pretrained
    else:
        model = load_causal(Path(init)) if pretrained.config.is_decoder else causal_from(pretrained)
    return fit_model(model, len(tokenizer), size.max_positions)


def learning_rate(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak at the step budget."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def precision_of(name: str, device: str) -> torch.dtype | None:
    """The autocast type: bf16 where the hardware has it ('auto'), else none (fp32)."""
    if name == "auto":
        flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
        fast = torch.cuda.is_bf16_supported() if device == "cuda" else ("avx512_bf16" in flags or "amx_bf16" in flags)
        name = "bf16" if fast else "fp32"
    return torch.bfloat16 if name == "bf16" else None


def batch_loss(
    model: torch.nn.Module,
    stage: str,
    batch: dict[str, torch.Tensor],
    teacher: torch.nn.Module | None = None,
    kd_weight: float = 0.0,
    kd_temperature: float = 2.0,
) -> tuple[torch.Tensor, int]:
    """Mean loss of a batch and the number of tokens the model read. With a teacher, the causal
    loss is (1 - kd_weight) · cross-entropy + kd_weight · distillation over the same positions."""
    mask = batch.get("attention_mask")
    logits = model(input_ids=batch["input_ids"], attention_mask=mask).logits
    if stage == "pretrain":
        labels, read = batch["labels"], batch["input_ids"].numel()
    else:  # each position predicts the next token
        logits, labels, read = logits[:, :-1], batch["labels"][:, 1:], int(mask.sum())
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), labels.reshape(-1), ignore_index=IGNORE)
    if teacher is not None:
        with torch.no_grad():
            taught = teacher(input_ids=batch["input_ids"], attention_mask=mask).logits[:, :-1]
        distilled = kd_loss(logits, taught, labels != IGNORE, kd_temperature)
        loss = (1 - kd_weight) * loss + kd_weight * distilled
    return loss, read


def training_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    stage: str,
    batch: dict[str, torch.Tensor],
    device: str,
    autocast: torch.dtype | None,
    teacher: torch.nn.Module | None = None,
    kd_weight: float = 0.0,
    kd_temperature: float = 2.0,
) -> tuple[torch.Tensor, int]:
    """One optimizer step on a batch: the loss under autocast, backward, gradients clipped to norm 1,
    AdamW. Returns the loss and the tokens read."""
    with torch.autocast(device, dtype=autocast or torch.float32, enabled=autocast is not None):
        loss, read = batch_loss(model, stage, batch, teacher, kd_weight, kd_temperature)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss, read


def dev_perplexity(model: torch.nn.Module, tokenizer: CharTokenizer, dev: list[dict]) -> float:
    if not dev:
        return float("nan")
    model.eval()
    total, count = poems_nll(model, tokenizer, [(p["form"], p["body"]) for p in dev])
    model.train()
    return math.exp(total / count)


def dev_record(model: torch.nn.Module, tokenizer: CharTokenizer, dev: list[dict]) -> dict:
    """Dev perplexity of the regular poems, and of the 词 where dev has some."""
    ci = [p for p in dev if p.get("kind") == "ci"]
    record = {"dev_ppl": round(dev_perplexity(model, tokenizer, [p for p in dev if p.get("kind") != "ci"]), 2)}
    return record | ({"dev_ppl_ci": round(dev_perplexity(model, tokenizer, ci), 2)} if ci else {})


def save_checkpoint(out: Path, state: dict) -> None:
    """Write atomically so a kill mid-write never leaves a broken checkpoint."""
    tmp = out / "checkpoint.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, out / "checkpoint.pt")


def trim_log(path: Path, step: int) -> None:
    """Drop the records a killed run logged after its last checkpoint: the resumed run logs those
    steps again, and each step should be in the log once."""
    if path.exists():
        kept = [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def train(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = vocabulary(args.data)
    size = ModelSize.parse(args.size, args.max_positions)
    model = initial_model(args.stage, args.init, tokenizer, size).to(args.device).train()
    teacher = load_causal(args.teacher).to(args.device) if args.teacher else None
    autocast = precision_of(args.precision, args.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    rng = random.Random(args.seed)  # draws every batch: its state is the data position
    step, tokens, elapsed = 0, 0, 0.0
    if args.resume and (out / "checkpoint.pt").exists():
        state = torch.load(out / "checkpoint.pt", weights_only=False, map_location=args.device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        step, tokens, elapsed = state["step"], state["tokens"], state["elapsed"]
        trim_log(out / "train.log", step)
        log.info("resumed at step %d", step)
    limit = model.config.max_position_embeddings
    if args.stage == "pretrain":
        source = MaskedWindows(args.data / "pretrain.txt", tokenizer)
        dev = None
    else:
        source = PoemBatches([p for p in read_poems(args.data / "train.jsonl") if fits(tokenizer, p, limit)], tokenizer)
        dev = [p for p in read_poems(args.data / "dev.jsonl") if fits(tokenizer, p, limit)]
    started, last_save = time.time() - elapsed, time.time()
    interval = (time.time(), tokens)  # tokens/s over the last log interval
    logfile = open(out / "train.log", "a", encoding="utf-8")
    progress = tqdm(total=args.max_steps, initial=step, desc=args.stage, mininterval=10)

    def checkpoint() -> None:
        save_checkpoint(
            out,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "tokens": tokens,
                "elapsed": time.time() - started,
                "args": vars(args) | {"out": str(out), "data": str(args.data)},
            },
        )

    deadline = math.inf if args.max_minutes is None else args.max_minutes * 60
    stop_signals: list[int] = []  # SIGTERM or Ctrl-C: finish the step, checkpoint, exit
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _frame: stop_signals.append(signum))
    while step < args.max_steps and time.time() - started < deadline and not stop_signals:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.lr, args.warmup, args.max_steps)
        batch = {k: v.to(args.device) for k, v in source.batch(rng, args.batch_size).items()}
        loss, read = training_step(
            model, optimizer, args.stage, batch, args.device, autocast, teacher, args.kd_weight, args.kd_temperature
        )
        step, tokens = step + 1, tokens + read
        progress.update(1)
        record = None
        if step % args.log_every == 0:
            now = time.time()
            record = {
                "step": step,
                "tokens": tokens,
                "loss": round(loss.item(), 4),
                "lr": round(optimizer.param_groups[0]["lr"], 6),
                "elapsed_s": round(now - started),
                "tokens_per_s": round((tokens - interval[1]) / max(now - interval[0], 1e-9)),
            }
            interval = (now, tokens)
        if dev is not None and (step % args.eval_every == 0 or step == args.max_steps):
            record = (record or {"step": step, "tokens": tokens}) | dev_record(model, tokenizer, dev)
            interval = (time.time(), tokens)  # the evaluation is not training time
        if record:
            logfile.write(json.dumps(record) + "\n")
            logfile.flush()
        if time.time() - last_save > args.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.time()
    checkpoint()
    if stop_signals:  # not finished: no model, and a failing exit so that a pipeline stops here
        log.info("stopped by signal %d at step %d; --resume continues from there", stop_signals[0], step)
        raise SystemExit(128 + stop_signals[0])
    model.save_pretrained(out / "model")
    tokenizer.save(out / "model" / "vocab.txt")
    summary = {
        "done": step >= args.max_steps,
        "step": step,
        "tokens": tokens,
        "elapsed_s": round(time.time() - started),
    }
    logfile.write(json.dumps(summary) + "\n")
    log.info("saved %s: %s", out / "model", summary)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=["pretrain", "finetune"], required=True)
    parser.add_argument("--init", default="scratch", help="'scratch' or a saved model folder")
    parser.add_argument("--size", default="4x256", help="LAYERSxHIDDEN of a model from scratch (heads of 64, FFN 4x)")
    parser.add_argument(
        "--max-positions",
        type=int,
        default=96,
        help="positions the model knows: 96 holds a 七律, 192 the longest of the 40 tunes",
    )
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is at hand")
    parser.add_argument(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default="auto",
        help="autocast type; auto = bf16 where the CPU (or GPU) has bf16 instructions",
    )
    parser.add_argument("--teacher", type=Path, default=None, help="a causal model folder to distil from")
    parser.add_argument("--kd-weight", type=float, default=0.5, help="share of the distillation loss")
    parser.add_argument("--kd-temperature", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="a wall-clock budget (pauses count); none by default: the step budget ends a run with its schedule",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=int(env("POET_TRAIN_THREADS", "2")))
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--checkpoint-minutes", type=float, default=5.0)
    parser.add_argument("--resume", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    train(parse_args(argv))


if __name__ == "__main__":
    main()
