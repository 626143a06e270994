#!/usr/bin/env bash
# PySpark in local mode, for real: installs the Python package, PySpark, pandas
# and pyarrow in a virtual environment, generates a corpus, scores it with
# scripts/spark-score.py (mapInPandas, one analyzer per worker process,
# per-actor aggregation in Spark) and checks the result against `stance score`
# on the same documents. Needs Java 17+ (PySpark 4) and Rust.
#
#   scripts/spark-score.sh              # 1 MB of generated documents (~1,400)
#   SIZE_MB=5 CORES=2 scripts/spark-score.sh
#   DOCS=my.jsonl scripts/spark-score.sh   # your own JSON Lines (`id`, `text`)
#
# VENV (default target/engines-venv) and STANCE_BIN (default: a release build of
# the CLI) can be given.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-target/engines-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet ./python "pyspark>=4,<5" "pandas<3" pyarrow
if [ -z "${STANCE_BIN:-}" ]; then
    cargo build --release --quiet --bin stance
    STANCE_BIN=target/release/stance
fi
docs="${DOCS:-}"
if [ -z "$docs" ]; then
    docs="$(mktemp -d)/corpus.jsonl"
    python3 scripts/gen-corpus.py --size-mb "${SIZE_MB:-1}" --out "$docs"
fi
"$venv/bin/python" scripts/spark-score.py --docs "$docs" --stance-bin "$STANCE_BIN" --cores "${CORES:-2}"
