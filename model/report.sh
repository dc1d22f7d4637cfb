#!/usr/bin/env bash
# The model card's figures for the runs `make train` made, each into runs/report/NAME.txt; the last
# stage of model/train_pipeline.sh. A figure already written is kept, so a rerun only adds the missing;
# the pipeline runs it once the better student is shipped and again after the half-cost student, so
# the shipped model's figures need not wait for a model that is not shipped.
#
# - ppl_RUN: 唐诗三百首 and 宋词三百首 perplexity of each run's model (fp32, model.score)
# - int8: the same for the shipped INT8 IR (model.ir_score) and its fp32 weights
# - step_cost: the decode step of the issue's baseline (2026.12.01), the shipped model and the
#   half-cost student, in one run (bench.step_cost)
# - teacher_nll: 512 poems of the baseline and of the shipped model, read by the teacher
# - quality_shipped, quality_baseline: bench.quality of each; samples: the card's samples
# - samples_half, samples_half_alone: the card's samples from each half-cost student
# - curves: every run's dev perplexity, drawn into model/curves.png
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BASELINE=runs/weights_2026.12.01  # what was served when issue 17 was filed (唐诗三百首 51.5)
BASELINE_COMMIT=4eb47ad
mkdir -p runs/report
report() {
    local name=$1; shift
    [ -s "runs/report/$name.txt" ] && return
    "$@" > "runs/report/$name.tmp" && mv "runs/report/$name.tmp" "runs/report/$name.txt"
}
perplexities() {  # MODEL: the held-out test sets, regular poems then 词
    for file in data/test.jsonl data/test_ci.jsonl; do $PY -m model.score "$file" --model "$1"; done
}
int8() {
    for file in data/test.jsonl data/test_ci.jsonl; do
        echo "$file fp32 $($PY -m model.score "$file") INT8 $($PY -m model.ir_score "$file")"
    done
}

# the baseline's weights from git, its IR exported by today's code (the IR's inputs have changed since)
[ -f "$BASELINE/openvino/decoder.xml" ] || { bash model/weights_from_git.sh "$BASELINE_COMMIT" "$BASELINE" config.json \
    generation_config.json vocab.txt model.safetensors train_lines.npy && $PY -m model.export --model "$BASELINE"; }

for run in teacher student_alone student_kd; do report "ppl_$run" perplexities "runs/$run/model"; done
report int8 int8
report teacher_nll $PY -m bench.teacher_nll --teacher runs/teacher/model "$BASELINE" model/weights
report quality_shipped $PY -m bench.quality --model model/weights
report quality_baseline $PY -m bench.quality --model "$BASELINE"
report samples $PY -m bench.samples

half_cost() {  # RUN: its figures, or exit while it trains
    local model=runs/$1/model
    [ -f "$model/model.safetensors" ] || { echo "report: the half-cost student's figures wait for $model" >&2; exit 0; }
    [ -f "$model/openvino/decoder.xml" ] || $PY -m model.export --model "$model"
    report "ppl_$1" perplexities "$model"
    report "samples_${1#student_}" $PY -m bench.samples --model "$model"
}
half_cost student_half
report step_cost $PY -m bench.step_cost "$BASELINE" model/weights runs/student_half/model --rounds 12
half_cost student_half_alone
report curves $PY -m model.curves runs/teacher runs/student_alone runs/student_kd runs/student_half \
    runs/student_half_alone --out model/curves.png
