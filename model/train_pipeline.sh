#!/usr/bin/env bash
# How the next weights are made (`make train`). Every stage resumes where it stopped: run it again
# after an interruption. Runs go under runs/ (gitignored); logs are runs/*/train.log. The stages
# that made the weights shipped until now (MLM against causal arms, two fine-tuning passes) are in
# MODEL_CARD.md and in this file's git history.
#
# 1. corpus → data/ (the regular poems and the 宋词 of the 40 most-written tunes)
# 2. the teacher: 8 layers × 512, 192 positions (the longest tunes), from scratch, bf16 autocast
#    where the CPU has it; TEACHER_STEPS batches of 64 (~3,500 tokens each).
# 3. the served size, 4 × 256 grown to the tunes and 192 positions from the shipped weights, trained
#    two ways for the same wall-clock budget: distilled from the teacher (KL at temperature 2, half
#    the loss) and alone; STUDENT_MINUTES each, one after the other.
# 4. the better of the two by dev perplexity is shipped (`model.ship`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEVICE=${DEVICE:-cpu}  # cuda where a GPU is at hand: the same script, unchanged
TEACHER_STEPS=${TEACHER_STEPS:-16000}
STUDENT_MINUTES=${STUDENT_MINUTES:-240}
STUDENT_STEPS=${STUDENT_STEPS:-60000}  # more than the minutes allow: the budget ends each arm
[ -f data/train.jsonl ] || $PY -m model.data
train() { $PY -W ignore -m model.train --stage finetune --device "$DEVICE" --resume "$@"; }
done_() { [ -f "$1/model/model.safetensors" ]; }

done_ runs/teacher || train --init scratch --out runs/teacher --size 8x512 --max-positions 192 \
    --batch-size 64 --max-steps "$TEACHER_STEPS" --lr 6e-4 --warmup 1000 --eval-every 1000 \
    --checkpoint-minutes 10 --seed 3
student=(--init model/weights --max-positions 192 --batch-size 32 --max-steps "$STUDENT_STEPS" --lr 5e-4
         --warmup 300 --eval-every 1000 --max-minutes "$STUDENT_MINUTES" --seed 4)
done_ runs/student_kd || train --out runs/student_kd "${student[@]}" --teacher runs/teacher/model
done_ runs/student_alone || train --out runs/student_alone "${student[@]}"
best=$($PY -m model.compare runs/student_kd runs/student_alone)
$PY -m model.ship "$best/model" --version "${SHIP_VERSION:-$(basename "$best")}"
