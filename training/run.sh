#!/usr/bin/env bash
# End to end: tokenizer -> train -> export + int8 -> calibrate -> bundle -> evaluate.
#
#   bash training/run.sh                      # venv in training/.venv from requirements.txt
#   PYTHON=/work/venv/bin/python bash training/run.sh
#   NAME=r2 bash training/run.sh --epochs 4   # extra arguments go to train.py
#
# Env: PYTHON (an interpreter that has requirements.txt), NAME (run name, default
# main: output in training/runs/$NAME), DATA_DIR (default ../../shared/data from
# training/), QUANT (weight_only | per_row | dynamic | static), THREADS (default 2), BUNDLE (output dir),
# COMMAND (the command recorded in the model card; distill.sh sets it), SOUP (finished
# run directories: average their weights with soup.py instead of training; soup.sh sets it),
# TOKENIZER_ARGS (make_tokenizer.py options, e.g. --other-markers), EXPORT_ARGS (export.py options,
# e.g. the shipped stance-mini's "--weight-bits 8 --smooth 0.5 --fp32-tables-under 1024" with QUANT=per_row).
# Writes the bundle (model.onnx, tokenizer.json, config.json, MODEL_CARD.md) to
# runs/$NAME/bundle; BUNDLE=../models/stance-mini replaces the shipped one, which
# is done only when the new model is better on dev (see EXPERIMENTS.md).
set -euo pipefail
cd "$(dirname "$0")"
NAME=${NAME:-main}
DATA_DIR=${DATA_DIR:-../../shared/data}
QUANT=${QUANT:-weight_only}
THREADS=${THREADS:-2}
BUNDLE=${BUNDLE:-runs/$NAME/bundle}
RUN=runs/$NAME

if [ -z "${PYTHON:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -r requirements.txt
  fi
  PYTHON=.venv/bin/python
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE

start=$(date +%s)
stamp() { echo "== $(date +%H:%M:%S) (+$(( ($(date +%s) - start) / 60 )) min) $*"; }

stamp "tokenizer"
"$PYTHON" make_tokenizer.py "$BUNDLE/tokenizer.json" ${TOKENIZER_ARGS:-}
if [ -n "${SOUP:-}" ]; then
  stamp "average $SOUP into $RUN"
  # shellcheck disable=SC2086  # SOUP is a list of run directories
  "$PYTHON" soup.py --name "$NAME" --data-dir "$DATA_DIR" --threads "$THREADS" --runs $SOUP "$@"
else
  stamp "train $RUN"
  "$PYTHON" train.py --name "$NAME" --data-dir "$DATA_DIR" --threads "$THREADS" --tokenizer "$BUNDLE/tokenizer.json" "$@"
fi
stamp "export + quantize ($QUANT)"
# shellcheck disable=SC2086  # EXPORT_ARGS is a list of export.py options
"$PYTHON" export.py --run "$RUN" --data-dir "$DATA_DIR" --quant "$QUANT" --threads "$THREADS" --tokenizer "$BUNDLE/tokenizer.json" \
  ${EXPORT_ARGS:-}
stamp "calibrate"
"$PYTHON" calibrate.py --run "$RUN"
stamp "bundle"
minutes=$(( ($(date +%s) - start + 59) / 60 ))
"$PYTHON" write_bundle.py --run "$RUN" --out "$BUNDLE" --pipeline-minutes "$minutes" \
  --command "${COMMAND:-NAME=$NAME QUANT=$QUANT bash training/run.sh${*:+ $*}}"
stamp "evaluate the bundle"
"$PYTHON" evaluate.py --bundle "$BUNDLE" --data-dir "$DATA_DIR" --threads "$THREADS" --out "$RUN/bundle_eval.json"
"$PYTHON" make_parity_fixture.py --tokenizer "$BUNDLE/tokenizer.json"
stamp "done"
