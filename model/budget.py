"""Equal compute for the student trained alone and the student distilled from the teacher.

    python -m model.budget --init runs/student_init --teacher-size 8x512 --minutes 90 --out runs/student_budget.json

A distilled step also runs the teacher forward, so at equal compute it gets fewer steps. Budgets
are steps, not minutes: a run cut by a clock ends with its learning rate still high, and a clock
measures the machine of the day (they differ between sessions) and its neighbours. So this measures
both steps once, on the same real training batches in alternating rounds (a teacher of the
teacher's shape with random weights: a step's cost does not depend on the values), turns the
minutes into each arm's steps and writes them with the CPU to --out. Later calls only read that
file, so a pipeline resumed on another machine keeps the same budgets. Prints "ALONE KD".

Where one arm has run already, measure with its steps pinned and the other arm gets them times the
ratio of the two steps' costs: the lone arm after the distilled step changed (its loss got faster),
the distilled arm when it ran first (the half-cost student's lone arm came after it).

    python -m model.budget --init runs/student_init --alone-steps 17657 --out runs/student_budget.json
    python -m model.budget --init scratch --size 2x128 --kd-steps 8000 --out runs/half_budget.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import torch

from bench.engine import cpu_summary
from model.batches import PoemBatches, fits, read_poems
from model.modeling import ModelSize, new_model
from model.train import ROOT, initial_model, precision_of, training_step, vocabulary


def step_seconds(
    model: torch.nn.Module,
    teacher: torch.nn.Module | None,
    source: PoemBatches,
    batch_size: int,
    steps: int,
    autocast: torch.dtype | None,
    seed: int,
) -> float:
    """Mean wall seconds of `steps` of `model.train`'s own training step, the batch built inside the
    timing. The mean, not the median: a long 词 batch costs what it costs."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    rng = random.Random(seed)
    started = time.perf_counter()
    for _ in range(steps):
        training_step(model, optimizer, "finetune", source.batch(rng, batch_size), "cpu", autocast, teacher, 0.5)
    return (time.perf_counter() - started) / steps


def measure(args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    tokenizer = vocabulary(args.data)
    student = initial_model("finetune", str(args.init), tokenizer, ModelSize.parse(args.size, args.positions)).train()
    teacher = new_model(len(tokenizer), ModelSize.parse(args.teacher_size, args.positions), causal=True).eval()
    poems = [p for p in read_poems(args.data / "train.jsonl") if fits(tokenizer, p, args.positions)]
    source = PoemBatches(poems, tokenizer)
    autocast = precision_of("auto", "cpu")
    arms: dict[str, list[float]] = {"alone": [], "kd": []}
    for round_ in range(args.rounds + 1):  # round 0 warms both up and is not counted
        for arm, taught_by in (("alone", None), ("kd", teacher)):
            seconds = step_seconds(student, taught_by, source, args.batch_size, args.steps, autocast, round_)
            if round_:
                arms[arm].append(seconds)
    per_step = {arm: statistics.median(values) for arm, values in arms.items()}
    # One arm's steps from the other's by the ratio of the two, timed in the same rounds: a run pinned
    # to the steps of an arm already trained gets a fair budget on a faster or slower day too.
    kd_per_alone = per_step["kd"] / per_step["alone"]
    if args.kd_steps:
        kd = args.kd_steps
        alone = int(kd * kd_per_alone)
    else:
        alone = args.alone_steps or int(args.minutes * 60 / per_step["alone"])
        kd = int(alone / kd_per_alone)
    steps = {"alone": alone, "kd": kd}
    return {
        "cpu": cpu_summary(),
        "bf16": autocast is not None,
        "minutes": round(alone * per_step["alone"] / 60, 1),
        "batch_size": args.batch_size,
        "student": args.init if args.init != "scratch" else args.size,
        "teacher_size": args.teacher_size,
        "seconds_per_step": {arm: round(value, 4) for arm, value in per_step.items()},
        "steps": steps,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init", required=True, help="the students' starting weights, or 'scratch'")
    parser.add_argument("--size", default="4x256", help="LAYERSxHIDDEN of a student from scratch")
    parser.add_argument("--teacher-size", default="8x512")
    compute = parser.add_mutually_exclusive_group(required=True)
    compute.add_argument("--minutes", type=float, help="each arm's compute on this machine")
    compute.add_argument("--alone-steps", type=int, help="the lone arm's steps, when it has already run")
    compute.add_argument("--kd-steps", type=int, help="the distilled arm's steps, when it has already run")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--positions", type=int, default=192)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="steps a round (both arms: the same batches)")
    args = parser.parse_args(argv)
    if not args.out.exists():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(measure(args), indent=1) + "\n", encoding="utf-8")
    steps = json.loads(args.out.read_text(encoding="utf-8"))["steps"]
    print(steps["alone"], steps["kd"])


if __name__ == "__main__":
    main()
