#!/usr/bin/env bash
# How the shipped weights are made (`make train`). Every step resumes where it stopped: run it
# again after an interruption. Runs go under runs/ (gitignored); logs are runs/*/train.log.
#
# 1. corpus → data/           2. the experiment at equal compute (~4.9M tokens per arm):
#    arm A: MLM pretraining (1,200 steps) then causal fine-tuning (1,400 steps)
#    arm B: causal fine-tuning from scratch (2,800 steps)
# 3. the better arm is fine-tuned further (SHIP_STEPS, default 4,000) and shipped to model/weights
#    (fp16 safetensors, vocab, INT8 IR, training-line table).
# 4. a second pass from those shipped (fp16) weights: the learning rate warmed up again and decayed
#    over SHIP2_STEPS (default 2,800), shipped in their place.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHIP_STEPS=${SHIP_STEPS:-4000}
SHIP_MINUTES=${SHIP_MINUTES:-600}  # a wall-clock cap for stage 3
SHIP2_STEPS=${SHIP2_STEPS:-2800}
SHIP2_MINUTES=${SHIP2_MINUTES:-600}  # and for stage 4
[ -f data/train.jsonl ] || $PY -m model.data
train() { $PY -W ignore -m model.train --resume "$@"; }
done_() { [ -f "$1/model/model.safetensors" ]; }

export POET_TRAIN_THREADS=1  # the two arms share the two cores
( done_ runs/pretrain || train --stage pretrain --out runs/pretrain --max-steps 1200
  done_ runs/ft_pretrained || train --stage finetune --init runs/pretrain/model --out runs/ft_pretrained \
      --max-steps 1400 --eval-every 350 ) > runs/arm_a.out 2>&1 &
( done_ runs/ft_scratch || train --stage finetune --init scratch --out runs/ft_scratch \
      --max-steps 2800 --eval-every 350 ) > runs/arm_b.out 2>&1 &
wait

export POET_TRAIN_THREADS=2
best=$($PY -m model.compare runs/ft_pretrained runs/ft_scratch)
done_ runs/ship || train --stage finetune --init "$best/model" --out runs/ship --max-steps "$SHIP_STEPS" \
    --eval-every 500 --lr 5e-4 --warmup 100 --seed 1 --max-minutes "$SHIP_MINUTES"
done_ runs/ship2 || $PY -m model.ship runs/ship/model
done_ runs/ship2 || train --stage finetune --init model/weights --out runs/ship2 --max-steps "$SHIP2_STEPS" \
    --eval-every 400 --lr 5e-4 --warmup 150 --seed 2 --max-minutes "$SHIP2_MINUTES"
$PY -m model.ship runs/ship2/model --version "${SHIP_VERSION:-ship2}"
