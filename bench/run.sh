#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD (default build/) and the UI benchmark in
# headless chromium, and prints the figures.
set -euo pipefail
BUILD=${1:-build}
for b in "$BUILD"/*_bench; do
  echo "== $b"
  "$b" --benchmark_counters_tabular=true
done
# develop_bench ignores the flag: it prints its own table (tokens and dollars, not time).
echo "== bench/ui_bench.mjs"
ABS=$(cd "$BUILD" && pwd)
SW_BINARY="$ABS/specwright" SW_FAKELLM="$ABS/specwright-fakellm" SW_UI_DIR="$ABS/ui" SW_SOURCE_DIR="$PWD" \
  node bench/ui_bench.mjs
echo "== bench/spec_bench.sh"
bash bench/spec_bench.sh "$ABS/specwright"
