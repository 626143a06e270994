#!/usr/bin/env bash
# The shipped model: a model soup (soup.py) of distilled students.
#
#   PYTHON=/work/venv/bin/python BUNDLE=../models/stance-mini bash training/soup.sh
#
# 1. every ingredient below: distill.sh with its student flags into runs/<ingredient>
#    (the teacher, the unlabelled pairs and the soft labels are made by the first
#    one and reused); skipped when runs/<ingredient>/best/ already holds a checkpoint;
# 2. run.sh with SOUP set: the uniform average of the ingredients' kept checkpoints,
#    then export, int8, calibration, bundle and evaluation as for any run.
#
# Env: PYTHON, NAME (default soup: runs/$NAME), BUNDLE (default runs/$NAME/bundle;
# BUNDLE=../models/stance-mini replaces the shipped model: do it only when it is
# better on dev), DATA_DIR, THREADS.
set -euo pipefail
cd "$(dirname "$0")"
NAME=${NAME:-soup}
export PYTHON=${PYTHON:-python3} DATA_DIR=${DATA_DIR:-../../shared/data} THREADS=${THREADS:-2}

# One line per ingredient: its run name, then the student's train.py flags. Chosen by
# `soup.py --greedy` over the seed-43 students, in its order (EXPERIMENTS.md, "Model soups").
INGREDIENTS=(
  "distill-a09-s43 --kd-alpha 0.9 --seed 43"
  "distill-a08-s43 --kd-alpha 0.8 --seed 43"
  "distill-a08-os3-s43 --kd-alpha 0.8 --opeds-oversample 3 --seed 43"
)

runs=()
for ingredient in "${INGREDIENTS[@]}"; do
  read -r run flags <<< "$ingredient"
  if [ ! -f "runs/$run/best/model.safetensors" ]; then
    # shellcheck disable=SC2086  # flags is a list of train.py flags
    NAME=$run BUNDLE=runs/$run/bundle COMMAND="NAME=$run bash training/distill.sh $flags" bash distill.sh $flags
  fi
  runs+=("runs/$run")
done

NAME=$NAME SOUP="${runs[*]}" BUNDLE=${BUNDLE:-runs/$NAME/bundle} COMMAND="bash training/soup.sh" bash run.sh
