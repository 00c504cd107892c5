#!/usr/bin/env bash
# `spec check` over a generated project of 1,000,000 lines of code in 10,000 files with 20,000
# citations (and 2,000 spec items defining what they cite), against grep -rE (or ripgrep when
# installed) finding the same citations, in the same run. Medians of 5, warm page cache.
#   bash bench/spec_bench.sh [build/specwright]
set -euo pipefail
BIN=$(realpath "${1:-build/specwright}")
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=$(mktemp -d /tmp/sw-spec-bench-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
cd "$DIR"
# 1,000 requirements with a story each; 10,000 files of 100 lines citing two IDs each.
bash "$HERE/gen_tree.sh" "$DIR"
lines=$(cat src/*/*.cc | wc -l)
bytes=$(du -sb src | cut -f1)
PATTERN='(REQ|BR|ENT|US|SVC|API|ERR|TC|DEC)[-_][0-9]{2}[-_][0-9]{3}'
if command -v rg >/dev/null 2>&1; then BASE=(rg -n --no-heading -e "$PATTERN" src); NAME="rg -n"; else BASE=(grep -rEn "$PATTERN" src); NAME="grep -rEn"; fi
found=$("${BASE[@]}" | wc -l)
summary=$("$BIN" spec check | tail -1)
cited=$(echo "$summary" | sed -n 's/.* \([0-9]*\) citations in .*/\1/p')
if [ "$cited" != "$found" ]; then echo "spec check found $cited citations, the baseline $found" >&2; exit 1; fi
echo "tree: $lines lines in $(find src -type f | wc -l) files ($((bytes / 1024 / 1024)) MiB); $NAME finds $found citing lines"
echo "spec check: $summary"
time_ms() {  # median wall milliseconds of 5 runs of "$@"
  local t=()
  for _ in 1 2 3 4 5; do
    local s=$(date +%s%N)
    "$@" >/dev/null || true
    t+=($(( ($(date +%s%N) - s) / 1000000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | sed -n 3p
}
"$BIN" spec check >/dev/null || true; "${BASE[@]}" >/dev/null  # warm the page cache
base=$(time_ms "${BASE[@]}")
ours=$(time_ms "$BIN" spec check)
echo "$NAME: ${base} ms    specwright spec check: ${ours} ms    ratio: $(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x"
echo "targets: no slower than 1.5x the baseline, under 1000 ms"
# Against an earlier build (BASELINE_BIN=path/to/old/specwright): both timed in turns, 7 runs
# each, so a busy machine slows both alike; the figure is new/old.
if [ -n "${BASELINE_BIN:-}" ]; then
  OLD=$(realpath "$BASELINE_BIN")
  "$OLD" spec check >/dev/null || true
  a=(); b=()
  for _ in 1 2 3 4 5 6 7; do
    s=$(date +%s%N); "$OLD" spec check >/dev/null || true; a+=($(( ($(date +%s%N) - s) / 1000000 )))
    s=$(date +%s%N); "$BIN" spec check >/dev/null || true; b+=($(( ($(date +%s%N) - s) / 1000000 )))
  done
  old_ms=$(printf '%s\n' "${a[@]}" | sort -n | sed -n 4p)
  new_ms=$(printf '%s\n' "${b[@]}" | sort -n | sed -n 4p)
  echo "baseline build: ${old_ms} ms    this build: ${new_ms} ms    ratio: $(awk -v a="$new_ms" -v b="$old_ms" 'BEGIN { printf "%.2f", a / b }')x (target: within 1.10x)"
fi
