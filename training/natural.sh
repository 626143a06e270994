#!/usr/bin/env bash
# The shipped stance-mini: the previous stance-mini as teacher, plus the op-ed natural data.
#
#   PYTHON=/work/venv/bin/python bash training/natural.sh                  # all folds -> runs/natural/bundle
#   PYTHON=/work/venv/bin/python HOLDOUT=0 NAME=natural-f0 bash training/natural.sh   # fold 0 held out
#
# 1. the teacher: models/stance-mini as of git commit $TEACHER_COMMIT (the distilled soup,
#    training/soup.sh), taken from git into runs/$TEACHER (its origin in origin.json);
# 2. its logits on the labelled training pairs (NewsMTSC train, op-ed train), like
#    teacher_logits.py does for a PyTorch teacher (runs/$TEACHER/soft_labels.jsonl);
# 3. run.sh for the student: --distill on those soft labels (kd alpha 0.8, as the teacher
#    was trained) and opeds/natural.jsonl with gold cross-entropy only (the teacher over-reads
#    polarity on that distribution); HOLDOUT=I keeps fold I of natural.jsonl out (one fold
#    of the article-grouped cross-validation, scored each epoch as natural_fI);
# 4. with HOLDOUT=I and a release build of the CLI (cargo build --release): the held-out fold
#    through the library at each document-context weight (runs/$NAME/context.json).
#
# With FEATURE_TEACHER (a bundle dir, or a run dir with a best/ checkpoint, that held out the same
# fold), the student is also pulled toward that teacher's pooled vectors (teacher_features.py,
# train.py --feature-distill, weight FEATURE_WEIGHT, default 1); the features are computed once
# into FEATURES (default runs/$NAME/teacher_features.npz).
#
# Env: PYTHON, NAME (default natural), TEACHER (default prev-mini), TEACHER_COMMIT,
# HOLDOUT (default -1: train on every fold), BUNDLE, QUANT, DATA_DIR, THREADS, FEATURE_TEACHER,
# FEATURE_WEIGHT, FEATURES.
# Extra arguments go to train.py (after the defaults below, so they override them).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
NAME=${NAME:-natural}
TEACHER=${TEACHER:-prev-mini}
TEACHER_COMMIT=${TEACHER_COMMIT:-0680e5c}
HOLDOUT=${HOLDOUT:--1}
DATA_DIR=${DATA_DIR:-../../shared/data}
THREADS=${THREADS:-2}
export BUNDLE=${BUNDLE:-runs/$NAME/bundle}
export COMMAND="${COMMAND:-bash training/natural.sh}"
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1

teacher=runs/$TEACHER
if [ ! -f "$teacher/soft_labels.jsonl" ]; then
  mkdir -p "$teacher"
  for f in model.onnx tokenizer.json config.json; do
    git show "$TEACHER_COMMIT:models/stance-mini/$f" > "$teacher/$f"
  done
  printf '{"path": "models/stance-mini", "commit": "%s"}\n' "$(git rev-parse "$TEACHER_COMMIT")" > "$teacher/origin.json"
  "$PYTHON" teacher_logits.py --bundle "$teacher" --out "$teacher/soft_labels.jsonl" \
    --data-dir "$DATA_DIR" --threads "$THREADS"
fi

features=()
if [ -n "${FEATURE_TEACHER:-}" ]; then
  FEATURES=${FEATURES:-runs/$NAME/teacher_features.npz}
  if [ ! -f "$FEATURES" ]; then
    mkdir -p "$(dirname "$FEATURES")"
    kind=--run
    [ -f "$FEATURE_TEACHER/model.onnx" ] && kind=--bundle
    "$PYTHON" teacher_features.py "$kind" "$FEATURE_TEACHER" --soft-labels "$teacher/soft_labels.jsonl" \
      --natural-holdout-fold "$HOLDOUT" --data-dir "$DATA_DIR" --threads "$THREADS" --out "$FEATURES"
  fi
  features=(--feature-distill "$FEATURES" --feature-weight "${FEATURE_WEIGHT:-1}")
fi

NAME=$NAME PYTHON=$PYTHON DATA_DIR=$DATA_DIR THREADS=$THREADS bash run.sh \
  --distill "$teacher/soft_labels.jsonl" --kd-alpha 0.8 --natural-copies 1 --holdout-fold "$HOLDOUT" \
  "${features[@]}" "$@"

# The held-out fold as the library reads it, alone and in context at each weight
# (choose_context.py over the fold's two halves), when a release build of the CLI is there.
# A shipped bundle's weight is chosen over all folds' runs together (training/README.md).
stance=../target/release/stance
if [ "$HOLDOUT" -ge 0 ] && [ -x "$stance" ]; then
  [ -f "runs/folds/natural_f$HOLDOUT.jsonl" ] || "$PYTHON" folds.py --data-dir "$DATA_DIR" --out runs/folds
  "$PYTHON" choose_context.py --stance "$stance" --threads "$THREADS" \
    --fold "$BUNDLE:runs/folds/natural_f$HOLDOUT.jsonl" --out "runs/$NAME/context.json"
fi
