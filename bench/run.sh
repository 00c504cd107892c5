#!/usr/bin/env bash
# Runs every benchmark binary built under BUILD (default build/) and prints the figures.
set -euo pipefail
BUILD=${1:-build}
for b in "$BUILD"/*_bench; do
  echo "== $b"
  "$b" --benchmark_counters_tabular=true
done
