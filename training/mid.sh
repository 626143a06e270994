#!/usr/bin/env bash
# The middle tier, models/stance-mid: the bottom six layers of the accurate tier's first epoch
# (all-mpnet-base-v2 fine-tuned once on NewsMTSC train, op-ed train x2 and op-ed natural minus
# fold $HOLDOUT), trained one more epoch on the same data as a 6-layer model, exported as per-row
# int8 like stance-mini (batch-invariant; 68 MB), calibrated and bundled.
#
#   PYTHON=/work/venv/bin/python bash training/mid.sh                      # -> runs/mp6-f0/bundle
#   PYTHON=/work/venv/bin/python HOLDOUT=1 bash training/mid.sh            # a second fold
#   PYTHON=/work/venv/bin/python BUNDLE=../models/stance-mid bash training/mid.sh
#
# 1. the 12-layer first epoch (mpnet_teacher.sh, shared with base.sh; skipped when
#    runs/$FIRST/best/ exists): 70 min to 3 h on two cores, resumable;
# 2. the 6-layer model (skipped when runs/$NAME/best/ exists): train.py --layers "$LAYERS" --init-from the
#    first epoch's checkpoint (its embeddings, bottom six layers and head), the same recipe and data
#    for one epoch, 35-50 min; it resumes too;
# 3. export.py --quant per_row with stance-mini's settings (SmoothQuant 0.5, 8-bit weights, the
#    position table fp32), calibrate.py, write_bundle.py;
# 4. the held-out fold scored through the bundle (folds.py, evaluate.py) and recorded in the
#    model card. It reports; nothing is chosen on it.
#
# Env: PYTHON, HOLDOUT (default 0), FIRST (default mpnet-f$HOLDOUT), LAYERS (default 6: how many of
# the first epoch's bottom layers the student keeps), FFN (default 0: all 3,072 feed-forward units of
# each layer; N keeps the N that carry most, train.py --ffn), NAME (default mp$LAYERS-f$HOLDOUT, or
# mp${LAYERS}x$FFN-f$HOLDOUT with FFN), BUNDLE, DATA_DIR, THREADS.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
HOLDOUT=${HOLDOUT:-0}
FIRST=${FIRST:-mpnet-f$HOLDOUT}
LAYERS=${LAYERS:-6}
FFN=${FFN:-0}
if [ "$FFN" = 0 ]; then NAME=${NAME:-mp$LAYERS-f$HOLDOUT}; else NAME=${NAME:-mp${LAYERS}x$FFN-f$HOLDOUT}; fi
DATA_DIR=${DATA_DIR:-../../shared/data}
THREADS=${THREADS:-2}
RUN=runs/$NAME
BUNDLE=${BUNDLE:-$RUN/bundle}
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1

PYTHON=$PYTHON NAME=$FIRST HOLDOUT=$HOLDOUT DATA_DIR=$DATA_DIR THREADS=$THREADS bash mpnet_teacher.sh
if [ ! -f "$RUN/best/model.safetensors" ]; then
  mkdir -p "$RUN"
  cp "runs/$FIRST/tokenizer.json" "$RUN/tokenizer.json"
  "$PYTHON" train.py --name "$NAME" --tokenizer "$RUN/tokenizer.json" --data-dir "$DATA_DIR" --threads "$THREADS" \
    --lr 4e-5 --epochs 1 --natural-copies 1 --holdout-fold "$HOLDOUT" --layers "$LAYERS" --ffn "$FFN" \
    --init-from "runs/$FIRST/best" --checkpoint-every 100 --resume
fi
"$PYTHON" export.py --run "$RUN" --tokenizer "$RUN/tokenizer.json" --data-dir "$DATA_DIR" --threads "$THREADS" \
  --quant per_row --weight-bits 8 --smooth 0.5 --fp32-tables-under 1024
PYTHON=$PYTHON RUN=$RUN BUNDLE=$BUNDLE HOLDOUT=$HOLDOUT DATA_DIR=$DATA_DIR THREADS=$THREADS \
  COMMAND="HOLDOUT=$HOLDOUT BUNDLE=$BUNDLE bash training/mid.sh" bash finish_bundle.sh --name stance-mid
