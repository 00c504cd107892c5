#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD (default build/) and the UI benchmark in
# headless chromium, and prints the figures.
set -euo pipefail
BUILD=${1:-build}
status=0
for b in "$BUILD"/*_bench; do
  [[ $(basename "$b") == codeindex_bench ]] && continue  # needs its generated tree: below
  echo "== $b"
  if [[ $(basename "$b") == engine_bench ]]; then
    # Medians of 3, kept as JSON and compared with bench/baseline/engine.json (normalised by the
    # machine's calibration figure): a regression fails `make bench`. UPDATE_BASELINE=1 stores
    # this run as the new baseline.
    "$b" --benchmark_counters_tabular=true --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
      --benchmark_out="$BUILD/engine_bench.json" --benchmark_out_format=json
    flags=()
    [[ ${UPDATE_BASELINE:-0} == 1 ]] && flags+=(--update)
    node bench/compare.mjs bench/baseline/engine.json "$BUILD/engine_bench.json" "${flags[@]}" || status=1
  else
    "$b" --benchmark_counters_tabular=true
  fi
done
# develop_bench ignores the flag: it prints its own table (tokens and dollars, not time).
echo "== bench/ui_bench.mjs"
ABS=$(cd "$BUILD" && pwd)
SW_BINARY="$ABS/specwright" SW_FAKELLM="$ABS/specwright-fakellm" SW_UI_DIR="$ABS/ui" SW_SOURCE_DIR="$PWD" \
  node bench/ui_bench.mjs
echo "== ui/src/lib/layout.bench.ts (the run graph's layout against dagre's, 1,000 nodes)"
(cd ui && npx vitest bench --run)
echo "== bench/spec_bench.sh"
bash bench/spec_bench.sh "$ABS/specwright"
echo "== bench/dist_bench.sh (workers on one PostgreSQL against one SQLite process)"
bash bench/dist_bench.sh "$BUILD"
echo "== bench/eval_bench.sh (an eval of 1,000 cases on the zero-latency scripted model)"
bash bench/eval_bench.sh "$BUILD"
echo "== bench/codeindex_bench.sh"
bash bench/codeindex_bench.sh "$ABS/codeindex_bench"
exit $status
