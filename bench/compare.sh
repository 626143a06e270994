#!/usr/bin/env bash
# Side by side, on one machine, corpus and int8 ONNX model:
#   (a) our pipeline (stance-bench, end to end: segmentation, mentions, encoding, batching, inference, aggregation);
#   (b) a typical Python loop (onnxruntime + HF tokenizers, batches of 32 in input order);
#   (c) Hugging Face transformers PyTorch fp32 on the same fine-tuned weights, batches of 32;
#   (d) the ceiling: ONNX Runtime alone on pre-tokenized, length-sorted batches.
# All four score the same (sentence, actor) pairs: the ones our mention detector finds.
#
#   bench/compare.sh [CORPUS.jsonl]          (default: benches/data/fixture.jsonl)
#
# Environment: PYTHON (with training/requirements.txt installed; default training/.venv/bin/python),
# STANCE_CHECKPOINT (the fine-tuned PyTorch weights directory for (c), made by training/distill.sh;
# (c) is skipped with a note if absent), MODEL (bundle dir, default models/stance-mini),
# THREADS (default: all cores), TORCH_LIMIT (pairs for (c), default 1000: it is slow).
# The last line is one JSON object with the ratios (ours / theirs).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-benches/data/fixture.jsonl}
model=${MODEL:-models/stance-mini}
threads=${THREADS:-$(nproc)}
python=${PYTHON:-training/.venv/bin/python}
checkpoint=${STANCE_CHECKPOINT:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin stance-bench
bench=target/release/stance-bench
$bench "$corpus" --model "$model" --threads "$threads" --dump-pairs "$work/pairs.jsonl"

echo "(a) ours: stance-bench end to end" >&2
$bench "$corpus" --model "$model" --threads "$threads" --repeat 3 | tee "$work/ours.json"
echo "(b) python loop: onnxruntime + tokenizers, batches of 32" >&2
$python bench/python_baselines.py loop --pairs "$work/pairs.jsonl" --model "$model" --threads "$threads" | tee "$work/loop.json"
echo "(d) ceiling: onnxruntime alone, pre-tokenized, length-sorted" >&2
$python bench/python_baselines.py ceiling --pairs "$work/pairs.jsonl" --model "$model" --threads "$threads" | tee "$work/ceiling.json"
if [ -n "$checkpoint" ] && [ -f "$checkpoint/model.safetensors" ]; then
  echo "(c) torch fp32, batches of 32 (first ${TORCH_LIMIT:-1000} pairs)" >&2
  $python bench/python_baselines.py torch --pairs "$work/pairs.jsonl" --model "$model" --threads "$threads" \
    --checkpoint "$checkpoint" --limit "${TORCH_LIMIT:-1000}" | tee "$work/torch.json"
else
  echo "(c) skipped: set STANCE_CHECKPOINT to the fine-tuned weights (training/runs/<run>/best)" >&2
  echo '{"pairs_per_s": null}' > "$work/torch.json"
fi

python3 - "$work" <<'EOF'
import json, sys
from pathlib import Path
w = Path(sys.argv[1])
get = lambda name: json.loads((w / f"{name}.json").read_text().strip().splitlines()[-1])["pairs_per_s"]
ours, loop, ceiling, torch = get("ours"), get("loop"), get("ceiling"), get("torch")
ratio = lambda theirs: round(ours / theirs, 3) if theirs else None
print(json.dumps({"ours_pairs_per_s": round(ours, 1), "python_ort_pairs_per_s": round(loop, 1),
                  "torch_pairs_per_s": round(torch, 1) if torch else None, "ceiling_pairs_per_s": round(ceiling, 1),
                  "vs_python_ort": ratio(loop), "vs_torch": ratio(torch), "vs_ceiling": ratio(ceiling)}))
EOF
