#!/usr/bin/env bash
# Kills `stance score` with SIGKILL at a random point, resumes it with --resume,
# and checks the result against an uninterrupted run, ROUNDS times:
#   - summary.json: every number equal to 1e-9 relative (exact sums as strings: equal);
#   - sentences.jsonl: the same multiset of (document_id, sentence_index, actor) rows,
#     with no duplicates (sorted on disk, so any corpus size fits);
#   - and, reported, whether every output file is byte-identical.
#
#   scripts/resume-check.sh CORPUS [ROUNDS=10] [WORKDIR=mktemp]
#
# Environment: STANCE (binary, default target/release/stance), MODEL (default
# tests/data/tiny-model), STANCE_ARGS (extra `score` options, e.g. "--threads 2").
# Generate a corpus with scripts/gen-corpus.py. Exit status 0 when every round passes.
set -euo pipefail
corpus=${1:?usage: scripts/resume-check.sh CORPUS [ROUNDS] [WORKDIR]}
rounds=${2:-10}
work=${3:-$(mktemp -d)}
stance=${STANCE:-target/release/stance}
model=${MODEL:-tests/data/tiny-model}
read -r -a extra <<< "${STANCE_ARGS:-}"
mkdir -p "$work"

score() { # exit status 1 only means that some documents failed, which a corpus may hold
    "$stance" score "$corpus" --model "$model" --quiet "${extra[@]}" "$@" || [ $? -eq 1 ]
}

status_of() {
    python3 - "$1" <<'EOF' 2>/dev/null || echo none
import json, sys
print(json.load(open(sys.argv[1] + "/run.json"))["status"])
EOF
}

keys() { # the sorted (document, sentence, actor) keys of a run's rows
    python3 - "$1/sentences.jsonl" <<'EOF' | LC_ALL=C sort -S 256M -T "$work"
import json, sys
with open(sys.argv[1], encoding="utf-8") as rows:
    for line in rows:
        r = json.loads(line)
        print(json.dumps([r["document_id"], r["sentence_index"], r["actor"]]))
EOF
}

compare_summaries() {
    python3 - "$1/summary.json" "$2/summary.json" <<'EOF'
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
problems = []
def walk(x, y, path):
    if isinstance(x, dict) and isinstance(y, dict):
        if x.keys() != y.keys():
            problems.append(f"{path}: keys {sorted(x.keys() ^ y.keys())}")
        for k in x.keys() & y.keys():
            walk(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, (int, float)) and isinstance(y, (int, float)) and (isinstance(x, float) or isinstance(y, float)):
        if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"{path}: {x!r} != {y!r}")
    elif x != y:
        problems.append(f"{path}: {x!r} != {y!r}")
walk(a, b, "summary")
for p in problems[:10]:
    print("  " + p)
sys.exit(1 if problems else 0)
EOF
}

echo "reference run: $corpus -> $work/reference"
rm -rf "$work/reference"
start=$(date +%s.%N)
score --out "$work/reference"
duration=$(python3 -c "print($(date +%s.%N) - $start)")
echo "  took ${duration}s"
keys "$work/reference" > "$work/reference.keys"
[ -z "$(uniq -d "$work/reference.keys" | head -n 1)" ] || { echo "the reference run has duplicate rows" >&2; exit 1; }

passed=0
for round in $(seq 1 "$rounds"); do
    dir="$work/round-$round"
    # A kill point uniform over the run's duration; if the run beat it (the machine got
    # faster), try again over a shorter span, so that every round really kills a run.
    scale=$duration
    for attempt in 1 2 3 4 5 6 7 8; do
        rm -rf "$dir"
        delay=$(python3 -c "import random; print(round(random.uniform(0.02, 0.9) * $scale, 3))")
        "$stance" score "$corpus" --model "$model" --quiet "${extra[@]}" --out "$dir" &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        status=$(status_of "$dir")
        [ "$status" != complete ] && break
        echo "  round $round: the run finished within ${delay}s, before the kill; trying an earlier point"
        scale=$(python3 -c "print($scale * 0.6)")
    done
    if [ "$status" = complete ]; then
        echo "round $round: FAIL: could not kill a run before it finished"
        continue
    fi
    committed=$(python3 -c "import json; print(json.load(open('$dir/checkpoint.json'))['records'])" 2>/dev/null || echo 0)
    score --out "$dir" --resume
    ok=yes
    compare_summaries "$work/reference" "$dir" || { echo "  summary.json differs"; ok=no; }
    keys "$dir" > "$dir.keys"
    cmp -s "$work/reference.keys" "$dir.keys" || { echo "  the (document, sentence, actor) rows differ"; ok=no; }
    identical=$(for f in sentences.jsonl documents.csv errors.jsonl summary.json summary.csv; do
        cmp -s "$work/reference/$f" "$dir/$f" || printf '%s ' "$f"; done)
    rm -f "$dir.keys"
    echo "round $round: killed after ${delay}s (status $status, $committed records committed), resumed: $([ $ok = yes ] && echo PASS || echo FAIL); outputs not byte-identical: ${identical:-none}"
    [ $ok = yes ] && passed=$((passed + 1))
done
echo "$passed/$rounds rounds passed"
[ "$passed" -eq "$rounds" ]
