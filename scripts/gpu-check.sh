#!/usr/bin/env bash
# GPU check: CUDA end to end on a CUDA machine, against the same binary on that machine's CPU cores.
#
#   scripts/gpu-check.sh             on the CUDA machine (after the steps below)
#   scripts/gpu-check.sh --dry-run   anywhere: same steps, no staged ONNX Runtime; the cuda:0 steps fail
#                                    and are reported as errors, the CPU steps produce their JSON lines
#   scripts/gpu-check.sh models SRC DST [fp32,fp16]   only make the GPU model variants (see below)
#
# It compiles nothing: scripts/gpu-prepare.sh builds, on the build machine, the release
# `stance-bench` and the GPU test binary (tests/gpu.rs) with `--features cuda`, without the
# embedded model (both load models/stance-mini, which travels with the checkout), strips them
# and packs them into .gpu-check/stance-gpu-bin.tar.gz. ONNX Runtime's CUDA build comes from
# ../shared/gpu/stage-ort-cuda.sh, reassembled in /tmp/ort by `source /tmp/ort/env.sh`.
#
# Getting it there (a call carries at most 64 MiB: tracked files, untracked files git does
# not ignore, and the folders named): run ../shared/gpu/stage-ort-cuda.sh and then
# scripts/gpu-prepare.sh here; gpu-prepare.sh prints the exact list of calls. In short:
#   1. one call per ONNX Runtime part, back to back (the machine is handed back after ~30 s idle):
#        copy .gpu/p0 to the machine, run: mkdir -p /tmp/ort && cp .gpu/p0/* /tmp/ort/
#        copy .gpu/p1 to the machine, run: cp .gpu/p1/* /tmp/ort/          ... up to the last part
#   2. copy .gpu-check (and the last part, when both fit) to the machine, run:
#        mkdir -p /tmp/ort && cp .gpu/pN/* /tmp/ort/ && bash scripts/gpu-check.sh
#
# Steps, each under `timeout`, all within GPU_CHECK_BUDGET_S (default 420 s):
#   1. the ignored GPU tests (tests/gpu.rs, `--ignored`);
#   2. GPU model variants from models/stance-mini, with the machine's python3 (onnx, numpy,
#      onnxruntime's transformer tools): fp32 = the int8 graph with every MatMulNBits or per-row
#      MatMulIntegerToFloat turned into a MatMul on the dequantized weights (plain operators);
#      fp16 = that graph after ONNX Runtime's BERT fusions (Attention, SkipLayerNormalization,
#      BiasGelu), converted to fp16 with fp32 inputs and outputs. Skipped without python3 + onnx;
#   3. stance-bench on benches/data/fixture.jsonl: CPU (int8, all cores, `--scores-out`), then
#      cuda:0 with the GPU defaults for int8, fp32 and fp16, each `--compare-with` the CPU scores;
#   4. a larger corpus, the fixture repeated GPU_CHECK_LARGE_REPEAT times (default 100: 30,000
#      documents, ~322,000 pairs) with ids made unique: CPU on its first documents (sized from
#      the fixture rate to GPU_CHECK_TARGET_S seconds a pass), cuda:0 per model on up to all of
#      it, compared with the CPU scores on the documents both scored; GPU utilisation sampled;
#   5. if time is left: the fastest GPU variant with 2 sessions, with bigger chunks, with bigger
#      batches, and on a scripts/gen-corpus.py corpus (GPU_CHECK_GEN_MB, default 20; 0 skips).
# Scores must agree with the CPU's within 1e-2 (GPU_CHECK_TOLERANCE; 1e-1 for the fp32/fp16 variants,
# GPU_CHECK_VARIANT_TOLERANCE, which skip the shipped graph's activation rounding). The bar: end-to-end
# pairs/s on cuda:0 >= 20x the same binary on the machine's CPU cores (the large corpus).
#
# Settings (environment): GPU_CHECK_BUDGET_S (420), GPU_CHECK_TARGET_S (8), GPU_CHECK_REPEAT (3 timed
# fixture passes), GPU_CHECK_TOLERANCE (1e-2), GPU_CHECK_DEVICE (cuda:0), GPU_CHECK_MODELS (fp32,fp16; empty:
# int8 only), GPU_CHECK_LARGE_REPEAT (100), GPU_CHECK_GEN_MB (20), GPU_CHECK_MIN_DOCS (300), GPU_CHECK_WORK
# (/tmp/stance-gpu-check: binaries, variants, corpora, scores; reused by a second run), GPU_CHECK_BIN (use
# these binaries instead of .gpu-check's), PYTHON (python3), GPU_CHECK_DRY_RUN=1 (same as --dry-run).
# A dry run also checks each variant on the CPU (first 60 fixture documents); GPU_CHECK_DEVICE=cpu runs
# every step, the GPU ones on the CPU, to try the whole script on a machine without a GPU.
#
# Output, under $OUT (default ./gpu-out): results.jsonl (stance-bench's JSON lines, tagged,
# plus one line per test run, error or skipped step), summary.txt, env.txt, log.txt.
# Exit status: 0 when every step ran and agreed, 1 otherwise (the summary says which).
set -uo pipefail

# --- the model variants (`scripts/gpu-check.sh models ...` runs only this) ---
make_models() {
  local src=$1 dst=$2 wanted=${3:-fp32,fp16}
  mkdir -p "$dst"
  "${PYTHON:-python3}" - "$src" "$dst" "$wanted" <<'PY'
import json, os, shutil, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper

src, dst, wanted = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
m = onnx.load(os.path.join(src, "model.onnx"))
g = m.graph
inits = {i.name: i for i in g.initializer}
arr = lambda name: numpy_helper.to_array(inits[name])
nodes, drop = [], set()
# A per-row int8 graph (export.py --quant per_row): each MatMulIntegerToFloat reads rows quantized
# by a QuantizeLinear; its fp32 twin multiplies those rows before quantization by the dequantized
# weight (int8 x column scale). The quantization chain is then unused and pruned below.
quantized_from = {n.output[0]: n.input[0] for n in g.node if n.op_type == "QuantizeLinear"}
for n in g.node:
    if n.op_type == "MatMulIntegerToFloat" and n.domain == "com.microsoft":
        wname = n.input[1] + "_fp32"
        if wname not in inits:
            w = arr(n.input[1]).astype(np.float32) * arr(n.input[3]).astype(np.float32)[None, :]
            inits[wname] = numpy_helper.from_array(w, wname)
            g.initializer.append(inits[wname])
        nodes.append(helper.make_node("MatMul", [quantized_from[n.input[0]], wname], [n.output[0]],
                                      name=n.name + "_fp32"))
        drop.update(x for x in n.input[1:] if x)
        continue
    if not (n.op_type == "MatMulNBits" and n.domain == "com.microsoft"):
        nodes.append(n)
        continue
    a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
    K, N, bits, bs = a["K"], a["N"], a["bits"], a["block_size"]
    if bits != 8:
        sys.exit(f"{n.name}: {bits}-bit weights: only 8-bit MatMulNBits is handled")
    q = arr(n.input[1]).astype(np.float32)  # [N, blocks, block_size]
    blocks = q.shape[1]
    scales = arr(n.input[2]).astype(np.float32).reshape(N, blocks)
    if len(n.input) > 3 and n.input[3]:
        zp = arr(n.input[3]).astype(np.float32).reshape(N, -1)[:, :blocks]
    else:
        zp = np.full((N, blocks), 128.0, np.float32)  # 2^(bits-1), MatMulNBits' default
    w = ((q - zp[:, :, None]) * scales[:, :, None]).reshape(N, blocks * bs)[:, :K]
    wname = n.input[1] + "_fp32"
    g.initializer.append(numpy_helper.from_array(np.ascontiguousarray(w.T), wname))
    out = n.output[0]
    if len(n.input) > 5 and n.input[5]:  # bias
        nodes.append(helper.make_node("MatMul", [n.input[0], wname], [out + "_nobias"], name=n.name + "_fp32"))
        nodes.append(helper.make_node("Add", [out + "_nobias", n.input[5]], [out], name=n.name + "_bias"))
    else:
        nodes.append(helper.make_node("MatMul", [n.input[0], wname], [out], name=n.name + "_fp32"))
    drop.update(x for x in n.input[1:] if x)
needed = {o.name for o in g.output}
live = []
for n in reversed(nodes):  # nodes are in topological order: keep those whose outputs are read
    if any(o in needed for o in n.output):
        live.append(n)
        needed.update(i for i in n.input if i)
nodes = live[::-1]
del g.node[:]
g.node.extend(nodes)
drop |= {i.name for i in g.initializer if i.name not in needed}
kept = [i for i in g.initializer if i.name not in drop]
del g.initializer[:]
g.initializer.extend(kept)
if not any(n.domain == "com.microsoft" for n in g.node):
    ops = [o for o in m.opset_import if o.domain != "com.microsoft"]
    del m.opset_import[:]
    m.opset_import.extend(ops)
onnx.checker.check_model(m)

def bundle(name, model, note):
    out = os.path.join(dst, f"stance-mini-{name}")
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(src, "tokenizer.json"), out)
    cfg = json.load(open(os.path.join(src, "config.json")))
    cfg["precision"] = name
    cfg["gpu_variant"] = note
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
    onnx.save(model, os.path.join(out, "model.onnx"))
    print(f"{out}: {os.path.getsize(os.path.join(out, 'model.onnx')) / 2**20:.1f} MiB, {note}")

if "fp32" in wanted:
    bundle("fp32", m, "int8 weights dequantized, MatMul in fp32")
if "fp16" in wanted:
    try:
        from onnxruntime.transformers import optimizer
        tmp = os.path.join(dst, "fp32-for-fusion.onnx")
        onnx.save(m, tmp)
        opt = optimizer.optimize_model(tmp, model_type="bert", num_heads=12, hidden_size=384, opt_level=0, use_gpu=True)
        os.remove(tmp)
        fused = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
        opt.convert_float_to_float16(keep_io_types=True)
        bundle("fp16", opt.model, f"BERT fusions {fused}, fp16 inside, fp32 inputs/outputs")
    except ImportError as e:  # no onnxruntime transformer tools: plain conversion
        from onnxconverter_common import float16
        bundle("fp16", float16.convert_float_to_float16(m, keep_io_types=True), f"plain fp16 ({e})")
PY
}

if [ "${1:-}" = models ]; then
  [ $# -ge 3 ] || { echo "usage: $0 models SRC_BUNDLE DST_DIR [fp32,fp16]" >&2; exit 2; }
  make_models "$2" "$3" "${4:-fp32,fp16}"
  exit
fi

dry=${GPU_CHECK_DRY_RUN:-}
[ "${1:-}" = --dry-run ] && dry=1
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
results=$OUT/results.jsonl summary=$OUT/summary.txt envf=$OUT/env.txt
: > "$results"
exec > >(tee "$OUT/log.txt") 2>&1
work=${GPU_CHECK_WORK:-/tmp/stance-gpu-check}
mkdir -p "$work"
budget=${GPU_CHECK_BUDGET_S:-420}
target_s=${GPU_CHECK_TARGET_S:-8}
repeat=${GPU_CHECK_REPEAT:-3}
tolerance=${GPU_CHECK_TOLERANCE:-1e-2}
# The fp32/fp16 variants skip the shipped graph's activation rounding (per-row int8): on the CPU the fp32
# variant's scores differ from the int8 graph's by up to 0.05 (first 60 fixture documents, same labels).
variant_tolerance=${GPU_CHECK_VARIANT_TOLERANCE:-1e-1}
tol_for() { if [ "$1" = int8 ]; then echo "$tolerance"; else echo "$variant_tolerance"; fi; }
gpu=${GPU_CHECK_DEVICE:-cuda:0}
variants=${GPU_CHECK_MODELS:-fp32,fp16}
large_repeat=${GPU_CHECK_LARGE_REPEAT:-100}
gen_mb=${GPU_CHECK_GEN_MB:-20}
min_docs=${GPU_CHECK_MIN_DOCS:-300}
PYTHON=${PYTHON:-python3}
started=$(date +%s)
export RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0

say() { printf '[%4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
left() { echo $((budget - ($(date +%s) - started))); }
# JSON string of $1.
jstr() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/ }
  printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}
# Value of "key" in a flat-enough JSON line (first match).
jget() { printf '%s' "$1" | grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'; }
note() { # note TAG STATUS TEXT: one line in results.jsonl for a step without a stance-bench line
  echo "{\"tag\":$(jstr "$1"),\"status\":$(jstr "$2"),\"detail\":$(jstr "$3")}" >> "$results"
}
# step_time CAP: seconds for the next step, or nothing when under 20 s are left.
step_time() { local l; l=$(($(left) - 5)); [ "$l" -ge 20 ] || return 1; echo $(($1 < l ? $1 : l)); }

# --- environment ---
if [ -z "$dry" ] && [ -f /tmp/ort/env.sh ]; then
  # shellcheck disable=SC1091
  source /tmp/ort/env.sh
elif [ -z "$dry" ]; then
  say "WARNING: no /tmp/ort/env.sh: ONNX Runtime's CUDA build is not staged (../shared/gpu/stage-ort-cuda.sh); cuda steps will fail"
fi
bin=${GPU_CHECK_BIN:-}
if [ -z "$bin" ] && [ -f .gpu-check/stance-gpu-bin.tar.gz ]; then
  rm -rf "$work/bin" && mkdir -p "$work/bin" && tar -xzf .gpu-check/stance-gpu-bin.tar.gz -C "$work/bin" && bin=$work/bin
fi
if [ -z "$bin" ] || [ ! -x "$bin/stance-bench" ]; then
  echo "no binaries: run scripts/gpu-prepare.sh on the build machine and bring .gpu-check along (or set GPU_CHECK_BIN)" >&2
  exit 2
fi
model=models/stance-mini
[ -f "$model/model.onnx" ] || { echo "no $model/model.onnx in $(pwd)" >&2; exit 2; }
cores=$(nproc)
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm), $cores cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "dry run: ${dry:-no}"
  echo "ORT_DYLIB_PATH: ${ORT_DYLIB_PATH:-unset, the binary searches its defaults}"
  echo "binaries: $bin"
  cat "$bin/BUILD_INFO" 2>/dev/null
  (cd "$bin" && sha256sum stance-bench gpu-tests 2>/dev/null)
  echo "model: $(sha256sum "$model/model.onnx")"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
  else
    echo "nvidia-smi: not found"
  fi
} > "$envf" 2>&1
say "environment:"
cat "$envf"

# --- 1. the ignored GPU tests ---
if t=$(step_time 150); then
  say "GPU tests (tests/gpu.rs --ignored)"
  STANCE_TEST_MODEL_DIR=$model timeout -k 5 "$t" "$bin/gpu-tests" --ignored --test-threads=1 > "$work/tests.txt" 2>&1
  rc=$?
  cat "$work/tests.txt"
  verdict=$(grep -E '^test result:' "$work/tests.txt" | tail -n 1)
  cases=$(grep -E '^test .* [.][.][.] ' "$work/tests.txt" | tr '\n' ';')
  status=ok
  [ $rc -eq 0 ] || status="failed (exit $rc)"
  note gpu-tests "$status" "${verdict:-no test summary}; $cases"
else
  note gpu-tests skipped "time budget"
fi

# --- 2. model variants ---
declare -A bundle=([int8]=$model)
models=(int8)
if [ -n "$variants" ]; then
  if "$PYTHON" -c 'import onnx, numpy' 2>/dev/null; then
    have=1
    for v in ${variants//,/ }; do [ -f "$work/models/stance-mini-$v/model.onnx" ] || have=; done
    if [ -z "$have" ] && t=$(step_time 150); then
      say "making model variants $variants"
      timeout -k 5 "$t" bash "$0" models "$model" "$work/models" "$variants" ||
        note models "failed (exit $?)" "making $variants failed: see log.txt"
    fi
    for v in ${variants//,/ }; do
      if [ -f "$work/models/stance-mini-$v/model.onnx" ]; then
        bundle[$v]=$work/models/stance-mini-$v
        models+=("$v")
      fi
    done
  else
    note models skipped "$PYTHON cannot import onnx and numpy"
    say "no model variants: $PYTHON cannot import onnx and numpy"
  fi
fi

# --- stance-bench runner ---
# bench TAG CAP_S ARGS...: runs stance-bench, appends its JSON line (with rc and, on the GPU, the
# mean and peak utilisation sampled by nvidia-smi) to results.jsonl; echoes the line.
bench() {
  local tag=$1 cap=$2 t rc line util_pid='' util=''
  shift 2
  if ! t=$(step_time "$cap"); then
    note "$tag" skipped "time budget"
    return 1
  fi
  say "$tag: stance-bench $*" >&2
  if [[ " $* " == *" cuda"* ]] && command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 200 > "$work/$tag.util" 2>/dev/null &
    util_pid=$!
  fi
  timeout -k 5 "$t" "$bin/stance-bench" --tag "$tag" "$@" > "$work/$tag.json" 2> "$work/$tag.err"
  rc=$?
  if [ -n "$util_pid" ]; then
    kill "$util_pid" 2>/dev/null
    wait "$util_pid" 2>/dev/null
    util=$(awk -F', *' '$1 ~ /^[0-9]+$/ {n++; s += $1; if ($2 > m) m = $2} END {if (n) printf "\"gpu_util_mean\":%.1f,\"gpu_mem_max_mib\":%d,", s / n, m}' "$work/$tag.util")
  fi
  line=$(grep '^{' "$work/$tag.json" | tail -n 1)
  if [ -n "$line" ]; then
    line="{\"rc\":$rc,$util${line#\{}"
  else
    local why
    why=$(grep -m 1 -A 4 '^Error' "$work/$tag.err" || tail -n 5 "$work/$tag.err")
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${t}s; $why"
    line="{\"tag\":$(jstr "$tag"),\"rc\":$rc,\"args\":$(jstr "$*"),\"error\":$(jstr "$why")}"
  fi
  echo "$line" >> "$results"
  echo "$line" >&2
  [ $rc -eq 0 ] || say "FAILED $tag: $(grep -m 1 '^Error' "$work/$tag.err" || tail -n 1 "$work/$tag.err")" >&2
  echo "$line"
  return $rc
}
# num LINE KEY: a number from a JSON line, or 0.
num() { local v; v=$(jget "$1" "$2"); [[ $v =~ ^[0-9.eE+-]+$ ]] && echo "$v" || echo 0; }
calc() { awk "BEGIN { x = $1; printf \"%.0f\", x }"; }

fixture=benches/data/fixture.jsonl
threads=(--threads "$cores")

# --- 3. fixture: CPU, then cuda:0 per model ---
say "fixture: CPU ($cores cores) vs $gpu"
cpu_fix=$(bench cpu-fixture 180 "$fixture" --model "$model" --device cpu "${threads[@]}" --repeat "$repeat" \
  --scores-out "$work/cpu-fixture.scores")
cpu_rate=$(num "$cpu_fix" pairs_per_s)
ppd=$(awk -v p="$(num "$cpu_fix" pairs)" -v d="$(num "$cpu_fix" documents)" 'BEGIN { print (d > 0 ? p / d : 10.7) }')
declare -A gpu_fix_rate
for m in "${models[@]}"; do
  line=$(bench "cuda-fixture-$m" 120 "$fixture" --model "${bundle[$m]}" --device "$gpu" "${threads[@]}" --repeat "$repeat" \
    --compare-with "$work/cpu-fixture.scores" --tolerance "$(tol_for "$m")")
  gpu_fix_rate[$m]=$(num "$line" pairs_per_s)
done

if [ -n "$dry" ]; then
  # No GPU here: check that each variant loads and agrees with the int8 scores, on the CPU (first 60 documents).
  for m in "${models[@]:1}"; do
    bench "cpu-fixture-$m" 120 "$fixture" --model "${bundle[$m]}" --device cpu "${threads[@]}" --limit 60 \
      --compare-with "$work/cpu-fixture.scores" --tolerance "$(tol_for "$m")" > /dev/null
  done
fi

# --- 4. larger corpus ---
large=$work/large-x$large_repeat.jsonl
if [ ! -s "$large" ]; then
  awk -v n="$large_repeat" '{ l[NR] = $0 } END { for (r = 1; r <= n; r++) for (i = 1; i <= NR; i++) { s = l[i]; sub(/"id": *"/, "\"id\": \"r" r "-", s); print s } }' \
    "$fixture" > "$large"
fi
large_docs=$(wc -l < "$large")
# CPU on its first documents: about target_s seconds a pass at the fixture's rate.
cpu_docs=$(calc "$target_s * ($cpu_rate > 0 ? $cpu_rate : 50) / $ppd")
cpu_docs=$((cpu_docs < min_docs ? min_docs : cpu_docs > large_docs ? large_docs : cpu_docs))
say "larger corpus: $large_docs documents (fixture x $large_repeat); CPU on the first $cpu_docs"
cpu_large=$(bench cpu-large 240 "$large" --model "$model" --device cpu "${threads[@]}" --limit "$cpu_docs" \
  --scores-out "$work/cpu-large.scores")
cpu_large_rate=$(num "$cpu_large" pairs_per_s)
declare -A gpu_large_rate
for m in "${models[@]}"; do
  r=${gpu_fix_rate[$m]:-0}
  if [ "$(calc "$r > 0")" = 0 ]; then
    note "cuda-large-$m" skipped "the fixture run on $gpu failed"
    continue
  fi
  # GPU on up to the whole corpus: about target_s seconds a pass at 3x the fixture rate (bigger chunks run faster).
  docs=$(calc "$target_s * 3 * $r / $ppd")
  docs=$((docs < cpu_docs ? cpu_docs : docs > large_docs ? large_docs : docs))
  line=$(bench "cuda-large-$m" 180 "$large" --model "${bundle[$m]}" --device "$gpu" "${threads[@]}" --limit "$docs" \
    --compare-with "$work/cpu-large.scores" --tolerance "$(tol_for "$m")")
  gpu_large_rate[$m]=$(num "$line" pairs_per_s)
done

# --- 5. if time is left: settings of the fastest variant, and a generated corpus ---
best='' best_rate=0
for m in "${models[@]}"; do
  r=${gpu_large_rate[$m]:-0}
  ok=$(grep "\"tag\":\"cuda-large-$m\"" "$results" | grep -c '"ok":true')
  if [ "$ok" -gt 0 ] && [ "$(calc "$r > $best_rate")" = 1 ]; then best=$m best_rate=$r; fi
done
if [ -n "$best" ]; then
  docs=$(calc "$target_s * $best_rate / $ppd")
  docs=$((docs < cpu_docs ? cpu_docs : docs > large_docs ? large_docs : docs))
  common=("$large" --model "${bundle[$best]}" --device "$gpu" "${threads[@]}" --limit "$docs" --compare-with "$work/cpu-large.scores" --tolerance "$(tol_for "$best")")
  bench "cuda-large-$best-2sessions" 90 "${common[@]}" --sessions 2 > /dev/null
  bench "cuda-large-$best-chunk4096" 90 "${common[@]}" --chunk 4096 > /dev/null
  bench "cuda-large-$best-budget65536" 90 "${common[@]}" --token-budget 65536 --max-rows 2048 > /dev/null
  if [ "$gen_mb" != 0 ] && "$PYTHON" -c '' 2>/dev/null; then
    gen=$work/gen-$gen_mb.jsonl
    [ -s "$gen" ] || timeout 60 "$PYTHON" scripts/gen-corpus.py --size-mb "$gen_mb" --out "$gen" > /dev/null
    if [ -s "$gen" ]; then
      gen_docs=$(wc -l < "$gen")
      line=$(bench cpu-gen 120 "$gen" --model "$model" --device cpu "${threads[@]}" --limit "$cpu_docs" \
        --scores-out "$work/cpu-gen.scores")
      gen_ppd=$(awk -v p="$(num "$line" pairs)" -v d="$(num "$line" documents)" 'BEGIN { print (d > 0 && p > 0 ? p / d : 0) }')
      if [ "$(calc "$gen_ppd > 0")" = 1 ]; then
        docs=$(calc "$target_s * $best_rate / $gen_ppd")
        docs=$((docs < cpu_docs ? cpu_docs : docs > gen_docs ? gen_docs : docs))
        bench "cuda-gen-$best" 150 "$gen" --model "${bundle[$best]}" --device "$gpu" "${threads[@]}" --limit "$docs" \
          --compare-with "$work/cpu-gen.scores" --tolerance "$(tol_for "$best")" > /dev/null
      fi
    fi
  fi
fi

# --- summary ---
failed=$(grep -E '"rc":[1-9]|"status":"failed' "$results" | while IFS= read -r l; do printf '%s ' "$(jget "$l" tag)"; done)
{
  echo "GPU check, $(date -u +%FT%TZ), $(($(date +%s) - started)) s"
  grep -E '^(host|cpu|dry run):' "$envf"
  command -v nvidia-smi >/dev/null && echo "gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"
  echo
  printf '%-30s %-8s %-9s %10s %8s %10s %7s %6s %s\n' tag device precision pairs/s x_cpu max_diff labels util status
  while IFS= read -r l; do
    tag=$(jget "$l" tag)
    if [ -n "$(jget "$l" pairs_per_s)" ]; then
      rate=$(num "$l" pairs_per_s)
      base=$cpu_large_rate
      [[ $tag == *fixture* ]] && base=$cpu_rate
      [[ $tag == *-gen* ]] && base=$(num "$(grep '"tag":"cpu-gen"' "$results")" pairs_per_s)
      x=$(awk -v a="$rate" -v b="$base" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }')
      diff=$(jget "$l" max_abs_diff)
      [ -n "$diff" ] && diff=$(awk -v d="$diff" 'BEGIN { printf "%.1e", d }')
      agree=$(jget "$l" label_agreement)
      status=ok
      [ "$(jget "$l" rc)" = 0 ] || status="rc $(jget "$l" rc)"
      printf '%-30s %-8s %-9s %10.1f %8s %10s %7s %6s %s\n' "$tag" "$(jget "$l" device)" "$(jget "$l" precision)" "$rate" \
        "$x" "${diff:--}" "${agree:--}" "$(jget "$l" gpu_util_mean)" "$status"
    elif [ -n "$(jget "$l" error)" ]; then
      printf '%-30s ERROR (rc %s): %s\n' "$tag" "$(jget "$l" rc)" "$(printf '%s' "$l" | sed 's/.*"error":"//; s/"}$//; s/\\n */ | /g' | cut -c1-300)"
    else
      printf '%-30s %s: %s\n' "$tag" "$(jget "$l" status)" "$(printf '%s' "$l" | sed 's/.*"detail":"//; s/"}$//' | cut -c1-200)"
    fi
  done < "$results"
  echo
  echo "x_cpu: pairs/s over the same binary on $cores CPU cores (int8) on the same corpus; max_diff: largest |score"
  echo "difference| against those CPU scores (tolerance $tolerance); labels: share of the same labels; util: mean GPU %."
  if [ -n "$best" ]; then
    x=$(awk -v a="$best_rate" -v b="$cpu_large_rate" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print 0 }')
    printf 'fastest variant on %s that agrees with the CPU (the precision to ship for GPUs): %s, %.0f pairs/s on the\n' "$gpu" "$best" "$best_rate"
    printf 'larger corpus = %sx the same binary on %s CPU cores (int8, %.0f pairs/s)\n' "$x" "$cores" "$cpu_large_rate"
    awk -v x="$x" 'BEGIN { exit !(x >= 20) }' && echo "bar (>= 20x the CPU): met" || echo "bar (>= 20x the CPU): NOT met"
  else
    echo "no GPU variant both ran and agreed with the CPU on the larger corpus"
  fi
  if [ -n "$failed" ]; then
    echo
    echo "failed steps: $failed"
  fi
} > "$summary"
echo
cat "$summary"
[ -z "$failed" ]
