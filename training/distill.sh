#!/usr/bin/env bash
# Teacher -> soft labels -> distilled student bundle.
#
#   PYTHON=/work/venv/bin/python bash training/distill.sh
#
# 1. fetch all-mpnet-base-v2 (fetch_teacher.sh) and fine-tune it as the teacher
#    (runs/$TEACHER; skipped when runs/$TEACHER/best/ exists);
# 2. list every (sentence, actor) pair the library's mention detector finds in the
#    sentences of the data files (`stance mentions`, all built-in actors; dev
#    sentences included, never their labels) -> runs/unlabelled/; the student
#    leaves the dev sentences' pairs out unless INCLUDE_DEV_SENTENCES=1 (see below);
# 3. the teacher's logits on the labelled training pairs and those unlabelled pairs
#    (skipped when runs/$TEACHER/soft_labels.jsonl exists);
#    the teacher is the mpnet run, the runs in $ENSEMBLE_WITH (default main: the
#    shipped student's plain fine-tune, made by run.sh if missing) or their
#    ensemble, whichever has the best mean dev macro-F1;
# 4. with SWAP_ACTORS=1: the op-ed training sentences with one target country's
#    mentions swapped for another country's (swap_actors.py), and the teacher's
#    logits on them (a second soft-label file; measured, not better: EXPERIMENTS.md);
# 5. run.sh for the student (runs/$NAME) with --distill: train, export, int8,
#    calibrate, bundle to $BUNDLE, evaluate.
#
# Env: PYTHON, NAME (student run, default distill), TEACHER (default teacher),
# TEACHER_ARGS (train.py flags for the teacher), BUNDLE (default runs/$NAME/bundle;
# BUNDLE=../models/stance-mini replaces the shipped model: do it only when it is better on dev),
# DATA_DIR, THREADS, ENSEMBLE_WITH (run names; empty: the mpnet teacher alone), SWAP_ACTORS.
# Extra arguments go to the student's train.py.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
NAME=${NAME:-distill}
TEACHER=${TEACHER:-teacher}
TEACHER_ARGS=${TEACHER_ARGS:---lr 4e-5 --epochs 1}
ENSEMBLE_WITH=${ENSEMBLE_WITH-main}
DATA_DIR=${DATA_DIR:-../../shared/data}
THREADS=${THREADS:-2}
export BUNDLE=${BUNDLE:-runs/$NAME/bundle}
export COMMAND="${COMMAND:-bash training/distill.sh}"
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=PASSIVE TOKENIZERS_PARALLELISM=false

start=$(date +%s)
stamp() { echo "== $(date +%H:%M:%S) (+$(( ($(date +%s) - start) / 60 )) min) $*"; }

if [ ! -f "runs/$TEACHER/best/model.safetensors" ]; then
  stamp "teacher: fetch all-mpnet-base-v2, fine-tune runs/$TEACHER"
  PYTHON=$PYTHON bash fetch_teacher.sh
  "$PYTHON" make_tokenizer.py "runs/$TEACHER/tokenizer.json" --backbone mpnet
  # shellcheck disable=SC2086  # TEACHER_ARGS is a list of flags
  "$PYTHON" train.py --name "$TEACHER" --tokenizer "runs/$TEACHER/tokenizer.json" \
    --data-dir "$DATA_DIR" --threads "$THREADS" $TEACHER_ARGS
fi

stamp "unlabelled pairs: stance mentions"
cargo build --release --quiet --bin stance
mkdir -p runs/unlabelled
for split in newsmtsc/train newsmtsc/dev_rw newsmtsc/dev_mt opeds/train opeds/dev; do
  ../target/release/stance mentions --field sentence_normalized --no-split \
    --actors us,china,india,pakistan,russia "$DATA_DIR/$split.jsonl" > "runs/unlabelled/${split//\//_}.jsonl"
done

teacher_runs=("runs/$TEACHER")
for run in $ENSEMBLE_WITH; do
  if [ ! -f "runs/$run/best/model.safetensors" ]; then
    stamp "plain fine-tune runs/$run (run.sh)"
    NAME=$run PYTHON=$PYTHON DATA_DIR=$DATA_DIR THREADS=$THREADS BUNDLE=runs/$run/bundle COMMAND= bash run.sh
  fi
  teacher_runs+=("runs/$run")
done

# A quarter hour on two cores: made once, then reused by every student (soup.sh trains several).
if [ ! -f "runs/$TEACHER/soft_labels.jsonl" ]; then
  stamp "teacher logits (${teacher_runs[*]})"
  "$PYTHON" teacher_logits.py --run "${teacher_runs[@]}" --data-dir "$DATA_DIR" --threads "$THREADS" \
    --unlabelled runs/unlabelled/*.jsonl
else
  stamp "teacher logits: reusing runs/$TEACHER/soft_labels.jsonl (delete it to recompute)"
fi

soft=("runs/$TEACHER/soft_labels.jsonl")
if [ "${SWAP_ACTORS:-0}" = 1 ]; then
  stamp "op-ed training sentences with swapped countries, teacher logits"
  "$PYTHON" swap_actors.py "$DATA_DIR/opeds/train.jsonl" --out runs/unlabelled/opeds_train_swapped.jsonl
  "$PYTHON" teacher_logits.py --run "${teacher_runs[@]}" --data-dir "$DATA_DIR" --threads "$THREADS" \
    --unlabelled runs/unlabelled/opeds_train_swapped.jsonl --no-labelled \
    --out "runs/$TEACHER/soft_labels.swapped.jsonl"
  soft+=("runs/$TEACHER/soft_labels.swapped.jsonl")
fi

# The dev sentences' pairs carry the teacher's predictions on (mostly) the very dev
# pairs the student is measured on; by default they stay out of the student's
# training so that dev F1 means what it says. INCLUDE_DEV_SENTENCES=1 keeps them.
exclude=()
if [ "${INCLUDE_DEV_SENTENCES:-0}" != 1 ]; then
  exclude=(--distill-exclude "$DATA_DIR/newsmtsc/dev_rw.jsonl" "$DATA_DIR/newsmtsc/dev_mt.jsonl" "$DATA_DIR/opeds/dev.jsonl")
fi
stamp "student runs/$NAME"
NAME=$NAME PYTHON=$PYTHON DATA_DIR=$DATA_DIR THREADS=$THREADS bash run.sh \
  --distill "${soft[@]}" "${exclude[@]}" "$@"
stamp "done: bundle in $BUNDLE"
