#!/usr/bin/env bash
# An all-mpnet-base-v2 teacher trained with the op-ed natural data, distilled into stance-mini.
#
#   PYTHON=/work/venv/bin/python HOLDOUT=0 bash training/mpnet_natural.sh
#
# 1. the teacher (mpnet_teacher.sh, runs/$TEACHER; skipped when runs/$TEACHER/best/ exists):
#    all-mpnet-base-v2 fine-tuned for one epoch on NewsMTSC train, op-ed train x2 and op-ed
#    natural minus fold $HOLDOUT, 1-3 hours on two cores; running the script again resumes it.
#    The held-out fold is scored after it, never used to choose;
# 2. its logits on the same training pairs, natural ones included (teacher_logits.py
#    --natural-holdout-fold $HOLDOUT; skipped when runs/$TEACHER/soft_labels.jsonl exists):
#    unlike the previous stance-mini, this teacher has seen the natural distribution, so the
#    natural pairs get its soft labels too;
# 3. run.sh for the MiniLM student (runs/$NAME): kd alpha 0.8, T = 2, as before; the natural
#    pairs come from the soft labels (--natural-copies 0), fold $HOLDOUT held out and scored
#    each epoch; the last epoch kept.
#
# Env: PYTHON, NAME (student, default mpnet-kd-f$HOLDOUT), TEACHER (default mpnet-f$HOLDOUT),
# HOLDOUT (default 0; -1 trains on every fold), BUNDLE, DATA_DIR, THREADS.
# Extra arguments go to the student's train.py.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
HOLDOUT=${HOLDOUT:-0}
NAME=${NAME:-mpnet-kd-f$HOLDOUT}
TEACHER=${TEACHER:-mpnet-f$HOLDOUT}
DATA_DIR=${DATA_DIR:-../../shared/data}
THREADS=${THREADS:-2}
export BUNDLE=${BUNDLE:-runs/$NAME/bundle}
export COMMAND="${COMMAND:-HOLDOUT=$HOLDOUT bash training/mpnet_natural.sh}"
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1

teacher=runs/$TEACHER
PYTHON=$PYTHON NAME=$TEACHER HOLDOUT=$HOLDOUT DATA_DIR=$DATA_DIR THREADS=$THREADS bash mpnet_teacher.sh
if [ ! -f "$teacher/soft_labels.jsonl" ]; then
  "$PYTHON" teacher_logits.py --run "$teacher" --natural-holdout-fold "$HOLDOUT" --data-dir "$DATA_DIR" \
    --threads "$THREADS"
fi

NAME=$NAME PYTHON=$PYTHON DATA_DIR=$DATA_DIR THREADS=$THREADS bash run.sh \
  --distill "$teacher/soft_labels.jsonl" --kd-alpha 0.8 --natural-copies 0 --holdout-fold "$HOLDOUT" \
  --keep last "$@"
