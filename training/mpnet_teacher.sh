#!/usr/bin/env bash
# The mpnet teacher, which is also the accurate tier (base.sh) and the teacher of mpnet_natural.sh:
# all-mpnet-base-v2 (fetch_teacher.sh) fine-tuned for one epoch on NewsMTSC train, op-ed train x2
# and op-ed natural minus fold $HOLDOUT, into runs/$NAME. Skipped when runs/$NAME/best/ exists.
# One epoch of 706 steps takes 70 min to 3 h on two cores, by CPU; it saves its state every 100
# steps, and running it again resumes where it stopped.
#
# Env: PYTHON, NAME, HOLDOUT, DATA_DIR, THREADS (set by the calling script).
set -euo pipefail
cd "$(dirname "$0")"
run=runs/$NAME
if [ ! -f "$run/best/model.safetensors" ]; then
  PYTHON=$PYTHON bash fetch_teacher.sh
  "$PYTHON" make_tokenizer.py "$run/tokenizer.json" --backbone mpnet
  "$PYTHON" train.py --name "$NAME" --tokenizer "$run/tokenizer.json" --data-dir "$DATA_DIR" \
    --threads "$THREADS" --lr 4e-5 --epochs 1 --natural-copies 1 --holdout-fold "$HOLDOUT" \
    --checkpoint-every 100 --resume
fi
