#!/usr/bin/env bash
# Build and pack, on the build machine, what scripts/gpu-check.sh runs on a CUDA machine, and
# print the calls that get it there.
#
#   ../shared/gpu/stage-ort-cuda.sh    first: ONNX Runtime's CUDA build in parts under .gpu/
#                                       (it deletes .gpu/ when it starts; this script never writes there)
#   scripts/gpu-prepare.sh              then: builds, packs .gpu-check/, checks sizes, prints the calls
#   scripts/gpu-prepare.sh --dry-run    ... and runs scripts/gpu-check.sh --dry-run here (CPU only)
#
# What it builds (release, `--no-default-features --features cuda`, in target/gpu so that other
# builds of the checkout are left alone): `stance-bench` and the GPU test binary (tests/gpu.rs).
# Both are built without the embedded model and load models/stance-mini, which travels with the
# checkout anyway: with the model embedded each binary would be ~24 MB larger and two of them do
# not fit in one 64 MiB call next to the tracked files. The code and the model bytes are the same
# as in the default build. They are stripped and packed into .gpu-check/stance-gpu-bin.tar.gz
# with BUILD_INFO (commit, uncommitted changes, rustc, features).
#
# The CUDA machine gets a copy of the checkout with every call: tracked files and untracked files
# that git does not ignore count towards 64 MiB, and so does each folder brought along. This
# script adds /.gpu/, /.gpu-check/ and /gpu-out/ to .git/info/exclude, measures what would travel
# and stops if the calls cannot fit.
#
# The GPU model variants (fp32, fp16) are made on the CUDA machine by gpu-check.sh from
# models/stance-mini with the machine's python3 (onnx, onnxruntime), so they need not travel:
# fp32 is 52 MiB, fp16 32 MiB. To make them here: scripts/gpu-check.sh models models/stance-mini DIR
# (PYTHON=/path/to/python with onnx, numpy and onnxruntime).
#
# Environment: NICE (default 19) for cargo, CARGO_TARGET_DIR (default target/gpu), LIMIT_MIB
# (default 64) and MARGIN_MIB (default 3) for the size check.
set -euo pipefail
top=$(git rev-parse --show-toplevel)
cd "$top"
dry=
[ "${1:-}" = --dry-run ] && dry=1
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.gpu/ /.gpu-check/ /gpu-out/; do
  grep -qxF "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/gpu}
flags=(--release --no-default-features --features cuda)
nice=(nice -n "${NICE:-19}")

echo "== building (${flags[*]}, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
"${nice[@]}" cargo build "${flags[@]}" --bin stance-bench
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"${nice[@]}" cargo test "${flags[@]}" --test gpu --no-run 2>&1 | tee "$log"
tests_bin=$(sed -n 's/.*Executable tests\/gpu\.rs (\(.*\))$/\1/p' "$log" | tail -n 1)
[ -x "$tests_bin" ] || { echo "cannot find the GPU test binary in cargo's output" >&2; exit 1; }

echo "== packing .gpu-check/"
stage=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$stage"' EXIT
cp "$CARGO_TARGET_DIR/release/stance-bench" "$stage/stance-bench"
cp "$tests_bin" "$stage/gpu-tests"
strip "$stage/stance-bench" "$stage/gpu-tests"
{
  echo "commit: $(git rev-parse HEAD)"
  echo "uncommitted changes in the build's sources: $(git status --porcelain -- src tests build.rs Cargo.toml Cargo.lock | wc -l) file(s)"
  echo "built: $(date -u +%FT%TZ), $(rustc --version), cargo ${flags[*]}"
} > "$stage/BUILD_INFO"
rm -rf .gpu-check
mkdir -p .gpu-check
tar -czf .gpu-check/stance-gpu-bin.tar.gz -C "$stage" .
ls -l "$stage"
cat "$stage/BUILD_INFO"

echo "== sizes (a call carries at most ${LIMIT_MIB:=64} MiB)"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
bytes() { du -cb "$@" 2>/dev/null | tail -n 1 | cut -f1; }
tree=$(git ls-files -z -co --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
binpack=$(bytes .gpu-check)
echo "travels with every call: $(mib "$tree") MiB (tracked $(mib "$tracked") MiB, untracked and not ignored $(mib $((tree - tracked))) MiB)"
if [ $((tree - tracked)) -gt $((2 * 1048576)) ]; then
  echo "largest untracked, not ignored (they travel too; ignore or remove what the GPU check does not need):"
  git ls-files -z -co --exclude-standard --others | du -b --files0-from=- 2>/dev/null | sort -rn | head -n 5 |
    awk '{ printf "  %8.1f MiB  %s\n", $1 / 1048576, $2 }'
fi
echo ".gpu-check: $(mib "$binpack") MiB"
limit=$(((LIMIT_MIB - ${MARGIN_MIB:-3}) * 1048576))
parts=()
while IFS= read -r p; do parts+=("$p"); done < <(find .gpu -maxdepth 1 -name 'p[0-9]*' -type d 2>/dev/null | sort -V)
fits=1
if [ ${#parts[@]} -eq 0 ]; then
  echo "no ONNX Runtime parts under .gpu/: run ../shared/gpu/stage-ort-cuda.sh (needs zstd, downloads onnxruntime-gpu,"
  echo "about 190 MB compressed, 7 parts of 28 MiB), then this script again"
  [ $((tree + 28 * 1048576)) -le "$limit" ] || { echo "TOO BIG: tree + a 28 MiB part exceeds the limit"; fits=; }
else
  for p in "${parts[@]}"; do
    s=$(bytes "$p")
    echo "$p: $(mib "$s") MiB, call total $(mib $((tree + s))) MiB"
    [ $((tree + s)) -le "$limit" ] || { echo "TOO BIG: $p with the tree"; fits=; }
  done
fi
[ $((tree + binpack)) -le "$limit" ] || { echo "TOO BIG: .gpu-check with the tree"; fits=; }

echo "== the calls to the CUDA machine, back to back (it is handed back after ~30 s idle)"
n=${#parts[@]}
last_with_check=
if [ "$n" -gt 0 ] && [ $((tree + $(bytes "${parts[n - 1]}") + binpack)) -le "$limit" ]; then
  last_with_check=1
fi
total=$((n + 1))
[ -n "$last_with_check" ] && total=$n
[ "$n" -eq 0 ] && { n=7 total=8; echo "(assuming 7 parts p0..p6)"; }
i=0
while [ $i -lt "$n" ]; do
  p=.gpu/p$i
  [ $i -eq 0 ] && cmd="mkdir -p /tmp/ort && cp $p/* /tmp/ort/" || cmd="cp $p/* /tmp/ort/"
  if [ $i -eq $((n - 1)) ] && [ -n "$last_with_check" ]; then
    printf '%d/%d  bring: %s .gpu-check   time limit: 600 s\n      run:   %s && bash scripts/gpu-check.sh\n' \
      $((i + 1)) "$total" "$p" "$cmd"
  else
    printf '%d/%d  bring: %s   time limit: 120 s\n      run:   %s\n' $((i + 1)) "$total" "$p" "$cmd"
  fi
  i=$((i + 1))
done
if [ -z "$last_with_check" ]; then
  printf '%d/%d  bring: .gpu-check   time limit: 600 s\n      run:   bash scripts/gpu-check.sh\n' "$total" "$total"
fi
echo "Results: results.jsonl, summary.txt, env.txt, log.txt under \$OUT (./gpu-out when unset)."
echo "A second try on the same machine, while it is still held: bring .gpu-check, run bash scripts/gpu-check.sh"
echo "(/tmp/ort, the model variants and the corpora in /tmp/stance-gpu-check are reused)."
[ -n "$fits" ] || { echo "the calls do not fit: see TOO BIG above" >&2; exit 1; }

if [ -n "$dry" ]; then
  echo "== dry run of scripts/gpu-check.sh on this machine's CPU"
  rm -rf /tmp/stance-gpu-check-dry
  GPU_CHECK_WORK=/tmp/stance-gpu-check-dry GPU_CHECK_REPEAT=${GPU_CHECK_REPEAT:-1} GPU_CHECK_TARGET_S=${GPU_CHECK_TARGET_S:-5} \
    "${nice[@]}" bash scripts/gpu-check.sh --dry-run || echo "gpu-check.sh --dry-run: exit $? (the cuda steps fail on a machine without a GPU)"
fi
