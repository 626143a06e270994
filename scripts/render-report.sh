#!/usr/bin/env bash
# Renders a `stance report` page to a PNG with headless Chromium, to look at it
# as a reader would (no network, a throwaway profile).
#
#   scripts/render-report.sh RUN_DIR|REPORT.html [OUT.png] [WIDTH,HEIGHT]
#
# With a run directory, writes its report.html first (needs target/release/stance
# or target/debug/stance, whichever is newer, or STANCE=path). Chromium: `apt-get install -y chromium`.
set -euo pipefail
target=${1:?usage: scripts/render-report.sh RUN_DIR|REPORT.html [OUT.png] [WIDTH,HEIGHT]}
cd "$(dirname "$0")/.." && root=$PWD && cd - >/dev/null
if [ -d "$target" ]; then
    # STANCE, else the most recently built of the release and debug binaries.
    stance=${STANCE:-$(ls -t "$root/target/release/stance" "$root/target/debug/stance" 2>/dev/null | head -n 1)}
    [ -n "$stance" ] || { echo "no stance binary: cargo build --release" >&2; exit 1; }
    "$stance" report "$target"
    html="$target/report.html"
else
    html="$target"
fi
[ -f "$html" ] || { echo "no such page: $html" >&2; exit 1; }
out=${2:-${html%.html}.png}
size=${3:-1200,2400}
chromium=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$chromium" ] || { echo "chromium not found: apt-get update && apt-get install -y chromium" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --screenshot="$out" --window-size="$size" \
    "file://$(realpath "$html")" 2>/dev/null
echo "$out"
