#!/usr/bin/env bash
# How the next weights are made (`make train`). Every stage resumes where it stopped: run it again
# after an interruption. Runs go under runs/ (gitignored); logs are runs/*/train.log. The stages
# that made the weights shipped until now (MLM against causal arms, two fine-tuning passes) are in
# MODEL_CARD.md and in this file's git history.
#
# 1. corpus → data/ (the regular poems and the 宋词 of the 40 most-written tunes)
# 2. the students' starting point: the 2026.12.06 weights (4 × 256 grown to the tunes and 192
#    positions), taken from git (commit d17354f) so that shipping a student cannot move it.
# 3. equal compute (`model.budget`): STUDENT_MINUTES of this machine, measured once, as steps for
#    the student alone and for the distilled one (a distilled step also runs the teacher forward).
# 4. the student alone. It needs no teacher, so it runs first: the soonest shippable model.
# 5. the teacher: 8 layers × 512, 192 positions, from scratch, bf16 autocast where the CPU has it;
#    TEACHER_STEPS batches of 64 (~3,500 tokens each).
# 6. the student distilled from the teacher (KL at temperature 2, half the loss).
# 7. the better of the two, by perplexity over all dev poems (诗 and 词), is shipped (`model.ship`).
# 8. the half-cost student (2 × 128, half the served decode step; `bench.step_cost`), from scratch,
#    distilled, HALF_STEPS batches of 32: reported in the model card, not shipped.
# 9. the same student alone, for the distilled one's compute (`model.budget --kd-steps`): the
#    teacher's forward is most of a distilled step at this size, so alone it gets several times the steps.
# 10. the model card's figures, into runs/report/ (model/report.sh): the shipped model's right after
#    stage 7, the half-cost students' at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEVICE=${DEVICE:-cpu}  # cuda where a GPU is at hand: the same script, unchanged
TEACHER_STEPS=${TEACHER_STEPS:-16000}
TEACHER_SIZE=8x512  # the teacher trained, and the one the distilled step is timed with
STUDENT_MINUTES=${STUDENT_MINUTES:-90}  # the budget runs/student_budget.json was measured with
HALF_STEPS=${HALF_STEPS:-8000}  # ~0.5 s a step on 2 cores, most of it the teacher
[ -f data/train.jsonl ] || $PY -m model.data
train() { $PY -W ignore -m model.train --stage finetune --device "$DEVICE" --resume "$@"; }
done_() { [ -f "$1/model/model.safetensors" ]; }

STUDENT_INIT_COMMIT=d17354f
[ -f runs/student_init/model.safetensors ] || bash model/weights_from_git.sh "$STUDENT_INIT_COMMIT" runs/student_init \
    config.json vocab.txt model.safetensors
read -r alone_steps kd_steps <<< "$($PY -m model.budget --init runs/student_init --teacher-size "$TEACHER_SIZE" \
    --minutes "$STUDENT_MINUTES" --out runs/student_budget.json)"
student=(--init runs/student_init --max-positions 192 --batch-size 32 --lr 5e-4 --warmup 300 --eval-every 1000 --seed 4)
done_ runs/student_alone || train --out runs/student_alone "${student[@]}" --max-steps "$alone_steps"
done_ runs/teacher || train --init scratch --out runs/teacher --size "$TEACHER_SIZE" --max-positions 192 \
    --batch-size 64 --max-steps "$TEACHER_STEPS" --lr 6e-4 --warmup 1000 --eval-every 1000 \
    --checkpoint-minutes 10 --seed 3
done_ runs/student_kd || train --out runs/student_kd "${student[@]}" --max-steps "$kd_steps" --teacher runs/teacher/model
ship_best() {
    local best version
    best=$($PY -m model.compare runs/student_kd runs/student_alone) || return  # set -e does not reach in here
    version=${SHIP_VERSION:-$(date +%Y.%m.%d)-${best##*student_}}  # the arm that won in the name: …-kd or …-alone
    $PY -m model.ship "$best/model" --version "$version" && echo "$best" > runs/shipped
}
[ -f runs/shipped ] || ship_best
bash model/report.sh  # the shipped model's figures first: the half-cost students are not shipped
half=(--init scratch --size 2x128 --max-positions 192 --batch-size 32 --lr 1e-3 --warmup 500 --seed 5)
done_ runs/student_half || train --out runs/student_half "${half[@]}" --max-steps "$HALF_STEPS" --eval-every 2000 \
    --teacher runs/teacher/model
read -r half_alone_steps _ <<< "$($PY -m model.budget --init scratch --size 2x128 --teacher-size "$TEACHER_SIZE" \
    --kd-steps "$HALF_STEPS" --out runs/half_budget.json)"
done_ runs/student_half_alone || train --out runs/student_half_alone "${half[@]}" --max-steps "$half_alone_steps" \
    --eval-every 4000
bash model/report.sh
