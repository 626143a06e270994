#!/usr/bin/env bash
# The steps after export.py that base.sh and mid.sh share: calibrate.py, write_bundle.py into the
# run's own bundle, the held-out fold scored through that bundle (it reports; nothing is chosen on
# it), and, when BUNDLE is elsewhere (models/<name>), the bundle written there with that result and
# the end-to-end command in its model card.
#
# Env (set by the calling script): PYTHON, RUN, BUNDLE, HOLDOUT, DATA_DIR, THREADS, COMMAND.
# Arguments: more write_bundle.py options (e.g. --name stance-mid).
set -euo pipefail
cd "$(dirname "$0")"
"$PYTHON" calibrate.py --run "$RUN"
"$PYTHON" write_bundle.py --run "$RUN" --out "$RUN/bundle" --tokenizer "$RUN/tokenizer.json" "$@"
if [ "$HOLDOUT" -ge 0 ]; then
  "$PYTHON" folds.py --data-dir "$DATA_DIR" --out runs/folds
  "$PYTHON" evaluate.py --bundle "$RUN/bundle" "runs/folds/natural_f$HOLDOUT.jsonl" --threads "$THREADS" \
    --out "$RUN/heldout_eval.json"
  held_out=(--held-out "$RUN/heldout_eval.json")
else
  held_out=()
fi
if [ "$BUNDLE" != "$RUN/bundle" ]; then
  "$PYTHON" write_bundle.py --run "$RUN" --out "$BUNDLE" --tokenizer "$RUN/tokenizer.json" "$@" \
    "${held_out[@]}" --command "$COMMAND"
fi
