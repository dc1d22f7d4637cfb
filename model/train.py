"""Training: stage 1 masked-LM pretraining, stage 2 causal fine-tuning on prefixed poems.

    python -m model.train --stage pretrain --out runs/pretrain --max-steps 1500
    python -m model.train --stage finetune --init runs/pretrain/model --out runs/ft --max-steps 6000
    python -m model.train --stage finetune --init scratch --out runs/scratch --max-steps 3000

Safe in the background: a JSON log (OUT/train.log), a checkpoint every few minutes
(OUT/checkpoint.pt), --resume, a step and a time budget, fixed seeds. The finished model is
saved with save_pretrained to OUT/model together with vocab.txt.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm
from transformers import BertForMaskedLM

from model.batches import IGNORE, MaskedWindows, PoemBatches, read_poems
from model.modeling import ModelSize, causal_from, load_causal, new_model
from model.score import poems_nll, sequence_nll
from model.tokenizer import CharTokenizer

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


def vocabulary(data: Path, init: str) -> CharTokenizer:
    """The init model's vocabulary, else data/vocab.txt, built once from the training text."""
    if init != "scratch":
        return CharTokenizer.load(Path(init) / "vocab.txt")
    path = data / "vocab.txt"
    if not path.exists():
        poems = read_poems(data / "train.jsonl")
        texts = [p["body"] for p in poems] + [w for p in poems for w in p["keywords"]]
        texts += (data / "pretrain.txt").read_text(encoding="utf-8").splitlines()
        CharTokenizer.build(texts).save(path)
    return CharTokenizer.load(path)


def initial_model(stage: str, init: str, vocab_size: int) -> torch.nn.Module:
    if init == "scratch":
        return new_model(vocab_size, ModelSize(), causal=stage == "finetune")
    if stage == "pretrain":
        return BertForMaskedLM.from_pretrained(init)
    pretrained = BertForMaskedLM.from_pretrained(init)
    return load_causal(init) if pretrained.config.is_decoder else causal_from(pretrained)


def learning_rate(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak at the step budget."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def batch_loss(model: torch.nn.Module, stage: str, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean loss of a batch and the number of tokens the model read."""
    if stage == "pretrain":
        logits = model(input_ids=batch["input_ids"]).logits
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch["labels"].reshape(-1),
                               ignore_index=IGNORE)
        return loss, batch["input_ids"].numel()
    nll, count = sequence_nll(model, batch["input_ids"], batch["labels"], batch["attention_mask"])
    return nll / count, int(batch["attention_mask"].sum())


def dev_perplexity(model: torch.nn.Module, tokenizer: CharTokenizer, dev: list[dict]) -> float:
    if not dev:
        return float("nan")
    model.eval()
    total, count = poems_nll(model, tokenizer, [(p["form"], p["body"]) for p in dev])
    model.train()
    return math.exp(total / count)


def save_checkpoint(out: Path, state: dict) -> None:
    """Write atomically so a kill mid-write never leaves a broken checkpoint."""
    tmp = out / "checkpoint.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, out / "checkpoint.pt")


def train(args: argparse.Namespace) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = vocabulary(args.data, args.init)
    model = initial_model(args.stage, args.init, len(tokenizer)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    rng = random.Random(args.seed)
    step, tokens, elapsed = 0, 0, 0.0
    if args.resume and (out / "checkpoint.pt").exists():
        state = torch.load(out / "checkpoint.pt", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        step, tokens, elapsed = state["step"], state["tokens"], state["elapsed"]
        log.info("resumed at step %d", step)
    if args.stage == "pretrain":
        source = MaskedWindows(args.data / "pretrain.txt", tokenizer)
        dev = None
    else:
        source = PoemBatches(read_poems(args.data / "train.jsonl"), tokenizer)
        dev = read_poems(args.data / "dev.jsonl")
    started, last_save = time.time() - elapsed, time.time()
    logfile = open(out / "train.log", "a", encoding="utf-8")
    progress = tqdm(total=args.max_steps, initial=step, desc=args.stage, mininterval=10)

    def checkpoint() -> None:
        save_checkpoint(out, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                              "rng": rng.getstate(), "torch_rng": torch.get_rng_state(),
                              "step": step, "tokens": tokens, "elapsed": time.time() - started,
                              "args": vars(args) | {"out": str(out), "data": str(args.data)}})

    while step < args.max_steps and time.time() - started < args.max_minutes * 60:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.lr, args.warmup, args.max_steps)
        loss, read = batch_loss(model, args.stage, source.batch(rng, args.batch_size))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step, tokens = step + 1, tokens + read
        progress.update(1)
        record = None
        if step % args.log_every == 0:
            record = {"step": step, "tokens": tokens, "loss": round(loss.item(), 4),
                      "lr": round(optimizer.param_groups[0]["lr"], 6), "elapsed_s": round(time.time() - started)}
        if dev is not None and (step % args.eval_every == 0 or step == args.max_steps):
            record = (record or {"step": step, "tokens": tokens}) | {"dev_ppl": round(dev_perplexity(model, tokenizer, dev), 2)}
        if record:
            logfile.write(json.dumps(record) + "\n")
            logfile.flush()
        if time.time() - last_save > args.checkpoint_minutes * 60:
            checkpoint()
            last_save = time.time()
    checkpoint()
    model.save_pretrained(out / "model")
    tokenizer.save(out / "model" / "vocab.txt")
    summary = {"done": step >= args.max_steps, "step": step, "tokens": tokens, "elapsed_s": round(time.time() - started)}
    logfile.write(json.dumps(summary) + "\n")
    log.info("saved %s: %s", out / "model", summary)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=["pretrain", "finetune"], required=True)
    parser.add_argument("--init", default="scratch", help="'scratch' or a saved model folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--max-minutes", type=float, default=600.0)
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
