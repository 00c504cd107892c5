#!/usr/bin/env bash
# `spec check` over a generated project of 1,000,000 lines of code in 10,000 files with 20,000
# citations (and 2,000 spec items defining what they cite), against grep -rE (or ripgrep when
# installed) finding the same citations, in the same run. Medians of 5, warm page cache.
#   bash bench/spec_bench.sh [build/specwright]
set -euo pipefail
BIN=$(realpath "${1:-build/specwright}")
DIR=$(mktemp -d /tmp/sw-spec-bench-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$DIR"' EXIT
cd "$DIR"
mkdir -p specs src
# 1,000 requirements, each with one story; 10,000 files of 100 lines; every file cites two
# IDs: a requirement in a comment and a story in a test name (underscores).
awk -v dir="$DIR" 'BEGIN {
  req = dir "/specs/requirements.md"; us = dir "/specs/stories.md";
  print "# Requirements\n" > req; print "# Stories\n" > us;
  for (i = 0; i < 1000; i++) {
    r = sprintf("REQ-%02d-%03d", int(i / 100) + 1, i % 100 + 1);
    s = sprintf("US-%02d-%03d", int(i / 100) + 1, i % 100 + 1);
    printf("## %s Requirement %d\nThe system does thing %d.\n\n", r, i, i) > req;
    printf("## %s Story %d\nTraces: %s\n\n", s, i, r) > us;
  }
  for (f = 0; f < 10000; f++) {
    d = sprintf("%s/src/m%02d", dir, f % 100);
    if (f < 100) system("mkdir -p " d);
    file = sprintf("%s/f%05d.cc", d, f);
    k = f % 1000;
    r = sprintf("REQ-%02d-%03d", int(k / 100) + 1, k % 100 + 1);
    s = sprintf("US_%02d_%03d", int(k / 100) + 1, k % 100 + 1);
    for (l = 0; l < 100; l++) {
      if (l == 10) printf("// Implements: %s\n", r) > file;
      else if (l == 50) printf("TEST(Module%d, %s_case_%d) { EXPECT_EQ(run(%d), %d); }\n", f, s, l, l, l) > file;
      else printf("  int value_%d = compute(input_%d, %d) + offset;  // step %d\n", l, l, f, l) > file;
    }
    close(file);
  }
}'
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
